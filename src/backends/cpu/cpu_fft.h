/* The CPU FFT backend's parts: FFTW's planner and plans (cpu_fftw.c), used by the backend
 * (cpu_fft.c) and by the split of a long 1-D transform into two passes of short ones
 * (cpu_fft_split.c). */
#ifndef HETMATH_CPU_FFT_H
#define HETMATH_CPU_FFT_H

#include "core/fft_backend.h"

/* Starts FFTW's threads once per process (before any plan). */
void hm__fftw_init(void);

/* The per-machine wisdom file (hetmath/cpu.h): read once per process before the first plan,
 * written after a measured plan; as the context's options say. Never fails a call: what goes
 * wrong is logged. */
void hm__fftw_wisdom_read(hm_context *ctx);
void hm__fftw_wisdom_write(hm_context *ctx);

/* Bytes of an input and an output element of d's transform. */
size_t hm__fftw_elem_in(const hm_fft_desc *d);
size_t hm__fftw_elem_out(const hm_fft_desc *d);

/* The planner's lock taken, with its thread count for the plans to come in that precision; and
 * released. For planners of their own (FFTW-MPI's, cpu_fft_mpi.c). */
void hm__fftw_planner_enter(bool double_precision, int threads);
void hm__fftw_planner_leave(void);

/* FFTW's plan of d with `threads` threads on the given arrays (FFTW_MEASURE writes into them),
 * made under the planner's lock. NULL when FFTW cannot plan it. */
void *hm__fftw_plan(const hm_fft_desc *d, int threads, void *in, void *out, unsigned flags);

/* A one-thread c2c plan, in d's precision, direction and planner effort, of `rows` rows of n
 * contiguous points, rows `dist` apart in both arrays (in == out: in place); executable on any
 * arrays aligned as these. */
void *hm__fftw_rows_plan(const hm_fft_desc *d, int64_t n, int64_t rows, int64_t dist, void *in,
                         void *out);

/* Runs a plan of d's type and precision (or hm__fftw_rows_plan's, for a c2c d) on new arrays
 * (FFTW's new-array functions: thread-safe). */
void hm__fftw_run(const hm_fft_desc *d, void *plan, void *in, void *out);

/* Destroys a plan of d's precision (NULL: nothing), under the planner's lock. */
void hm__fftw_destroy(const hm_fft_desc *d, void *plan);

/* ---- the split of a long 1-D c2c transform (cpu_fft_split.c) --------------------------------
 * N = n1 * n2 points in two passes over the host workers: n2 transforms of n1 points on columns
 * gathered in cache-sized blocks, times twiddle factors (and the normalisation), into a work
 * array; then n1 transforms of n2 points on its rows, scattered to the output. Each pass reads
 * and writes the data once, every thread on whole blocks it claims as it goes. */
typedef struct hm_fft_split hm_fft_split;

/* d's split for `threads` threads, or NULL when d is not a c2c 1-D transform of at most one
 * batch dimension whose length has two factors of at least 16, or memory is short. */
hm_fft_split *hm__fft_split_create(const hm_fft_desc *d, int threads);

/* Runs the split on in -> out (d's layout; in == out when d is in place). Blocking. */
void hm__fft_split_run(hm_context *ctx, const hm_fft_split *s, const void *in, void *out);

/* The factors, and the bytes the split holds (work array, twiddles, scratch). */
void hm__fft_split_shape(const hm_fft_split *s, int64_t *n1, int64_t *n2, size_t *bytes);

/* Frees the split and its plans; NULL: nothing. */
void hm__fft_split_destroy(hm_fft_split *s);

#endif
