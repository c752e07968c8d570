/**
 * @file hetmath/matmul.h
 * @brief Matrix multiply, D = alpha·A·B + beta·C, generic (CPU BLAS or cuBLASLt, where the
 * operands are) and advanced (GPU only: f16/bf16 operands, TF32, fused epilogs, autotuning).
 *
 * Shapes follow NumPy's matmul: A is (..., M, K), B is (..., K, N), D is (..., M, N) where D's
 * leading (batch) dimensions are the broadcast of A's and B's (a dimension of 1, or a missing
 * one, repeats). C, when given, has D's shape; when C is NULL, C is D itself (BLAS's
 * D = alpha·A·B + beta·D), which matters only for beta ≠ 0. Any row-major, column-major or
 * transposed layout of the last two dimensions is used in place; other layouts are copied to a
 * compact one through the transfer layer (ledgered).
 */
#ifndef HETMATH_MATMUL_H
#define HETMATH_MATMUL_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Epilogs of the advanced matmul, fused into the cuBLASLt kernel. */
typedef enum hm_matmul_epilog {
    HM_EPILOG_NONE = 0,
    HM_EPILOG_RELU = 1,      /**< D = max(0, alpha·A·B + beta·C) */
    HM_EPILOG_GELU = 2,      /**< D = gelu(…) (tanh approximation, as cuBLASLt) */
    HM_EPILOG_BIAS = 3,      /**< D = … + bias, bias of length N added to every row */
    HM_EPILOG_RELU_BIAS = 4, /**< D = max(0, … + bias) */
    HM_EPILOG_GELU_BIAS = 5, /**< D = gelu(… + bias) */
} hm_matmul_epilog;

/** Options of the matmuls. Initialise with hm_matmul_options_init(). */
typedef struct hm_matmul_options {
    size_t size;            /**< sizeof(hm_matmul_options) */
    double alpha;           /**< default 1 */
    double beta;            /**< default 0 */
    hm_execution execution; /**< default: generic follows the operands; advanced: CUDA */
    int blocking;           /**< device operands: 1 waits for D; 0 (default) queues the work */
    /* Advanced only (must stay at their defaults for hm_matmul): */
    hm_matmul_epilog epilog; /**< default HM_EPILOG_NONE */
    int tf32;                /**< f32 operands computed with TF32 tensor cores (opt-in) */
    int autotune;            /**< time this many cuBLASLt candidates and keep the fastest (0: the
                                  heuristic's first) */
    /* Plans only (stateless calls refuse it): */
    int register_host; /**< 1: page-lock pageable host operands the plan copies to or from a GPU
                            once it runs twice in a row on the same buffer (see
                            hm_matmul_plan_create); 0 (default): stage them every call */
    size_t device_memory_limit; /**< bytes this call or plan may allocate on a device (see
                                     hm_context_options.device_memory_limit); 0 (default): the
                                     context's */
    void *stream;               /**< a cudaStream_t to order a call of device operands on;
                                     NULL (default): the context's own (hm_fft_options.stream
                                     has the rules) */
} hm_matmul_options;

/** Sets @p opts to the defaults listed above. */
HM_API void hm_matmul_options_init(hm_matmul_options *opts);

/**
 * Generic matmul: D = alpha·A·B + beta·C for f32, f64, c64, c128 (and f16/bf16 with CUDA
 * execution). Executes where the operands are (host → CBLAS with the execution space's threads,
 * cuda:N → cuBLASLt on device N) unless opts->execution names another space, in which case the
 * operands are copied there and D copied back. @p D with NULL data and ndim 0 means "allocate D
 * row-major in the operands' space" (with operands on two devices, on the execution device;
 * free with hm_tensor_free()). A, B, C are never modified.
 * Host operands: returns when D is written. Device operands: queued on the context's stream
 * unless opts->blocking.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL A, B or D, a bad options size, advanced-only options,
 *                                     or register_host (plans only)
 * @retval (any status of hm_tensor_check(), for A, B, C or D)
 * @retval HM_STATUS_INVALID_SHAPE     an operand with fewer than 2 dimensions
 * @retval HM_STATUS_SHAPE_MISMATCH    A's K differs from B's, or C/D do not have the result shape
 * @retval HM_STATUS_BROADCAST_MISMATCH  the batch dimensions of A and B do not broadcast
 * @retval HM_STATUS_DTYPE_MISMATCH    operands of different dtypes
 * @retval HM_STATUS_NOT_SUPPORTED     f16/bf16 on the CPU
 * @retval HM_STATUS_SPACE_MISMATCH    D (or C) in another memory space than A and B
 * @retval HM_STATUS_ALIASING          D overlaps A, B or C (C may be D itself)
 * @retval (any status of hm_execution_resolve())
 * @retval HM_STATUS_TRANSFER_REFUSED  a copy this call would make is forbidden by the guard
 * @retval HM_STATUS_DEVICE_MEMORY_LIMIT  with a CUDA execution space, no schedule of the operands
 *                                     fits the device memory budget
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY, HM_STATUS_CUBLAS_ERROR,
 *         HM_STATUS_CUDA_ERROR
 */
HM_API hm_status hm_matmul(hm_context *ctx, const hm_tensor *A, const hm_tensor *B,
                           const hm_tensor *C, hm_tensor *D, const hm_matmul_options *opts);

/**
 * Advanced matmul, on CUDA only: as hm_matmul(), plus f16/bf16 operands with f32 compute,
 * TF32 for f32 (opts->tf32), fused epilogs with an optional @p bias (1-D, length N, the dtype
 * of D, in the operands' memory space), and autotuning. Host operands are copied to the execution
 * device (cuda:0 unless named) and D is copied back to host memory.
 *
 * Host operands on a GPU (here, or hm_matmul() with a CUDA execution space): when A is 2-D,
 * compact row-major and at least 8 MiB, D compact row-major, and there is no C (beta 0), the
 * product is pipelined: B goes in first, then row tiles of A go in while earlier tiles are
 * multiplied and their rows of D come back, on three streams. The tiles are small at both ends
 * (their copies overlap nothing) and large between (small products run below the device's rate):
 * for 8000 rows, 800, 800, 1600, 2000, 2000, 800, unless a model measured at planning (the link,
 * the tile products) finds another shape clearly faster (hm_context_options.pipeline_schedule
 * says which, and can fix the tiles for bit-identical results). Pageable memory goes through the
 * context's pinned pool (hm_context_options.pinned_pool_bytes, at least 128 MiB for the pipeline);
 * pinned memory goes direct. The ledger records A in and D out with the pipeline's wall time, and
 * the log names the tiles. The device holds three tiles of A and of D, and B: within the device
 * memory budget (opts->device_memory_limit, else the context's), or, when B does not fit beside
 * them, D's columns are cut into panels (with B's and the bias's) and A crosses once a panel
 * (docs/OUT_OF_CORE.md). A product that no schedule fits fails with
 * HM_STATUS_DEVICE_MEMORY_LIMIT before any work; one that fails in the middle leaves each tile
 * of D complete or as it was.
 * @retval as hm_matmul(), and:
 * @retval HM_STATUS_CUDA_UNAVAILABLE  no CUDA device: this operation needs a CUDA execution space
 * @retval HM_STATUS_INVALID_EXECUTION cpu execution named
 * @retval HM_STATUS_INVALID_ARGUMENT  an epilog with a bias but no bias given, or the reverse;
 *                                     an unknown epilog; an epilog on complex dtypes
 * @retval HM_STATUS_SHAPE_MISMATCH    bias not of length N
 * @retval HM_STATUS_DEVICE_MEMORY_LIMIT  no schedule of the operands fits the device memory budget
 */
HM_API hm_status hm_matmul_advanced(hm_context *ctx, const hm_tensor *A, const hm_tensor *B,
                                    const hm_tensor *C, hm_tensor *D, const hm_tensor *bias,
                                    const hm_matmul_options *opts);

/** A reusable matmul plan for one set of operand layouts. */
typedef struct hm_matmul_plan hm_matmul_plan;

/**
 * Specifies and plans a matmul (HM_OP_GENERIC: hm_matmul; HM_OP_SPECIALIZED:
 * hm_matmul_advanced) for operands laid out like the given ones; data pointers are not used
 * except by autotuning, which runs candidates on them when they are all non-NULL. @p C and
 * @p bias may be NULL. @p D with NULL data and ndim 0 plans an allocated row-major D.
 *
 * opts->register_host = 1, for a plan that will run many times on the same host buffers with a
 * GPU execution space: a pageable host operand of at least 1 MiB that an execution copies to or
 * from the GPU is registered with CUDA (cudaHostRegister, page-locked in place) when the
 * execution gets the same pointer for it as the one before, so from the second call on its
 * copies go direct at the link's rate, with no host threads, as pinned memory's do. Registering
 * costs tens of milliseconds a GiB (docs/TUNING.md has the figures): it pays back after a few
 * calls of a large operand. The log gives the cost;
 * the ledger marks the copies "(registered)". The registration is undone when the plan is
 * destroyed or executed with another pointer for that operand. While registered, the buffer
 * must stay allocated: free it only after hm_matmul_plan_destroy() (or after executing the
 * plan on another buffer); a D the plan allocates is never registered. Memory already page-locked
 * is left alone; a registration that fails is logged as a warning and the operand staged. Stateless
 * calls refuse the option: they could not undo it before returning.
 * @retval as hm_matmul() / hm_matmul_advanced(), without the pointer checks, and:
 * @retval HM_STATUS_INVALID_ARGUMENT  register_host other than 0 or 1
 */
HM_API hm_status hm_matmul_plan_create(hm_context *ctx, hm_op_class kind, const hm_tensor *A,
                                       const hm_tensor *B, const hm_tensor *C, const hm_tensor *D,
                                       const hm_tensor *bias, const hm_matmul_options *opts,
                                       hm_matmul_plan **out);

/**
 * Executes @p plan on operands of the planned layouts (new data pointers allowed).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL argument, or another context than the plan's
 * @retval HM_STATUS_PLAN_MISMATCH     an operand differs from the planned layout, or C/bias given
 *                                     to a plan made without them (or the reverse)
 * @retval (the execution statuses of hm_matmul())
 */
HM_API hm_status hm_matmul_execute(hm_context *ctx, hm_matmul_plan *plan, const hm_tensor *A,
                                   const hm_tensor *B, const hm_tensor *C, hm_tensor *D,
                                   const hm_tensor *bias);

/**
 * hm_matmul_execute() without its checks of the operands, for a loop of calls on operands the
 * caller vouches for: exactly the planned layouts, dtypes and memory spaces, pointers valid there
 * (and aligned), C and bias given as when planned, D overlapping only as planned (C may be D
 * itself). Skipped: the pointer-attribute queries, the comparison with the plan's layouts, the
 * overlap checks. Still checked: the context, the plan (its context and operation), NULL
 * operands, the transfer guard. Operands that break the contract are undefined behaviour.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, or another context than the plan's
 * @retval (the execution statuses of hm_matmul())
 */
HM_API hm_status hm_matmul_execute_unchecked(hm_context *ctx, hm_matmul_plan *plan,
                                             const hm_tensor *A, const hm_tensor *B,
                                             const hm_tensor *C, hm_tensor *D,
                                             const hm_tensor *bias);

/** Orders the plan's later executions on @p stream (NULL: the context's own), as
 *  hm_fft_plan_set_stream() does for an FFT plan.
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT @p plan NULL */
HM_API hm_status hm_matmul_plan_set_stream(hm_matmul_plan *plan, void *stream);

/** Releases the plan. NULL is a no-op. Destroy plans before their context. */
HM_API void hm_matmul_plan_destroy(hm_matmul_plan *plan);

/**
 * What the auto execution space (hm_execution_auto()) would choose for hm_matmul() (@p kind
 * HM_OP_GENERIC) or hm_matmul_advanced() on operands laid out like these (data pointers unused;
 * @p C, @p bias may be NULL; @p D as for hm_matmul_plan_create()), whatever execution space
 * @p opts names (its reuse hint counts, from an auto space): each candidate's modelled time and
 * the choice (a specialized operation: CUDA only). Calibrates first when the context has no
 * calibration and a CUDA device (hm_context_calibrate()). Nothing is planned or computed.
 * @retval as hm_matmul_plan_create(), without the guard's and the budget's, and:
 * @retval HM_STATUS_INVALID_ARGUMENT  @p out NULL
 */
HM_API hm_status hm_matmul_estimate(hm_context *ctx, hm_op_class kind, const hm_tensor *A,
                                    const hm_tensor *B, const hm_tensor *C, const hm_tensor *D,
                                    const hm_tensor *bias, const hm_matmul_options *opts,
                                    hm_estimate *out);

#ifdef __cplusplus
}
#endif

#endif
