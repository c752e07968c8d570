/* Host registration for long-lived plans: the rule is in registration.h. */
#include "core/registration.h"

#include "core/backend.h"

hm_status hm__host_pin_check(hm_context *ctx, const char *fn, int value)
{
    if (value == 0 || value == 1)
        return HM_STATUS_SUCCESS;
    return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: register_host %d is neither 0 nor 1", fn,
                    value);
}

hm_status hm__host_pin_refuse_stateless(hm_context *ctx, const char *fn, const char *plan_fn)
{
    return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                    "%s: register_host needs a plan (%s): a stateless call cannot keep host "
                    "memory registered past its return",
                    fn, plan_fn);
}

void hm__host_pin_release(hm_context *ctx, hm_host_pin *pin)
{
    if (!pin->base)
        return;
    char b[32];
    hm__backend_host_unregister(ctx, pin->base);
    hm__log(ctx, HM_LOG_INFO, "unregistered %s of host memory at %p",
            hm__format_bytes(pin->bytes, b, sizeof b), pin->base);
    pin->base = NULL;
    pin->bytes = 0;
}

void hm__host_pin_update(hm_context *ctx, const char *fn, const char *operand, hm_host_pin *pin,
                         const hm_tensor *t)
{
    int64_t lo, hi;
    hm__tensor_extent(t, &lo, &hi);
    size_t bytes = (size_t)(hi - lo) * hm_dtype_size(t->dtype);
    bool reused = t->data == pin->seen;
    pin->seen = t->data;
    if (pin->base == t->data && pin->bytes == bytes)
        return;                     /* registered at an earlier execution */
    hm__host_pin_release(ctx, pin); /* another pointer (or extent) than the registered one */
    if (!reused || bytes < HM_REGISTER_MIN_BYTES || t->device.type != HM_DEVICE_HOST)
        return;
    hm_device where;
    int pinned = 0;
    (void)hm__backend_locate(ctx, t->data, &where, &pinned);
    if (pinned)
        return; /* page-locked already, by its allocation or by the caller */
    char b[32];
    double t0 = hm__now();
    char why[160];
    hm__format_bytes(bytes, b, sizeof b);
    if (!hm__backend_host_register(ctx, t->data, bytes, why, sizeof why)) {
        hm__log(ctx, HM_LOG_WARN, "%s: registering operand %s (%s) failed: %s; it stays staged", fn,
                operand, b, why);
        return;
    }
    pin->base = t->data;
    pin->bytes = bytes;
    hm__log(ctx, HM_LOG_INFO,
            "%s: registered operand %s (%s at %p) in %.3f ms: its copies go direct until the plan "
            "is destroyed or given another %s",
            fn, operand, b, t->data, (hm__now() - t0) * 1e3, operand);
}
