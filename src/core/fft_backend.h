/* What an FFT backend is given (HM_OP_FFT): one transform fully described in elements, on
 * operands that are already in the backend's execution space. */
#ifndef HETMATH_FFT_BACKEND_H
#define HETMATH_FFT_BACKEND_H

#include "core/internal.h"

/* The plan's description (hm_op_backend.plan's desc). */
typedef struct hm_fft_desc {
    hm_fft_type type;
    hm_fft_direction direction;
    bool double_precision;
    int rank;                           /* 1..3 */
    int64_t n[HM_FFT_MAX_RANK];         /* logical lengths, outermost first (real length for the
                                           halved axis) */
    int64_t in_stride[HM_FFT_MAX_RANK]; /* element strides of the transform axes */
    int64_t out_stride[HM_FFT_MAX_RANK];
    int batch_rank; /* the other axes, in input order */
    int64_t batch_n[HM_MAX_NDIM];
    int64_t batch_in_stride[HM_MAX_NDIM];
    int64_t batch_out_stride[HM_MAX_NDIM];
    int64_t in_span; /* elements from the first to one past the last touched */
    int64_t out_span;
    bool in_place;
    bool may_overwrite_input; /* the input is a private copy (or the caller allows it) */
    double scale;             /* applied to every output element; 1.0: none */
    hm_execution exec;
    hm_fft_effort effort;
} hm_fft_desc;

/* An execution's operands (hm_op_backend.execute's args): in is never written unless the
 * transform is in place or desc.may_overwrite_input. */
typedef struct hm_fft_args {
    const void *in;
    void *out;
} hm_fft_args;

#endif
