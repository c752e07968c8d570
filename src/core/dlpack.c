/* The DLPack bridge: hm_device values equal DLDeviceType, so devices map one to one. */
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
