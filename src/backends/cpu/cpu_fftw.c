/* FFTW's side of the CPU FFT backend: its planner (global state in FFTW, so serialised behind
 * one lock with the thread count it reads), plans for the backend and for the split, execution
 * on new arrays (FFTW's new-array functions: thread-safe), wisdom and the version. */
#include <errno.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/cpu/cpu_fft.h"
#include "core/cache_file.h"

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
void hm__fftw_planner_enter(bool double_precision, int threads)
{
    pthread_mutex_lock(&planner_lock);
    if (threads_ok) {
        if (double_precision)
            fftw_plan_with_nthreads(threads);
        else
            fftwf_plan_with_nthreads(threads);
    }
}

void hm__fftw_planner_leave(void)
{
    pthread_mutex_unlock(&planner_lock);
}

void *hm__fftw_plan(const hm_fft_desc *d, int threads, void *in, void *out, unsigned flags)
{
    hm__fftw_planner_enter(d->double_precision, threads);
    void *plan = guru_plan(d, in, out, flags);
    hm__fftw_planner_leave();
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

/* ---- wisdom ------------------------------------------------------------------------------- */

/* The double and single precision wisdom, one after the other (malloc'ed), or NULL. */
static char *wisdom_text(void)
{
    pthread_mutex_lock(&planner_lock);
    char *wd = fftw_export_wisdom_to_string();
    char *wf = fftwf_export_wisdom_to_string();
    pthread_mutex_unlock(&planner_lock);
    char *text = NULL;
    if (wd && wf && (text = malloc(strlen(wd) + strlen(wf) + 2)))
        sprintf(text, "%s\n%s", wd, wf);
    free(wd);
    free(wf);
    return text;
}

/* Imports text made by wisdom_text (modifies it); 1 when both precisions were FFTW wisdom. The
 * float wisdom starts at the second "(fftw-" header. */
static int wisdom_import(char *text)
{
    char *second = strstr(text + 1, "(fftw-");
    if (!second)
        return 0;
    second[-1] = '\0';
    pthread_mutex_lock(&planner_lock);
    int ok = fftw_import_wisdom_from_string(text) && fftwf_import_wisdom_from_string(second);
    pthread_mutex_unlock(&planner_lock);
    return ok;
}

/* A whole file, NUL-terminated (malloc'ed), or NULL. */
hm_status hm_fft_wisdom_export(hm_context *ctx, const char *path)
{
    HM_ENTER(ctx, "hm_fft_wisdom_export");
    if (!path)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_fft_wisdom_export: path is NULL");
    char *text = wisdom_text();
    int ok = text && hm__file_write(path, "", text);
    int e = errno;
    free(text);
    if (!ok)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR, "hm_fft_wisdom_export: cannot write %s: %s",
                        path, text ? strerror(e) : "no memory");
    return HM_STATUS_SUCCESS;
}

hm_status hm_fft_wisdom_import(hm_context *ctx, const char *path)
{
    HM_ENTER(ctx, "hm_fft_wisdom_import");
    if (!path)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_fft_wisdom_import: path is NULL");
    char *text = hm__file_read(path);
    if (!text)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR, "hm_fft_wisdom_import: cannot open %s: %s", path,
                        strerror(errno));
    int ok = wisdom_import(text);
    free(text);
    if (!ok)
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR,
                        "hm_fft_wisdom_import: %s does not hold hetmath's FFTW wisdom", path);
    return HM_STATUS_SUCCESS;
}

/* ---- the per-machine wisdom file (hetmath/cpu.h) ------------------------------------------- */

#define HM_WISDOM_HEAD "hetmath fftw wisdom 1\n"

/* The file the context's options name, or the default; 0 when there is none to use. */
static int wisdom_path(const hm_context *ctx, char *buf, size_t size)
{
    if (ctx->cpu_fft.wisdom_file == HM_CPU_FFT_NEVER)
        return 0;
    if (ctx->cpu_fft.wisdom_path)
        return snprintf(buf, size, "%s", ctx->cpu_fft.wisdom_path) < (int)size;
    return hm__cache_path("fftw-wisdom", buf, size);
}

/* "machine: <CPU model>; <n> cpus; <FFTW version>\n": wisdom is only good where it was made. */
static void machine_line(char *buf, size_t size)
{
    char cpu[256];
    hm__machine_cpu(cpu, sizeof cpu);
    snprintf(buf, size, "machine: %s; %s\n", cpu, fftw_version);
}

/* The file read in this process: FFTW's wisdom is the process's, so once is enough. */
static pthread_mutex_t wisdom_file_lock = PTHREAD_MUTEX_INITIALIZER;
static char wisdom_read_path[1024];

void hm__fftw_wisdom_read(hm_context *ctx)
{
    char path[1024], machine[320];
    if (!wisdom_path(ctx, path, sizeof path))
        return;
    pthread_mutex_lock(&wisdom_file_lock);
    bool done = strcmp(wisdom_read_path, path) == 0;
    snprintf(wisdom_read_path, sizeof wisdom_read_path, "%s", path);
    pthread_mutex_unlock(&wisdom_file_lock);
    if (done)
        return;
    char *text = hm__file_read(path);
    if (!text) {
        hm__log(ctx, HM_LOG_DEBUG, "FFTW: no wisdom file at %s yet", path);
        return;
    }
    machine_line(machine, sizeof machine);
    size_t head = strlen(HM_WISDOM_HEAD), mach = strlen(machine);
    if (strncmp(text, HM_WISDOM_HEAD, head) != 0)
        hm__log(ctx, HM_LOG_INFO, "FFTW: %s is not a hetmath wisdom file; ignored", path);
    else if (strncmp(text + head, machine, mach) != 0)
        hm__log(ctx, HM_LOG_INFO,
                "FFTW: the wisdom in %s was made on another machine or FFTW; ignored (it is "
                "replaced after the next measured plan)",
                path);
    else if (!wisdom_import(text + head + mach))
        hm__log(ctx, HM_LOG_INFO, "FFTW: %s does not hold FFTW wisdom; ignored", path);
    else
        hm__log(ctx, HM_LOG_DEBUG, "FFTW: wisdom read from %s", path);
    free(text);
}

void hm__fftw_wisdom_write(hm_context *ctx)
{
    char path[1024], head[400];
    if (!wisdom_path(ctx, path, sizeof path))
        return;
    char *text = wisdom_text();
    if (!text)
        return;
    snprintf(head, sizeof head, "%s", HM_WISDOM_HEAD);
    machine_line(head + strlen(head), sizeof head - strlen(head));
    pthread_mutex_lock(&wisdom_file_lock);
    int ok = hm__file_write(path, head, text);
    int e = errno;
    pthread_mutex_unlock(&wisdom_file_lock);
    free(text);
    if (ok)
        hm__log(ctx, HM_LOG_DEBUG, "FFTW: wisdom written to %s", path);
    else
        hm__log(ctx, HM_LOG_INFO, "FFTW: cannot write the wisdom file %s: %s", path, strerror(e));
}

void hm__cpu_fft_version(char *buf, size_t size)
{
    snprintf(buf, size, "%s", fftw_version);
}
