/* The last error of a context: one sentence per failure, naming the public function the caller
 * called, always fresh (every public entry clears it). */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

const char *hm_context_last_error(const hm_context *ctx)
{
    return ctx ? ctx->last_error : "hm_context_last_error: the context is NULL";
}

hm_status hm_context_last_status(const hm_context *ctx)
{
    return ctx ? ctx->last_status : HM_STATUS_INVALID_ARGUMENT;
}

void hm__enter(hm_context *ctx, const char *fn)
{
    ctx->api_fn = fn;
    ctx->last_status = HM_STATUS_SUCCESS;
    ctx->last_error[0] = '\0';
}

void hm__clear_error(hm_context *ctx)
{
    ctx->last_status = HM_STATUS_SUCCESS;
    ctx->last_error[0] = '\0';
}

hm_status hm__vfail(hm_context *ctx, hm_status status, const char *fmt, va_list ap)
{
    if (!ctx)
        return status;
    char what[sizeof ctx->last_error];
    vsnprintf(what, sizeof what, fmt, ap);
    /* A sentence that does not start with a function's name gets the public one's. */
    if (ctx->api_fn && strncmp(what, "hm_", 3) != 0)
        snprintf(ctx->last_error, sizeof ctx->last_error, "%.64s: %.900s", ctx->api_fn, what);
    else
        memcpy(ctx->last_error, what, sizeof what);
    ctx->last_status = status;
    /* The caller is told by the status; the log says it only to whoever asks for DEBUG. */
    hm__log(ctx, HM_LOG_DEBUG, "%s [%s]", ctx->last_error, hm_status_name(status));
    return status;
}

hm_status hm__fail(hm_context *ctx, hm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hm_status st = hm__vfail(ctx, status, fmt, ap);
    va_end(ap);
    return st;
}

void hm__enter_const(const hm_context *ctx, const char *fn)
{
    hm__enter((hm_context *)(uintptr_t)ctx, fn); /* see hm__fail_const */
}

hm_status hm__fail_const(const hm_context *ctx, hm_status status, const char *fmt, ...)
{
    /* Every context is made by hm_context_create (heap memory, never a const object): the
     * accessors that take a const context may still record why they failed. */
    va_list ap;
    va_start(ap, fmt);
    hm_status st = hm__vfail((hm_context *)(uintptr_t)ctx, status, fmt, ap);
    va_end(ap);
    return st;
}

hm_status hm__sized_out(const hm_context *ctx, const char *fn, const char *type, void *out,
                        const void *full, size_t full_size)
{
    if (!out)
        return hm__fail_const(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output is NULL", fn);
    size_t size;
    memcpy(&size, out, sizeof size);
    if (size < sizeof(size_t) || size > full_size)
        return hm__fail_const(ctx, HM_STATUS_INVALID_ARGUMENT,
                              "%s: size %zu is not that of an %s (%zu)", fn, size, type, full_size);
    memcpy((char *)out + sizeof size, (const char *)full + sizeof size, size - sizeof size);
    return HM_STATUS_SUCCESS;
}
