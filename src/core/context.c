/* The context: creation, options, last error, devices, synchronisation. */
#define _GNU_SOURCE
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>

#include "core/backend.h"
#include "core/plan_cache.h"
#include "core/pool.h"

#define HM_DEFAULT_PINNED_POOL_BYTES ((size_t)256 << 20)

const char *hm_version_string(void)
{
    return HETMATH_VERSION_STRING;
}

int hm_version(void)
{
    return HETMATH_VERSION;
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

/* HETMATH_LOG_LEVEL, read at context creation (the one environment variable hetmath reads);
 * *bad is set when it holds something else than a level's name. */
static int level_from_env(bool *bad)
{
    const char *v = getenv("HETMATH_LOG_LEVEL");
    *bad = false;
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
    *bad = true;
    return HM_LOG_WARN;
}

/* Both callbacks of a kind or neither, and a size this version knows. */
static bool allocator_valid(const hm_allocator *a)
{
    hm_allocator full;
    memset(&full, 0, sizeof full);
    if (a->size < sizeof(size_t) || a->size > sizeof full)
        return false;
    memcpy(&full, a, a->size);
    return !full.device_alloc == !full.device_free && !full.pinned_alloc == !full.pinned_free;
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
        if (o.plan_cache_entries > HM_PLAN_CACHE_MAX_ENTRIES)
            return HM_STATUS_INVALID_ARGUMENT;
        if (o.calibration != HM_CALIBRATION_CACHED && o.calibration != HM_CALIBRATION_READ_ONLY &&
            o.calibration != HM_CALIBRATION_FRESH)
            return HM_STATUS_INVALID_ARGUMENT;
        if (o.allocator && !allocator_valid(o.allocator))
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
    bool bad_level = false;
    ctx->log_level =
        (hm_log_level)(o.log_level == HM_LOG_LEVEL_FROM_ENV ? level_from_env(&bad_level)
                                                            : o.log_level);
    if (bad_level)
        hm__log(ctx, HM_LOG_WARN,
                "hm_context_create: HETMATH_LOG_LEVEL=%.32s is not off, error, warn, info or "
                "debug; the level is warn",
                getenv("HETMATH_LOG_LEVEL"));
    ctx->cpu_threads = hm__cpu_count();
    ctx->pinned_pool_bytes =
        o.pinned_pool_bytes ? o.pinned_pool_bytes : HM_DEFAULT_PINNED_POOL_BYTES;
    ctx->pipeline_schedule = (hm_pipeline_schedule)o.pipeline_schedule;
    ctx->device_memory_limit = o.device_memory_limit;
    ctx->plan_cache_max = o.plan_cache_entries < 0    ? 0
                          : o.plan_cache_entries == 0 ? HM_PLAN_CACHE_DEFAULT_ENTRIES
                                                      : o.plan_cache_entries;
    ctx->plan_cache_max_bytes = o.plan_cache_bytes;
    ctx->calibration_mode = o.calibration;
    if (o.allocator) /* a shorter (older) struct's missing callbacks stay NULL: hetmath's own */
        memcpy(&ctx->allocator, o.allocator, o.allocator->size);
    hm_cpu_fft_options_init(&ctx->cpu_fft);

    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++) {
        const hm_backend_ops *b = hm__backend(slot);
        int count = 0;
        hm_status st = b ? b->probe(ctx, &count) : HM_STATUS_SUCCESS;
        if (st != HM_STATUS_SUCCESS) {
            hm_context_destroy(ctx);
            return st;
        }
        if (b && b->exec_kind == HM_EXEC_CUDA)
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
    hm__ledger_drop_pending(ctx);
    for (int slot = HM_BACKEND_SLOTS - 1; slot >= 0; slot--) {
        const hm_backend_ops *b = hm__backend(slot);
        if (b && b->synchronize && ctx->backend_state[slot])
            (void)b->synchronize(ctx);
        if (b && b->release)
            b->release(ctx);
    }
    hm__pool_destroy(ctx);
    free(ctx->calibration);
    free(ctx->ledger.ring);
    free(ctx);
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
    if (!ctx)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__enter_const(ctx, "hm_context_device_count");
    if (!count)
        return hm__fail_const(ctx, HM_STATUS_INVALID_ARGUMENT,
                              "hm_context_device_count: the count pointer is NULL");
    *count = ctx->device_count;
    return HM_STATUS_SUCCESS;
}

hm_status hm_context_device_info(hm_context *ctx, int id, hm_device_info *out)
{
    HM_ENTER(ctx, "hm_context_device_info");
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_context_device_info: the output pointer is NULL");
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
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
            b->versions(ctx, out);
    }
    return HM_STATUS_SUCCESS;
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
