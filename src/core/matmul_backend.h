/* What a matmul backend is given (HM_OP_MATMUL): one (possibly batched) product in
 * column-major terms, on operands already in its execution space. The core maps row-major
 * operands by transposition (a row-major D is the column-major Dᵀ = Bᵀ·Aᵀ), so backends see
 * only column-major matrices with a transpose flag each. */
#ifndef HETMATH_MATMUL_BACKEND_H
#define HETMATH_MATMUL_BACKEND_H

#include "core/internal.h"

/* One matrix operand as the column-major BLAS call sees it. */
typedef struct hm_mm_matrix {
    bool trans;           /* use the stored matrix transposed */
    int64_t ld;           /* leading dimension of the stored column-major matrix */
    int64_t batch_stride; /* elements between consecutive batch entries (0: broadcast) */
} hm_mm_matrix;

/* The plan's description (hm_op_backend.plan's desc). The scalars are not in it: they arrive
 * with every execution (hm_mm_args), so one plan serves any alpha and beta. */
typedef struct hm_matmul_desc {
    hm_dtype dtype;
    int64_t m, n, k; /* of the column-major product: out (m×n) = op(first)·op(second) */
    int64_t batch;   /* uniformly strided batch entries in one call */
    bool swapped;    /* first = B, second = A (row-major D); else first = A, second = B */
    hm_mm_matrix first, second, out;
    hm_matmul_epilog epilog; /* bias, when present, has length m (the column-major rows) */
    bool tf32;
    int autotune;
    size_t workspace; /* the most workspace its algorithm may use (the device memory budget's
                         share); 0: the backend's own bound */
    hm_execution exec;
} hm_matmul_desc;

/* An execution's operands and scalars (hm_op_backend.execute's args; at planning, the
 * operands autotuning may run on): out = alpha·op(first)·op(second) + beta·out (+ epilog). */
typedef struct hm_mm_args {
    const void *first, *second;
    void *out;
    const void *bias;
    double alpha[2], beta[2]; /* real and imaginary parts */
} hm_mm_args;

#endif
