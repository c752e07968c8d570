/* FFT on the GPU with cuFFT. cuFFT's advanced layout takes one element stride per side, "embed"
 * extents for the outer transform axes and one batch distance; layouts beyond that are reported
 * inexpressible and the core hands this backend compact canonical copies instead. The plans of
 * a device share one work area (the largest any needs, grown when a plan executes), so a
 * pipeline's tile plans take one work area, not one each; execution is queued on the context's
 * stream for the device, where every use of the work area is ordered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/cuda_libs.h"
#include "core/fft_backend.h"

static const char *cufft_name(cufftResult r)
{
    switch (r) {
    case CUFFT_INVALID_PLAN:
        return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
        return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_VALUE:
        return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
        return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
        return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
        return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
        return "CUFFT_INVALID_SIZE";
    case CUFFT_NOT_SUPPORTED:
        return "CUFFT_NOT_SUPPORTED";
    default:
        return "cuFFT error";
    }
}

/* The cuFFT boundary: in a function with `hm_status st` and a `fail:` label. */
#define HM_CUFFT_TRY(ctx, expr, what)                                                              \
    do {                                                                                           \
        cufftResult r_ = (expr);                                                                   \
        if (r_ != CUFFT_SUCCESS) {                                                                 \
            st = hm__fail((ctx),                                                                   \
                          r_ == CUFFT_ALLOC_FAILED ? HM_STATUS_OUT_OF_DEVICE_MEMORY                \
                                                   : HM_STATUS_CUFFT_ERROR,                        \
                          "cuFFT, %s: %s (%d)", (what), cufft_name(r_), (int)r_);                  \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

typedef struct cufft_backend_plan {
    hm_fft_desc d;
    cufftHandle handle;
    bool handle_made;
    int device;
    size_t work;        /* bytes of work area it needs */
    cudaStream_t bound; /* the stream and work area cuFFT was last given (set again only */
    void *bound_work;   /* when they change: each setting is a call into cuFFT) */
} cufft_backend_plan;

typedef struct cufft_layout {
    long long n[HM_FFT_MAX_RANK];
    long long inembed[HM_FFT_MAX_RANK], onembed[HM_FFT_MAX_RANK];
    long long istride, ostride, idist, odist, batch;
} cufft_layout;

/* One side's embed extents from its strides; false if the strides are not an embed layout. */
static bool embed(const hm_fft_desc *d, const int64_t *stride, bool halved_here, long long *emb)
{
    int r = d->rank;
    if (stride[r - 1] < 1)
        return false;
    for (int i = r - 2; i >= 0; i--) {
        int64_t len = d->n[i + 1];
        if (halved_here && i + 1 == r - 1)
            len = len / 2 + 1;
        if (stride[i] % stride[i + 1] != 0 || stride[i] / stride[i + 1] < len)
            return false;
        emb[i + 1] = stride[i] / stride[i + 1];
    }
    emb[0] = d->n[0];
    return true;
}

static bool layout_of(const hm_fft_desc *d, cufft_layout *l)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < d->rank; i++)
        l->n[i] = d->n[i];
    if (!embed(d, d->in_stride, d->type == HM_FFT_C2R, l->inembed) ||
        !embed(d, d->out_stride, d->type == HM_FFT_R2C, l->onembed))
        return false;
    l->istride = d->in_stride[d->rank - 1];
    l->ostride = d->out_stride[d->rank - 1];
    /* Batch dimensions, outermost (largest input stride) first, must fold into one distance. */
    int idx[HM_MAX_NDIM], nb = d->batch_rank;
    for (int i = 0; i < nb; i++)
        idx[i] = i;
    for (int i = 1; i < nb; i++)
        for (int j = i; j > 0 && d->batch_in_stride[idx[j - 1]] < d->batch_in_stride[idx[j]]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    l->batch = 1;
    l->idist = d->in_span;
    l->odist = d->out_span;
    for (int k = nb - 1; k >= 0; k--) {
        int b = idx[k];
        if (k == nb - 1) {
            l->idist = d->batch_in_stride[b];
            l->odist = d->batch_out_stride[b];
        } else if (d->batch_in_stride[b] != l->idist * l->batch ||
                   d->batch_out_stride[b] != l->odist * l->batch) {
            return false;
        }
        l->batch *= d->batch_n[b];
    }
    return true;
}

/* cuFFT runs embed layouts with one batch distance; the core stages other layouts. */
static bool cuda_expressible(const void *desc, char *why, size_t why_size)
{
    cufft_layout l;
    if (layout_of(desc, &l))
        return true;
    snprintf(why, why_size, "cuFFT takes embed layouts with one batch distance only");
    return false;
}

static cufftType type_of(const hm_fft_desc *d)
{
    switch (d->type) {
    case HM_FFT_C2C:
        return d->double_precision ? CUFFT_Z2Z : CUFFT_C2C;
    case HM_FFT_R2C:
        return d->double_precision ? CUFFT_D2Z : CUFFT_R2C;
    default:
        return d->double_precision ? CUFFT_Z2D : CUFFT_C2R;
    }
}

static void cuda_fft_destroy(void *plan)
{
    cufft_backend_plan *p = plan;
    if (!p)
        return;
    if (p->handle_made) {
        cudaSetDevice(p->device);
        HM_CUFFT(cufftDestroy)(p->handle);
    }
    free(p);
}

static hm_status cuda_fft_plan(hm_context *ctx, const void *desc, const void *args, void **out)
{
    (void)args;
    const hm_fft_desc *d = desc;
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *dev = NULL;
    cufft_layout l;
    if (!layout_of(d, &l))
        return hm__fail(ctx, HM_STATUS_INTERNAL, "cuFFT was given a layout it cannot run");
    if ((st = hm__cuda_load_cufft(ctx)) != HM_STATUS_SUCCESS ||
        (st = hm__cuda_device(ctx, d->exec.device_id, &dev)) != HM_STATUS_SUCCESS)
        return st;
    cufft_backend_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for an FFT plan");
    p->d = *d;
    p->device = d->exec.device_id;
    size_t work = 0;
    HM_CUFFT_TRY(ctx, HM_CUFFT(cufftCreate)(&p->handle), "creating a plan");
    p->handle_made = true;
    HM_CUFFT_TRY(ctx, HM_CUFFT(cufftSetStream)(p->handle, dev->stream),
                 "setting the plan's stream");
    p->bound = dev->stream;
    HM_CUFFT_TRY(ctx, HM_CUFFT(cufftSetAutoAllocation)(p->handle, 0),
                 "asking for a shared work area");
    HM_CUFFT_TRY(ctx,
                 HM_CUFFT(cufftMakePlanMany64)(p->handle, d->rank, l.n, l.inembed, l.istride,
                                               l.idist, l.onembed, l.ostride, l.odist, type_of(d),
                                               l.batch, &work),
                 "planning");
    hm__log(ctx, HM_LOG_DEBUG,
            "cuFFT plan: rank %d, istride %lld idist %lld, ostride %lld odist %lld, batch %lld, "
            "workspace %zu bytes",
            d->rank, l.istride, l.idist, l.ostride, l.odist, l.batch, work);
    p->work = work;
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    cuda_fft_destroy(p);
    return st;
}

static size_t cuda_fft_work(const void *plan)
{
    return ((const cufft_backend_plan *)plan)->work;
}

static hm_status cuda_fft_execute(hm_context *ctx, void *plan, const void *args)
{
    cufft_backend_plan *p = plan;
    const hm_fft_args *a = args;
    void *out = a->out;
    const hm_fft_desc *d = &p->d;
    hm_cuda_device *dev = NULL;
    hm_status st = hm__cuda_device(ctx, p->device, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    void *vin = (void *)a->in; /* cuFFT's prototypes are not const; only c2r writes its input */
    if ((st = hm__cuda_grow(ctx, p->device, &dev->fft_work, &dev->fft_work_bytes, p->work,
                            "cuFFT work area")) != HM_STATUS_SUCCESS)
        return st;
    cudaStream_t on = hm__cuda_stream(dev);
    if (p->bound != on) {
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftSetStream)(p->handle, on), "setting the stream");
        p->bound = on;
    }
    if (p->bound_work != dev->fft_work) {
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftSetWorkArea)(p->handle, dev->fft_work),
                     "setting the work area");
        p->bound_work = dev->fft_work;
    }
    switch (type_of(d)) {
    case CUFFT_C2C:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecC2C)(p->handle, vin, out, d->direction), "executing");
        break;
    case CUFFT_Z2Z:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecZ2Z)(p->handle, vin, out, d->direction), "executing");
        break;
    case CUFFT_R2C:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecR2C)(p->handle, vin, out), "executing");
        break;
    case CUFFT_D2Z:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecD2Z)(p->handle, vin, out), "executing");
        break;
    case CUFFT_C2R:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecC2R)(p->handle, vin, out), "executing");
        break;
    default:
        HM_CUFFT_TRY(ctx, HM_CUFFT(cufftExecZ2D)(p->handle, vin, out), "executing");
        break;
    }
    if (d->scale != 1.0) {
        int64_t shape[HM_MAX_NDIM], stride[HM_MAX_NDIM];
        int nd = 0;
        for (int i = 0; i < d->batch_rank && nd < HM_MAX_NDIM; i++, nd++) {
            shape[nd] = d->batch_n[i];
            stride[nd] = d->batch_out_stride[i];
        }
        for (int i = 0; i < d->rank && nd < HM_MAX_NDIM; i++, nd++) {
            shape[nd] = d->n[i];
            stride[nd] = d->out_stride[i];
        }
        if (d->type == HM_FFT_R2C)
            shape[nd - 1] = d->n[d->rank - 1] / 2 + 1;
        HM_CUDA_TRY(ctx,
                    hm__cuda_launch_scale(on, out, shape, stride, nd,
                                          d->double_precision ? HM_CUDA_REAL_F64 : HM_CUDA_REAL_F32,
                                          d->type == HM_FFT_C2R ? 1 : 2, d->scale),
                    "normalising the result on cuda:%d", p->device);
    }
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

const hm_op_backend hm__cuda_fft = {
    .error = HM_STATUS_CUFFT_ERROR,
    .supports = cuda_expressible,
    .plan = cuda_fft_plan,
    .execute = cuda_fft_execute,
    .destroy = cuda_fft_destroy,
    .work = cuda_fft_work,
    .work_per_output = 1.0,
};

int hm__cuda_fft_version(hm_context *ctx)
{
    int v = 0;
    if (hm__cuda_load_cufft(ctx) != HM_STATUS_SUCCESS) {
        hm__clear_error(ctx);
        return 0;
    }
    return HM_CUFFT(cufftGetVersion)(&v) == CUFFT_SUCCESS ? v : 0;
}
