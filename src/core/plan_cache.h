/* A bounded, least-recently-used cache of plans, one per context, for the stateless calls.
 * Keys are plain bytes: build them in a memset-zeroed struct so padding compares equal. */
#ifndef HETMATH_PLAN_CACHE_H
#define HETMATH_PLAN_CACHE_H

#include "core/internal.h"

#define HM_PLAN_CACHE_CAPACITY 32

typedef void (*hm_plan_destroy_fn)(void *plan);

/* The cached plan for (op, key), or NULL. Logs the hit or miss at DEBUG. */
void *hm__plan_cache_get(hm_context *ctx, const char *op, const void *key, size_t key_size);

/* Stores plan under (op, key); the cache owns it from now on and destroys it with destroy when it
 * is evicted or the context is destroyed. On failure (no memory) destroys plan itself. */
hm_status hm__plan_cache_put(hm_context *ctx, const char *op, const void *key, size_t key_size,
                             void *plan, hm_plan_destroy_fn destroy);

/* Destroys every cached plan (context destruction). */
void hm__plan_cache_destroy(hm_context *ctx);

#endif
