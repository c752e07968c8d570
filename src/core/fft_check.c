/* The FFT's checks, in the order its specification runs them (fft.c): options, axes, the input,
 * the output. Each returns the status and sentence the public headers document. */
#include <math.h>
#include <stdio.h>

#include "core/fft_check.h"

const char *hm__fft_type_name(hm_fft_type t)
{
    static const char *const names[] = {"c2c", "r2c", "c2r"};
    return names[t];
}

static bool is_complex(hm_dtype d)
{
    return d == HM_DTYPE_C64 || d == HM_DTYPE_C128;
}

hm_status hm__fft_check_options(hm_context *ctx, const char *fn, const hm_fft_options *o)
{
    if ((int)o->type < HM_FFT_C2C || o->type > HM_FFT_C2R)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: type %d is not an hm_fft_type", fn,
                        (int)o->type);
    if (o->direction != HM_FFT_FORWARD && o->direction != HM_FFT_INVERSE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: direction %d is neither forward (-1) nor inverse (1)", fn,
                        (int)o->direction);
    if ((int)o->norm < HM_FFT_NORM_BACKWARD || o->norm > HM_FFT_NORM_FORWARD)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: norm %d is not an hm_fft_norm", fn,
                        (int)o->norm);
    if ((int)o->effort < HM_FFT_ESTIMATE || o->effort > HM_FFT_MEASURE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: effort %d is not an hm_fft_effort",
                        fn, (int)o->effort);
    if (o->type == HM_FFT_R2C && o->direction != HM_FFT_FORWARD)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: a real-to-complex transform is forward; use c2r for the inverse", fn);
    if (o->overwrite_input != 0 && o->overwrite_input != 1)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: overwrite_input %d is neither 0 nor 1", fn, o->overwrite_input);
    if (o->type == HM_FFT_C2R && o->direction != HM_FFT_INVERSE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: a complex-to-real transform is inverse; use r2c for the forward", fn);
    return HM_STATUS_SUCCESS;
}

double hm__fft_norm_scale(hm_fft_norm norm, hm_fft_direction direction, double n_total)
{
    bool fwd = direction == HM_FFT_FORWARD;
    switch (norm) {
    case HM_FFT_NORM_BACKWARD:
        return fwd ? 1.0 : 1.0 / n_total;
    case HM_FFT_NORM_FORWARD:
        return fwd ? 1.0 / n_total : 1.0;
    case HM_FFT_NORM_ORTHO:
        return 1.0 / sqrt(n_total);
    default:
        return 1.0;
    }
}

hm_status hm__fft_check_axes(hm_context *ctx, const char *fn, hm_fft_options *o, int ndim)
{
    if (o->num_axes < 0 || o->num_axes > HM_FFT_MAX_RANK)
        return hm__fail(ctx, HM_STATUS_INVALID_AXES, "%s: %d transform axes (1 to %d allowed)", fn,
                        o->num_axes, HM_FFT_MAX_RANK);
    if (o->num_axes == 0) {
        if (ndim > HM_FFT_MAX_RANK)
            return hm__fail(ctx, HM_STATUS_INVALID_AXES,
                            "%s: operand x has %d dimensions; name the (at most %d) axes to "
                            "transform",
                            fn, ndim, HM_FFT_MAX_RANK);
        o->num_axes = ndim;
        for (int i = 0; i < ndim; i++)
            o->axes[i] = i;
        return HM_STATUS_SUCCESS;
    }
    for (int i = 0; i < o->num_axes; i++) {
        int a = o->axes[i] < 0 ? o->axes[i] + ndim : o->axes[i];
        if (a < 0 || a >= ndim)
            return hm__fail(ctx, HM_STATUS_INVALID_AXES,
                            "%s: axis %d is out of range for operand x of %d dimensions", fn,
                            o->axes[i], ndim);
        for (int j = 0; j < i; j++)
            if (o->axes[j] == a)
                return hm__fail(ctx, HM_STATUS_INVALID_AXES, "%s: axis %d is repeated", fn, a);
        o->axes[i] = a;
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm__fft_check_input(hm_context *ctx, const char *fn, struct hm_fft_plan *f,
                              const hm_tensor *x, hm_tensor *expect)
{
    const hm_fft_options *o = &f->opts;
    bool want_complex = o->type != HM_FFT_R2C;
    if (is_complex(x->dtype) != want_complex ||
        !(x->dtype == HM_DTYPE_F32 || x->dtype == HM_DTYPE_F64 || is_complex(x->dtype)))
        return hm__fail(ctx, HM_STATUS_INVALID_DTYPE,
                        "%s: operand x is %s, but a %s transform takes %s", fn,
                        hm_dtype_name(x->dtype), hm__fft_type_name(o->type),
                        want_complex ? "c64 or c128" : "f32 or f64");
    /* A transform of no point is not defined (NumPy refuses it too); an empty batch is. */
    for (int i = 0; i < o->num_axes; i++)
        if (x->shape[o->axes[i]] == 0)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: operand x has a zero-length axis %d",
                            fn, o->axes[i]);
    *expect = *x;
    expect->data = NULL;
    bool dbl = x->dtype == HM_DTYPE_F64 || x->dtype == HM_DTYPE_C128;
    int last = o->num_axes ? o->axes[o->num_axes - 1] : 0;
    if (o->type == HM_FFT_R2C) {
        expect->shape[last] = x->shape[last] / 2 + 1;
        expect->dtype = dbl ? HM_DTYPE_C128 : HM_DTYPE_C64;
    } else if (o->type == HM_FFT_C2R) {
        int64_t m = x->shape[last];
        int64_t len = o->last_length ? o->last_length : 2 * (m - 1);
        if (len <= 0 || len / 2 + 1 != m)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE,
                            "%s: a c2r output of length %lld along axis %d needs %lld input "
                            "elements there, but operand x has %lld",
                            fn, (long long)len, last, (long long)(len > 0 ? len / 2 + 1 : 0),
                            (long long)m);
        expect->shape[last] = len;
        expect->dtype = dbl ? HM_DTYPE_F64 : HM_DTYPE_F32;
    }
    hm__row_major_strides(expect->ndim, expect->shape, expect->strides);
    f->n_total = 1;
    for (int i = 0; i < o->num_axes; i++) /* the real length along c2r's halved axis */
        f->n_total *= o->type == HM_FFT_C2R && i == o->num_axes - 1 ? expect->shape[last]
                                                                    : x->shape[o->axes[i]];
    int64_t in_points = f->n_total;
    if (o->type == HM_FFT_C2R)
        in_points = f->n_total / expect->shape[last] * x->shape[last];
    f->batch = in_points ? hm_tensor_numel(x) / in_points : 0;
    return HM_STATUS_SUCCESS;
}

hm_status hm__fft_check_output(hm_context *ctx, const char *fn, const struct hm_fft_plan *f,
                               const hm_tensor *y, const hm_tensor *expect)
{
    const hm_fft_options *o = &f->opts;
    const hm_tensor *x = &f->base.t[FFT_X];
    int last = o->num_axes ? o->axes[o->num_axes - 1] : 0;
    if (y->dtype != expect->dtype)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH,
                        "%s: operand y is %s but this %s transform of %s produces %s", fn,
                        hm_dtype_name(y->dtype), hm__fft_type_name(o->type),
                        hm_dtype_name(x->dtype), hm_dtype_name(expect->dtype));
    if (!hm__same_shape(y, expect))
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: operand y does not have the output shape (axis %d should be "
                        "%lld long)",
                        fn, last, (long long)(expect->ndim ? expect->shape[last] : 0));
    if (!hm__device_equal(y->device, x->device)) {
        char a[32], b[32];
        return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                        "%s: operand y is in %s but x is in %s; the result is returned in "
                        "the operand's memory space",
                        fn, hm_device_format(y->device, a, sizeof a),
                        hm_device_format(x->device, b, sizeof b));
    }
    if (f->base.one_buffer && o->type != HM_FFT_C2C)
        return hm__fail(ctx, HM_STATUS_ALIASING,
                        "%s: operand y overlaps x (in place is allowed only for c2c on the same "
                        "view)",
                        fn);
    return HM_STATUS_SUCCESS;
}
