/**
 * @file hetmath/fft.h
 * @brief The generic FFT: complex-to-complex, real-to-complex and complex-to-real transforms of
 * rank 1 to 3 over any axes of a strided, batched tensor, executed where the operand lives (FFTW3
 * on the CPU for host memory, cuFFT for cuda:N memory) unless another execution space is named.
 *
 * With a named execution space other than the operand's, the operand is copied there through the
 * transfer layer (ledgered, logged, guarded) and the result copied back: the result is always in
 * the operand's memory space.
 */
#ifndef HETMATH_FFT_H
#define HETMATH_FFT_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Sign of the exponent. The values are FFTW's. */
typedef enum hm_fft_direction {
    HM_FFT_FORWARD = -1,
    HM_FFT_INVERSE = 1,
} hm_fft_direction;

/** What the transform is. */
typedef enum hm_fft_type {
    HM_FFT_C2C = 0, /**< complex → complex (c64 or c128), forward or inverse */
    HM_FFT_R2C = 1, /**< real → complex, forward; the last transform axis becomes n/2+1 long */
    HM_FFT_C2R = 2, /**< complex → real, inverse; the last transform axis grows to last_length */
} hm_fft_type;

/** Normalisation, by N = the product of the transform lengths. */
typedef enum hm_fft_norm {
    HM_FFT_NORM_BACKWARD = 0, /**< inverse scaled by 1/N (NumPy's default) */
    HM_FFT_NORM_NONE = 1,     /**< never scaled */
    HM_FFT_NORM_ORTHO = 2,    /**< both directions scaled by 1/sqrt(N) */
    HM_FFT_NORM_FORWARD = 3,  /**< forward scaled by 1/N */
} hm_fft_norm;

/** FFTW planner effort (the CPU backend; cuFFT ignores it). */
typedef enum hm_fft_effort {
    HM_FFT_ESTIMATE = 0, /**< plan from heuristics, instantly */
    HM_FFT_MEASURE = 1,  /**< time candidate algorithms while planning (seconds for large n) */
} hm_fft_effort;

/** Maximum number of transform axes. */
#define HM_FFT_MAX_RANK 3

/** Options of hm_fft() and hm_fft_plan_create(). Initialise with hm_fft_options_init(). */
typedef struct hm_fft_options {
    size_t size;                /**< sizeof(hm_fft_options) */
    hm_fft_type type;           /**< default HM_FFT_C2C */
    hm_fft_direction direction; /**< default forward; R2C must be forward, C2R inverse */
    int num_axes;               /**< 0: all axes of the input (at most 3) */
    int axes[HM_FFT_MAX_RANK];  /**< transform axes, negative counting from the end; for R2C and
                                     C2R the last one listed is the halved axis */
    int64_t last_length;        /**< C2R: real length of the halved axis; 0: 2·(m−1) */
    hm_fft_norm norm;           /**< default HM_FFT_NORM_BACKWARD */
    hm_execution execution;     /**< default: where the operand is */
    hm_fft_effort effort;       /**< default HM_FFT_ESTIMATE */
    int blocking;               /**< device operands: 1 waits for the result; 0 (default)
                                     returns with the work queued on the context's stream */
    int register_host;          /**< plans only (hm_fft_plan_create, which says what it does);
                                     0 (default) */
    int overwrite_input;        /**< c2r only: 1 lets the transform use x as scratch (its values
                                     are lost), so no private copy of x is made (FFTW's
                                     FFTW_DESTROY_INPUT); 0 (default): x is never modified */
    size_t device_memory_limit; /**< bytes this call or plan may allocate on a device (see
                                     hm_context_options.device_memory_limit); 0 (default): the
                                     context's */
    void *stream;               /**< a cudaStream_t (NULL, default: the context's own): a call
                                     of device operands is ordered on it, after the work queued
                                     there before the call and before the work queued after it,
                                     and returns without waiting unless blocking; the context's
                                     streams are joined to it by events, never by a device-wide
                                     wait. A stream of the execution device (of the
                                     operands' device for a CPU call); operands on another
                                     device, and host operands (a call of them blocks, and
                                     may read them at once, as CUDA reads pageable memory),
                                     must be ready when the call is made. Per call: a
                                     plan the cache holds runs on the stream of the call that
                                     reuses it; a plan runs on the stream of the options it was
                                     made with, or the one hm_fft_plan_set_stream() gives it */
} hm_fft_options;

/** Sets @p opts to the defaults listed above. */
HM_API void hm_fft_options_init(hm_fft_options *opts);

/**
 * Transforms @p x into @p y.
 *
 * @p y is either a view of an output the caller provides (shape: x's with the halved axis
 * adjusted for R2C/C2R; dtype: complex of x's precision for C2C/R2C, real for C2R; memory space:
 * x's), or a tensor with NULL data, in which case hetmath allocates a row-major output in x's
 * memory space, fills @p y with it, and the caller releases it with hm_tensor_free(). In-place
 * C2C (y the same view as x) is allowed; any other overlap is refused.
 *
 * Host operands: returns when the result is in @p y. Device operands with device execution:
 * asynchronous on the context's stream for that device unless opts->blocking. Stateless calls
 * reuse plans through the context's plan cache.
 * @p x is never modified (except in place, or by a c2r transform with opts->overwrite_input).
 *
 * Host operands on a GPU: a compact batch of at least 8 transforms over the trailing axes, x at
 * least 8 MiB or larger than the device memory budget (opts->device_memory_limit), is pipelined
 * over the batch as hm_matmul_advanced() pipelines row tiles (chunks of the batch go in while
 * earlier ones are transformed and come back, through three tile buffers on the device); c2c
 * transforms over leading axes with a trailing batch, in blocks of the batch's columns; c2c
 * transforms over every axis of 2-D or 3-D data larger than the budget, in two passes (slabs,
 * then pencils). Others must fit the budget whole: HM_STATUS_DEVICE_MEMORY_LIMIT otherwise
 * (docs/OUT_OF_CORE.md).
 *
 * On the CPU, an execution space with HM_AUTO threads gives HM_FFT_ESTIMATE transforms one thread
 * per 32768 elements (at least one), and HM_FFT_MEASURE transforms all of them: the planner then
 * times, against FFTW's own plan, FFTW's plan on fewer threads (three quarters of 8 or more, for
 * arrays of at most 32 MiB; one, for arrays of at most 1 MiB), a batch of out-of-place 1-D C2C
 * rows done in cache-sized blocks of rows, and one 1-D C2C transform of N = n1 x n2 points split
 * into two passes of blocks of short transforms (it then holds a work array of N elements and
 * twiddle tables until the plan is destroyed). An alternative is kept only when it measures at
 * least 5% faster; the log says which ran and what each took.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, bad options size or enum value, or
 *                                     register_host (plans only)
 * @retval (any status of hm_tensor_check(), for x or y)
 * @retval HM_STATUS_INVALID_AXES      more than 3 axes, a repeated or out-of-range axis, or
 *                                     num_axes 0 on a tensor of more than 3 dimensions
 * @retval HM_STATUS_INVALID_SHAPE     a zero-length transform axis, or C2R last_length that does
 *                                     not match the input (m ≠ last_length/2 + 1)
 * @retval HM_STATUS_INVALID_DTYPE     x's dtype does not fit the type (C2C/C2R: c64 or c128;
 *                                     R2C: f32 or f64)
 * @retval HM_STATUS_DTYPE_MISMATCH    y's dtype is not the one the transform produces
 * @retval HM_STATUS_SHAPE_MISMATCH    y's shape is not the one the transform produces
 * @retval HM_STATUS_SPACE_MISMATCH    y is not in x's memory space
 * @retval HM_STATUS_ALIASING          y overlaps x without being the same view (or in place with
 *                                     R2C/C2R)
 * @retval (any status of hm_execution_resolve())
 * @retval HM_STATUS_TRANSFER_REFUSED  a copy this call would make is forbidden by the guard
 * @retval HM_STATUS_DEVICE_MEMORY_LIMIT  no schedule of the operands fits the device memory budget
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY, HM_STATUS_FFTW_ERROR,
 *         HM_STATUS_CUFFT_ERROR, HM_STATUS_CUDA_ERROR
 */
HM_API hm_status hm_fft(hm_context *ctx, const hm_tensor *x, hm_tensor *y,
                        const hm_fft_options *opts);

/** A reusable FFT plan for one layout of input and output. */
typedef struct hm_fft_plan hm_fft_plan;

/**
 * Specifies and plans a transform of inputs laid out like @p x into outputs laid out like @p y
 * (their data pointers are not used and may be NULL; @p y with ndim 0 and NULL data means "a
 * row-major output allocated at each execution"). Logs the specification and planning phases.
 *
 * opts->register_host = 1 does for x and y what it does for a matmul plan's operands
 * (hm_matmul_plan_create() has the rule): a pageable host operand of at least 1 MiB copied to or
 * from a GPU is page-locked in place when two executions in a row get the same pointer for it,
 * and stays so until the plan is destroyed or given another pointer for it; keep the buffer
 * allocated until then. A y the plan allocates is never registered.
 * @retval as hm_fft(), without the pointer checks, and:
 * @retval HM_STATUS_INVALID_ARGUMENT  register_host other than 0 or 1
 */
HM_API hm_status hm_fft_plan_create(hm_context *ctx, const hm_tensor *x, const hm_tensor *y,
                                    const hm_fft_options *opts, hm_fft_plan **out);

/**
 * Executes @p plan on new operands of the planned layout (same shape, strides, dtype and
 * memory space; data pointers may differ). @p ctx must be the context that created the plan.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL argument, or another context than the plan's
 * @retval HM_STATUS_PLAN_MISMATCH     an operand's layout, dtype or space differs from the plan's
 * @retval (the execution statuses of hm_fft())
 */
HM_API hm_status hm_fft_execute(hm_context *ctx, hm_fft_plan *plan, const hm_tensor *x,
                                hm_tensor *y);

/**
 * hm_fft_execute() without its checks of the operands, for a loop of calls on operands the caller
 * vouches for: x and y of exactly the planned layout, dtype and memory space, their pointers
 * valid there (and aligned), overlapping as when planned (the same view for a plan made in
 * place, disjoint otherwise). Skipped: the pointer-attribute queries, the comparison with the
 * plan's layouts, the overlap checks. Still checked: the context, the plan (its context and
 * operation), NULL operands, the transfer guard. Operands that break the contract are undefined
 * behaviour.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, or another context than the plan's
 * @retval (the execution statuses of hm_fft())
 */
HM_API hm_status hm_fft_execute_unchecked(hm_context *ctx, hm_fft_plan *plan, const hm_tensor *x,
                                          hm_tensor *y);

/**
 * Orders the plan's later executions on @p stream (a cudaStream_t; NULL: the context's own), as
 * hm_fft_options.stream orders a call: a plan made on one stream executes on another. Nothing
 * waits: work the plan queued on its former stream stays ordered there, so a caller who moves
 * a plan between streams that share buffers orders them (an event) as for any two streams.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  @p plan NULL
 */
HM_API hm_status hm_fft_plan_set_stream(hm_fft_plan *plan, void *stream);

/** Releases the plan. NULL is a no-op. Destroy plans before their context. */
HM_API void hm_fft_plan_destroy(hm_fft_plan *plan);

/**
 * What the auto execution space (hm_execution_auto()) would choose for hm_fft() on operands laid
 * out like @p x and @p y (as for hm_fft_plan_create(); data pointers unused), whatever execution
 * space @p opts names (its reuse hint counts, from an auto space): each candidate's modelled
 * time and the choice. Calibrates first when the context has no calibration and a CUDA device
 * (hm_context_calibrate()). Nothing is planned or computed.
 * @retval as hm_fft_plan_create(), without the guard's and the budget's, and:
 * @retval HM_STATUS_INVALID_ARGUMENT  @p out NULL
 */
HM_API hm_status hm_fft_estimate(hm_context *ctx, const hm_tensor *x, const hm_tensor *y,
                                 const hm_fft_options *opts, hm_estimate *out);

#ifdef __cplusplus
}
#endif

#endif
