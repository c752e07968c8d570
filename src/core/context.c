/* The context: creation, options, last error, devices, synchronisation. */
#define _GNU_SOURCE
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/backend.h"
#include "core/plan_cache.h"
#include "core/pool.h"

#define HM_DEFAULT_PINNED_POOL_BYTES ((size_t)256 << 20)

const char *hm_version_string(void)
{
    return HETMATH_VERSION_STRING;
}

int hm__cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    return 1;
}

static int level_from_env(void)
{
    const char *v = getenv("HETMATH_LOG_LEVEL");
    if (!v || !*v)
        return HM_LOG_WARN;
    static const struct {
        const char *name;
        hm_log_level level;
    } names[] = {{"off", HM_LOG_OFF},      {"error", HM_LOG_ERROR}, {"warn", HM_LOG_WARN},
                 {"warning", HM_LOG_WARN}, {"info", HM_LOG_INFO},   {"debug", HM_LOG_DEBUG}};
    for (size_t i = 0; i < HM_ARRAY_LEN(names); i++)
        if (strcasecmp(v, names[i].name) == 0)
            return names[i].level;
    return HM_LOG_WARN;
}

void hm_context_options_init(hm_context_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->log_level = HM_LOG_LEVEL_FROM_ENV;
}

hm_status hm_context_create(const hm_context_options *opts, hm_context **out)
{
    if (!out)
        return HM_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    hm_context_options o;
    hm_context_options_init(&o);
    if (opts) {
        if (opts->size < sizeof(size_t) || opts->size > sizeof o)
            return HM_STATUS_INVALID_ARGUMENT;
        memcpy(&o, opts, opts->size);
        if (o.log_level != HM_LOG_LEVEL_FROM_ENV &&
            (o.log_level < HM_LOG_OFF || o.log_level > HM_LOG_DEBUG))
            return HM_STATUS_INVALID_ARGUMENT;
        if (o.pipeline_schedule != HM_PIPELINE_MEASURED && o.pipeline_schedule != HM_PIPELINE_FIXED)
            return HM_STATUS_INVALID_ARGUMENT;
    }

    hm_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    ctx->ledger.ring = calloc(HM_LEDGER_CAPACITY, sizeof *ctx->ledger.ring);
    if (!ctx->ledger.ring) {
        free(ctx);
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    }
    ctx->log_fn = o.log_fn ? o.log_fn : hm_log_stderr;
    ctx->log_user_data = o.log_user_data;
    ctx->log_level =
        (hm_log_level)(o.log_level == HM_LOG_LEVEL_FROM_ENV ? level_from_env() : o.log_level);
    ctx->cpu_threads = hm__cpu_count();
    ctx->pinned_pool_bytes =
        o.pinned_pool_bytes ? o.pinned_pool_bytes : HM_DEFAULT_PINNED_POOL_BYTES;
    ctx->pipeline_schedule = (hm_pipeline_schedule)o.pipeline_schedule;

    const hm_backend_ops *cuda = hm__backend(HM_BACKEND_CUDA);
    if (cuda) {
        int count = 0;
        hm_status st = cuda->probe(ctx, &count);
        if (st != HM_STATUS_SUCCESS) {
            hm_context_destroy(ctx);
            return st;
        }
        ctx->device_count = count;
    }
    hm__log(ctx, HM_LOG_DEBUG, "hm_context_create: hetmath %s, %d CUDA device(s), %d CPU thread(s)",
            HETMATH_VERSION_STRING, ctx->device_count, ctx->cpu_threads);
    *out = ctx;
    return HM_STATUS_SUCCESS;
}

void hm_context_destroy(hm_context *ctx)
{
    if (!ctx)
        return;
    hm__plan_cache_destroy(ctx);
    for (int slot = HM_BACKEND_SLOTS - 1; slot >= 0; slot--) {
        const hm_backend_ops *b = hm__backend(slot);
        if (b && b->synchronize && ctx->backend_state[slot])
            (void)b->synchronize(ctx);
        if (b && b->release)
            b->release(ctx);
    }
    hm__pool_destroy(ctx);
    free(ctx->ledger.ring);
    free(ctx);
}

const char *hm_context_last_error(const hm_context *ctx)
{
    return ctx ? ctx->last_error : "hm_context_last_error: the context is NULL";
}

hm_status hm_context_last_status(const hm_context *ctx)
{
    return ctx ? ctx->last_status : HM_STATUS_INVALID_ARGUMENT;
}

void hm__clear_error(hm_context *ctx)
{
    ctx->last_status = HM_STATUS_SUCCESS;
    ctx->last_error[0] = '\0';
}

static bool is_runtime_failure(hm_status st)
{
    switch (st) {
    case HM_STATUS_OUT_OF_HOST_MEMORY:
    case HM_STATUS_OUT_OF_DEVICE_MEMORY:
    case HM_STATUS_CUDA_ERROR:
    case HM_STATUS_CUBLAS_ERROR:
    case HM_STATUS_CUFFT_ERROR:
    case HM_STATUS_FFTW_ERROR:
    case HM_STATUS_INTERNAL:
        return true;
    default:
        return false;
    }
}

hm_status hm__fail(hm_context *ctx, hm_status status, const char *fmt, ...)
{
    if (!ctx)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    ctx->last_status = status;
    hm__log(ctx, is_runtime_failure(status) ? HM_LOG_ERROR : HM_LOG_DEBUG, "%s [%s]",
            ctx->last_error, hm_status_name(status));
    return status;
}

hm_status hm_context_set_logger(hm_context *ctx, hm_log_fn fn, void *user_data)
{
    HM_ENTER(ctx, "hm_context_set_logger");
    ctx->log_fn = fn ? fn : hm_log_stderr;
    ctx->log_user_data = user_data;
    return HM_STATUS_SUCCESS;
}

hm_status hm_context_set_log_level(hm_context *ctx, hm_log_level level)
{
    HM_ENTER(ctx, "hm_context_set_log_level");
    if ((int)level < HM_LOG_OFF || level > HM_LOG_DEBUG)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_context_set_log_level: level %d is not an hm_log_level", (int)level);
    ctx->log_level = level;
    return HM_STATUS_SUCCESS;
}

hm_log_level hm_context_log_level(const hm_context *ctx)
{
    return ctx ? ctx->log_level : HM_LOG_OFF;
}

hm_status hm_context_device_count(const hm_context *ctx, int *count)
{
    if (!ctx || !count)
        return HM_STATUS_INVALID_ARGUMENT;
    *count = ctx->device_count;
    return HM_STATUS_SUCCESS;
}

hm_status hm_context_device_info(hm_context *ctx, int id, hm_device_info *out)
{
    HM_ENTER(ctx, "hm_context_device_info");
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_context_device_info: the output pointer is NULL");
    const hm_backend_ops *cuda = hm__backend(HM_BACKEND_CUDA);
    if (!cuda || ctx->device_count == 0)
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                        "hm_context_device_info: no CUDA device (%s)",
                        cuda ? "none found" : "hetmath was built without CUDA");
    if (id < 0 || id >= ctx->device_count)
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND,
                        "hm_context_device_info: device %d does not exist (%d device%s)", id,
                        ctx->device_count, ctx->device_count == 1 ? "" : "s");
    return cuda->device_info(ctx, id, out);
}

hm_status hm_context_library_versions(hm_context *ctx, hm_library_versions *out)
{
    HM_ENTER(ctx, "hm_context_library_versions");
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_context_library_versions: the output pointer is NULL");
    memset(out, 0, sizeof *out);
    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++) {
        const hm_backend_ops *b = hm__backend(slot);
        if (b && b->versions)
            b->versions(out);
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm_debug_inject_failure(hm_context *ctx, hm_fault_site site, long n)
{
    HM_ENTER(ctx, "hm_debug_inject_failure");
    if ((int)site < 0 || site >= HM_FAULT_SITE_COUNT || n < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_debug_inject_failure: site %d or count %ld is out of range", (int)site,
                        n);
    ctx->fault_countdown[site] = n;
    return HM_STATUS_SUCCESS;
}

long hm_debug_site_count(const hm_context *ctx, hm_fault_site site)
{
    if (!ctx || (int)site < 0 || site >= HM_FAULT_SITE_COUNT)
        return -1;
    return ctx->fault_seen[site];
}

size_t hm_context_pinned_pool_held(const hm_context *ctx)
{
    return ctx ? ctx->pinned_held : 0;
}

hm_status hm_context_synchronize(hm_context *ctx)
{
    HM_ENTER(ctx, "hm_context_synchronize");
    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++) {
        const hm_backend_ops *b = hm__backend(slot);
        if (b && b->synchronize) {
            hm_status st = b->synchronize(ctx);
            if (st != HM_STATUS_SUCCESS)
                return st;
        }
    }
    return HM_STATUS_SUCCESS;
}
