/* The DLPack bridge: hm_device values equal DLDeviceType, so devices map one to one. DLPack 1.0's
 * managed tensors carry a version, flags and a deleter around the same DLTensor. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "hetmath/dlpack.h"

static const struct {
    uint8_t code;
    uint8_t bits;
    hm_dtype dtype;
} dtype_map[] = {
    {kDLFloat, 16, HM_DTYPE_F16}, {kDLBfloat, 16, HM_DTYPE_BF16}, {kDLFloat, 32, HM_DTYPE_F32},
    {kDLFloat, 64, HM_DTYPE_F64}, {kDLComplex, 64, HM_DTYPE_C64}, {kDLComplex, 128, HM_DTYPE_C128},
};

hm_status hm_tensor_from_dlpack(const DLTensor *dl, hm_tensor *out)
{
    if (!dl || !out || (dl->ndim > 0 && !dl->shape))
        return HM_STATUS_INVALID_ARGUMENT;
    hm_device dev;
    switch (dl->device.device_type) {
    case kDLCPU:
        dev = hm_device_host();
        break;
    case kDLCUDAHost:
        dev = hm_device_pinned();
        break;
    case kDLCUDA:
        dev = hm_device_cuda(dl->device.device_id);
        break;
    default:
        return HM_STATUS_NOT_SUPPORTED;
    }
    hm_dtype dtype = (hm_dtype)0;
    for (size_t i = 0; i < HM_ARRAY_LEN(dtype_map); i++)
        if (dl->dtype.code == dtype_map[i].code && dl->dtype.bits == dtype_map[i].bits)
            dtype = dtype_map[i].dtype;
    if (dtype == 0 || dl->dtype.lanes != 1)
        return HM_STATUS_INVALID_DTYPE;
    void *data = dl->data ? (char *)dl->data + dl->byte_offset : NULL;
    return hm_tensor_init(out, data, dev, dtype, dl->ndim, dl->shape, dl->strides);
}

hm_status hm_tensor_to_dlpack(const hm_tensor *t, DLTensor *out)
{
    if (!t || !out)
        return HM_STATUS_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < HM_ARRAY_LEN(dtype_map) && dtype_map[i].dtype != t->dtype)
        i++;
    if (i == HM_ARRAY_LEN(dtype_map))
        return HM_STATUS_INVALID_DTYPE;
    out->data = t->data;
    out->device.device_type = (DLDeviceType)t->device.type;
    out->device.device_id = t->device.type == HM_DEVICE_CUDA ? t->device.id : 0;
    out->ndim = t->ndim;
    out->dtype.code = dtype_map[i].code;
    out->dtype.bits = dtype_map[i].bits;
    out->dtype.lanes = 1;
    out->shape = (int64_t *)t->shape;
    out->strides = (int64_t *)t->strides;
    out->byte_offset = 0;
    return HM_STATUS_SUCCESS;
}

hm_status hm_tensor_from_dlpack_versioned(const struct DLManagedTensorVersioned *m, hm_tensor *out,
                                          int *read_only)
{
    if (!m || !out)
        return HM_STATUS_INVALID_ARGUMENT;
    if (m->version.major != 1)
        return HM_STATUS_NOT_SUPPORTED;
    if (read_only)
        *read_only = (m->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
    return hm_tensor_from_dlpack(&m->dl_tensor, out);
}

/* What an exported tensor's deleter releases: the managed tensor, its shape and strides, and
 * (ownership transferred) the data, through the context. */
typedef struct exported {
    struct DLManagedTensorVersioned m;
    int64_t shape[HM_MAX_NDIM], strides[HM_MAX_NDIM];
    hm_context *ctx; /* NULL: the data stays the producer's */
    hm_tensor t;
} exported;

static void exported_delete(struct DLManagedTensorVersioned *self)
{
    exported *e = (exported *)self->manager_ctx;
    if (e->ctx)
        hm_tensor_free(e->ctx, &e->t);
    free(e);
}

hm_status hm_tensor_to_dlpack_versioned(hm_context *ctx, const hm_tensor *t, int options,
                                        struct DLManagedTensorVersioned **out)
{
    if (!t || !out || (options & ~(HM_DLPACK_TRANSFER_OWNERSHIP | HM_DLPACK_READ_ONLY)) ||
        ((options & HM_DLPACK_TRANSFER_OWNERSHIP) && !ctx))
        return HM_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    exported *e = calloc(1, sizeof *e);
    if (!e)
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    hm_status st = hm_tensor_to_dlpack(t, &e->m.dl_tensor);
    if (st != HM_STATUS_SUCCESS) {
        free(e);
        return st;
    }
    memcpy(e->shape, t->shape, sizeof e->shape);
    memcpy(e->strides, t->strides, sizeof e->strides);
    e->m.dl_tensor.shape = e->shape;
    e->m.dl_tensor.strides = e->strides;
    e->m.version.major = 1;
    e->m.version.minor = 0;
    e->m.manager_ctx = e;
    e->m.deleter = exported_delete;
    e->m.flags = (options & HM_DLPACK_READ_ONLY) ? DLPACK_FLAG_BITMASK_READ_ONLY : 0;
    if (options & HM_DLPACK_TRANSFER_OWNERSHIP) {
        e->ctx = ctx;
        e->t = *t;
    }
    *out = &e->m;
    return HM_STATUS_SUCCESS;
}
