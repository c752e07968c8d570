/**
 * @file hetmath/debug.h
 * @brief Testing and diagnosis hooks, per context (no global state). Not for production use.
 *
 * - Injected failures: make the n-th next host, pinned or device allocation, or backend call,
 *   of one context fail, to check that every failure path returns a clean status, leaks nothing
 *   and leaves the context usable.
 * - The count of backend plans a context holds, to check that failures release theirs.
 * - Per-tile timing of host-operand pipelines, for a timeline in the log.
 * - Copies between devices without peer access, to test the staged path where peers exist.
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
    HM_FAULT_BACKEND_CALL = 3, /**< a backend's plan, computation or copy */
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

/** Backend plans (FFTW and cuFFT plans, cuBLASLt descriptors, …) that @p ctx holds now: those of
 *  live hetmath plans and of its plan cache. A failed call leaves it as it found it, unless the
 *  call cached a plan. -1 for NULL. */
HM_API long hm_debug_live_plans(const hm_context *ctx);

/**
 * With @p per_tile 1, host-operand pipelines record a timing event around every tile's copies
 * and computation and log a timeline at DEBUG and the busy times at INFO. Diagnosis only: the
 * events serialise copies and computation (seen to make the notebook's pipeline 1.6× slower).
 * 0 (the default) records only ordering events.
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT NULL ctx or per_tile not 0 or 1
 */
HM_API hm_status hm_debug_set_pipeline_timing(hm_context *ctx, int per_tile);

/**
 * With @p allow 0, copies between two CUDA devices of @p ctx never use peer access: they go
 * through the pinned staging pool, as between devices that cannot reach each other, so that path
 * can be tested on machines whose devices can. 1 (the default) uses peer access wherever the
 * devices have it. Applies to pairs not yet used by the context (a pair's path is decided once).
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT NULL ctx or allow not 0 or 1
 */
HM_API hm_status hm_debug_set_peer_access(hm_context *ctx, int allow);

#ifdef __cplusplus
}
#endif

#endif
