/* Tensors and memory: allocation in any space through the owning backend, and the full check
 * of an operand (its view, its declared space, and where its pointer really lives). The check
 * runs on every call: nothing is formatted unless it fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"

hm_status hm__alloc(hm_context *ctx, hm_device device, size_t bytes, void **out)
{
    const hm_backend_ops *b = hm__backend_for_memory(device);
    char dev[32];
    if (!b)
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                        "allocation in %s: hetmath was built without CUDA",
                        hm_device_format(device, dev, sizeof dev));
    if (device.type != HM_DEVICE_HOST && ctx->device_count == 0)
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                        "allocation in %s: no CUDA device or driver",
                        hm_device_format(device, dev, sizeof dev));
    if (device.type == HM_DEVICE_CUDA && (device.id < 0 || device.id >= ctx->device_count))
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND,
                        "allocation in cuda:%d: no such device (%d device%s)", device.id,
                        ctx->device_count, ctx->device_count == 1 ? "" : "s");
    hm_fault_site site = device.type == HM_DEVICE_HOST        ? HM_FAULT_HOST_ALLOC
                         : device.type == HM_DEVICE_CUDA_HOST ? HM_FAULT_PINNED_ALLOC
                                                              : HM_FAULT_DEVICE_ALLOC;
    if (hm__fault(ctx, site))
        return hm__fail(ctx,
                        site == HM_FAULT_DEVICE_ALLOC ? HM_STATUS_OUT_OF_DEVICE_MEMORY
                                                      : HM_STATUS_OUT_OF_HOST_MEMORY,
                        "allocation of %zu bytes in %s failed (injected)", bytes,
                        hm_device_format(device, dev, sizeof dev));
    return b->alloc(ctx, device, bytes ? bytes : 1, out);
}

void hm__free(hm_context *ctx, hm_device device, void *ptr, size_t bytes)
{
    const hm_backend_ops *b = hm__backend_for_memory(device);
    if (b && ptr)
        b->free(ctx, device, ptr, bytes ? bytes : 1);
}

void hm__memory_count(hm_context *ctx, hm_device space, size_t bytes, bool allocated)
{
    hm_memory_stats *m = &ctx->memory;
    bool device = space.type == HM_DEVICE_CUDA;
    uint64_t *count = device ? (allocated ? &m->device_allocations : &m->device_frees)
                             : (allocated ? &m->pinned_allocations : &m->pinned_frees);
    size_t *held = device ? &m->device_bytes : &m->pinned_bytes;
    size_t *peak = device ? &m->device_bytes_peak : &m->pinned_bytes_peak;
    (*count)++;
    if (allocated) {
        *held += bytes;
        *peak = *held > *peak ? *held : *peak;
        *(device ? &m->device_bytes_total : &m->pinned_bytes_total) += bytes;
    } else {
        *held -= bytes < *held ? bytes : *held;
    }
}

hm_status hm_context_memory_stats(const hm_context *ctx, hm_memory_stats *out)
{
    static const char *const fn = "hm_context_memory_stats";
    if (!ctx)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__enter_const(ctx, fn);
    return hm__sized_out(ctx, fn, "hm_memory_stats", out, &ctx->memory, sizeof ctx->memory);
}

hm_status hm_tensor_alloc(hm_context *ctx, hm_device device, hm_dtype dtype, int ndim,
                          const int64_t *shape, hm_tensor *out)
{
    HM_ENTER(ctx, "hm_tensor_alloc");
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_tensor_alloc: output tensor is NULL");
    if (device.type != HM_DEVICE_HOST && device.type != HM_DEVICE_CUDA &&
        device.type != HM_DEVICE_CUDA_HOST)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_tensor_alloc: device type %d is not an hm_device_type",
                        (int)device.type);
    hm_tensor t;
    hm_status st = hm_tensor_init(&t, NULL, device, dtype, ndim, shape, NULL);
    if (st != HM_STATUS_SUCCESS)
        return hm__fail(ctx, st, "hm_tensor_alloc: the requested tensor is invalid (%s)",
                        hm_status_string(st));
    st = hm__alloc(ctx, device, hm_tensor_nbytes(&t), &t.data);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (device.type == HM_DEVICE_CUDA) { /* ready for any stream the caller uses it on */
        hm_execution on = {.kind = HM_EXEC_CUDA, .device_id = device.id};
        if ((st = hm__backend_wait(ctx, &on)) != HM_STATUS_SUCCESS) {
            hm__free(ctx, device, t.data, hm_tensor_nbytes(&t));
            return st;
        }
    }
    *out = t;
    return HM_STATUS_SUCCESS;
}

void hm_tensor_free(hm_context *ctx, hm_tensor *t)
{
    if (!ctx || !t || !t->data)
        return;
    hm__free(ctx, t->device, t->data, hm_tensor_nbytes(t));
    memset(t, 0, sizeof *t); /* an empty view: passed as an output, it asks for allocation */
}

hm_status hm__check_operand(hm_context *ctx, const char *fn, const char *operand,
                            const hm_tensor *t)
{
    char why[160], dev[32], where[32];
    if (!t)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn, operand);
    hm_status st = hm__tensor_validate(t, why, sizeof why);
    if (st != HM_STATUS_SUCCESS)
        return hm__fail(ctx, st, "%s: operand %s is invalid: %s", fn, operand, why);
    if (t->device.type != HM_DEVICE_HOST && t->device.type != HM_DEVICE_CUDA &&
        t->device.type != HM_DEVICE_CUDA_HOST)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: operand %s has device type %d, not an hm_device_type", fn, operand,
                        (int)t->device.type);
    if (t->device.type != HM_DEVICE_HOST) {
        if (!hm__backend_for_memory(t->device))
            return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                            "%s: operand %s is declared %s but hetmath was built without CUDA", fn,
                            operand, hm_device_format(t->device, dev, sizeof dev));
        if (ctx->device_count == 0)
            return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                            "%s: operand %s is declared %s but there is no CUDA device", fn,
                            operand, hm_device_format(t->device, dev, sizeof dev));
        if (t->device.type == HM_DEVICE_CUDA &&
            (t->device.id < 0 || t->device.id >= ctx->device_count))
            return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND,
                            "%s: operand %s is declared on %s, which does not exist (%d device%s)",
                            fn, operand, hm_device_format(t->device, dev, sizeof dev),
                            ctx->device_count, ctx->device_count == 1 ? "" : "s");
    } else if (t->device.id != 0) {
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: operand %s is host memory with device id %d (must be 0)", fn, operand,
                        t->device.id);
    }
    if (hm_tensor_numel(t) == 0)
        return HM_STATUS_SUCCESS;
    if (!t->data)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s has NULL data", fn,
                        operand);
    if ((uintptr_t)t->data % hm__dtype_alignment(t->dtype) != 0)
        return hm__fail(ctx, HM_STATUS_MISALIGNED,
                        "%s: operand %s data %p is not aligned to %zu bytes for %s", fn, operand,
                        t->data, hm__dtype_alignment(t->dtype), hm_dtype_name(t->dtype));
    hm_device space;
    int pinned = 0;
    st = hm__backend_locate(ctx, t->data, &space, &pinned);
    if (st != HM_STATUS_SUCCESS)
        return st;
    switch (t->device.type) {
    case HM_DEVICE_HOST:
        if (space.type == HM_DEVICE_CUDA)
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand %s is declared host but its pointer is memory of %s", fn,
                            operand, hm_device_format(space, where, sizeof where));
        break;
    case HM_DEVICE_CUDA_HOST:
        if (space.type == HM_DEVICE_CUDA)
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand %s is declared pinned but its pointer is memory of %s", fn,
                            operand, hm_device_format(space, where, sizeof where));
        if (!pinned)
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand %s is declared pinned but its pointer is pageable host "
                            "memory",
                            fn, operand);
        break;
    case HM_DEVICE_CUDA:
        if (space.type != HM_DEVICE_CUDA)
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand %s is declared %s but its pointer is %s memory", fn,
                            operand, hm_device_format(t->device, dev, sizeof dev),
                            pinned ? "pinned host" : "host");
        if (space.id != t->device.id)
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand %s is declared %s but its pointer is memory of %s", fn,
                            operand, hm_device_format(t->device, dev, sizeof dev),
                            hm_device_format(space, where, sizeof where));
        break;
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm_tensor_check(hm_context *ctx, const hm_tensor *t)
{
    HM_ENTER(ctx, "hm_tensor_check");
    return hm__check_operand(ctx, "hm_tensor_check", "t", t);
}
