/**
 * @file hetmath/bench.h
 * @brief The benchmark helper (hetmath's analogue of cupyx.profiler.benchmark): runs a callable
 * warm-up + repeat times, records host wall time and, when a device is named, GPU time from CUDA
 * events on the context's stream, and splits hetmath calls into copy-in, compute and copy-out
 * time from the transfer ledger.
 */
#ifndef HETMATH_BENCH_H
#define HETMATH_BENCH_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The benchmarked callable. A failing status stops the run and is returned. */
typedef hm_status (*hm_bench_fn)(hm_context *ctx, void *user_data);

/** Options of hm_bench_run(). Initialise with hm_bench_options_init(). */
typedef struct hm_bench_options {
    size_t size; /**< sizeof(hm_bench_options) */
    int warmup;  /**< untimed calls first (default 2) */
    int repeat;  /**< timed calls (default 10, at least 1) */
    int device;  /**< CUDA device whose context stream is timed with events, or HM_AUTO (default):
                      host wall time only. Timing events are recorded around each call, never
                      inside it. */
} hm_bench_options;

HM_API void hm_bench_options_init(hm_bench_options *opts);

/** What hm_bench_run() measured. Release with hm_bench_result_free(). */
typedef struct hm_bench_result {
    int repeat;
    double *cpu_times_s; /**< repeat entries: host wall time of each call, GPU work included */
    double *gpu_times_s; /**< repeat entries, or NULL without a device */
    double cpu_min_s, cpu_median_s, cpu_max_s;
    double gpu_min_s, gpu_median_s, gpu_max_s; /**< 0 without a device */
    /* From the ledger, per timed call (averages): */
    double bytes_h2d, bytes_d2h;  /**< bytes copied host→device and device→host */
    double copy_in_s, copy_out_s; /**< ledger seconds of those copies */
    double compute_s;             /**< cpu_median_s − copy_in_s − copy_out_s, at least 0 (copies
                                       that overlapped compute make this an underestimate) */
} hm_bench_result;

/**
 * Runs @p fn opts->warmup + opts->repeat times and fills @p out.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL argument, repeat < 1, warmup < 0, bad size
 * @retval HM_STATUS_CUDA_UNAVAILABLE / HM_STATUS_DEVICE_NOT_FOUND  a device named that is not here
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY
 * @retval (whatever @p fn returned, when it failed)
 */
HM_API hm_status hm_bench_run(hm_context *ctx, hm_bench_fn fn, void *user_data,
                              const hm_bench_options *opts, hm_bench_result *out);

/** Releases the arrays of @p r (NULL-safe). */
HM_API void hm_bench_result_free(hm_bench_result *r);

/** How many times faster @p candidate is than @p baseline, by median host time (0 if either is
 *  NULL or empty). */
HM_API double hm_bench_speedup(const hm_bench_result *baseline, const hm_bench_result *candidate);

#ifdef __cplusplus
}
#endif

#endif
