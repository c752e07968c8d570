/* FFT on the CPU with FFTW3's guru64 interface, which takes any strides for both the transform
 * and the batch dimensions, so no layout ever needs copying here. Double and single precision;
 * threads from the execution space. FFTW's planner is global state: planning (and the thread
 * count it reads) is serialised behind one mutex; execution with the new-array functions is
 * thread-safe.
 *
 * One algorithm of our own joins FFTW's when the planner measures: a batch of out-of-place 1-D
 * c2c rows done in blocks of rows that fit the cache, each block copied into the output and
 * transformed there in place by a one-thread FFTW plan, the blocks shared among the context's
 * host workers. On the development machine (AMD EPYC, 2 threads, 2026-11-25) FFTW's best
 * out-of-place plan for 4096 rows of 4096 c64 took 22.7 ms and the blocks 15.3; for rows of 1024
 * it won by 1.33x, for rows of 256 or of 16384 and more it lost by 3-7%. On the H100 machine's
 * Xeon (16 threads, memory-bound there) it won by 0-23% for 4096 rows of 4096. So it is timed
 * against FFTW's plan on the planning arrays and kept only when it is at least 5% faster. */
#include <fftw3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "core/pool.h"

#define HM_ROW_BLOCK_BYTES ((size_t)128 << 10) /* a block of rows: about L2's share per core */

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
     * a block of block_rows rows and for the last, shorter block. */
    void *block_plan, *tail_plan;
    int64_t block_rows;
} fftw_backend_plan;

static bool cpu_expressible(const hm_fft_desc *d)
{
    (void)d;
    return true;
}

static void destroy_one(const hm_fft_desc *d, void *plan)
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

/* A plan with `threads` FFTW threads, made under the planner lock (the thread count is planner
 * state too). */
static void *make_plan(const hm_fft_desc *d, int threads, void *in, void *out, unsigned flags)
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

static size_t elem_in(const hm_fft_desc *d)
{
    size_t real = d->double_precision ? 8 : 4;
    return d->type == HM_FFT_R2C ? real : 2 * real;
}

static size_t elem_out(const hm_fft_desc *d)
{
    size_t real = d->double_precision ? 8 : 4;
    return d->type == HM_FFT_C2R ? real : 2 * real;
}

static hm_status plan_with(hm_context *ctx, const hm_fft_desc *d, unsigned extra, void **out)
{
    unsigned flags = (d->effort == HM_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE) | extra;
    /* c2r overwrites its input; the core hands it a private copy, so allow it. */
    if (d->type == HM_FFT_C2R)
        flags |= FFTW_DESTROY_INPUT;
    size_t in_bytes = (size_t)d->in_span * elem_in(d),
           out_bytes = (size_t)d->out_span * elem_out(d);
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
    void *plan = make_plan(d, d->exec.num_threads, in, o, flags);
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

/* Out-of-place c2c rows, contiguous, one batch dimension, each row's start as aligned as the
 * output's: what row blocks can do. HETMATH_FFT_ROW_BLOCKS=never|always overrides the timing
 * (tests and diagnosis only). */
static int row_blocks_wanted(const hm_fft_desc *d)
{
    size_t e = elem_out(d);
    if (d->type != HM_FFT_C2C || d->in_place || d->rank != 1 || d->batch_rank != 1 ||
        d->in_stride[0] != 1 || d->out_stride[0] != 1 || d->batch_n[0] < 2 ||
        d->batch_in_stride[0] < d->n[0] || d->batch_out_stride[0] < d->n[0] ||
        ((size_t)d->batch_out_stride[0] * e) % 16 != 0)
        return 0;
    const char *force = getenv("HETMATH_FFT_ROW_BLOCKS");
    if (force && strcmp(force, "never") == 0)
        return 0;
    if (force && strcmp(force, "always") == 0)
        return 2;
    return d->effort == HM_FFT_MEASURE ? 1 : 0;
}

typedef struct rows_job {
    const fftw_backend_plan *p;
    const char *in;
    char *out;
    int64_t blocks;
} rows_job;

static void rows_slice(void *v, int i, int n)
{
    const rows_job *j = v;
    const hm_fft_desc *d = &j->p->d;
    size_t e = elem_out(d), row = (size_t)d->n[0] * e;
    int64_t per = (j->blocks + n - 1) / n, rows = d->batch_n[0];
    for (int64_t b = per * i; b < per * (i + 1) && b < j->blocks; b++) {
        int64_t r0 = b * j->p->block_rows;
        int64_t count = rows - r0 < j->p->block_rows ? rows - r0 : j->p->block_rows;
        char *blk = j->out + (size_t)(r0 * d->batch_out_stride[0]) * e;
        for (int64_t r = 0; r < count; r++)
            memcpy(blk + (size_t)(r * d->batch_out_stride[0]) * e,
                   j->in + (size_t)((r0 + r) * d->batch_in_stride[0]) * e, row);
        void *plan = count == j->p->block_rows ? j->p->block_plan : j->p->tail_plan;
        if (d->double_precision)
            fftw_execute_dft(plan, (fftw_complex *)blk, (fftw_complex *)blk);
        else
            fftwf_execute_dft(plan, (fftwf_complex *)blk, (fftwf_complex *)blk);
    }
}

static void run_row_blocks(hm_context *ctx, const fftw_backend_plan *p, const void *in, void *out)
{
    int64_t blocks = (p->d.batch_n[0] + p->block_rows - 1) / p->block_rows;
    rows_job j = {p, in, out, blocks};
    int threads = p->d.exec.num_threads > 0 ? p->d.exec.num_threads : 1;
    hm__pool_run(ctx, threads < blocks ? threads : (int)blocks, rows_slice, &j);
}

/* An in-place one-thread plan for `rows` rows of the output's layout, on buf. */
static void *block_plan_on(const hm_fft_desc *d, int64_t rows, void *buf)
{
    hm_fft_desc b = *d;
    b.batch_n[0] = rows;
    b.batch_in_stride[0] = d->batch_out_stride[0];
    b.in_stride[0] = 1;
    return make_plan(&b, 1, buf, buf, FFTW_MEASURE);
}

/* The best of HM_ROW_BLOCK_TRIES runs of FFTW's plan (t[0]) and of the row blocks (t[1]), taken
 * in turns so that a drift of the host touches both alike. */
#define HM_ROW_BLOCK_TRIES 5
static void time_both(hm_context *ctx, const fftw_backend_plan *p, void *in, void *out, double t[2])
{
    t[0] = t[1] = -1;
    for (int r = 0; r < 2 * HM_ROW_BLOCK_TRIES; r++) {
        int blocks = r & 1;
        double t0 = hm__now();
        if (blocks)
            run_row_blocks(ctx, p, in, out);
        else if (p->d.double_precision)
            fftw_execute_dft(p->plan, in, out);
        else
            fftwf_execute_dft(p->plan, in, out);
        double dt = hm__now() - t0;
        t[blocks] = t[blocks] < 0 || dt < t[blocks] ? dt : t[blocks];
    }
}

/* Makes the row-block plans and keeps them if they are wanted and, unless forced, faster than
 * FFTW's plan on arrays of the operands' layout. A failure here only leaves FFTW's plan. */
static void try_row_blocks(hm_context *ctx, fftw_backend_plan *p)
{
    int want = row_blocks_wanted(&p->d);
    if (!want)
        return;
    const hm_fft_desc *d = &p->d;
    size_t e = elem_out(d);
    int64_t rows = d->batch_n[0], per_block = (int64_t)(HM_ROW_BLOCK_BYTES / ((size_t)d->n[0] * e));
    per_block = per_block < 1 ? 1 : per_block;
    per_block = per_block > rows ? rows : per_block;
    void *in = fftw_malloc((size_t)d->in_span * elem_in(d)),
         *out = fftw_malloc((size_t)d->out_span * e);
    if (in && out) {
        /* timing data: not zeros, and nothing subnormal */
        size_t reals = (size_t)d->in_span * elem_in(d) / (d->double_precision ? 8 : 4);
        for (size_t k = 0; k < reals; k++) {
            double v = (double)((k * 2654435761u) % 2003) / 1001.0 - 1.0;
            if (d->double_precision)
                ((double *)in)[k] = v;
            else
                ((float *)in)[k] = (float)v;
        }
        p->block_rows = per_block;
        p->block_plan = block_plan_on(d, per_block, out);
        if (p->block_plan && rows % per_block)
            p->tail_plan = block_plan_on(d, rows % per_block, out);
    }
    bool made = p->block_plan && (rows % per_block == 0 || p->tail_plan);
    double t[2] = {0, 0}, t_fftw, t_rows;
    if (made && want == 1)
        time_both(ctx, p, in, out, t);
    t_fftw = t[0];
    t_rows = t[1];
    /* Kept only when 5% faster: on the H100 machine's 16 threads the two came within a few per
     * cent of each other for 16384 rows of 1024, and a closer call is the host's noise. */
    if (made && want == 2) {
        hm__log(ctx, HM_LOG_INFO,
                "FFTW: %lld rows in blocks of %lld, copied and transformed in place, as "
                "HETMATH_FFT_ROW_BLOCKS asks (not timed)",
                (long long)rows, (long long)per_block);
    } else if (made && t_rows < 0.95 * t_fftw) {
        hm__log(ctx, HM_LOG_INFO,
                "FFTW: %lld rows in blocks of %lld, copied and transformed in place (%.3f ms) "
                "rather than FFTW's out-of-place plan (%.3f ms)",
                (long long)rows, (long long)per_block, t_rows * 1e3, t_fftw * 1e3);
    } else {
        if (made)
            hm__log(ctx, HM_LOG_DEBUG,
                    "FFTW: its out-of-place plan (%.3f ms) beat rows in blocks of %lld (%.3f ms)",
                    t_fftw * 1e3, (long long)per_block, t_rows * 1e3);
        destroy_one(d, p->block_plan);
        destroy_one(d, p->tail_plan);
        p->block_plan = p->tail_plan = NULL;
    }
    fftw_free(in);
    fftw_free(out);
}

static hm_status cpu_fft_plan(hm_context *ctx, const hm_fft_desc *d, void **out)
{
    pthread_once(&threads_once, init_threads);
    fftw_backend_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "hm_fft: no memory for a plan");
    p->d = *d;
    hm_status st = plan_with(ctx, d, 0, &p->plan);
    if (st != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    try_row_blocks(ctx, p);
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
    bool aligned = fftw_alignment_of((double *)vin) == 0 && fftw_alignment_of((double *)out) == 0;
    if (p->block_plan && fftw_alignment_of((double *)out) == 0) {
        run_row_blocks(ctx, p, in, out);
        if (p->d.scale != 1.0)
            scale_output(&p->d, out);
        return HM_STATUS_SUCCESS;
    }
    if (!aligned) {
        if (!p->plan_unaligned) {
            hm_status st = plan_with(ctx, &p->d, FFTW_UNALIGNED, &p->plan_unaligned);
            if (st != HM_STATUS_SUCCESS)
                return st;
        }
        run = p->plan_unaligned;
    }
    if (p->d.double_precision) {
        switch (p->d.type) {
        case HM_FFT_C2C:
            fftw_execute_dft(run, vin, out);
            break;
        case HM_FFT_R2C:
            fftw_execute_dft_r2c(run, vin, out);
            break;
        default:
            fftw_execute_dft_c2r(run, vin, out);
            break;
        }
    } else {
        switch (p->d.type) {
        case HM_FFT_C2C:
            fftwf_execute_dft(run, vin, out);
            break;
        case HM_FFT_R2C:
            fftwf_execute_dft_r2c(run, vin, out);
            break;
        default:
            fftwf_execute_dft_c2r(run, vin, out);
            break;
        }
    }
    if (p->d.scale != 1.0)
        scale_output(&p->d, out);
    return HM_STATUS_SUCCESS;
}

static void cpu_fft_destroy(void *plan)
{
    fftw_backend_plan *p = plan;
    if (!p)
        return;
    destroy_one(&p->d, p->plan);
    destroy_one(&p->d, p->plan_unaligned);
    destroy_one(&p->d, p->block_plan);
    destroy_one(&p->d, p->tail_plan);
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
