/* What a distributed matmul backend is given (HM_OP_DIST_MATMUL): D = alpha·A·B + beta·D over a
 * communicator, each operand in one buffer a rank (row-major), in the block distribution the
 * backend sets (hm_op_backend.layout). Included only when hetmath is built with MPI. */
#ifndef HETMATH_DIST_MATMUL_BACKEND_H
#define HETMATH_DIST_MATMUL_BACKEND_H

#include <mpi.h>

#include "core/internal.h"

/* The plan's description. */
typedef struct hm_dist_matmul_desc {
    hm_dtype dtype;
    int64_t m, n, k;
    int grid_rows, grid_cols; /* the process grid, ranks row by row */
    MPI_Comm comm;
    void *group; /* GPU ranks: the communicator's group (hm_backend_ops.group) on `device` */
    int device;
} hm_dist_matmul_desc;

/* This rank's boxes of A (m×k), B (k×n) and D (m×n), row then column, and each buffer's
 * leading dimension (elements between rows) and bytes. */
typedef struct hm_dist_matmul_layout {
    int64_t lo[3][2], n[3][2];
    int64_t ld[3];
    size_t bytes[3];
} hm_dist_matmul_layout;

/* The block of an axis of `len` elements over `parts` grid positions (at least 1), and the
 * share of position `at`: ceil(len/parts) a position, the last ones short or empty. */
static inline int64_t hm__grid_block(int64_t len, int parts)
{
    int64_t b = (len + parts - 1) / parts;
    return b > 0 ? b : 1;
}

static inline int64_t hm__grid_share(int64_t len, int64_t block, int at)
{
    int64_t left = len - at * block;
    return left < 0 ? 0 : (left < block ? left : block);
}

/* Rank `rank`'s blocks of A (m×k), B (k×n) and D (m×n) on the desc's grid (ranks row by row), one
 * block a rank, row-major: the layout both backends take (hm_op_backend.layout). */
static inline void hm__grid_blocks(const hm_dist_matmul_desc *d, int rank, hm_dist_matmul_layout *l)
{
    int prow = rank / d->grid_cols, pcol = rank % d->grid_cols;
    const int64_t rows[3] = {d->m, d->k, d->m}, cols[3] = {d->k, d->n, d->n};
    size_t es = hm_dtype_size(d->dtype);
    for (int i = 0; i < 3; i++) {
        int64_t rb = hm__grid_block(rows[i], d->grid_rows),
                cb = hm__grid_block(cols[i], d->grid_cols);
        l->lo[i][0] = prow * rb < rows[i] ? prow * rb : rows[i];
        l->lo[i][1] = pcol * cb < cols[i] ? pcol * cb : cols[i];
        l->n[i][0] = hm__grid_share(rows[i], rb, prow);
        l->n[i][1] = hm__grid_share(cols[i], cb, pcol);
        l->ld[i] = l->n[i][1] > 0 ? l->n[i][1] : 1;
        l->bytes[i] = (size_t)l->ld[i] * (size_t)(l->n[i][0] > 0 ? l->n[i][0] : 1) * es;
    }
}

/* An execution's buffers and scalars. */
typedef struct hm_dist_matmul_args {
    const void *a, *b;
    void *d;
    double alpha, beta;
} hm_dist_matmul_args;

#endif
