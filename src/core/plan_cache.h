/* A bounded, least-recently-used cache of plans, one per context, for the stateless calls, with
 * limits on plans and on bytes held and its statistics (hetmath/core.h). Keys are plain bytes:
 * build them member by member in zeroed memory, so that padding compares equal. */
#ifndef HETMATH_PLAN_CACHE_H
#define HETMATH_PLAN_CACHE_H

#include "core/internal.h"

typedef void (*hm_plan_destroy_fn)(void *plan);

/* The cached plan for (op, key), or NULL. Logs the hit or miss at DEBUG. */
void *hm__plan_cache_get(hm_context *ctx, const char *op, const void *key, size_t key_size);

/* Whether (op, key) is cached; neither a hit nor a miss, nor a use. */
bool hm__plan_cache_holds(const hm_context *ctx, const char *op, const void *key, size_t key_size);

/* Stores plan (holding `bytes`) under (op, key), evicting the least recently used to make room:
 * *kept true, the cache owns it from now on and destroys it with destroy when it is evicted or
 * the context is destroyed. *kept false (the cache is off, or the plan alone is over the byte
 * limit): the caller keeps it, to run once and destroy. On failure (no memory) destroys plan
 * itself. */
hm_status hm__plan_cache_put(hm_context *ctx, const char *op, const void *key, size_t key_size,
                             void *plan, size_t bytes, hm_plan_destroy_fn destroy, bool *kept);

/* Destroys every cached plan (context destruction). */
void hm__plan_cache_destroy(hm_context *ctx);

#endif
