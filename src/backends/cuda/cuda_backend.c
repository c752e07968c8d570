/* The CUDA backend: device and pinned memory, pointer location, copies across the PCIe/NVLink
 * boundary, per-device streams, and the CUDA operations (cuFFT, cuBLASLt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"

static hm_cuda_state *state(hm_context *ctx)
{
    return (hm_cuda_state *)ctx->backend_state[HM_BACKEND_CUDA];
}

hm_status hm__cuda_fail(hm_context *ctx, cudaError_t err, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    (void)cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
    hm_status st =
        err == cudaErrorMemoryAllocation ? HM_STATUS_OUT_OF_DEVICE_MEMORY : HM_STATUS_CUDA_ERROR;
    return hm__fail(ctx, st, "%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

static hm_status cuda_probe(hm_context *ctx, int *count)
{
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        /* No driver, no device, or a driver too old: a machine without a GPU, not a failure. */
        (void)cudaGetLastError();
        hm__log(ctx, HM_LOG_DEBUG, "CUDA probe: %s, so 0 devices", cudaGetErrorString(err));
        n = 0;
    }
    hm_cuda_state *s = calloc(1, sizeof *s + (size_t)n * sizeof s->dev[0]);
    if (!s)
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    s->count = n;
    ctx->backend_state[HM_BACKEND_CUDA] = s;
    *count = n;
    return HM_STATUS_SUCCESS;
}

hm_status hm__cuda_device(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    if (!s || id < 0 || id >= s->count)
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND, "cuda:%d does not exist", id);
    hm_cuda_device *d = &s->dev[id];
    HM_CUDA_TRY(ctx, cudaSetDevice(id), "selecting cuda:%d", id);
    if (!d->ready) {
        HM_CUDA_TRY(ctx, cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking),
                    "creating the stream of cuda:%d", id);
        d->ready = true;
        hm__log(ctx, HM_LOG_DEBUG, "cuda:%d: stream created", id);
    }
    *out = d;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static void cuda_release(hm_context *ctx)
{
    hm_cuda_state *s = state(ctx);
    if (!s)
        return;
    for (int i = 0; i < s->count; i++) {
        hm_cuda_device *d = &s->dev[i];
        if (!d->ready)
            continue;
        cudaSetDevice(i);
        cudaStreamSynchronize(d->stream);
        hm__cuda_matmul_release_device(d);
        if (d->workspace)
            cudaFree(d->workspace);
        cudaStreamDestroy(d->stream);
    }
    (void)cudaGetLastError();
    free(s);
    ctx->backend_state[HM_BACKEND_CUDA] = NULL;
}

static hm_status cuda_alloc(hm_context *ctx, hm_device device, size_t bytes, void **out)
{
    hm_status st = HM_STATUS_SUCCESS;
    void *p = NULL;
    if (device.type == HM_DEVICE_CUDA_HOST) {
        HM_CUDA_TRY(ctx, cudaHostAlloc(&p, bytes, cudaHostAllocPortable),
                    "pinned allocation of %zu bytes", bytes);
    } else {
        HM_CUDA_TRY(ctx, cudaSetDevice(device.id), "selecting cuda:%d", device.id);
        HM_CUDA_TRY(ctx, cudaMalloc(&p, bytes), "allocation of %zu bytes on cuda:%d", bytes,
                    device.id);
    }
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static void cuda_free(hm_context *ctx, hm_device device, void *ptr)
{
    (void)ctx;
    if (device.type == HM_DEVICE_CUDA_HOST) {
        cudaFreeHost(ptr);
    } else {
        cudaSetDevice(device.id);
        cudaFree(ptr);
    }
    (void)cudaGetLastError();
}

static hm_status cuda_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned)
{
    (void)ctx;
    struct cudaPointerAttributes attr;
    *space = hm_device_host();
    *pinned = 0;
    if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) {
        (void)cudaGetLastError();
        return HM_STATUS_SUCCESS;
    }
    switch (attr.type) {
    case cudaMemoryTypeHost:
        *pinned = 1;
        break;
    case cudaMemoryTypeDevice:
    case cudaMemoryTypeManaged:
        *space = hm_device_cuda(attr.device);
        break;
    default:
        break;
    }
    return HM_STATUS_SUCCESS;
}

static hm_status cuda_copy_bytes(hm_context *ctx, void *dst, hm_device dst_space, const void *src,
                                 hm_device src_space, size_t bytes, hm_transfer_path *path,
                                 int *chunks)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    char s[32], t[32];
    hm_device_format(src_space, s, sizeof s);
    hm_device_format(dst_space, t, sizeof t);
    bool src_dev = src_space.type == HM_DEVICE_CUDA, dst_dev = dst_space.type == HM_DEVICE_CUDA;
    int id = src_dev ? src_space.id : dst_space.id;
    st = hm__cuda_device(ctx, id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (src_dev && dst_dev && src_space.id != dst_space.id) {
        HM_CUDA_TRY(ctx,
                    cudaMemcpyPeerAsync(dst, dst_space.id, src, src_space.id, bytes, d->stream),
                    "copying %zu bytes %s -> %s", bytes, s, t);
    } else {
        HM_CUDA_TRY(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, d->stream),
                    "copying %zu bytes %s -> %s", bytes, s, t);
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a copy %s -> %s", s, t);
    *path = HM_PATH_DIRECT;
    *chunks = 1;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_copy_strided(hm_context *ctx, hm_device space, void *dst,
                                   const int64_t *dst_strides, const void *src,
                                   const int64_t *src_strides, const int64_t *shape, int ndim,
                                   size_t elem_size)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, space.id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    /* One layout on both sides, without gaps: a plain copy-engine copy. */
    bool same = true;
    int64_t numel = 1, reach = 0;
    for (int i = 0; i < ndim; i++) {
        numel *= shape[i];
        reach += (shape[i] - 1) * src_strides[i];
        same &= shape[i] == 1 || src_strides[i] == dst_strides[i];
    }
    if (numel == 0)
        return HM_STATUS_SUCCESS;
    if (same && reach + 1 == numel) {
        HM_CUDA_TRY(ctx,
                    cudaMemcpyAsync(dst, src, (size_t)numel * elem_size, cudaMemcpyDeviceToDevice,
                                    d->stream),
                    "copy on cuda:%d", space.id);
    } else {
        HM_CUDA_TRY(ctx,
                    hm__cuda_launch_strided_copy(d->stream, dst, dst_strides, src, src_strides,
                                                 shape, ndim, elem_size),
                    "strided copy on cuda:%d", space.id);
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a strided copy on cuda:%d",
                space.id);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_synchronize(hm_context *ctx)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; s && i < s->count; i++) {
        if (!s->dev[i].ready)
            continue;
        HM_CUDA_TRY(ctx, cudaSetDevice(i), "selecting cuda:%d", i);
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream), "synchronizing cuda:%d", i);
    }
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

/* The PCIe link as Linux reports it in sysfs (0 where the file is missing, e.g. in some VMs). */
static void pcie_link(const struct cudaDeviceProp *p, int *gen, int *width)
{
    char path[128], buf[64];
    *gen = 0;
    *width = 0;
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%04x:%02x:%02x.0/current_link_speed",
             p->pciDomainID, p->pciBusID, p->pciDeviceID);
    FILE *f = fopen(path, "r");
    if (f) {
        double gts = 0;
        if (fgets(buf, sizeof buf, f) && sscanf(buf, "%lf", &gts) == 1)
            *gen = gts >= 60 ? 6 : gts >= 30 ? 5 : gts >= 15 ? 4 : gts >= 7 ? 3 : gts >= 4 ? 2 : 1;
        fclose(f);
    }
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%04x:%02x:%02x.0/current_link_width",
             p->pciDomainID, p->pciBusID, p->pciDeviceID);
    f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%d", width) != 1)
            *width = 0;
        fclose(f);
    }
}

static hm_status cuda_device_info(hm_context *ctx, int id, hm_device_info *out)
{
    hm_status st = HM_STATUS_SUCCESS;
    struct cudaDeviceProp p;
    HM_CUDA_TRY(ctx, cudaGetDeviceProperties(&p, id), "hm_context_device_info: cuda:%d", id);
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", p.name);
    out->total_memory = p.totalGlobalMem;
    out->compute_major = p.major;
    out->compute_minor = p.minor;
    out->multiprocessors = p.multiProcessorCount;
    out->pci_bus_id = p.pciBusID;
    pcie_link(&p, &out->pcie_generation, &out->pcie_width);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

const hm_backend_ops hm__cuda_backend = {
    .name = "cuda",
    .probe = cuda_probe,
    .release = cuda_release,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .locate = cuda_locate,
    .copy_bytes = cuda_copy_bytes,
    .copy_strided = cuda_copy_strided,
    .synchronize = cuda_synchronize,
    .device_info = cuda_device_info,
    .fft = &hm__cuda_fft,
    .matmul = &hm__cuda_matmul,
};
