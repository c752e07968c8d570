/* Bounded LRU plan cache. A linear scan is right at this size: a lookup costs far less than the
 * smallest transform or product it saves planning for. */
#include <stdlib.h>
#include <string.h>

#include "core/plan_cache.h"

struct hm_plan_entry {
    const char *op;
    void *key;
    size_t key_size;
    void *plan;
    hm_plan_destroy_fn destroy;
    uint64_t last_use;
};

struct hm_plan_cache {
    struct hm_plan_entry entries[HM_PLAN_CACHE_CAPACITY];
    int count;
    uint64_t clock;
};

static void entry_clear(struct hm_plan_entry *e)
{
    if (e->destroy && e->plan)
        e->destroy(e->plan);
    free(e->key);
    memset(e, 0, sizeof *e);
}

void *hm__plan_cache_get(hm_context *ctx, const char *op, const void *key, size_t key_size)
{
    struct hm_plan_cache *c = ctx->plans;
    if (c) {
        for (int i = 0; i < c->count; i++) {
            struct hm_plan_entry *e = &c->entries[i];
            if (e->op == op && e->key_size == key_size && memcmp(e->key, key, key_size) == 0) {
                e->last_use = ++c->clock;
                hm__log(ctx, HM_LOG_DEBUG, "%s: plan cache hit (%d cached)", op, c->count);
                return e->plan;
            }
        }
    }
    hm__log(ctx, HM_LOG_DEBUG, "%s: plan cache miss (%d cached)", op, c ? c->count : 0);
    return NULL;
}

hm_status hm__plan_cache_put(hm_context *ctx, const char *op, const void *key, size_t key_size,
                             void *plan, hm_plan_destroy_fn destroy)
{
    if (!ctx->plans) {
        ctx->plans = calloc(1, sizeof *ctx->plans);
        if (!ctx->plans) {
            destroy(plan);
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for the plan cache",
                            op);
        }
    }
    struct hm_plan_cache *c = ctx->plans;
    void *k = malloc(key_size);
    if (!k) {
        destroy(plan);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan cache key",
                        op);
    }
    memcpy(k, key, key_size);
    int slot = c->count;
    if (c->count == HM_PLAN_CACHE_CAPACITY) {
        slot = 0;
        for (int i = 1; i < c->count; i++)
            if (c->entries[i].last_use < c->entries[slot].last_use)
                slot = i;
        hm__log(ctx, HM_LOG_DEBUG, "%s: plan cache full, evicting a %s plan", op,
                c->entries[slot].op);
        entry_clear(&c->entries[slot]);
    } else {
        c->count++;
    }
    struct hm_plan_entry *e = &c->entries[slot];
    e->op = op;
    e->key = k;
    e->key_size = key_size;
    e->plan = plan;
    e->destroy = destroy;
    e->last_use = ++c->clock;
    return HM_STATUS_SUCCESS;
}

void hm__plan_cache_destroy(hm_context *ctx)
{
    struct hm_plan_cache *c = ctx->plans;
    if (!c)
        return;
    for (int i = 0; i < c->count; i++)
        entry_clear(&c->entries[i]);
    free(c);
    ctx->plans = NULL;
}

hm_status hm_context_clear_plan_cache(hm_context *ctx)
{
    HM_ENTER(ctx, "hm_context_clear_plan_cache");
    hm__plan_cache_destroy(ctx);
    return HM_STATUS_SUCCESS;
}
