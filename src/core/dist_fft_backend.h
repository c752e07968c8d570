/* What a distributed FFT backend is given (HM_OP_DIST_FFT): the global transform over a
 * communicator, its output left in one buffer a rank, whose layout the backend sets
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
    void *group; /* GPU ranks: the communicator's group (hm_backend_ops.group) on `device` */
    int device;
} hm_dist_fft_desc;

/* The complex side's lengths of the transform: the last halved for r2c and c2r. */
static inline void hm__dist_fft_complex_lengths(const hm_dist_fft_desc *d, int64_t *nc)
{
    for (int i = 0; i < d->rank; i++)
        nc[i] = d->n[i];
    if (d->type != HM_FFT_C2C)
        nc[d->rank - 1] = d->n[d->rank - 1] / 2 + 1;
}

/* The slabs both backends cut an axis of length n into, FFTW-MPI's default blocks: ceil(n/p)
 * elements a rank in rank order, the last ones short or empty. Rank q's share. */
static inline int64_t hm__slab_share(int64_t n, int q, int p)
{
    int64_t block = (n + p - 1) / p, left = n - q * block;
    return left < 0 ? 0 : (left < block ? left : block);
}

/* This rank's part of the backend's layout: its boxes of the input's and of the output's global
 * shapes (the output's with its first two axes swapped when transposed_out), where their
 * elements lie in the buffer (element strides, the input's and the output's own dtypes: a real
 * array padded along its last axis), and the buffer's size. */
typedef struct hm_dist_fft_layout {
    int64_t in_lo[HM_FFT_MAX_RANK], in_n[HM_FFT_MAX_RANK], in_stride[HM_FFT_MAX_RANK];
    int64_t out_lo[HM_FFT_MAX_RANK], out_n[HM_FFT_MAX_RANK], out_stride[HM_FFT_MAX_RANK];
    size_t bytes;
    bool reads_apart; /* the input may be read from anywhere laid out as its box (x itself);
                         else the transform is in place in the buffer */
} hm_dist_fft_layout;

/* An execution's operands (and, at planning, those the plan is made on): the buffer, where the
 * output is left, and the input: in the buffer, or (reads_apart) x's own memory, laid out as
 * the input box, never written. */
typedef struct hm_dist_fft_args {
    const void *in;
    void *buf;
} hm_dist_fft_args;

#endif
