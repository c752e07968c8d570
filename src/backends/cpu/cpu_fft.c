/* FFT on the CPU with FFTW3's guru64 interface (cpu_fftw.c), which takes any strides for both
 * the transform and the batch dimensions, so no layout ever needs copying here. Double and
 * single precision; threads from the execution space.
 *
 * Besides FFTW's own plan on all the threads, the planner walks a table of strategies; each
 * applies to some transforms, and is taken by the context's options (hetmath/cpu.h): forced,
 * forbidden, or, by default, timed against the plan so far when the planner measures (and kept
 * only when HM_STRATEGY_GAIN faster), taken by rule when it estimates:
 * - fewer threads: FFTW's plan on three quarters of the threads, and for small arrays on one;
 * - row blocks: a batch of out-of-place 1-D c2c rows done in blocks of rows that fit the cache,
 *   each block copied into the output (or a scratch block) and transformed there in place by a
 *   one-thread FFTW plan, the blocks shared among the context's host workers;
 * - the split (cpu_fft_split.c): one long 1-D transform in two passes of blocks of short ones.
 * docs/TUNING.md has the measurements behind each constant. */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/cpu/cpu_fft.h"
#include "core/pool.h"

/* A block of rows: a quarter to a half of a core's L2 (docs/TUNING.md). */
#define HM_ROW_BLOCK_BYTES ((size_t)256 << 10)
/* A strategy replaces the plan so far only when this much faster: closer calls are the host's
 * noise. */
#define HM_STRATEGY_GAIN 0.95

typedef struct fftw_backend_plan {
    hm_fft_desc d;
    void *plan;           /* fftw_plan or fftwf_plan, for 16-byte-aligned arrays */
    void *plan_unaligned; /* made on first use with arrays FFTW would not accept */
    /* Row blocks: in-place one-thread plans for a block of block_rows contiguous rows and for
     * the last, shorter block, and a scratch block for each thread. */
    void *block_plan, *tail_plan;
    int64_t block_rows;
    char *scratch;
    bool stream;         /* rows go through the scratch and out by streaming stores (else into y) */
    hm_fft_split *split; /* a long 1-D transform in two passes (cpu_fft_split.c) */
    int threads;         /* FFTW's threads for plan and plan_unaligned */
} fftw_backend_plan;

static hm_status plan_with(hm_context *ctx, const hm_fft_desc *d, int threads, unsigned extra,
                           void **out)
{
    unsigned flags = (d->effort == HM_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE) | extra;
    if (d->may_overwrite_input)
        flags |= FFTW_DESTROY_INPUT;
    size_t in_bytes = (size_t)d->in_span * hm__fftw_elem_in(d),
           out_bytes = (size_t)d->out_span * hm__fftw_elem_out(d);
    void *in = fftw_malloc(d->in_place ? (in_bytes > out_bytes ? in_bytes : out_bytes) : in_bytes);
    void *o = d->in_place ? in : fftw_malloc(out_bytes);
    if (!in || !o) {
        fftw_free(in);
        if (o != in)
            fftw_free(o);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY,
                        "no host memory for FFTW's planning arrays (%zu bytes)",
                        in_bytes + out_bytes);
    }
    void *plan = hm__fftw_plan(d, threads, in, o, flags);
    fftw_free(in);
    if (o != in)
        fftw_free(o);
    if (!plan)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR,
                        "FFTW could not plan a %s rank-%d transform of %lld x ... with %d batch "
                        "dimensions",
                        d->type == HM_FFT_C2C   ? "c2c"
                        : d->type == HM_FFT_R2C ? "r2c"
                                                : "c2r",
                        d->rank, (long long)d->n[0], d->batch_rank);
    *out = plan;
    return HM_STATUS_SUCCESS;
}

/* ---- timing candidates --------------------------------------------------------------------- */

/* Arrays of the operands' layout for timing candidates (free both with fftw_free). */
static bool timing_arrays(const hm_fft_desc *d, void **in, void **out)
{
    *in = fftw_malloc((size_t)d->in_span * hm__fftw_elem_in(d));
    *out = fftw_malloc((size_t)d->out_span * hm__fftw_elem_out(d));
    return *in && *out;
}

/* Timing input: not zeros, and nothing subnormal. Filled after planning, which writes over the
 * arrays when it measures. */
static void fill_timing_input(const hm_fft_desc *d, void *in)
{
    size_t reals = (size_t)d->in_span * hm__fftw_elem_in(d) / (d->double_precision ? 8 : 4);
    for (size_t k = 0; k < reals; k++) {
        double v = (double)((k * 2654435761u) % 2003) / 1001.0 - 1.0;
        if (d->double_precision)
            ((double *)in)[k] = v;
        else
            ((float *)in)[k] = (float)v;
    }
}

static void run_row_blocks(hm_context *ctx, const fftw_backend_plan *p, const void *in, void *out,
                           bool stream);

/* A candidate of the measuring planner: an FFTW plan of p->d, a split of it, or (both NULL) p's
 * row blocks, in y or streamed. */
typedef struct candidate {
    void *plan;
    const hm_fft_split *split;
    bool stream;
} candidate;

/* The best of HM_TIMING_TRIES runs of each candidate, taken in turns so that a drift of the host
 * touches all alike. */
#define HM_TIMING_TRIES 5
static void time_candidates(hm_context *ctx, const fftw_backend_plan *p, const candidate *c,
                            int count, void *in, void *out, double *t)
{
    for (int k = 0; k < count; k++)
        t[k] = -1;
    for (int r = 0; r < count * HM_TIMING_TRIES; r++) {
        int k = r % count;
        double t0 = hm__now();
        if (c[k].split)
            hm__fft_split_run(ctx, c[k].split, in, out);
        else if (c[k].plan)
            hm__fftw_run(&p->d, c[k].plan, in, out);
        else
            run_row_blocks(ctx, p, in, out, c[k].stream);
        double dt = hm__now() - t0;
        t[k] = t[k] < 0 || dt < t[k] ? dt : t[k];
    }
}

/* ---- strategy: fewer threads ------------------------------------------------------------- */

/* FFTW divides a transform among all the threads it is given; when the data fits the cache, past
 * some count their synchronisation costs more than they give. Timed only for arrays of at most
 * HM_FEWER_THREADS_MAX_BYTES (memory-bound transforms want every thread, and measuring a large
 * plan again takes minutes); one thread only for at most HM_ONE_THREAD_MAX_BYTES. Not for c2r,
 * whose input FFTW overwrites while it runs. */
#define HM_FEWER_THREADS_MIN       8
#define HM_FEWER_THREADS_MAX_BYTES ((size_t)32 << 20)
#define HM_ONE_THREAD_MAX_BYTES    ((size_t)1 << 20)
static void try_fewer_threads(hm_context *ctx, fftw_backend_plan *p)
{
    const hm_fft_desc *d = &p->d;
    int all = p->threads, counts[3] = {all, all * 3 / 4, 1}, n = 1;
    size_t bytes =
        (size_t)d->in_span * hm__fftw_elem_in(d) + (size_t)d->out_span * hm__fftw_elem_out(d);
    if (d->effort != HM_FFT_MEASURE || d->type == HM_FFT_C2R || all < 2 ||
        bytes > HM_FEWER_THREADS_MAX_BYTES)
        return;
    if (all >= HM_FEWER_THREADS_MIN)
        counts[n++] = all * 3 / 4;
    if (bytes <= HM_ONE_THREAD_MAX_BYTES)
        counts[n++] = 1;
    if (n == 1)
        return;
    void *in, *out;
    candidate c[3] = {{p->plan, NULL, false}, {NULL, NULL, false}, {NULL, NULL, false}};
    bool made = timing_arrays(d, &in, &out);
    for (int k = 1; k < n && made; k++)
        made = (c[k].plan = hm__fftw_plan(d, counts[k], in, out, FFTW_MEASURE)) != NULL;
    if (made) {
        fill_timing_input(d, in);
        double t[3];
        time_candidates(ctx, p, c, n, in, out, t);
        int best = 0;
        for (int k = 1; k < n; k++)
            best = t[k] < HM_STRATEGY_GAIN * t[0] && t[k] < t[best] ? k : best;
        char said[96];
        int len = 0;
        for (int k = 1; k < n; k++)
            len += snprintf(said + len, sizeof said - (size_t)len, "%s%d (%.3f ms)",
                            k > 1 ? " and on " : "", counts[k], t[k] * 1e3);
        hm__log(ctx, HM_LOG_INFO, "FFTW: its plan timed on %s threads against all %d (%.3f ms): %s",
                said, all, t[0] * 1e3, best ? "it runs on the fastest" : "it keeps all");
        if (best) {
            hm__fftw_destroy(d, p->plan);
            p->plan = c[best].plan;
            p->threads = counts[best];
            c[best].plan = NULL;
        }
    }
    for (int k = 1; k < n; k++)
        hm__fftw_destroy(d, c[k].plan);
    fftw_free(in);
    fftw_free(out);
}

/* ---- strategy: row blocks ---------------------------------------------------------------- */

static size_t row_block_bytes(const hm_context *ctx)
{
    return ctx->cpu_fft.row_block_bytes ? ctx->cpu_fft.row_block_bytes : HM_ROW_BLOCK_BYTES;
}

/* Rows transformed in place in y need y's rows contiguous and each row's start as aligned as
 * the block plan's buffer, fftw_malloc'ed (when y itself is: see cpu_fft_execute). Rows of a
 * multiple of 64 bytes keep y's alignment whatever SIMD alignment this FFTW build wants. */
static bool in_y_possible(const hm_fft_desc *d)
{
    return d->batch_out_stride[0] == d->n[0] && ((size_t)d->n[0] * hm__fftw_elem_out(d)) % 64 == 0;
}

/* The rule without measuring: rows of HM_ROWS_RULE_MIN to HM_ROWS_RULE_MAX points (where they
 * won on both machines of docs/TUNING.md), at least HM_ROWS_RULE_PER_THREAD rows a thread. */
#define HM_ROWS_RULE_MIN        1024
#define HM_ROWS_RULE_MAX        8192
#define HM_ROWS_RULE_PER_THREAD 4

/* How row blocks are wanted: not at all, timed, or taken in y or streamed (forced, or by the
 * rule). What they can do: out-of-place c2c rows, contiguous, one batch dimension, a row no
 * larger than a block. */
enum { ROWS_NONE, ROWS_TIMED, ROWS_IN_Y, ROWS_STREAM };
static int row_blocks_wanted(const hm_context *ctx, const hm_fft_desc *d)
{
    size_t e = hm__fftw_elem_out(d);
    int mode = ctx->cpu_fft.row_blocks;
    if (d->type != HM_FFT_C2C || d->in_place || d->rank != 1 || d->batch_rank != 1 ||
        d->in_stride[0] != 1 || d->out_stride[0] != 1 || d->batch_n[0] < 2 ||
        d->batch_in_stride[0] < d->n[0] || d->batch_out_stride[0] < d->n[0] ||
        (size_t)d->n[0] * e > row_block_bytes(ctx) || mode == HM_CPU_FFT_NEVER)
        return ROWS_NONE;
    if (mode == HM_CPU_FFT_ALWAYS)
        return in_y_possible(d) ? ROWS_IN_Y : ROWS_STREAM;
    if (mode == HM_CPU_FFT_STREAM)
        return ROWS_STREAM;
    if (d->effort == HM_FFT_MEASURE)
        return ROWS_TIMED;
    int threads = d->exec.num_threads;
    if (threads >= 2 && d->n[0] >= HM_ROWS_RULE_MIN && d->n[0] <= HM_ROWS_RULE_MAX &&
        d->batch_n[0] >= HM_ROWS_RULE_PER_THREAD * (int64_t)threads)
        return in_y_possible(d) ? ROWS_IN_Y : ROWS_STREAM;
    return ROWS_NONE;
}

typedef struct rows_job {
    const fftw_backend_plan *p;
    const char *in;
    char *out;
    bool stream;
} rows_job;

/* Block b of the rows, on thread i (whose scratch block it uses when streaming). */
static void rows_block(void *v, int i, int64_t b)
{
    const rows_job *j = v;
    const fftw_backend_plan *p = j->p;
    const hm_fft_desc *d = &p->d;
    size_t e = hm__fftw_elem_out(d), row = (size_t)d->n[0] * e;
    int64_t r0 = b * p->block_rows, rows = d->batch_n[0];
    int64_t count = rows - r0 < p->block_rows ? rows - r0 : p->block_rows;
    char *to = j->out + (size_t)(r0 * d->batch_out_stride[0]) * e;
    char *blk = j->stream ? p->scratch + (size_t)i * (size_t)p->block_rows * row : to;
    for (int64_t r = 0; r < count; r++)
        memcpy(blk + (size_t)r * row, j->in + (size_t)((r0 + r) * d->batch_in_stride[0]) * e, row);
    hm__fftw_run(d, count == p->block_rows ? p->block_plan : p->tail_plan, blk, blk);
    if (!j->stream)
        return;
    /* Streaming stores: y's lines are written, not read first, and do not fill the cache. */
    if (d->batch_out_stride[0] == d->n[0])
        hm__stream_copy(to, blk, (size_t)count * row);
    else
        for (int64_t r = 0; r < count; r++)
            hm__stream_copy(to + (size_t)(r * d->batch_out_stride[0]) * e, blk + (size_t)r * row,
                            row);
}

static void run_row_blocks(hm_context *ctx, const fftw_backend_plan *p, const void *in, void *out,
                           bool stream)
{
    rows_job j = {p, in, out, stream};
    int threads = p->d.exec.num_threads > 0 ? p->d.exec.num_threads : 1;
    hm__pool_run_blocks(ctx, threads, (p->d.batch_n[0] + p->block_rows - 1) / p->block_rows,
                        rows_block, &j);
}

/* Makes the row-block plans and keeps them if wanted and, when timed, the faster variant beats
 * FFTW's plan. A failure here only leaves FFTW's plan. */
static void try_row_blocks(hm_context *ctx, fftw_backend_plan *p)
{
    int want = row_blocks_wanted(ctx, &p->d);
    if (want == ROWS_NONE)
        return;
    const hm_fft_desc *d = &p->d;
    size_t e = hm__fftw_elem_out(d);
    int64_t rows = d->batch_n[0],
            per_block = (int64_t)(row_block_bytes(ctx) / ((size_t)d->n[0] * e));
    per_block = per_block < 1 ? 1 : per_block;
    per_block = per_block > rows ? rows : per_block;
    void *in, *out;
    int threads = d->exec.num_threads > 0 ? d->exec.num_threads : 1;
    p->scratch = fftw_malloc((size_t)threads * (size_t)per_block * (size_t)d->n[0] * e);
    if (timing_arrays(d, &in, &out) && p->scratch) {
        p->block_rows = per_block;
        p->block_plan = hm__fftw_rows_plan(d, d->n[0], per_block, d->n[0], p->scratch, p->scratch);
        if (p->block_plan && rows % per_block)
            p->tail_plan =
                hm__fftw_rows_plan(d, d->n[0], rows % per_block, d->n[0], p->scratch, p->scratch);
        fill_timing_input(d, in);
    }
    bool made = p->block_plan && (rows % per_block == 0 || p->tail_plan);
    candidate c[3] = {{p->plan, NULL, false}, {NULL, NULL, true}, {NULL, NULL, false}};
    int count = in_y_possible(d) ? 3 : 2, best = 0;
    double t[3] = {0, 0, 0};
    if (made && want == ROWS_TIMED) {
        time_candidates(ctx, p, c, count, in, out, t);
        best = t[2] < t[1] && count == 3 ? 2 : 1;
        best = t[best] < HM_STRATEGY_GAIN * t[0] ? best : 0;
    } else if (made) {
        best = want == ROWS_STREAM ? 1 : 2;
    }
    bool by_rule = ctx->cpu_fft.row_blocks == HM_CPU_FFT_AUTO;
    static const char *const how[3] = {"", "streamed out of a scratch block",
                                       "copied and transformed in place in y"};
    if (best) {
        p->stream = c[best].stream;
        if (want == ROWS_TIMED)
            hm__log(ctx, HM_LOG_INFO,
                    "FFTW: %lld rows in blocks of %lld, %s (%.3f ms), rather than FFTW's "
                    "out-of-place plan (%.3f ms)",
                    (long long)rows, (long long)per_block, how[best], t[best] * 1e3, t[0] * 1e3);
        else
            hm__log(ctx, HM_LOG_INFO, "FFTW: %lld rows in blocks of %lld, %s, %s (not timed)",
                    (long long)rows, (long long)per_block, how[best],
                    by_rule ? "by rule" : "as the context's CPU FFT options ask");
    } else {
        if (made)
            hm__log(ctx, HM_LOG_DEBUG,
                    "FFTW: its out-of-place plan (%.3f ms) beat rows in blocks of %lld (%.3f ms "
                    "streamed, %.3f in y)",
                    t[0] * 1e3, (long long)per_block, t[1] * 1e3, t[2] * 1e3);
        hm__fftw_destroy(d, p->block_plan);
        hm__fftw_destroy(d, p->tail_plan);
        p->block_plan = p->tail_plan = NULL;
        fftw_free(p->scratch);
        p->scratch = NULL;
    }
    fftw_free(in);
    fftw_free(out);
}

/* ---- strategy: the split of a long transform -------------------------------------------- */

/* Wanted for a 1-D c2c transform that row blocks do not take, on two threads or more: timed
 * from HM_SPLIT_MIN_POINTS when the planner measures, taken by rule from HM_SPLIT_RULE_POINTS
 * (one transform, no batch) when it estimates, or forced; hm__fft_split_create refuses what it
 * cannot split. */
#define HM_SPLIT_MIN_POINTS  4096
#define HM_SPLIT_RULE_POINTS ((int64_t)1 << 18)
enum { SPLIT_NONE, SPLIT_TIMED, SPLIT_FORCED };
static int split_wanted(const hm_context *ctx, const fftw_backend_plan *p)
{
    const hm_fft_desc *d = &p->d;
    int mode = ctx->cpu_fft.split;
    if (p->block_plan || d->type != HM_FFT_C2C || d->rank != 1 || d->batch_rank > 1 ||
        mode == HM_CPU_FFT_NEVER)
        return SPLIT_NONE;
    if (mode == HM_CPU_FFT_ALWAYS)
        return SPLIT_FORCED;
    if (d->exec.num_threads < 2)
        return SPLIT_NONE;
    if (d->effort == HM_FFT_MEASURE)
        return d->n[0] >= HM_SPLIT_MIN_POINTS ? SPLIT_TIMED : SPLIT_NONE;
    return d->n[0] >= HM_SPLIT_RULE_POINTS && d->batch_rank == 0 ? SPLIT_FORCED : SPLIT_NONE;
}

/* Makes the split and keeps it if wanted and, when timed, faster than the plan so far (FFTW's,
 * on all threads or fewer), timed in turns on arrays of the operands' layout. */
static void try_split(hm_context *ctx, fftw_backend_plan *p)
{
    int want = split_wanted(ctx, p);
    if (want == SPLIT_NONE)
        return;
    const hm_fft_desc *d = &p->d;
    hm_fft_split *split =
        hm__fft_split_create(d, d->exec.num_threads > 0 ? d->exec.num_threads : 1);
    if (!split)
        return;
    int64_t n1, n2;
    size_t bytes;
    hm__fft_split_shape(split, &n1, &n2, &bytes);
    double t[2] = {0, 0};
    if (want == SPLIT_TIMED) {
        void *in, *out;
        if (timing_arrays(d, &in, &out)) {
            fill_timing_input(d, in);
            candidate c[2] = {{p->plan, NULL, false}, {NULL, split, false}};
            time_candidates(ctx, p, c, 2, in, out, t);
        }
        fftw_free(in);
        fftw_free(out);
        if (!(t[1] > 0 && t[1] < HM_STRATEGY_GAIN * t[0])) {
            hm__log(ctx, HM_LOG_DEBUG,
                    "FFTW: its plan (%.3f ms) beat %lld points split %lld x %lld (%.3f ms)",
                    t[0] * 1e3, (long long)d->n[0], (long long)n1, (long long)n2, t[1] * 1e3);
            hm__fft_split_destroy(split);
            return;
        }
        hm__log(ctx, HM_LOG_INFO,
                "FFTW: %lld points split %lld x %lld, two passes of blocks over %d threads "
                "(%.3f ms), rather than FFTW's plan (%.3f ms); the split holds %.1f MB",
                (long long)d->n[0], (long long)n1, (long long)n2, d->exec.num_threads, t[1] * 1e3,
                t[0] * 1e3, (double)bytes / 1e6);
    } else {
        hm__log(ctx, HM_LOG_INFO,
                "FFTW: %lld points split %lld x %lld, two passes of blocks, %s (not timed); the "
                "split holds %.1f MB",
                (long long)d->n[0], (long long)n1, (long long)n2,
                ctx->cpu_fft.split == HM_CPU_FFT_AUTO ? "by rule"
                                                      : "as the context's CPU FFT options ask",
                (double)bytes / 1e6);
    }
    p->split = split;
}

/* ---- the backend ------------------------------------------------------------------------- */

/* The strategies the planner walks after FFTW's plan, in order: each sees the plan so far. */
static const struct strategy {
    const char *name;
    void (*try_it)(hm_context *ctx, fftw_backend_plan *p);
} strategies[] = {
    {"fewer threads", try_fewer_threads},
    {"row blocks", try_row_blocks},
    {"split", try_split},
};

static void cpu_fft_destroy(void *plan)
{
    fftw_backend_plan *p = plan;
    if (!p)
        return;
    hm__fftw_destroy(&p->d, p->plan);
    hm__fftw_destroy(&p->d, p->plan_unaligned);
    hm__fftw_destroy(&p->d, p->block_plan);
    hm__fftw_destroy(&p->d, p->tail_plan);
    hm__fft_split_destroy(p->split);
    fftw_free(p->scratch);
    free(p);
}

static hm_status cpu_fft_plan(hm_context *ctx, const void *desc, const void *args, void **out)
{
    (void)args;
    hm__fftw_init();
    fftw_backend_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for an FFT plan");
    p->d = *(const hm_fft_desc *)desc;
    p->threads = p->d.exec.num_threads;
    hm__fftw_wisdom_read(ctx);
    hm_status st = plan_with(ctx, &p->d, p->threads, 0, &p->plan);
    if (st != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    for (size_t i = 0; i < HM_ARRAY_LEN(strategies); i++)
        strategies[i].try_it(ctx, p);
    if (p->d.effort == HM_FFT_MEASURE)
        hm__fftw_wisdom_write(ctx);
    *out = p;
    return HM_STATUS_SUCCESS;
}

/* out[i] *= scale over the output layout (both halves of complex elements). */
static void scale_output(const hm_fft_desc *d, void *out)
{
    int ndim = d->rank + d->batch_rank;
    int64_t shape[HM_MAX_NDIM + HM_FFT_MAX_RANK], stride[HM_MAX_NDIM + HM_FFT_MAX_RANK];
    for (int i = 0; i < d->batch_rank; i++) {
        shape[i] = d->batch_n[i];
        stride[i] = d->batch_out_stride[i];
    }
    for (int i = 0; i < d->rank; i++) {
        shape[d->batch_rank + i] = d->n[i];
        stride[d->batch_rank + i] = d->out_stride[i];
    }
    if (d->type == HM_FFT_R2C)
        shape[ndim - 1] = d->n[d->rank - 1] / 2 + 1;
    int comps = d->type == HM_FFT_C2R ? 1 : 2;
    int64_t idx[HM_MAX_NDIM + HM_FFT_MAX_RANK] = {0};
    int64_t total = 1;
    for (int i = 0; i < ndim; i++)
        total *= shape[i];
    for (int64_t e = 0; e < total; e++) {
        int64_t off = 0;
        for (int i = 0; i < ndim; i++)
            off += idx[i] * stride[i];
        for (int c = 0; c < comps; c++) {
            if (d->double_precision)
                ((double *)out)[off * comps + c] *= d->scale;
            else
                ((float *)out)[off * comps + c] *= (float)d->scale;
        }
        for (int i = ndim - 1; i >= 0; i--) {
            if (++idx[i] < shape[i])
                break;
            idx[i] = 0;
        }
    }
}

static hm_status cpu_fft_execute(hm_context *ctx, void *plan, const void *args)
{
    fftw_backend_plan *p = plan;
    const hm_fft_args *a = args;
    void *run = p->plan, *out = a->out;
    void *vin = (void *)a->in; /* FFTW's prototypes are not const; it writes only for c2r */
    if (p->split) {            /* the normalisation is in its twiddles */
        hm__fft_split_run(ctx, p->split, vin, out);
        return HM_STATUS_SUCCESS;
    }
    bool aligned = fftw_alignment_of((double *)vin) == 0 && fftw_alignment_of((double *)out) == 0;
    if (p->block_plan && (p->stream || fftw_alignment_of((double *)out) == 0)) {
        run_row_blocks(ctx, p, vin, out, p->stream);
    } else {
        if (!aligned) {
            if (!p->plan_unaligned) {
                hm_status st =
                    plan_with(ctx, &p->d, p->threads, FFTW_UNALIGNED, &p->plan_unaligned);
                if (st != HM_STATUS_SUCCESS)
                    return st;
            }
            run = p->plan_unaligned;
        }
        hm__fftw_run(&p->d, run, vin, out);
    }
    if (p->d.scale != 1.0)
        scale_output(&p->d, out);
    return HM_STATUS_SUCCESS;
}

const hm_op_backend hm__cpu_fft = {
    .error = HM_STATUS_FFTW_ERROR,
    .plan = cpu_fft_plan,
    .execute = cpu_fft_execute,
    .destroy = cpu_fft_destroy,
};
