/* Dtypes and memory spaces: sizes, names, alignment, and how spaces compare. Pure functions. */
#include <stdio.h>

#include "core/internal.h"

const char *hm_device_format(hm_device device, char *buf, size_t size)
{
    switch (device.type) {
    case HM_DEVICE_HOST:
        snprintf(buf, size, "host");
        break;
    case HM_DEVICE_CUDA_HOST:
        snprintf(buf, size, "pinned");
        break;
    case HM_DEVICE_CUDA:
        snprintf(buf, size, "cuda:%d", device.id);
        break;
    default:
        snprintf(buf, size, "unknown(%d)", (int)device.type);
        break;
    }
    return buf;
}

size_t hm_dtype_size(hm_dtype dtype)
{
    switch (dtype) {
    case HM_DTYPE_F16:
    case HM_DTYPE_BF16:
        return 2;
    case HM_DTYPE_F32:
        return 4;
    case HM_DTYPE_F64:
    case HM_DTYPE_C64:
        return 8;
    case HM_DTYPE_C128:
        return 16;
    default:
        return 0;
    }
}

const char *hm_dtype_name(hm_dtype dtype)
{
    static const char *const names[] = {"unknown", "f16", "bf16", "f32", "f64", "c64", "c128"};
    return (dtype >= HM_DTYPE_F16 && dtype <= HM_DTYPE_C128) ? names[dtype] : names[0];
}

/* Alignment a pointer of this dtype must have: the size of one real component. */
size_t hm__dtype_alignment(hm_dtype dtype)
{
    return (dtype == HM_DTYPE_C64 || dtype == HM_DTYPE_C128) ? hm_dtype_size(dtype) / 2
                                                             : hm_dtype_size(dtype);
}

bool hm__device_equal(hm_device a, hm_device b)
{
    return a.type == b.type && (a.type != HM_DEVICE_CUDA || a.id == b.id);
}

bool hm__device_is_host(hm_device d)
{
    return d.type == HM_DEVICE_HOST || d.type == HM_DEVICE_CUDA_HOST;
}
