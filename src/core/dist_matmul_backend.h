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
} hm_dist_matmul_desc;

/* This rank's boxes of A (m×k), B (k×n) and D (m×n), row then column, and each buffer's
 * leading dimension (elements between rows) and bytes. */
typedef struct hm_dist_matmul_layout {
    int64_t lo[3][2], n[3][2];
    int64_t ld[3];
    size_t bytes[3];
} hm_dist_matmul_layout;

/* An execution's buffers and scalars. */
typedef struct hm_dist_matmul_args {
    const void *a, *b;
    void *d;
    double alpha, beta;
} hm_dist_matmul_args;

#endif
