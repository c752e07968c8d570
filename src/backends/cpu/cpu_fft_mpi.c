/* The distributed FFT of CPU ranks: FFTW-MPI, in place in one buffer a rank, on FFTW's slab
 * decomposition of the first axis (its default blocks), the output optionally left transposed
 * (FFTW_MPI_TRANSPOSED_OUT). Planning and transforms are collective over the descriptor's
 * communicator. Built with MPI only. */
#include <fftw3-mpi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/cpu/cpu_fft.h"
#include "core/dist_fft_backend.h"

static pthread_once_t mpi_once = PTHREAD_ONCE_INIT;

static void init_mpi(void)
{
    hm__fftw_init();
    fftw_mpi_init();
    fftwf_mpi_init();
}

/* Row-major element strides of a local block whose lengths are n, the last stored over `last`
 * elements (a padded real axis). */
static void strides_of(int rank, const int64_t *n, int64_t last, int64_t *stride)
{
    stride[rank - 1] = 1;
    int64_t s = last;
    for (int i = rank - 2; i >= 0; i--) {
        stride[i] = s;
        s *= n[i];
    }
}

static hm_status mpi_layout(hm_context *ctx, const void *desc, void *out)
{
    (void)ctx;
    const hm_dist_fft_desc *d = desc;
    hm_dist_fft_layout *l = out;
    pthread_once(&mpi_once, init_mpi);
    int64_t lengths[HM_FFT_MAX_RANK];
    ptrdiff_t nc[HM_FFT_MAX_RANK], n0, s0, n1, s1;
    hm__dist_fft_complex_lengths(d, lengths);
    for (int i = 0; i < d->rank; i++)
        nc[i] = (ptrdiff_t)lengths[i];
    ptrdiff_t alloc =
        d->double_precision
            ? fftw_mpi_local_size_many_transposed(d->rank, nc, 1, FFTW_MPI_DEFAULT_BLOCK,
                                                  FFTW_MPI_DEFAULT_BLOCK, d->comm, &n0, &s0, &n1,
                                                  &s1)
            : fftwf_mpi_local_size_many_transposed(d->rank, nc, 1, FFTW_MPI_DEFAULT_BLOCK,
                                                   FFTW_MPI_DEFAULT_BLOCK, d->comm, &n0, &s0, &n1,
                                                   &s1);
    int r = d->rank;
    int64_t padded = 2 * (int64_t)nc[r - 1]; /* a real axis stored in place of a complex one */
    /* The input: the real lengths for c2c and r2c, the complex ones for c2r; rows s0.. here. */
    for (int i = 0; i < r; i++) {
        l->in_lo[i] = 0;
        l->in_n[i] = d->type == HM_FFT_C2R ? (int64_t)nc[i] : d->n[i];
        l->out_lo[i] = 0;
        l->out_n[i] = d->type == HM_FFT_R2C ? (int64_t)nc[i] : d->n[i];
    }
    l->in_lo[0] = s0;
    l->in_n[0] = n0;
    strides_of(r, l->in_n, d->type == HM_FFT_R2C ? padded : l->in_n[r - 1], l->in_stride);
    if (d->transposed_out) { /* lengths n1, n0, …: rows s1.. of the swapped shape here */
        int64_t first = l->out_n[1];
        l->out_n[1] = l->out_n[0];
        l->out_n[0] = first;
        l->out_lo[0] = s1;
        l->out_n[0] = n1;
    } else {
        l->out_lo[0] = s0;
        l->out_n[0] = n0;
    }
    /* Only c2c and r2c are left transposed (the core refuses c2r): a real output is never. */
    strides_of(r, l->out_n, d->type == HM_FFT_C2R ? padded : l->out_n[r - 1], l->out_stride);
    size_t real = d->double_precision ? sizeof(double) : sizeof(float);
    l->bytes = (size_t)(alloc > 0 ? alloc : 1) * 2 * real;
    return HM_STATUS_SUCCESS;
}

typedef struct mpi_plan {
    hm_dist_fft_desc d;
    void *plan;
} mpi_plan;

static hm_status mpi_plan_make(hm_context *ctx, const void *desc, const void *args, void **out)
{
    const hm_dist_fft_desc *d = desc;
    void *buf = ((const hm_dist_fft_args *)args)->buf; /* in place: in is buf */
    pthread_once(&mpi_once, init_mpi);
    mpi_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for an FFTW-MPI plan");
    p->d = *d;
    ptrdiff_t n[HM_FFT_MAX_RANK];
    for (int i = 0; i < d->rank; i++)
        n[i] = (ptrdiff_t)d->n[i];
    unsigned flags = (d->effort == HM_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE) |
                     (d->transposed_out ? FFTW_MPI_TRANSPOSED_OUT : 0);
    ptrdiff_t blk = FFTW_MPI_DEFAULT_BLOCK;
    hm__fftw_planner_enter(d->double_precision, d->threads);
    if (d->double_precision) {
        if (d->type == HM_FFT_C2C)
            p->plan = fftw_mpi_plan_many_dft(d->rank, n, 1, blk, blk, buf, buf, d->comm,
                                             d->direction, flags);
        else if (d->type == HM_FFT_R2C)
            p->plan = fftw_mpi_plan_many_dft_r2c(d->rank, n, 1, blk, blk, buf, buf, d->comm, flags);
        else
            p->plan = fftw_mpi_plan_many_dft_c2r(d->rank, n, 1, blk, blk, buf, buf, d->comm, flags);
    } else {
        if (d->type == HM_FFT_C2C)
            p->plan = fftwf_mpi_plan_many_dft(d->rank, n, 1, blk, blk, buf, buf, d->comm,
                                              d->direction, flags);
        else if (d->type == HM_FFT_R2C)
            p->plan =
                fftwf_mpi_plan_many_dft_r2c(d->rank, n, 1, blk, blk, buf, buf, d->comm, flags);
        else
            p->plan =
                fftwf_mpi_plan_many_dft_c2r(d->rank, n, 1, blk, blk, buf, buf, d->comm, flags);
    }
    hm__fftw_planner_leave();
    if (!p->plan) {
        free(p);
        return hm__fail(ctx, HM_STATUS_FFTW_ERROR, "FFTW-MPI could not plan the %d-D transform",
                        d->rank);
    }
    *out = p;
    return HM_STATUS_SUCCESS;
}

static hm_status mpi_execute(hm_context *ctx, void *plan, const void *args)
{
    (void)ctx;
    mpi_plan *p = plan;
    void *buf = ((const hm_dist_fft_args *)args)->buf;
    if (p->d.double_precision) {
        if (p->d.type == HM_FFT_C2C)
            fftw_mpi_execute_dft(p->plan, buf, buf);
        else if (p->d.type == HM_FFT_R2C)
            fftw_mpi_execute_dft_r2c(p->plan, buf, buf);
        else
            fftw_mpi_execute_dft_c2r(p->plan, buf, buf);
    } else {
        if (p->d.type == HM_FFT_C2C)
            fftwf_mpi_execute_dft(p->plan, buf, buf);
        else if (p->d.type == HM_FFT_R2C)
            fftwf_mpi_execute_dft_r2c(p->plan, buf, buf);
        else
            fftwf_mpi_execute_dft_c2r(p->plan, buf, buf);
    }
    return HM_STATUS_SUCCESS;
}

static void mpi_destroy(void *plan)
{
    mpi_plan *p = plan;
    hm__fftw_planner_enter(p->d.double_precision, 1);
    if (p->d.double_precision)
        fftw_destroy_plan(p->plan);
    else
        fftwf_destroy_plan(p->plan);
    hm__fftw_planner_leave();
    free(p);
}

const hm_op_backend hm__cpu_dist_fft = {
    .error = HM_STATUS_FFTW_ERROR,
    .plan = mpi_plan_make,
    .execute = mpi_execute,
    .destroy = mpi_destroy,
    .layout = mpi_layout,
};
