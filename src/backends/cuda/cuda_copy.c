/* Copies through the CUDA backend: where a pointer lives, host registration, contiguous copies
 * between spaces (pageable host memory staged through the pinned pool by host threads while the
 * copy engine drains it; between devices over their direct link, or staged), strided copies and
 * scaling on a device, and the measured link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "core/pool.h"

hm_status hm__cuda_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned)
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
bool hm__cuda_host_register(hm_context *ctx, void *ptr, size_t bytes, char *why, size_t why_size)
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

void hm__cuda_host_unregister(hm_context *ctx, void *ptr)
{
    (void)ctx;
    if (cudaHostUnregister(ptr) != cudaSuccess)
        (void)cudaGetLastError(); /* not registered any more: nothing to undo */
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

/* The buffers a staged copy goes round: the pool's first four (or fewer, in a small pool). */
static int copy_buffers(const hm_cuda_state *s)
{
    return s->stage_count < HM_STAGE_BUFFERS ? s->stage_count : HM_STAGE_BUFFERS;
}

/* Pageable host → device: host threads fill pinned buffer i+1 while the copy engine drains i. */
static hm_status staged_h2d(hm_context *ctx, hm_cuda_device *d, char *dst, const char *src,
                            size_t bytes, int *chunks)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    size_t chunk = stage_len(s, bytes);
    int i = 0;
    for (size_t off = 0; off < bytes; off += chunk, i++) {
        int b = i % copy_buffers(s);
        size_t len = bytes - off < chunk ? bytes - off : chunk;
        if (i >= copy_buffers(s))
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
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    int b = j % copy_buffers(s);
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
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    size_t chunk = stage_len(s, bytes);
    int n = (int)((bytes + chunk - 1) / chunk), nb = copy_buffers(s);
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
hm_status hm__cuda_link(hm_context *ctx, int id, hm_link *out)
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
    if ((st = hm__cuda_stage_buffers(ctx, d, id, 0, in, outb)) != HM_STATUS_SUCCESS)
        return st;
    const size_t size[2] = {(size_t)1 << 20, hm__cuda_state(ctx)->stage_chunk};
    for (int i = 0; i < 2; i++)
        if ((st = hm__cuda_mem_get(ctx, hm_device_cuda(id), size[1], &dev[i])) != HM_STATUS_SUCCESS)
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
            hm__cuda_mem_put(ctx, hm_device_cuda(id), dev[i], size[1]);
    free(pageable);
    return st;
}

/* Device a → device b through the pinned staging buffers, with no host thread in between: a's
 * stream copies chunk i out into a buffer once b's stream has emptied it, b's stream copies it in
 * once it is there, the two ordered by each device's staging events. */
static hm_status staged_d2d(hm_context *ctx, char *dst, int b, const char *src, int a, size_t bytes,
                            int *chunks)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_cuda_device *da = NULL, *db = NULL;
    hm_status st = HM_STATUS_SUCCESS;
    if ((st = hm__cuda_device(ctx, b, &db)) != HM_STATUS_SUCCESS ||
        (st = hm__cuda_stage_setup(ctx, db, b)) != HM_STATUS_SUCCESS ||
        (st = hm__cuda_device(ctx, a, &da)) != HM_STATUS_SUCCESS ||
        (st = hm__cuda_stage_setup(ctx, da, a)) != HM_STATUS_SUCCESS)
        return st;
    size_t chunk = stage_len(s, bytes);
    int i = 0;
    for (size_t off = 0; off < bytes; off += chunk, i++) {
        int k = i % copy_buffers(s);
        size_t len = bytes - off < chunk ? bytes - off : chunk;
        HM_CUDA_TRY(ctx, cudaSetDevice(a), "selecting cuda:%d", a);
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(da->stream, db->stage_done[k], 0),
                    "ordering a staged copy cuda:%d -> cuda:%d", a, b);
        HM_CUDA_TRY(
            ctx,
            cudaMemcpyAsync(s->stage_buf[k], src + off, len, cudaMemcpyDeviceToHost, da->stream),
            "copying a staged chunk of %zu bytes out of cuda:%d", len, a);
        HM_CUDA_TRY(ctx, cudaEventRecord(da->stage_done[k], da->stream), "recording a copy");
        HM_CUDA_TRY(ctx, cudaSetDevice(b), "selecting cuda:%d", b);
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(db->stream, da->stage_done[k], 0),
                    "ordering a staged copy cuda:%d -> cuda:%d", a, b);
        HM_CUDA_TRY(
            ctx,
            cudaMemcpyAsync(dst + off, s->stage_buf[k], len, cudaMemcpyHostToDevice, db->stream),
            "copying a staged chunk of %zu bytes into cuda:%d", len, b);
        HM_CUDA_TRY(ctx, cudaEventRecord(db->stage_done[k], db->stream), "recording a copy");
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(db->stream), "waiting for a copy into cuda:%d", b);
    *chunks = i;
    return HM_STATUS_SUCCESS;
fail:
    (void)cudaStreamSynchronize(da->stream);
    (void)cudaStreamSynchronize(db->stream);
    return st;
}

/* Device a → device b: over their direct link when the pair has one, else staged. */
static hm_status copy_d2d(hm_context *ctx, void *dst, int b, const void *src, int a, size_t bytes,
                          hm_transfer_path *path, int *chunks)
{
    hm_cuda_device *da = NULL;
    bool direct = false;
    hm_status st = hm__cuda_device(ctx, b, &da);
    if (st == HM_STATUS_SUCCESS)
        st = hm__cuda_device(ctx, a, &da);
    if (st == HM_STATUS_SUCCESS)
        st = hm__cuda_peer(ctx, a, b, &direct);
    if (st != HM_STATUS_SUCCESS)
        return st;
    *chunks = 1;
    if (!direct) {
        *path = HM_PATH_STAGED;
        return staged_d2d(ctx, dst, b, src, a, bytes, chunks);
    }
    *path = HM_PATH_PEER;
    HM_CUDA_TRY(ctx, cudaSetDevice(a), "selecting cuda:%d", a);
    HM_CUDA_TRY(ctx, cudaMemcpyPeerAsync(dst, b, src, a, bytes, da->stream),
                "copying %zu bytes cuda:%d -> cuda:%d", bytes, a, b);
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(da->stream), "waiting for a copy cuda:%d -> cuda:%d", a,
                b);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

hm_status hm__cuda_copy_bytes(hm_context *ctx, void *dst, hm_device dst_space, const void *src,
                              hm_device src_space, size_t bytes, hm_transfer_path *path,
                              int *chunks)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    char s[32], t[32];
    hm_device_format(src_space, s, sizeof s);
    hm_device_format(dst_space, t, sizeof t);
    bool src_dev = src_space.type == HM_DEVICE_CUDA, dst_dev = dst_space.type == HM_DEVICE_CUDA;
    if (src_dev && dst_dev && src_space.id != dst_space.id)
        return copy_d2d(ctx, dst, dst_space.id, src, src_space.id, bytes, path, chunks);
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
        (void)hm__cuda_locate(ctx, src_dev ? dst : src, &where, &pinned);
        if (!pinned && (st = hm__cuda_stage_setup(ctx, d, id)) == HM_STATUS_SUCCESS) {
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
    HM_CUDA_TRY(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, d->stream),
                "copying %zu bytes %s -> %s", bytes, s, t);
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a copy %s -> %s", s, t);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

hm_status hm__cuda_copy_strided(hm_context *ctx, hm_device space, void *dst,
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
    if (!ctx->copy_ordered) /* hm_copy_on_stream leaves it queued */
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a strided copy on cuda:%d",
                    space.id);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

hm_status hm__cuda_scale(hm_context *ctx, const hm_tensor *t, double factor)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, t->device.id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    bool complex = t->dtype == HM_DTYPE_C64 || t->dtype == HM_DTYPE_C128;
    int real = t->dtype == HM_DTYPE_F16                               ? HM_CUDA_REAL_F16
               : t->dtype == HM_DTYPE_BF16                            ? HM_CUDA_REAL_BF16
               : t->dtype == HM_DTYPE_F32 || t->dtype == HM_DTYPE_C64 ? HM_CUDA_REAL_F32
                                                                      : HM_CUDA_REAL_F64;
    HM_CUDA_TRY(ctx,
                hm__cuda_launch_scale(d->stream, t->data, t->shape, t->strides, t->ndim, real,
                                      complex ? 2 : 1, factor),
                "scaling on cuda:%d", t->device.id);
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for a scaling on cuda:%d",
                t->device.id);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

cudaError_t hm__cuda_copy_rows_on_device(void *dst, size_t dst_pitch, const void *src,
                                         size_t src_pitch, size_t width, size_t rows, size_t es,
                                         cudaStream_t s)
{
    const int64_t shape[2] = {(int64_t)rows, (int64_t)(width / es)},
                  ds[2] = {(int64_t)(dst_pitch / es), 1}, ss[2] = {(int64_t)(src_pitch / es), 1};
    if (rows == 0 || width == 0)
        return cudaSuccess;
    return hm__cuda_launch_strided_copy(s, dst, ds, src, ss, shape, 2, es);
}
