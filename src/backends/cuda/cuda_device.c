/* The CUDA backend's per-context state: each device's stream and memory pool, made on first
 * use; device and pinned memory; the pinned staging pool; the translation of CUDA errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"

hm_cuda_state *hm__cuda_state(hm_context *ctx)
{
    return (hm_cuda_state *)ctx->backend_state[HM_BACKEND_CUDA];
}

hm_status hm__cuda_state_create(hm_context *ctx, int count)
{
    hm_cuda_state *s = calloc(1, sizeof *s + (size_t)count * sizeof s->dev[0]);
    if (!s)
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    if (count > 0 && !(s->peer = calloc((size_t)count * (size_t)count, 1))) {
        free(s);
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    }
    s->count = count;
    ctx->backend_state[HM_BACKEND_CUDA] = s;
    return HM_STATUS_SUCCESS;
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

static hm_status device_ready(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    if (!s || id < 0 || id >= s->count)
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND, "cuda:%d does not exist", id);
    hm_cuda_device *d = &s->dev[id];
    int current = -1; /* the thread's device read (cheap) before it is set (not as cheap) */
    if (cudaGetDevice(&current) != cudaSuccess || current != id)
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

/* The device's own stream takes over from the caller's stream of the last direct call: it waits
 * for that call's event (never for the caller's stream itself, which may be gone by now). */
static hm_status take_over(hm_context *ctx, hm_cuda_device *d, int id)
{
    hm_status st = HM_STATUS_SUCCESS;
    if (!d->owner || d->call_stream)
        return st;
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(d->stream, d->owner_done, 0),
                "ordering the stream of cuda:%d after a call on the caller's stream", id);
    d->owner = NULL;
fail:
    return st;
}

hm_status hm__cuda_device(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_status st = device_ready(ctx, id, out);
    return st == HM_STATUS_SUCCESS ? take_over(ctx, *out, id) : st;
}

hm_status hm__cuda_direct(hm_context *ctx, int id, void *stream, bool after)
{
    hm_cuda_device *d = NULL;
    hm_status st = device_ready(ctx, id, &d);
    cudaStream_t s = (cudaStream_t)stream;
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (after) { /* failed or not: what it queued is ordered before the device's next use */
        d->call_stream = NULL;
        cudaError_t e = cudaEventRecord(d->owner_done, s);
        if (e != cudaSuccess) { /* no event: wait here instead */
            (void)cudaStreamSynchronize(s);
            d->owner = NULL;
            return hm__cuda_fail(ctx, e, "recording an event on the caller's stream of cuda:%d",
                                 id);
        }
        d->owner = s;
        return HM_STATUS_SUCCESS;
    }
    if (!d->owner_made) {
        HM_CUDA_TRY(ctx, cudaEventCreateWithFlags(&d->owner_done, cudaEventDisableTiming),
                    "creating an event on cuda:%d", id);
        d->owner_made = true;
    }
    if (d->owner != s) { /* after the last direct call's stream, else after the device's own */
        if (!d->owner)
            HM_CUDA_TRY(ctx, cudaEventRecord(d->owner_done, d->stream),
                        "recording an event on the stream of cuda:%d", id);
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(s, d->owner_done, 0),
                    "ordering the caller's stream of cuda:%d after the context's work", id);
        d->owner = NULL; /* until the call ends: the device's own stream needs no wait */
    }
    d->call_stream = s;
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

void hm__cuda_state_destroy(hm_context *ctx)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    if (!s)
        return;
    for (int i = 0; i < s->count; i++) {
        hm_cuda_device *d = &s->dev[i];
        if (!d->ready)
            continue;
        cudaSetDevice(i);
        (void)take_over(ctx, d, i);
        cudaStreamSynchronize(d->stream);
        for (int b = 0; d->stage_events && b < HM_STAGE_BUFFERS; b++)
            cudaEventDestroy(d->stage_done[b]);
        for (int k = 0; d->join_made && k < 2; k++)
            cudaEventDestroy(d->join[k]);
        if (d->owner_made)
            cudaEventDestroy(d->owner_done);
        hm__cuda_mem_put(ctx, hm_device_cuda(i), d->workspace, d->workspace_bytes);
        hm__cuda_mem_put(ctx, hm_device_cuda(i), d->fft_work, d->fft_work_bytes);
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
        hm__cuda_mem_put(ctx, hm_device_pinned(), s->stage_buf[b], s->stage_chunk);
    ctx->pinned_held = 0;
    (void)cudaGetLastError();
    free(s->peer);
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

hm_status hm__cuda_memory(hm_context *ctx, int id, size_t *available, size_t *total)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, id, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    size_t free_bytes = 0;
    HM_CUDA_TRY(ctx, cudaMemGetInfo(&free_bytes, total), "asking cuda:%d for its free memory", id);
    *available = free_bytes;
    if (d->pool_made) { /* what the pool keeps unused is hetmath's to allocate again */
        uint64_t reserved = 0, used = 0;
        HM_CUDA_TRY(ctx,
                    cudaMemPoolGetAttribute(d->pool, cudaMemPoolAttrReservedMemCurrent, &reserved),
                    "asking the memory pool of cuda:%d", id);
        HM_CUDA_TRY(ctx, cudaMemPoolGetAttribute(d->pool, cudaMemPoolAttrUsedMemCurrent, &used),
                    "asking the memory pool of cuda:%d", id);
        *available += reserved > used ? (size_t)(reserved - used) : 0;
    }
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

/* Device `from` may access memory of device `to`: for cudaMalloc'd memory (the device's peer
 * access, process-wide; already on is fine) and for the context's pool on `to`. */
static hm_status grant_peer(hm_context *ctx, int from, int to)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    if ((st = device_pool(ctx, to, &d)) != HM_STATUS_SUCCESS)
        return st;
    struct cudaMemAccessDesc access;
    memset(&access, 0, sizeof access);
    access.location.type = cudaMemLocationTypeDevice;
    access.location.id = from;
    access.flags = cudaMemAccessFlagsProtReadWrite;
    HM_CUDA_TRY(ctx, cudaMemPoolSetAccess(d->pool, &access, 1),
                "giving cuda:%d access to the memory pool of cuda:%d", from, to);
    HM_CUDA_TRY(ctx, cudaSetDevice(from), "selecting cuda:%d", from);
    cudaError_t e = cudaDeviceEnablePeerAccess(to, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled)
        (void)cudaGetLastError();
    else
        HM_CUDA_TRY(ctx, e, "enabling peer access from cuda:%d to cuda:%d", from, to);
fail:
    return st;
}

hm_status hm__cuda_peer(hm_context *ctx, int a, int b, bool *direct)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    signed char *ab = &s->peer[a * s->count + b], *ba = &s->peer[b * s->count + a];
    if (*ab == 0) {
        int can_ab = 0, can_ba = 0;
        HM_CUDA_TRY(ctx, cudaDeviceCanAccessPeer(&can_ab, a, b),
                    "asking whether cuda:%d reaches cuda:%d", a, b);
        HM_CUDA_TRY(ctx, cudaDeviceCanAccessPeer(&can_ba, b, a),
                    "asking whether cuda:%d reaches cuda:%d", b, a);
        bool peer = can_ab && can_ba && !ctx->peer_forbidden;
        if (peer && ((st = grant_peer(ctx, a, b)) != HM_STATUS_SUCCESS ||
                     (st = grant_peer(ctx, b, a)) != HM_STATUS_SUCCESS))
            return st;
        *ab = *ba = peer ? 1 : -1;
        hm__log(ctx, HM_LOG_INFO, "cuda:%d <-> cuda:%d: %s", a, b,
                peer                  ? "peer access enabled; copies go over the direct link"
                : ctx->peer_forbidden ? "peer access not used (hm_debug_set_peer_access); copies "
                                        "staged through pinned memory"
                                      : "the devices cannot reach each other; copies staged "
                                        "through pinned memory");
    }
    *direct = *ab > 0;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

hm_status hm__cuda_mem_get(hm_context *ctx, hm_device space, size_t bytes, void **out)
{
    hm_status st = HM_STATUS_SUCCESS;
    const hm_allocator *a = &ctx->allocator;
    void *p = NULL;
    if (space.type == HM_DEVICE_CUDA_HOST && a->pinned_alloc) {
        if (a->pinned_alloc(a->user_data, bytes, &p) != 0 || !p)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY,
                            "the caller's allocator gave no pinned memory (%zu bytes)", bytes);
    } else if (space.type == HM_DEVICE_CUDA_HOST) {
        HM_CUDA_TRY(ctx, cudaHostAlloc(&p, bytes, cudaHostAllocPortable),
                    "pinned allocation of %zu bytes", bytes);
    } else if (a->device_alloc) {
        hm_cuda_device *d = NULL;
        if ((st = hm__cuda_device(ctx, space.id, &d)) != HM_STATUS_SUCCESS)
            return st;
        int failed = a->device_alloc(a->user_data, space.id, bytes, d->stream, &p);
        HM_CUDA_TRY(ctx, cudaSetDevice(space.id), "selecting cuda:%d", space.id);
        if (failed || !p)
            return hm__fail(ctx, HM_STATUS_OUT_OF_DEVICE_MEMORY,
                            "the caller's allocator gave no memory on cuda:%d (%zu bytes)",
                            space.id, bytes);
    } else {
        hm_cuda_device *d = NULL;
        if ((st = device_pool(ctx, space.id, &d)) != HM_STATUS_SUCCESS)
            return st;
        HM_CUDA_TRY(ctx, cudaMallocFromPoolAsync(&p, bytes, d->pool, d->stream),
                    "allocation of %zu bytes on cuda:%d", bytes, space.id);
    }
    hm__memory_count(ctx, space, bytes, true);
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

void hm__cuda_mem_put(hm_context *ctx, hm_device space, void *ptr, size_t bytes)
{
    if (!ptr)
        return;
    const hm_allocator *a = &ctx->allocator;
    if (space.type == HM_DEVICE_CUDA_HOST) {
        if (a->pinned_free)
            a->pinned_free(a->user_data, ptr, bytes);
        else
            cudaFreeHost(ptr);
    } else {
        hm_cuda_state *s = hm__cuda_state(ctx);
        hm_cuda_device *d = s && space.id >= 0 && space.id < s->count && s->dev[space.id].ready
                                ? &s->dev[space.id]
                                : NULL;
        cudaSetDevice(space.id);
        if (d)
            (void)take_over(ctx, d, space.id); /* the block may have been used there */
        if (a->device_free)
            a->device_free(a->user_data, space.id, ptr, bytes, d ? (void *)d->stream : NULL);
        else if (d && d->pool_made)
            cudaFreeAsync(ptr, d->stream);
        else
            cudaFree(ptr);
    }
    (void)cudaGetLastError();
    hm__memory_count(ctx, space, bytes, false);
}

hm_status hm__cuda_grow(hm_context *ctx, int id, void **area, size_t *have, size_t bytes,
                        const char *what)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    if (bytes <= *have)
        return st;
    if ((st = hm__cuda_device(ctx, id, &d)) != HM_STATUS_SUCCESS)
        return st;
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "cuda:%d: before a larger %s", id, what);
    if (d->call_stream) /* a direct call's stream may use the old one too */
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->call_stream), "cuda:%d: before a larger %s", id,
                    what);
    hm__cuda_mem_put(ctx, hm_device_cuda(id), *area, *have);
    *area = NULL;
    *have = 0;
    if ((st = hm__cuda_mem_get(ctx, hm_device_cuda(id), bytes, area)) != HM_STATUS_SUCCESS)
        return hm__fail(ctx, st, "%s of %zu bytes on cuda:%d: %s", what, bytes, id,
                        hm_context_last_error(ctx));
    *have = bytes;
    if (d->call_stream) /* allocated in the order of the device's stream, used on the caller's */
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "cuda:%d: a new %s", id, what);
fail:
    return st;
}

/* The pinned staging buffers and this device's events for them, made on first use. The pool
 * holds at most ctx->pinned_pool_bytes. */
hm_status hm__cuda_stage_setup(hm_context *ctx, hm_cuda_device *d, int device)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    int events = 0;
    bool building = s->stage_count == 0;
    if (building) {
        size_t chunk = HM_STAGE_CHUNK, bound = ctx->pinned_pool_bytes;
        if (bound < chunk)
            chunk = bound < 4096 ? 4096 : bound;
        int want = (int)(bound / chunk);
        want = want < 1 ? 1 : (want > HM_STAGE_BUFFERS ? HM_STAGE_BUFFERS : want);
        s->stage_chunk = chunk;
        for (int b = 0; b < want; b++) {
            if (hm__fault(ctx, HM_FAULT_PINNED_ALLOC)) {
                st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY,
                              "allocating a pinned staging buffer failed (injected)");
                goto fail;
            }
            if ((st = hm__cuda_mem_get(ctx, hm_device_pinned(), chunk, &s->stage_buf[b])) !=
                HM_STATUS_SUCCESS)
                goto fail;
            s->stage_count++;
            ctx->pinned_held += chunk;
        }
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
            hm__cuda_mem_put(ctx, hm_device_pinned(), s->stage_buf[b], s->stage_chunk);
        ctx->pinned_held = 0;
        s->stage_count = 0;
        s->stage_chunk = 0;
    }
    return st;
}

/* Pinned buffers added to the pool up to `want` (the first ones are made by stage_setup),
 * within the context's bound. */
static hm_status stage_grow(hm_context *ctx, int want)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    if (want > HM_STAGE_MAX || (size_t)want * s->stage_chunk > ctx->pinned_pool_bytes)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "the pinned pool holds %zu bytes, and %d staging buffers of %zu are needed",
                        ctx->pinned_pool_bytes, want, s->stage_chunk);
    for (; s->stage_count < want; s->stage_count++) {
        if (hm__fault(ctx, HM_FAULT_PINNED_ALLOC))
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY,
                            "allocating a pinned staging buffer failed (injected)");
        if ((st = hm__cuda_mem_get(ctx, hm_device_pinned(), s->stage_chunk,
                                   &s->stage_buf[s->stage_count])) != HM_STATUS_SUCCESS)
            return st;
        ctx->pinned_held += s->stage_chunk;
        hm__log(ctx, HM_LOG_DEBUG, "pinned staging pool: grown to %d buffers of %zu bytes",
                s->stage_count + 1, s->stage_chunk);
    }
    return st;
}

hm_status hm__cuda_stage_buffers(hm_context *ctx, hm_cuda_device *d, int device, int slot,
                                 void *in[2], void *out[2])
{
    hm_status st = hm__cuda_stage_setup(ctx, d, device);
    if (st != HM_STATUS_SUCCESS)
        return st;
    hm_cuda_state *s = hm__cuda_state(ctx);
    int first = HM_STAGE_BUFFERS * slot;
    if (s->stage_count < first + 4 && (st = stage_grow(ctx, first + 4)) != HM_STATUS_SUCCESS)
        return st;
    in[0] = s->stage_buf[first];
    in[1] = s->stage_buf[first + 1];
    out[0] = s->stage_buf[first + 2];
    out[1] = s->stage_buf[first + 3];
    return HM_STATUS_SUCCESS;
}
