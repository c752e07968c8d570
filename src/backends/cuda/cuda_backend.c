/* The CUDA backend: device and pinned memory, pointer location, copies across the PCIe/NVLink
 * boundary, per-device streams, and the CUDA operations (cuFFT, cuBLASLt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "core/pool.h"

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

hm_status hm__cuda_device_streams(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!d->stream_in)
        HM_CUDA_TRY(ctx, cudaStreamCreateWithFlags(&d->stream_in, cudaStreamNonBlocking),
                    "creating a copy stream on cuda:%d", id);
    if (!d->stream_out)
        HM_CUDA_TRY(ctx, cudaStreamCreateWithFlags(&d->stream_out, cudaStreamNonBlocking),
                    "creating a copy stream on cuda:%d", id);
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
        for (int b = 0; d->stage_events && b < HM_STAGE_BUFFERS; b++)
            cudaEventDestroy(d->stage_done[b]);
        if (d->workspace)
            cudaFree(d->workspace);
        if (d->pool_made) {
            cudaStreamSynchronize(d->stream);
            cudaMemPoolDestroy(d->pool);
        }
        if (d->stream_in)
            cudaStreamDestroy(d->stream_in);
        if (d->stream_out)
            cudaStreamDestroy(d->stream_out);
        cudaStreamDestroy(d->stream);
    }
    for (int b = 0; b < s->stage_count; b++)
        cudaFreeHost(s->stage_buf[b]);
    ctx->pinned_held = 0;
    (void)cudaGetLastError();
    free(s);
    ctx->backend_state[HM_BACKEND_CUDA] = NULL;
}

/* Device memory comes from a per-context, per-device stream-ordered pool that keeps what it
 * has (release threshold: never), so the temporaries of every call after the first cost no
 * cudaMalloc/cudaFree, and no implicit device synchronisation. */
static hm_status device_pool(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!d->pool_made) {
        struct cudaMemPoolProps props;
        memset(&props, 0, sizeof props);
        props.allocType = cudaMemAllocationTypePinned;
        props.location.type = cudaMemLocationTypeDevice;
        props.location.id = id;
        HM_CUDA_TRY(ctx, cudaMemPoolCreate(&d->pool, &props), "creating the memory pool of cuda:%d",
                    id);
        d->pool_made = true;
        uint64_t keep = UINT64_MAX;
        HM_CUDA_TRY(ctx, cudaMemPoolSetAttribute(d->pool, cudaMemPoolAttrReleaseThreshold, &keep),
                    "configuring the memory pool of cuda:%d", id);
    }
    *out = d;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_alloc(hm_context *ctx, hm_device device, size_t bytes, void **out)
{
    hm_status st = HM_STATUS_SUCCESS;
    void *p = NULL;
    if (device.type == HM_DEVICE_CUDA_HOST) {
        HM_CUDA_TRY(ctx, cudaHostAlloc(&p, bytes, cudaHostAllocPortable),
                    "pinned allocation of %zu bytes", bytes);
    } else {
        hm_cuda_device *d = NULL;
        if ((st = device_pool(ctx, device.id, &d)) != HM_STATUS_SUCCESS)
            return st;
        HM_CUDA_TRY(ctx, cudaMallocFromPoolAsync(&p, bytes, d->pool, d->stream),
                    "allocation of %zu bytes on cuda:%d", bytes, device.id);
        /* Ready for any stream the caller uses it on, once this returns. */
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "allocation on cuda:%d", device.id);
    }
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

/* Device memory goes back to the pool in the order of the context's stream: after the work
 * queued there, which is the last work of hetmath's on it. */
static void cuda_free(hm_context *ctx, hm_device device, void *ptr)
{
    if (device.type == HM_DEVICE_CUDA_HOST) {
        cudaFreeHost(ptr);
    } else {
        hm_cuda_state *s = state(ctx);
        cudaSetDevice(device.id);
        if (s && device.id >= 0 && device.id < s->count && s->dev[device.id].pool_made)
            cudaFreeAsync(ptr, s->dev[device.id].stream);
        else
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

/* A caller's host range page-locked for a plan (core/registration.h). The driver tracks it
 * beside cudaHostAlloc's memory, so cuda_locate reports it pinned and copies of it go direct. */
static bool cuda_host_register(hm_context *ctx, void *ptr, size_t bytes, char *why, size_t why_size)
{
    (void)ctx;
    cudaError_t e = cudaHostRegister(ptr, bytes, cudaHostRegisterDefault);
    if (e == cudaSuccess)
        return true;
    (void)cudaGetLastError();
    snprintf(why, why_size, "cudaHostRegister: %s (%s)", cudaGetErrorString(e),
             cudaGetErrorName(e));
    return false;
}

static void cuda_host_unregister(hm_context *ctx, void *ptr)
{
    (void)ctx;
    if (cudaHostUnregister(ptr) != cudaSuccess)
        (void)cudaGetLastError(); /* not registered any more: nothing to undo */
}

/* The pinned staging buffers and this device's events for them, made on first use. The pool
 * holds at most ctx->pinned_pool_bytes. */
static hm_status stage_setup(hm_context *ctx, hm_cuda_device *d, int device)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    int events = 0;
    bool building = s->stage_count == 0;
    if (building) {
        size_t chunk = HM_STAGE_CHUNK, bound = ctx->pinned_pool_bytes;
        if (bound < chunk)
            chunk = bound < 4096 ? 4096 : bound;
        int want = (int)(bound / chunk);
        want = want < 1 ? 1 : (want > HM_STAGE_BUFFERS ? HM_STAGE_BUFFERS : want);
        for (int b = 0; b < want; b++) {
            if (hm__fault(ctx, HM_FAULT_PINNED_ALLOC)) {
                st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY,
                              "allocating a pinned staging buffer failed (injected)");
                goto fail;
            }
            HM_CUDA_TRY(ctx, cudaHostAlloc(&s->stage_buf[b], chunk, cudaHostAllocPortable),
                        "allocating a %zu-byte pinned staging buffer", chunk);
            s->stage_count++;
            ctx->pinned_held += chunk;
        }
        s->stage_chunk = chunk;
        hm__log(ctx, HM_LOG_DEBUG, "pinned staging pool: %d buffers of %zu bytes", s->stage_count,
                chunk);
    }
    if (!d->stage_events) {
        for (; events < HM_STAGE_BUFFERS; events++)
            HM_CUDA_TRY(ctx,
                        cudaEventCreateWithFlags(&d->stage_done[events], cudaEventDisableTiming),
                        "creating a staging event on cuda:%d", device);
        d->stage_events = true;
    }
    return HM_STATUS_SUCCESS;
fail:
    /* All or nothing: a half-made pool is released, so a later call tries again. */
    for (int b = 0; b < events; b++)
        cudaEventDestroy(d->stage_done[b]);
    if (building) {
        for (int b = 0; b < s->stage_count; b++)
            cudaFreeHost(s->stage_buf[b]);
        ctx->pinned_held = 0;
        s->stage_count = 0;
    }
    return st;
}

hm_status hm__cuda_stage_buffers(hm_context *ctx, hm_cuda_device *d, int device, int need,
                                 void *in[2], void *out[2])
{
    hm_status st = stage_setup(ctx, d, device);
    if (st != HM_STATUS_SUCCESS)
        return st;
    hm_cuda_state *s = state(ctx);
    if (s->stage_count < need)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "the pinned pool has %d staging buffers, %d needed", s->stage_count, need);
    in[0] = s->stage_buf[0];
    in[1] = s->stage_buf[1];
    out[0] = s->stage_buf[2];
    out[1] = s->stage_buf[3];
    return HM_STATUS_SUCCESS;
}

/* The chunk of a staged copy: an eighth of it, rounded up to a MiB, from 4 MiB to the buffer's
 * size. The first chunk's host copy and the last one's DMA overlap nothing; smaller chunks
 * shorten them, and at 4 MiB the per-chunk costs (a host-thread round, a DMA start) stay small. */
static size_t stage_len(const hm_cuda_state *s, size_t bytes)
{
    size_t c = (bytes / 8 + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
    c = c < ((size_t)4 << 20) ? ((size_t)4 << 20) : c;
    return c < s->stage_chunk ? c : s->stage_chunk;
}

/* Pageable host → device: host threads fill pinned buffer i+1 while the copy engine drains i. */
static hm_status staged_h2d(hm_context *ctx, hm_cuda_device *d, char *dst, const char *src,
                            size_t bytes, int *chunks)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    size_t chunk = stage_len(s, bytes);
    int i = 0;
    for (size_t off = 0; off < bytes; off += chunk, i++) {
        int b = i % s->stage_count;
        size_t len = bytes - off < chunk ? bytes - off : chunk;
        if (i >= s->stage_count)
            HM_CUDA_TRY(ctx, cudaEventSynchronize(d->stage_done[b]), "waiting for a staged copy");
        hm__parallel_memcpy(ctx, s->stage_buf[b], src + off, len, ctx->cpu_threads);
        HM_CUDA_TRY(
            ctx,
            cudaMemcpyAsync(dst + off, s->stage_buf[b], len, cudaMemcpyHostToDevice, d->stream),
            "copying a staged chunk of %zu bytes in", len);
        HM_CUDA_TRY(ctx, cudaEventRecord(d->stage_done[b], d->stream), "recording a staged copy");
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for staged copies");
    *chunks = i;
    return HM_STATUS_SUCCESS;
fail:
    (void)cudaStreamSynchronize(d->stream);
    return st;
}

/* Device → pageable host: the copy engine fills every pinned buffer ahead; host threads empty
 * each one as it lands and hand it back for the chunk a full round later. */
static hm_status staged_issue(hm_context *ctx, hm_cuda_device *d, const char *src, size_t bytes,
                              size_t chunk, int j)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    int b = j % s->stage_count;
    size_t off = (size_t)j * chunk;
    size_t len = bytes - off < chunk ? bytes - off : chunk;
    HM_CUDA_TRY(ctx,
                cudaMemcpyAsync(s->stage_buf[b], src + off, len, cudaMemcpyDeviceToHost, d->stream),
                "copying a staged chunk of %zu bytes out", len);
    HM_CUDA_TRY(ctx, cudaEventRecord(d->stage_done[b], d->stream), "recording a staged copy");
fail:
    return st;
}

static hm_status staged_d2h(hm_context *ctx, hm_cuda_device *d, char *dst, const char *src,
                            size_t bytes, int *chunks)
{
    hm_cuda_state *s = state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    size_t chunk = stage_len(s, bytes);
    int n = (int)((bytes + chunk - 1) / chunk), nb = s->stage_count;
    for (int j = 0; j < n && j < nb; j++)
        if ((st = staged_issue(ctx, d, src, bytes, chunk, j)) != HM_STATUS_SUCCESS)
            goto fail;
    for (int i = 0; i < n; i++) {
        int b = i % nb;
        size_t off = (size_t)i * chunk, len = bytes - off < chunk ? bytes - off : chunk;
        HM_CUDA_TRY(ctx, cudaEventSynchronize(d->stage_done[b]), "waiting for a staged copy");
        hm__parallel_memcpy(ctx, dst + off, s->stage_buf[b], len, ctx->cpu_threads);
        if (i + nb < n &&
            (st = staged_issue(ctx, d, src, bytes, chunk, i + nb)) != HM_STATUS_SUCCESS)
            goto fail;
    }
    *chunks = n;
    return HM_STATUS_SUCCESS;
fail:
    (void)cudaStreamSynchronize(d->stream);
    return st;
}

/* Fixed and per-byte parts of a copy from the best times of a small and a large one. */
static void fit_copy(double small_s, double large_s, size_t small, size_t large, double *fixed,
                     double *bps)
{
    double per_byte = (large_s - small_s) / (double)(large - small);
    if (per_byte <= 0) /* noise: all of it per byte */
        per_byte = large_s / (double)large;
    *bps = 1.0 / per_byte;
    *fixed = small_s - per_byte * (double)small;
    *fixed = *fixed > 0 ? *fixed : 0;
}

/* The link, as a pipeline uses it: a copy in and a copy out at once (on the two copy streams),
 * of 1 MiB and of a staging buffer's size, the best of three rounds each after an untimed one;
 * and the host's threads copying pageable memory into a staging buffer, the same sizes. About
 * 20 ms, once per context and device; the copies move no caller data, so they are logged but
 * not ledgered. */
static hm_status cuda_link(hm_context *ctx, int id, hm_link *out)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    if ((st = hm__cuda_device_streams(ctx, id, &d)) != HM_STATUS_SUCCESS)
        return st;
    if (d->link_known) {
        *out = d->link;
        return HM_STATUS_SUCCESS;
    }
    void *in[2] = {NULL, NULL}, *outb[2] = {NULL, NULL}, *dev[2] = {NULL, NULL};
    char *pageable = NULL;
    cudaEvent_t ev[4] = {NULL, NULL, NULL, NULL};
    int made = 0;
    if ((st = hm__cuda_stage_buffers(ctx, d, id, 4, in, outb)) != HM_STATUS_SUCCESS)
        return st;
    const size_t size[2] = {(size_t)1 << 20, state(ctx)->stage_chunk};
    for (int i = 0; i < 2; i++)
        if ((st = cuda_alloc(ctx, hm_device_cuda(id), size[1], &dev[i])) != HM_STATUS_SUCCESS)
            goto fail;
    if (!(pageable = malloc(size[1]))) {
        st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "measuring the link: no host memory");
        goto fail;
    }
    memset(pageable, 1, size[1]);
    for (; made < 4; made++)
        HM_CUDA_TRY(ctx, cudaEventCreate(&ev[made]), "measuring the link of cuda:%d", id);
    double t0 = hm__now(), best[3][2] = {{0}}; /* in, out, host × small, large */
    for (int z = 0; z < 2; z++)
        for (int round = 0; round < 4; round++) {
            size_t bytes = size[z];
            HM_CUDA_TRY(ctx, cudaEventRecord(ev[0], d->stream_in), "measuring the link");
            HM_CUDA_TRY(ctx,
                        cudaMemcpyAsync(dev[0], in[0], bytes, cudaMemcpyHostToDevice, d->stream_in),
                        "measuring the link of cuda:%d", id);
            HM_CUDA_TRY(ctx, cudaEventRecord(ev[1], d->stream_in), "measuring the link");
            HM_CUDA_TRY(ctx, cudaEventRecord(ev[2], d->stream_out), "measuring the link");
            HM_CUDA_TRY(
                ctx, cudaMemcpyAsync(outb[0], dev[1], bytes, cudaMemcpyDeviceToHost, d->stream_out),
                "measuring the link of cuda:%d", id);
            HM_CUDA_TRY(ctx, cudaEventRecord(ev[3], d->stream_out), "measuring the link");
            float ms[2] = {0, 0};
            HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[1]), "measuring the link");
            HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3]), "measuring the link");
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms[0], ev[0], ev[1]), "measuring the link");
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms[1], ev[2], ev[3]), "measuring the link");
            double h = hm__now();
            hm__parallel_memcpy(ctx, in[1], pageable, bytes, ctx->cpu_threads);
            h = hm__now() - h;
            const double sec[3] = {ms[0] / 1e3, ms[1] / 1e3, h};
            for (int k = 0; k < 3 && round > 0; k++)
                best[k][z] = round == 1 || sec[k] < best[k][z] ? sec[k] : best[k][z];
        }
    hm_link *l = &d->link;
    fit_copy(best[0][0], best[0][1], size[0], size[1], &l->in_fixed, &l->in_bps);
    fit_copy(best[1][0], best[1][1], size[0], size[1], &l->out_fixed, &l->out_bps);
    fit_copy(best[2][0], best[2][1], size[0], size[1], &l->host_fixed, &l->host_bps);
    d->link_known = true;
    *out = *l;
    hm__log(ctx, HM_LOG_INFO,
            "link of cuda:%d measured in %.1f ms: %.1f GB/s in and %.1f GB/s out at once (pinned; "
            "%.1f and %.1f us a copy), host copies of pageable memory into pinned %.1f GB/s "
            "(%.1f us a copy, %d threads)",
            id, (hm__now() - t0) * 1e3, l->in_bps / 1e9, l->out_bps / 1e9, l->in_fixed * 1e6,
            l->out_fixed * 1e6, l->host_bps / 1e9, l->host_fixed * 1e6, ctx->cpu_threads);
fail:
    if (st != HM_STATUS_SUCCESS) {
        (void)cudaStreamSynchronize(d->stream_in);
        (void)cudaStreamSynchronize(d->stream_out);
    }
    for (int i = 0; i < made; i++)
        cudaEventDestroy(ev[i]);
    for (int i = 0; i < 2; i++)
        if (dev[i])
            cuda_free(ctx, hm_device_cuda(id), dev[i]);
    free(pageable);
    return st;
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
    *path = HM_PATH_DIRECT;
    *chunks = 1;
    if (src_dev != dst_dev && bytes >= HM_STAGE_MIN_BYTES) {
        /* Pageable host memory goes through the pinned pool; pinned memory goes direct. */
        hm_device where;
        int pinned = 0;
        (void)cuda_locate(ctx, src_dev ? dst : src, &where, &pinned);
        if (!pinned && (st = stage_setup(ctx, d, id)) == HM_STATUS_SUCCESS) {
            *path = HM_PATH_STAGED;
            return dst_dev ? staged_h2d(ctx, d, dst, src, bytes, chunks)
                           : staged_d2h(ctx, d, dst, src, bytes, chunks);
        }
        if (st != HM_STATUS_SUCCESS) {
            hm__log(ctx, HM_LOG_WARN, "no pinned staging pool (%s); copying %s -> %s unstaged",
                    hm_context_last_error(ctx), s, t);
            hm__clear_error(ctx);
            st = HM_STATUS_SUCCESS;
        }
    }
    if (src_dev && dst_dev && src_space.id != dst_space.id) {
        HM_CUDA_TRY(ctx,
                    cudaMemcpyPeerAsync(dst, dst_space.id, src, src_space.id, bytes, d->stream),
                    "copying %zu bytes %s -> %s", bytes, s, t);
    } else {
        HM_CUDA_TRY(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, d->stream),
                    "copying %zu bytes %s -> %s", bytes, s, t);
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a copy %s -> %s", s, t);
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

static hm_status cuda_synchronize_device(hm_context *ctx, int device)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, device, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for cuda:%d", device);
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
        if (s->dev[i].stream_in)
            HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream_in), "synchronizing cuda:%d",
                        i);
        if (s->dev[i].stream_out)
            HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream_out), "synchronizing cuda:%d",
                        i);
    }
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_timer(hm_context *ctx, int device, void **state, double *seconds)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    cudaEvent_t *ev = *state;
    if ((st = hm__cuda_device(ctx, device, &d)) != HM_STATUS_SUCCESS)
        return st;
    if (!ev) {
        ev = calloc(2, sizeof *ev);
        if (!ev)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a timer");
        if (cudaEventCreate(&ev[0]) != cudaSuccess || cudaEventCreate(&ev[1]) != cudaSuccess) {
            st =
                hm__cuda_fail(ctx, cudaGetLastError(), "creating timing events on cuda:%d", device);
            free(ev);
            return st;
        }
        *state = ev;
        HM_CUDA_TRY(ctx, cudaEventRecord(ev[0], d->stream), "timing on cuda:%d", device);
        return HM_STATUS_SUCCESS;
    }
    float ms = 0;
    HM_CUDA_TRY(ctx, cudaEventRecord(ev[1], d->stream), "timing on cuda:%d", device);
    HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[1]), "timing on cuda:%d", device);
    HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, ev[0], ev[1]), "timing on cuda:%d", device);
    if (seconds)
        *seconds = ms / 1e3;
fail:
    if (*state && (seconds || st != HM_STATUS_SUCCESS)) {
        cudaEventDestroy(ev[0]);
        cudaEventDestroy(ev[1]);
        free(ev);
        *state = NULL;
    }
    return st;
}

int hm__cuda_fft_version(void);
int hm__cuda_lt_version(void);

static void cuda_versions(hm_library_versions *out)
{
    if (cudaRuntimeGetVersion(&out->cuda_runtime) != cudaSuccess)
        out->cuda_runtime = 0;
    if (cudaDriverGetVersion(&out->cuda_driver) != cudaSuccess)
        out->cuda_driver = 0;
    (void)cudaGetLastError();
    out->cublaslt = hm__cuda_lt_version();
    out->cufft = hm__cuda_fft_version();
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
    .host_register = cuda_host_register,
    .host_unregister = cuda_host_unregister,
    .copy_bytes = cuda_copy_bytes,
    .copy_strided = cuda_copy_strided,
    .synchronize = cuda_synchronize,
    .synchronize_device = cuda_synchronize_device,
    .device_info = cuda_device_info,
    .timer = cuda_timer,
    .link = cuda_link,
    .versions = cuda_versions,
    .fft = &hm__cuda_fft,
    .matmul = &hm__cuda_matmul,
};
