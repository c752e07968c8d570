/* What a matmul backend is given: one (possibly batched) product in column-major terms, on
 * operands already in its execution space. The core maps row-major operands by transposition
 * (a row-major D is the column-major Dᵀ = Bᵀ·Aᵀ), so backends see only column-major matrices with
 * a transpose flag each. */
#ifndef HETMATH_MATMUL_BACKEND_H
#define HETMATH_MATMUL_BACKEND_H

#include "core/internal.h"
#include "core/tiles.h"

/* One matrix operand as the column-major BLAS call sees it. */
typedef struct hm_mm_matrix {
    bool trans;           /* use the stored matrix transposed */
    int64_t ld;           /* leading dimension of the stored column-major matrix */
    int64_t batch_stride; /* elements between consecutive batch entries (0: broadcast) */
} hm_mm_matrix;

typedef struct hm_matmul_desc {
    hm_dtype dtype;
    int64_t m, n, k; /* of the column-major product: out (m×n) = op(first)·op(second) */
    int64_t batch;   /* uniformly strided batch entries in one call */
    bool swapped;    /* first = B, second = A (row-major D); else first = A, second = B */
    hm_mm_matrix first, second, out;
    double alpha[2], beta[2];
    hm_matmul_epilog epilog; /* bias, when present, has length m (the column-major rows) */
    bool tf32;
    int autotune;
    hm_execution exec;
} hm_matmul_desc;

/* A host-operand product pipelined over row tiles: A's tile i+1 copied in while tile i is
 * multiplied and tile i-1 of D copied out. Row-major compact A (rows×k) and D (rows×n) in host
 * memory; B (as the column-major call's first operand) and bias already on the device. */
typedef struct hm_mm_pipeline {
    void *const *plans;    /* a plan for each tile size: plans[i] for tiles->size[i] rows */
    const hm_tiles *tiles; /* the row tiles */
    int64_t rows, k, n;
    size_t elem_size;
    const void *a_host;
    hm_device a_space;
    void *d_host;
    hm_device d_space;
    void *a_dev, *d_dev; /* device buffers of A and D, compact row-major */
    const void *b_dev;
    const void *bias_dev;
    const char *op;
} hm_mm_pipeline;

typedef struct hm_matmul_backend {
    /* Whether the dtype and options can run here; why not, in `why`. */
    bool (*supports)(const hm_matmul_desc *desc, char *why, size_t why_size);
    /* Plans; first/second/out/bias point at real operands when autotuning may run on them, or
     * are NULL. */
    hm_status (*plan)(hm_context *ctx, const hm_matmul_desc *desc, const void *first,
                      const void *second, void *out, const void *bias, void **plan);
    /* out = alpha·op(first)·op(second) + beta·out (+ epilog). CPU: blocking; CUDA: queued. */
    hm_status (*execute)(hm_context *ctx, void *plan, const void *first, const void *second,
                         void *out, const void *bias);
    void (*destroy)(void *plan);
    /* Optional: runs an hm_mm_pipeline (blocking), recording its copies in the ledger. */
    hm_status (*pipelined)(hm_context *ctx, const hm_mm_pipeline *job);
} hm_matmul_backend;

#endif
