/* libFuzzer target: tensor validation and the strided copy. The input decides a tensor's dtype,
 * rank, extents, strides and memory space; whatever hm_tensor_check accepts over a 64 KiB buffer
 * is then copied into a row-major buffer, which must touch nothing outside either buffer (ASan). */
#include <stdint.h>
#include <string.h>

#include "hetmath.h"

static hm_context *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        hm_context_options o;
        hm_context_options_init(&o);
        o.log_level = HM_LOG_OFF;
        if (hm_context_create(&o, &ctx) != HM_STATUS_SUCCESS)
            return 0;
    }
    if (size < 4)
        return 0;
    static _Alignas(64) unsigned char src[1 << 16], dst[1 << 16];
    hm_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = (hm_dtype)(data[0] % 8);
    t.ndim = (int)(data[1] % 10) - 1;
    t.device.type = (hm_device_type)(data[2] % 4);
    t.device.id = data[3] % 2;
    t.data = src + (data[2] >> 4);
    size_t off = 4;
    for (int i = 0; i < HM_MAX_NDIM && off + 4 <= size; i++, off += 4) {
        int16_t e, s;
        memcpy(&e, data + off, 2);
        memcpy(&s, data + off + 2, 2);
        t.shape[i] = e;
        t.strides[i] = s;
    }
    if (hm_tensor_check(ctx, &t) != HM_STATUS_SUCCESS)
        return 0;
    /* In bounds of src? (the check does not know the buffer's size) */
    int64_t reach = 0;
    for (int i = 0; i < t.ndim; i++)
        reach += (t.shape[i] - 1) * t.strides[i];
    size_t es = hm_dtype_size(t.dtype);
    if (hm_tensor_numel(&t) == 0 ||
        (size_t)(reach + 1) * es + (size_t)(data[2] >> 4) > sizeof src ||
        hm_tensor_nbytes(&t) > sizeof dst)
        return 0;
    hm_tensor d;
    if (hm_tensor_init(&d, dst, hm_device_host(), t.dtype, t.ndim, t.shape, NULL) !=
        HM_STATUS_SUCCESS)
        return 0;
    if (t.device.type == HM_DEVICE_HOST)
        (void)hm_copy(ctx, &t, &d);
    return 0;
}
