/* The testing hooks of hetmath/debug.h: per context, no global state. */
#include "core/internal.h"

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

long hm_debug_live_plans(const hm_context *ctx)
{
    return ctx ? ctx->live_plans : -1;
}

hm_status hm_debug_set_pipeline_timing(hm_context *ctx, int per_tile)
{
    HM_ENTER(ctx, "hm_debug_set_pipeline_timing");
    if (per_tile != 0 && per_tile != 1)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_debug_set_pipeline_timing: per_tile %d is neither 0 nor 1", per_tile);
    ctx->pipeline_tile_timing = per_tile == 1;
    return HM_STATUS_SUCCESS;
}

hm_status hm_debug_set_peer_access(hm_context *ctx, int allow)
{
    HM_ENTER(ctx, "hm_debug_set_peer_access");
    if (allow != 0 && allow != 1)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_debug_set_peer_access: allow %d is neither 0 nor 1", allow);
    ctx->peer_forbidden = allow == 0;
    return HM_STATUS_SUCCESS;
}
