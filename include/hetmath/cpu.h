/**
 * @file hetmath/cpu.h
 * @brief The CPU backend's knobs: how the CPU FFT chooses among its strategies, and FFTW's
 *        wisdom. Per context; the defaults need no call.
 *
 * The CPU FFT (FFTW3) has, besides FFTW's own plan on the execution space's threads, three
 * strategies: FFTW's plan on fewer threads, batches of 1-D rows done in cache-sized blocks, and
 * one long 1-D transform split into two passes of short ones. With HM_FFT_MEASURE the planner
 * times those that apply against FFTW's plan and keeps one only when it is clearly faster; with
 * HM_FFT_ESTIMATE (the default) it takes them by rule: the split for one 1-D c2c transform of at
 * least 2^18 points on two threads or more; row blocks for a batch of 1-D c2c rows of 1024 to
 * 8192 points, at least four rows a thread. These options force or forbid them (tests,
 * diagnosis).
 *
 * What the measuring planner learns, FFTW's wisdom, is kept per machine in a file (by default
 * $XDG_CACHE_HOME/hetmath/fftw-wisdom, else ~/.cache/hetmath/fftw-wisdom): read before a
 * process's first CPU FFT plan, written after every plan made with HM_FFT_MEASURE. FFTW then
 * plans any transform that was once measured on this machine as measured, even with
 * HM_FFT_ESTIMATE, so MEASURE's cost is paid once per machine. The file names the machine (CPU
 * model, cores, FFTW's version); one made elsewhere, or not FFTW wisdom, is ignored (the log
 * says so at INFO). FFTW's wisdom is the process's: every context shares what was read.
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
    size_t size;             /**< sizeof(hm_cpu_fft_options) */
    int split;               /**< an hm_cpu_fft_mode (not STREAM): the two-pass split */
    int row_blocks;          /**< an hm_cpu_fft_mode: rows in cache-sized blocks */
    size_t row_block_bytes;  /**< bytes of a block of rows; 0: the default (256 KiB) */
    int wisdom_file;         /**< HM_CPU_FFT_AUTO (default): the per-machine wisdom file is read
                                  and written; HM_CPU_FFT_NEVER: neither */
    const char *wisdom_path; /**< the wisdom file; NULL: the default above. Copied. */
} hm_cpu_fft_options;

/** Sets @p opts to the defaults (every strategy HM_CPU_FFT_AUTO, default block). */
HM_API void hm_cpu_fft_options_init(hm_cpu_fft_options *opts);

/**
 * Sets the CPU FFT's strategies of @p ctx for the plans made from now on (plans already made,
 * and those in the context's cache, keep theirs).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL argument, a bad size, a mode out of range, a block
 *                                     of more than 1 GiB, or a wisdom path of 1024 bytes or more
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
