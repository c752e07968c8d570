/**
 * @file hetmath/cpu.h
 * @brief The CPU backend's knobs: how the CPU FFT chooses among its strategies, and FFTW's
 *        wisdom. Per context; the defaults need no call.
 *
 * The CPU FFT (FFTW3) has, besides FFTW's own plan on all the execution space's threads, three
 * strategies: FFTW's plan on fewer threads, batches of 1-D rows done in cache-sized blocks, and
 * one long 1-D transform split into two passes of short ones. With HM_FFT_MEASURE the planner
 * times those that apply against FFTW's plan and keeps one only when it is clearly faster; with
 * HM_FFT_ESTIMATE it takes them by rule. These options force or forbid them (tests, diagnosis).
 */
#ifndef HETMATH_CPU_H
#define HETMATH_CPU_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whether a strategy of the CPU FFT is used. */
typedef enum hm_cpu_fft_mode {
    HM_CPU_FFT_AUTO = 0,   /**< by rule, or by timing when the planner measures (default) */
    HM_CPU_FFT_NEVER = 1,  /**< never */
    HM_CPU_FFT_ALWAYS = 2, /**< wherever it applies, untimed (row blocks: in the output) */
    HM_CPU_FFT_STREAM = 3, /**< row blocks only: always, through a scratch block streamed out */
} hm_cpu_fft_mode;

/** The CPU FFT's strategies. Initialise with hm_cpu_fft_options_init(). */
typedef struct hm_cpu_fft_options {
    size_t size;            /**< sizeof(hm_cpu_fft_options) */
    int split;              /**< an hm_cpu_fft_mode (not STREAM): the two-pass split */
    int row_blocks;         /**< an hm_cpu_fft_mode: rows in cache-sized blocks */
    size_t row_block_bytes; /**< bytes of a block of rows; 0: the default (256 KiB) */
} hm_cpu_fft_options;

/** Sets @p opts to the defaults (every strategy HM_CPU_FFT_AUTO, default block). */
HM_API void hm_cpu_fft_options_init(hm_cpu_fft_options *opts);

/**
 * Sets the CPU FFT's strategies of @p ctx for the plans made from now on (plans already made,
 * and those in the context's cache, keep theirs).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL argument, a bad size, a mode out of range, or a
 *                                     block of more than 1 GiB
 */
HM_API hm_status hm_context_set_cpu_fft_options(hm_context *ctx, const hm_cpu_fft_options *opts);

/**
 * Writes the FFTW wisdom gathered so far (double and single precision) to @p path, so that a
 * long-lived program's next run plans HM_FFT_MEASURE transforms instantly.
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT
 * @retval HM_STATUS_FFTW_ERROR  the file could not be written
 */
HM_API hm_status hm_fft_wisdom_export(hm_context *ctx, const char *path);

/** Reads wisdom written by hm_fft_wisdom_export().
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT
 * @retval HM_STATUS_FFTW_ERROR  the file is missing or not FFTW wisdom */
HM_API hm_status hm_fft_wisdom_import(hm_context *ctx, const char *path);

#ifdef __cplusplus
}
#endif

#endif
