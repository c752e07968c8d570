/* FFT on the CPU with FFTW3's guru64 interface, which takes any strides for both the transform
 * and the batch dimensions, so no layout ever needs copying here. Double and single precision;
 * threads from the execution space. FFTW's planner is global state: planning (and the thread
 * count it reads) is serialised behind one mutex; execution with the new-array functions is
 * thread-safe.
 *
 * When the planner measures, three alternatives are timed against FFTW's plan on the planning
 * arrays, in turns, and one is kept only when at least 5% faster:
 * - fewer threads: FFTW's plan on three quarters of the threads, and for small arrays on one
 *   (below); on 16 threads of the H100 machine's Xeon a 2^20-point transform ran faster on 12.
 * - row blocks: a batch of out-of-place 1-D c2c rows done in blocks of rows that fit the cache,
 *   each block copied into the output and transformed there in place by a one-thread FFTW plan,
 *   the blocks shared among the context's host workers. On the development machine (AMD EPYC,
 *   2 threads, 2026-11-25) FFTW's best out-of-place plan for 4096 rows of 4096 c64 took 22.7 ms
 *   and the blocks 15.3; for rows of 1024 it won by 1.33x, for rows of 256 or of 16384 and more
 *   it lost by 3-7%. On the Xeon (16 threads, memory-bound there) it won by 0-23%.
 * - the split (cpu_fft_split.c): one long 1-D transform in two passes of blocks of short ones. */
#include <fftw3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/cpu/cpu_fft.h"
#include "core/pool.h"

/* A block of rows: a quarter to a half of a core's L2. On the H100 machine's Xeon (16 threads,
 * 2026-11-25 ~15:55 UTC, two rounds) 4096 rows of 4096 c64 streamed through blocks of 64, 128,
 * 256, 512 and 1024 KiB took 4.9-5.0, 4.7-5.2, 3.7-4.5, 4.6-4.7 and 4.4-5.7 ms (FFTW's plan
 * 4.9-5.8, SciPy 9.4-10.2); here (AMD EPYC, 2 threads) 64-512 KiB all took 15.6-16.0 ms. */
#define HM_ROW_BLOCK_BYTES ((size_t)256 << 10)

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;
static int threads_ok;

static void init_threads(void)
{
    threads_ok = fftw_init_threads() && fftwf_init_threads();
    fftw_make_planner_thread_safe();
    fftwf_make_planner_thread_safe();
}

typedef struct fftw_backend_plan {
    hm_fft_desc d;
    void *plan;           /* fftw_plan or fftwf_plan, for 16-byte-aligned arrays */
    void *plan_unaligned; /* made on first use with arrays FFTW would not accept */
    /* Row blocks (see the top of the file), when measured faster: in-place one-thread plans for
     * a block of block_rows contiguous rows and for the last, shorter block, and a scratch block
     * for each thread. */
    void *block_plan, *tail_plan;
    int64_t block_rows;
    char *scratch;
    bool stream;         /* rows go through the scratch and out by streaming stores (else into y) */
    hm_fft_split *split; /* a long 1-D transform in two passes (cpu_fft_split.c), when faster */
    int threads;         /* FFTW's threads for plan and plan_unaligned (fewer threads, below) */
} fftw_backend_plan;

static bool cpu_expressible(const hm_fft_desc *d)
{
    (void)d;
    return true;
}

void hm__fftw_destroy(const hm_fft_desc *d, void *plan)
{
    if (!plan)
        return;
    pthread_mutex_lock(&planner_lock);
    if (d->double_precision)
        fftw_destroy_plan(plan);
    else
        fftwf_destroy_plan(plan);
    pthread_mutex_unlock(&planner_lock);
}

/* FFTW's planner call for d, on the given arrays (FFTW_MEASURE writes into them). */
static void *guru_plan(const hm_fft_desc *d, void *in, void *out, unsigned flags)
{
    fftw_iodim64 dims[HM_FFT_MAX_RANK], batch[HM_MAX_NDIM];
    for (int i = 0; i < d->rank; i++) {
        dims[i].n = d->n[i];
        dims[i].is = d->in_stride[i];
        dims[i].os = d->out_stride[i];
    }
    for (int i = 0; i < d->batch_rank; i++) {
        batch[i].n = d->batch_n[i];
        batch[i].is = d->batch_in_stride[i];
        batch[i].os = d->batch_out_stride[i];
    }
    /* fftwf_iodim64 has the same layout as fftw_iodim64. */
    if (d->double_precision) {
        switch (d->type) {
        case HM_FFT_C2C:
            return fftw_plan_guru64_dft(d->rank, dims, d->batch_rank, batch, in, out, d->direction,
                                        flags);
        case HM_FFT_R2C:
            return fftw_plan_guru64_dft_r2c(d->rank, dims, d->batch_rank, batch, in, out, flags);
        default:
            return fftw_plan_guru64_dft_c2r(d->rank, dims, d->batch_rank, batch, in, out, flags);
        }
    }
    fftwf_iodim64 *fd = (fftwf_iodim64 *)dims, *fb = (fftwf_iodim64 *)batch;
    switch (d->type) {
    case HM_FFT_C2C:
        return fftwf_plan_guru64_dft(d->rank, fd, d->batch_rank, fb, in, out, d->direction, flags);
    case HM_FFT_R2C:
        return fftwf_plan_guru64_dft_r2c(d->rank, fd, d->batch_rank, fb, in, out, flags);
    default:
        return fftwf_plan_guru64_dft_c2r(d->rank, fd, d->batch_rank, fb, in, out, flags);
    }
}

/* The thread count is planner state too, so it is set under the same lock. */
void *hm__fftw_plan(const hm_fft_desc *d, int threads, void *in, void *out, unsigned flags)
{
    pthread_mutex_lock(&planner_lock);
    if (threads_ok) {
        if (d->double_precision)
            fftw_plan_with_nthreads(threads);
        else
            fftwf_plan_with_nthreads(threads);
    }
    void *plan = guru_plan(d, in, out, flags);
    pthread_mutex_unlock(&planner_lock);
    return plan;
}

void hm__fftw_run(const hm_fft_desc *d, void *plan, void *in, void *out)
{
    if (d->double_precision) {
        switch (d->type) {
        case HM_FFT_C2C:
            fftw_execute_dft(plan, in, out);
            break;
        case HM_FFT_R2C:
            fftw_execute_dft_r2c(plan, in, out);
            break;
        default:
            fftw_execute_dft_c2r(plan, in, out);
            break;
        }
    } else {
        switch (d->type) {
        case HM_FFT_C2C:
            fftwf_execute_dft(plan, in, out);
            break;
        case HM_FFT_R2C:
            fftwf_execute_dft_r2c(plan, in, out);
            break;
        default:
            fftwf_execute_dft_c2r(plan, in, out);
            break;
        }
    }
}

size_t hm__fftw_elem_in(const hm_fft_desc *d)
{
    size_t real = d->double_precision ? 8 : 4;
    return d->type == HM_FFT_R2C ? real : 2 * real;
}

size_t hm__fftw_elem_out(const hm_fft_desc *d)
{
    size_t real = d->double_precision ? 8 : 4;
    return d->type == HM_FFT_C2R ? real : 2 * real;
}

static hm_status plan_with(hm_context *ctx, const hm_fft_desc *d, int threads, unsigned extra,
                           void **out)
{
    unsigned flags = (d->effort == HM_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE) | extra;
    /* c2r overwrites its input; the core hands it a private copy, so allow it. */
    if (d->type == HM_FFT_C2R)
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
                        "hm_fft: no host memory for FFTW's planning arrays (%zu bytes)",
                        in_bytes + out_bytes);
    }
    void *plan = hm__fftw_plan(d, threads, in, o, flags);
    fftw_free(in);
    if (o != in)
        fftw_free(o);
    if (!plan)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR,
                        "hm_fft: FFTW could not plan a %s rank-%d transform of %lld x ... with "
                        "%d batch dimensions",
                        d->type == HM_FFT_C2C   ? "c2c"
                        : d->type == HM_FFT_R2C ? "r2c"
                                                : "c2r",
                        d->rank, (long long)d->n[0], d->batch_rank);
    *out = plan;
    return HM_STATUS_SUCCESS;
}

/* ---- row blocks ---------------------------------------------------------------------------- */

/* The bytes of a block: HM_ROW_BLOCK_BYTES, or HETMATH_FFT_ROW_BLOCK_KIB (diagnosis only). */
static size_t row_block_bytes(void)
{
    const char *kib = getenv("HETMATH_FFT_ROW_BLOCK_KIB");
    long v = kib ? strtol(kib, NULL, 10) : 0;
    return v > 0 && v <= (1L << 20) ? (size_t)v << 10 : HM_ROW_BLOCK_BYTES;
}

/* Out-of-place c2c rows, contiguous, one batch dimension, a row no larger than a block: what row
 * blocks can do. HETMATH_FFT_ROW_BLOCKS=never|always|stream overrides the timing (tests and
 * diagnosis only): always forces the rows in y, stream the rows streamed out. */
enum { ROWS_NONE, ROWS_TIMED, ROWS_IN_Y, ROWS_STREAM };

/* Rows transformed in place in y need y's rows contiguous and each row's start as aligned as
 * the block plan's buffer, fftw_malloc'ed (when y itself is: see cpu_fft_execute). Rows of a
 * multiple of 64 bytes keep y's alignment whatever SIMD alignment this FFTW build wants. */
static bool in_y_possible(const hm_fft_desc *d)
{
    return d->batch_out_stride[0] == d->n[0] && ((size_t)d->n[0] * hm__fftw_elem_out(d)) % 64 == 0;
}

static int row_blocks_wanted(const hm_fft_desc *d)
{
    size_t e = hm__fftw_elem_out(d);
    if (d->type != HM_FFT_C2C || d->in_place || d->rank != 1 || d->batch_rank != 1 ||
        d->in_stride[0] != 1 || d->out_stride[0] != 1 || d->batch_n[0] < 2 ||
        d->batch_in_stride[0] < d->n[0] || d->batch_out_stride[0] < d->n[0] ||
        (size_t)d->n[0] * e > row_block_bytes())
        return ROWS_NONE;
    const char *force = getenv("HETMATH_FFT_ROW_BLOCKS");
    if (force && strcmp(force, "never") == 0)
        return ROWS_NONE;
    if (force && strcmp(force, "always") == 0)
        return in_y_possible(d) ? ROWS_IN_Y : ROWS_STREAM;
    if (force && strcmp(force, "stream") == 0)
        return ROWS_STREAM;
    return d->effort == HM_FFT_MEASURE ? ROWS_TIMED : ROWS_NONE;
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

void *hm__fftw_rows_plan(const hm_fft_desc *d, int64_t n, int64_t rows, int64_t dist, void *in,
                         void *out)
{
    hm_fft_desc b = *d;
    b.type = HM_FFT_C2C;
    b.rank = 1;
    b.n[0] = n;
    b.in_stride[0] = b.out_stride[0] = 1;
    b.batch_rank = 1;
    b.batch_n[0] = rows;
    b.batch_in_stride[0] = b.batch_out_stride[0] = dist;
    b.in_place = in == out;
    return hm__fftw_plan(&b, 1, in, out,
                         d->effort == HM_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE);
}

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

/* Makes the row-block plans and keeps them if they are wanted and, unless forced, the faster
 * variant is faster than FFTW's plan on arrays of the operands' layout. A failure here only
 * leaves FFTW's plan. */
static void try_row_blocks(hm_context *ctx, fftw_backend_plan *p)
{
    int want = row_blocks_wanted(&p->d);
    if (want == ROWS_NONE)
        return;
    const hm_fft_desc *d = &p->d;
    size_t e = hm__fftw_elem_out(d);
    int64_t rows = d->batch_n[0], per_block = (int64_t)(row_block_bytes() / ((size_t)d->n[0] * e));
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
        /* Kept only when 5% faster: on the H100 machine's 16 threads the rows and FFTW's plan
         * came within a few per cent of each other for 16384 rows of 1024, and a closer call
         * is the host's noise. */
        best = t[best] < 0.95 * t[0] ? best : 0;
    } else if (made) {
        best = want == ROWS_STREAM ? 1 : 2;
    }
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
            hm__log(ctx, HM_LOG_INFO,
                    "FFTW: %lld rows in blocks of %lld, %s, as HETMATH_FFT_ROW_BLOCKS asks (not "
                    "timed)",
                    (long long)rows, (long long)per_block, how[best]);
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

/* ---- fewer threads ------------------------------------------------------------------------- */

/* FFTW divides a transform among all the threads it is given. When the data fits the cache,
 * past some count the threads' synchronisation costs more than they give: on the H100 machine's
 * 16 threads (2026-11-25) a 2^20-point c64 transform (16 MiB in and out) took 1.33-1.50 ms on 12
 * threads and 1.53-1.99 ms on 16; and 10^4 points (160 KB) took 28-50 us on 16 threads against
 * 16 us for FFTW's one-thread plan on the development machine. So when the planner measures and
 * the arrays are at most 32 MiB, FFTW's plans for three quarters of the threads (given 8 or
 * more) and, for arrays of at most 1 MiB, for one thread are timed against the plan for all,
 * in turns, and the fastest kept when at least 5% faster. Not beyond: memory-bound transforms
 * want every thread, and measuring a plan of 2^24 points again took minutes there. Not for c2r,
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
            best = t[k] < 0.95 * t[0] && t[k] < t[best] ? k : best;
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

/* ---- the split of a long transform ------------------------------------------------------- */

/* Wanted for a 1-D c2c transform of at least HM_SPLIT_MIN_POINTS that row blocks do not take,
 * on two threads or more, when the planner measures; HETMATH_FFT_SPLIT=never|always overrides
 * (tests and diagnosis only). hm__fft_split_create refuses what it cannot split. */
#define HM_SPLIT_MIN_POINTS 4096
enum { SPLIT_NONE, SPLIT_TIMED, SPLIT_FORCED };
static int split_wanted(const fftw_backend_plan *p)
{
    const hm_fft_desc *d = &p->d;
    const char *force = getenv("HETMATH_FFT_SPLIT");
    if (p->block_plan || d->type != HM_FFT_C2C || d->rank != 1 || d->batch_rank > 1 ||
        (force && strcmp(force, "never") == 0))
        return SPLIT_NONE;
    if (force && strcmp(force, "always") == 0)
        return SPLIT_FORCED;
    return d->effort == HM_FFT_MEASURE && d->exec.num_threads >= 2 && d->n[0] >= HM_SPLIT_MIN_POINTS
               ? SPLIT_TIMED
               : SPLIT_NONE;
}

/* Makes the split and keeps it if wanted and, unless forced, 5% faster than the plan so far
 * (FFTW's, on all threads or fewer), timed in turns on arrays of the operands' layout. */
static void try_split(hm_context *ctx, fftw_backend_plan *p)
{
    int want = split_wanted(p);
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
        if (!(t[1] > 0 && t[1] < 0.95 * t[0])) {
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
                "FFTW: %lld points split %lld x %lld, two passes of blocks, as HETMATH_FFT_SPLIT "
                "asks (not timed); the split holds %.1f MB",
                (long long)d->n[0], (long long)n1, (long long)n2, (double)bytes / 1e6);
    }
    p->split = split;
}

static hm_status cpu_fft_plan(hm_context *ctx, const hm_fft_desc *d, void **out)
{
    pthread_once(&threads_once, init_threads);
    fftw_backend_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "hm_fft: no memory for a plan");
    p->d = *d;
    p->threads = d->exec.num_threads;
    hm_status st = plan_with(ctx, d, p->threads, 0, &p->plan);
    if (st != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    try_fewer_threads(ctx, p);
    try_row_blocks(ctx, p);
    try_split(ctx, p);
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

static hm_status cpu_fft_execute(hm_context *ctx, void *plan, const void *in, void *out)
{
    fftw_backend_plan *p = plan;
    void *run = p->plan;
    void *vin = (void *)in; /* FFTW's prototypes are not const; it writes only for c2r */
    if (p->split) {         /* the normalisation is in its twiddles */
        hm__fft_split_run(ctx, p->split, in, out);
        return HM_STATUS_SUCCESS;
    }
    bool aligned = fftw_alignment_of((double *)vin) == 0 && fftw_alignment_of((double *)out) == 0;
    if (p->block_plan && (p->stream || fftw_alignment_of((double *)out) == 0)) {
        run_row_blocks(ctx, p, in, out, p->stream);
        if (p->d.scale != 1.0)
            scale_output(&p->d, out);
        return HM_STATUS_SUCCESS;
    }
    if (!aligned) {
        if (!p->plan_unaligned) {
            hm_status st = plan_with(ctx, &p->d, p->threads, FFTW_UNALIGNED, &p->plan_unaligned);
            if (st != HM_STATUS_SUCCESS)
                return st;
        }
        run = p->plan_unaligned;
    }
    hm__fftw_run(&p->d, run, vin, out);
    if (p->d.scale != 1.0)
        scale_output(&p->d, out);
    return HM_STATUS_SUCCESS;
}

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

const hm_fft_backend hm__cpu_fft = {
    .expressible = cpu_expressible,
    .plan = cpu_fft_plan,
    .execute = cpu_fft_execute,
    .destroy = cpu_fft_destroy,
};

/* Wisdom: the double and single precision strings, one after the other, in one file. */
hm_status hm_fft_wisdom_export(hm_context *ctx, const char *path)
{
    HM_ENTER(ctx, "hm_fft_wisdom_export");
    if (!path)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_fft_wisdom_export: path is NULL");
    pthread_mutex_lock(&planner_lock);
    char *wd = fftw_export_wisdom_to_string();
    char *wf = fftwf_export_wisdom_to_string();
    pthread_mutex_unlock(&planner_lock);
    hm_status st = HM_STATUS_SUCCESS;
    FILE *f = fopen(path, "w");
    if (!wd || !wf || !f || fprintf(f, "%s\n%s", wd, wf) < 0)
        st = hm__fail(ctx, HM_STATUS_FFTW_ERROR, "hm_fft_wisdom_export: cannot write %s", path);
    if (f && fclose(f) != 0 && st == HM_STATUS_SUCCESS)
        st = hm__fail(ctx, HM_STATUS_FFTW_ERROR, "hm_fft_wisdom_export: cannot write %s", path);
    free(wd);
    free(wf);
    return st;
}

hm_status hm_fft_wisdom_import(hm_context *ctx, const char *path)
{
    HM_ENTER(ctx, "hm_fft_wisdom_import");
    if (!path)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_fft_wisdom_import: path is NULL");
    FILE *f = fopen(path, "r");
    if (!f)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR, "hm_fft_wisdom_import: cannot open %s", path);
    char *text = NULL;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            text = malloc((size_t)n + 1);
            if (text) {
                len = fread(text, 1, (size_t)n, f);
                text[len] = '\0';
            }
        }
    }
    fclose(f);
    /* The float wisdom starts at the second "(fftw-3.3" header. */
    char *second = text ? strstr(text + 1, "(fftw-") : NULL;
    int ok = 0;
    if (second) {
        second[-1] = '\0';
        pthread_mutex_lock(&planner_lock);
        ok = fftw_import_wisdom_from_string(text) && fftwf_import_wisdom_from_string(second);
        pthread_mutex_unlock(&planner_lock);
    }
    free(text);
    if (!ok)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR,
                        "hm_fft_wisdom_import: %s does not hold hetmath's FFTW wisdom", path);
    return HM_STATUS_SUCCESS;
}

void hm__cpu_fft_version(char *buf, size_t size)
{
    snprintf(buf, size, "%s", fftw_version);
}
