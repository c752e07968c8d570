/* What a distributed FFT backend is given (HM_OP_DIST_FFT): the global transform over a
 * communicator, computed in place in one buffer a rank, whose layout the backend sets
 * (hm_op_backend.layout). Included only when hetmath is built with MPI. */
#ifndef HETMATH_DIST_FFT_BACKEND_H
#define HETMATH_DIST_FFT_BACKEND_H

#include <mpi.h>

#include "core/internal.h"

/* The plan's description. */
typedef struct hm_dist_fft_desc {
    hm_fft_type type;
    hm_fft_direction direction;
    bool double_precision;
    int rank;                   /* 2 or 3 */
    int64_t n[HM_FFT_MAX_RANK]; /* logical lengths (the real length of the halved last axis) */
    bool transposed_out;        /* the output's first two axes swapped */
    hm_fft_effort effort;
    int threads;
    MPI_Comm comm;
} hm_dist_fft_desc;

/* This rank's part of the backend's layout: its boxes of the input's and of the output's global
 * shapes (the output's with its first two axes swapped when transposed_out), where their
 * elements lie in the buffer (element strides, the input's and the output's own dtypes: a real
 * array padded along its last axis), and the buffer's size. */
typedef struct hm_dist_fft_layout {
    int64_t in_lo[HM_FFT_MAX_RANK], in_n[HM_FFT_MAX_RANK], in_stride[HM_FFT_MAX_RANK];
    int64_t out_lo[HM_FFT_MAX_RANK], out_n[HM_FFT_MAX_RANK], out_stride[HM_FFT_MAX_RANK];
    size_t bytes;
} hm_dist_fft_layout;

/* An execution's buffer (and, at planning, the one the plan is made on). */
typedef struct hm_dist_fft_args {
    void *buf;
} hm_dist_fft_args;

#endif
