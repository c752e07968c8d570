/* The FFT's plan and the checks of its specification (fft_check.c), shared with the
 * operation's definition (fft.c). */
#ifndef HETMATH_CORE_FFT_CHECK_H
#define HETMATH_CORE_FFT_CHECK_H

#include "core/op.h"

enum { FFT_X = 0, FFT_Y = 1, FFT_OPERANDS = 2 };

struct hm_fft_plan {
    hm_op_plan base;
    hm_fft_options opts; /* axes resolved to 0..ndim-1; num_axes 0 only for a 0-d identity */
    int64_t n_total;     /* product of the transform lengths */
    int64_t batch;       /* transforms */
};

/* "c2c", "r2c", "c2r". */
const char *hm__fft_type_name(hm_fft_type t);

/* The options' enums and their combinations. */
hm_status hm__fft_check_options(hm_context *ctx, const char *fn, const hm_fft_options *o);

/* The factor a transform of n_total points is scaled by under `norm` in `direction`. */
double hm__fft_norm_scale(hm_fft_norm norm, hm_fft_direction direction, double n_total);

/* The axes of x: all of them for num_axes 0 (at most 3), negative ones counted from the end;
 * writes them resolved into o. */
hm_status hm__fft_check_axes(hm_context *ctx, const char *fn, hm_fft_options *o, int ndim);

/* x's dtype and lengths against the transform; sets *expect to the output's dtype and shape
 * (strides row-major) and the plan's n_total and batch. */
hm_status hm__fft_check_input(hm_context *ctx, const char *fn, struct hm_fft_plan *f,
                              const hm_tensor *x, hm_tensor *expect);

/* A caller's y against the expected output and x (dtype, shape, memory space, in place). */
hm_status hm__fft_check_output(hm_context *ctx, const char *fn, const struct hm_fft_plan *f,
                               const hm_tensor *y, const hm_tensor *expect);

#endif
