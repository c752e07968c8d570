/**
 * @file hetmath/debug.h
 * @brief Testing hooks: make the n-th next host, pinned or device allocation, or backend call,
 * of one context fail, to check that every failure path returns a clean status, leaks nothing
 * and leaves the context usable. Not for production use; per context, no global state.
 */
#ifndef HETMATH_DEBUG_H
#define HETMATH_DEBUG_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a failure can be injected. */
typedef enum hm_fault_site {
    HM_FAULT_HOST_ALLOC = 0,   /**< host memory for operands, temporaries and staging */
    HM_FAULT_PINNED_ALLOC = 1, /**< page-locked host memory */
    HM_FAULT_DEVICE_ALLOC = 2, /**< device memory */
    HM_FAULT_BACKEND_CALL = 3, /**< a backend's plan, execute or copy call */
    HM_FAULT_SITE_COUNT = 4
} hm_fault_site;

/**
 * Arms @p site of @p ctx: its @p n-th next event fails (n ≥ 1) as the real failure would
 * (HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY, or the backend's error status),
 * with a message saying it was injected. n = 0 disarms.
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT NULL ctx, bad site or n < 0
 */
HM_API hm_status hm_debug_inject_failure(hm_context *ctx, hm_fault_site site, long n);

/** Events seen at @p site since the context was created (-1 for a bad argument): a test reads
 *  it around a call to know how many failure points the call has. */
HM_API long hm_debug_site_count(const hm_context *ctx, hm_fault_site site);

#ifdef __cplusplus
}
#endif

#endif
