/* FFT on the CPU with FFTW3's guru64 interface, which takes any strides for both the transform
 * and the batch dimensions, so no layout ever needs copying here. Double and single precision;
 * threads from the execution space. FFTW's planner is global state: planning (and the thread
 * count it reads) is serialised behind one mutex; execution with the new-array functions is
 * thread-safe. */
#include <fftw3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

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

/* Plans on the given arrays (FFTW_MEASURE writes into them). */
static void *make_plan(const hm_fft_desc *d, void *in, void *out, unsigned flags)
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
    pthread_mutex_lock(&planner_lock);
    if (threads_ok) {
        if (d->double_precision)
            fftw_plan_with_nthreads(d->exec.num_threads);
        else
            fftwf_plan_with_nthreads(d->exec.num_threads);
    }
    void *plan = make_plan(d, in, o, flags);
    pthread_mutex_unlock(&planner_lock);
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
