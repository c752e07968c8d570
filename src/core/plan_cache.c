/* The plan cache of the stateless calls: least recently used out first, within a bound on plans
 * and one on bytes held (hetmath/core.h). A linear scan is right at these sizes: a lookup costs
 * far less than the smallest transform or product it saves planning for. */
#include <stdlib.h>
#include <string.h>

#include "core/plan_cache.h"

struct hm_plan_entry {
    const char *op;
    void *key;
    size_t key_size;
    void *plan;
    size_t bytes; /* the plan's and its key's */
    hm_plan_destroy_fn destroy;
    uint64_t last_use;
};

struct hm_plan_cache {
    struct hm_plan_entry *entries;
    int count, capacity;
    size_t bytes;
    uint64_t clock;
};

static void entry_clear(struct hm_plan_entry *e)
{
    if (e->destroy && e->plan)
        e->destroy(e->plan);
    free(e->key);
    memset(e, 0, sizeof *e);
}

/* Removes entry i (its plan destroyed), the last one taking its place. */
static void remove_entry(struct hm_plan_cache *c, int i)
{
    c->bytes -= c->entries[i].bytes;
    entry_clear(&c->entries[i]);
    c->entries[i] = c->entries[--c->count];
    memset(&c->entries[c->count], 0, sizeof c->entries[0]);
}

/* Evicts the least recently used plans until `room` more bytes and one more plan fit (or, with
 * room 0 and no plan to come, until the cache is within its limits). */
static void make_room(hm_context *ctx, struct hm_plan_cache *c, int plans, size_t room)
{
    while (c->count > 0 &&
           (c->count + plans > ctx->plan_cache_max ||
            (ctx->plan_cache_max_bytes && c->bytes + room > ctx->plan_cache_max_bytes))) {
        int lru = 0;
        for (int i = 1; i < c->count; i++)
            if (c->entries[i].last_use < c->entries[lru].last_use)
                lru = i;
        hm__log(ctx, HM_LOG_DEBUG, "plan cache: evicting a %s plan (%d cached)", c->entries[lru].op,
                c->count);
        remove_entry(c, lru);
        ctx->plan_cache_evictions++;
    }
}

static struct hm_plan_entry *find(const hm_context *ctx, const char *op, const void *key,
                                  size_t key_size)
{
    struct hm_plan_cache *c = ctx->plans;
    for (int i = 0; c && i < c->count; i++) {
        struct hm_plan_entry *e = &c->entries[i];
        if (e->op == op && e->key_size == key_size && memcmp(e->key, key, key_size) == 0)
            return e;
    }
    return NULL;
}

bool hm__plan_cache_holds(const hm_context *ctx, const char *op, const void *key, size_t key_size)
{
    return find(ctx, op, key, key_size) != NULL;
}

void *hm__plan_cache_get(hm_context *ctx, const char *op, const void *key, size_t key_size)
{
    struct hm_plan_cache *c = ctx->plans;
    struct hm_plan_entry *e = find(ctx, op, key, key_size);
    if (e) {
        e->last_use = ++c->clock;
        ctx->plan_cache_hits++;
        hm__log(ctx, HM_LOG_DEBUG, "%s: plan cache hit (%d cached)", op, c->count);
        return e->plan;
    }
    ctx->plan_cache_misses++;
    hm__log(ctx, HM_LOG_DEBUG, "%s: plan cache miss (%d cached)", op, c ? c->count : 0);
    return NULL;
}

hm_status hm__plan_cache_put(hm_context *ctx, const char *op, const void *key, size_t key_size,
                             void *plan, size_t bytes, hm_plan_destroy_fn destroy, bool *kept)
{
    *kept = false;
    bytes += key_size;
    if (ctx->plan_cache_max == 0 ||
        (ctx->plan_cache_max_bytes && bytes > ctx->plan_cache_max_bytes)) {
        ctx->plan_cache_uncached++;
        hm__log(ctx, HM_LOG_DEBUG, "%s: plan not cached (%s)", op,
                ctx->plan_cache_max == 0 ? "the cache is off" : "it alone is over the byte limit");
        return HM_STATUS_SUCCESS; /* the caller runs it and destroys it */
    }
    if (!ctx->plans && !(ctx->plans = calloc(1, sizeof *ctx->plans))) {
        destroy(plan);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for the plan cache", op);
    }
    struct hm_plan_cache *c = ctx->plans;
    make_room(ctx, c, 1, bytes);
    void *k = malloc(key_size);
    if (c->count == c->capacity) {
        int cap = c->capacity ? 2 * c->capacity : 8;
        struct hm_plan_entry *grown = k ? realloc(c->entries, sizeof *grown * (size_t)cap) : NULL;
        if (grown) {
            c->entries = grown;
            c->capacity = cap;
        }
    }
    if (!k || c->count == c->capacity) {
        free(k);
        destroy(plan);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan cache entry",
                        op);
    }
    memcpy(k, key, key_size);
    c->entries[c->count++] =
        (struct hm_plan_entry){op, k, key_size, plan, bytes, destroy, ++c->clock};
    c->bytes += bytes;
    *kept = true;
    return HM_STATUS_SUCCESS;
}

/* Destroys every cached plan; the statistics stay. */
static void clear(struct hm_plan_cache *c)
{
    for (int i = 0; c && i < c->count; i++)
        entry_clear(&c->entries[i]);
    if (c) {
        c->count = 0;
        c->bytes = 0;
    }
}

void hm__plan_cache_destroy(hm_context *ctx)
{
    struct hm_plan_cache *c = ctx->plans;
    if (!c)
        return;
    clear(c);
    free(c->entries);
    free(c);
    ctx->plans = NULL;
}

hm_status hm_context_clear_plan_cache(hm_context *ctx)
{
    HM_ENTER(ctx, "hm_context_clear_plan_cache");
    clear(ctx->plans);
    return HM_STATUS_SUCCESS;
}

hm_status hm_context_set_plan_cache_limits(hm_context *ctx, int max_entries, size_t max_bytes)
{
    static const char *const fn = "hm_context_set_plan_cache_limits";
    HM_ENTER(ctx, fn);
    if (max_entries < 0 || max_entries > HM_PLAN_CACHE_MAX_ENTRIES)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: max_entries %d is outside 0..%d", fn,
                        max_entries, HM_PLAN_CACHE_MAX_ENTRIES);
    ctx->plan_cache_max = max_entries;
    ctx->plan_cache_max_bytes = max_bytes;
    if (ctx->plans)
        make_room(ctx, ctx->plans, 0, 0);
    return HM_STATUS_SUCCESS;
}

hm_status hm_context_plan_cache_stats(const hm_context *ctx, hm_plan_cache_stats *out)
{
    static const char *const fn = "hm_context_plan_cache_stats";
    if (!ctx)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__enter_const(ctx, fn);
    const struct hm_plan_cache *c = ctx->plans;
    hm_plan_cache_stats s = {.hits = ctx->plan_cache_hits,
                             .misses = ctx->plan_cache_misses,
                             .evictions = ctx->plan_cache_evictions,
                             .uncached = ctx->plan_cache_uncached,
                             .entries = c ? c->count : 0,
                             .bytes = c ? c->bytes : 0,
                             .max_entries = ctx->plan_cache_max,
                             .max_bytes = ctx->plan_cache_max_bytes};
    return hm__sized_out(ctx, fn, "hm_plan_cache_stats", out, &s, sizeof s);
}
