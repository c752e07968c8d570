/* FFTW's side of the CPU FFT backend: its planner (global state in FFTW, so serialised behind
 * one lock with the thread count it reads), plans for the backend and for the split, execution
 * on new arrays (FFTW's new-array functions: thread-safe), wisdom and the version. */
#include <fftw3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/cpu/cpu_fft.h"

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;
static int threads_ok;

static void init_threads(void)
{
    threads_ok = fftw_init_threads() && fftwf_init_threads();
    fftw_make_planner_thread_safe();
    fftwf_make_planner_thread_safe();
}

void hm__fftw_init(void)
{
    pthread_once(&threads_once, init_threads);
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
