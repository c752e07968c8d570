/**
 * @file hetmath/dist.h
 * @brief Distributed tensors and collective operations over the processes of a communicator.
 *
 * A communicator (hm_comm) is made from an MPI communicator by hm_comm_create_mpi()
 * (hetmath/mpi.h, installed when hetmath is built with MPI). A distributed tensor is the part of
 * a global tensor a rank holds: a box (an offset and, as the local tensor's shape, an extent)
 * of the global shape, in any memory space and layout the local tensor can describe. The boxes of
 * all ranks must tile the global shape: no overlap, no hole; a rank may hold an empty box.
 *
 * Every call that takes a communicator is collective: every rank of it makes the call, in the
 * same order, with the same global arguments (global shape, dtype, options). A bad argument on
 * one rank makes the call fail on every rank, never hang: the rank that found it returns its own
 * status and message; the others return HM_STATUS_REMOTE_FAILURE with a message naming that
 * rank and its reason. (One bad input cannot be seen by the others: a rank that does not make
 * the call at all.) Every byte that moves between ranks goes through MPI and into the context's
 * ledger: one record per peer and direction (HM_TRANSFER_REMOTE, path HM_PATH_MPI), guarded like
 * any implicit copy.
 */
#ifndef HETMATH_DIST_H
#define HETMATH_DIST_H

#include "hetmath/core.h"
#include "hetmath/fft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A communicator: the processes a collective call runs over, and this process's rank. */
typedef struct hm_comm hm_comm;

/** Releases the communicator (its MPI duplicate). NULL is a no-op. Not collective. */
HM_API void hm_comm_destroy(hm_comm *comm);

/** This process's rank (0 to size−1); -1 for NULL. */
HM_API int hm_comm_rank(const hm_comm *comm);

/** The number of ranks; 0 for NULL. */
HM_API int hm_comm_size(const hm_comm *comm);

/** The part of a global tensor one rank holds. */
typedef struct hm_dist_tensor {
    hm_tensor local;                   /**< this rank's box; its shape is the box's extent */
    int64_t global_shape[HM_MAX_NDIM]; /**< the whole tensor's shape (local.ndim of them) */
    int64_t offset[HM_MAX_NDIM];       /**< the global index of the box's first element */
} hm_dist_tensor;

/**
 * The box of @p rank in a grid decomposition of @p global (@p ndim axes): the @p naxes axes
 * @p axes are divided over a process grid of @p grid[0] × … ranks (rank-major, the last axis
 * fastest), each axis of n elements over p ranks as the first n mod p ranks n/p + 1, the others
 * n/p (possibly 0); the other axes whole. One axis: slabs; two of a 3-D tensor: pencils; two of a
 * matrix: 2-D blocks. Ranks from the grid's size on get empty boxes. Not collective.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL pointer; naxes outside 1..3 or above ndim; an axis
 *                                     out of range or repeated; a grid extent below 1; rank < 0
 * @retval HM_STATUS_INVALID_SHAPE     ndim outside 1..HM_MAX_NDIM, a negative extent
 */
HM_API hm_status hm_dist_box(int ndim, const int64_t *global, int naxes, const int *axes,
                             const int *grid, int rank, int64_t *offset, int64_t *extent);

/**
 * Copies the global tensor distributed as @p in into the distribution of @p out (same global
 * shape and dtype; any boxes and layouts): the parts of each rank's box that
 * other ranks' output boxes hold are packed, exchanged in one all-to-all, and unpacked. @p in is
 * never modified; @p out's local tensor is written where its box intersects any input box (all of
 * it). Collective. Host memory (MPI), or device memory on every rank (NCCL, one device a rank:
 * packed and unpacked on the device).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT     a NULL argument, a box outside the global shape
 * @retval (any status of hm_tensor_check(), for either local tensor)
 * @retval HM_STATUS_DTYPE_MISMATCH       the dtypes differ
 * @retval HM_STATUS_INVALID_DISTRIBUTION the boxes of in or of out do not tile the global shape,
 *                                        or the ranks disagree on global shape or dtype
 * @retval HM_STATUS_TRANSFER_REFUSED     the remote guard is set to error
 * @retval HM_STATUS_REMOTE_FAILURE       the call failed on another rank
 * @retval HM_STATUS_MPI_ERROR, HM_STATUS_OUT_OF_HOST_MEMORY
 * @retval HM_STATUS_NCCL_ERROR           (device memory) NCCL failed
 */
HM_API hm_status hm_dist_reshape(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *in,
                                 const hm_dist_tensor *out);

/** Options of the distributed FFT. Initialise with hm_dist_fft_options_init(). */
typedef struct hm_dist_fft_options {
    size_t size;                /**< sizeof(hm_dist_fft_options) */
    hm_fft_type type;           /**< default HM_FFT_C2C */
    hm_fft_direction direction; /**< default forward; R2C forward only, C2R inverse only */
    hm_fft_norm norm;           /**< default HM_FFT_NORM_BACKWARD */
    hm_fft_effort effort;       /**< default HM_FFT_ESTIMATE */
    int transposed_out;         /**< 1: y's global shape has the first two axes swapped (the
                                     transform's last exchange left out, cheaper); 0 (default) */
} hm_dist_fft_options;

/** Sets @p opts to the defaults listed above. */
HM_API void hm_dist_fft_options_init(hm_dist_fft_options *opts);

/**
 * The boxes the distributed FFT of a global @p ndim -D input @p global takes without exchanging
 * anything before or after its own transposes: this rank's input box and output box (for y's
 * global shape: with transposed_out, the first two axes swapped; for r2c the last axis n/2+1,
 * for c2r the input's last axis is n/2+1 and @p global is the real output's shape). Not
 * collective: each rank computes its own (FFTW-MPI's slabs of the first axis).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, bad options
 * @retval HM_STATUS_INVALID_SHAPE     ndim not 2 or 3, an extent below 1
 * @retval HM_STATUS_NOT_SUPPORTED     built without FFTW-MPI; transposed_out with c2r
 */
HM_API hm_status hm_dist_fft_boxes(hm_context *ctx, hm_comm *comm, int ndim, const int64_t *global,
                                   const hm_dist_fft_options *opts, int64_t *in_offset,
                                   int64_t *in_extent, int64_t *out_offset, int64_t *out_extent);

/**
 * Transforms the global tensor @p x (2-D or 3-D, every axis transformed) into @p y, each in any
 * distribution and layout. CPU ranks (host memory): FFTW-MPI on its slab decomposition; GPU
 * ranks (device memory on every rank, one device a rank): cuFFT on the same slabs, the
 * transposes by NCCL while the next planes transform. x is exchanged into the slabs first and the
 * result into y's distribution after, unless they are already there (hm_dist_fft_boxes() gives
 * those). x is never modified. Collective.
 * @retval HM_STATUS_SUCCESS
 * @retval as hm_dist_reshape(), and:
 * @retval HM_STATUS_INVALID_SHAPE     x not 2-D or 3-D; y's global shape not the transform's
 * @retval HM_STATUS_INVALID_DTYPE     a dtype the transform type does not take
 * @retval HM_STATUS_DTYPE_MISMATCH    y's dtype is not the transform's of x's
 * @retval HM_STATUS_NOT_SUPPORTED     transposed_out with c2r; device memory in a build without
 *                                     NCCL
 * @retval HM_STATUS_FFTW_ERROR        FFTW-MPI could not plan the transform
 * @retval HM_STATUS_NCCL_ERROR        (GPU ranks) NCCL failed; cuFFT's and CUDA's own statuses
 */
HM_API hm_status hm_dist_fft(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *x,
                             const hm_dist_tensor *y, const hm_dist_fft_options *opts);

/** A distributed FFT planned once for a set of distributions, executed many times. */
typedef struct hm_dist_fft_plan hm_dist_fft_plan;

/**
 * Plans hm_dist_fft() for operands of x's and y's distributions, dtypes and local layouts (their
 * data pointers are not used): FFTW-MPI's plan and buffer are made once. Collective.
 * @retval as hm_dist_fft(), and HM_STATUS_INVALID_ARGUMENT for a NULL @p out (every rank fails)
 */
HM_API hm_status hm_dist_fft_plan_create(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *x,
                                         const hm_dist_tensor *y, const hm_dist_fft_options *opts,
                                         hm_dist_fft_plan **out);

/**
 * Executes a plan on operands of the planned boxes, global shapes and layouts (new data).
 * Collective; @p comm is the plan's (a NULL plan on one rank fails every rank).
 * @retval as hm_dist_fft(), and:
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL plan, or a plan of another context or communicator
 * @retval HM_STATUS_PLAN_MISMATCH     an operand's box, global shape or layout is not the plan's
 */
HM_API hm_status hm_dist_fft_execute(hm_context *ctx, hm_comm *comm, hm_dist_fft_plan *plan,
                                     const hm_dist_tensor *x, const hm_dist_tensor *y);

/** Releases a plan (NULL: nothing). Not collective. */
HM_API void hm_dist_fft_plan_destroy(hm_dist_fft_plan *plan);

/** Options of the distributed matmul. Initialise with hm_dist_matmul_options_init(). */
typedef struct hm_dist_matmul_options {
    size_t size;  /**< sizeof(hm_dist_matmul_options) */
    double alpha; /**< default 1 */
    double beta;  /**< default 0 */
} hm_dist_matmul_options;

/** Sets @p opts to the defaults listed above. */
HM_API void hm_dist_matmul_options_init(hm_dist_matmul_options *opts);

/**
 * The boxes the distributed matmul of an M×K A and a K×N B takes without exchanging anything
 * before or after its own: this rank's boxes of A, B and D (offset and extent, two each) on its
 * process grid (as square as the ranks allow, rows first), one block a rank. Not collective.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, a negative size
 * @retval HM_STATUS_NOT_SUPPORTED     built without ScaLAPACK
 */
HM_API hm_status hm_dist_matmul_boxes(hm_context *ctx, hm_comm *comm, int64_t m, int64_t n,
                                      int64_t k, int64_t *a_offset, int64_t *a_extent,
                                      int64_t *b_offset, int64_t *b_extent, int64_t *d_offset,
                                      int64_t *d_extent);

/**
 * D = alpha·A·B + beta·C for 2-D global matrices (f32, f64, c64, c128) in any distributions and
 * layouts; without C, beta scales D's own values (beta 0: D is only written). CPU ranks (host
 * memory): ScaLAPACK's p?gemm on a block distribution over a process grid
 * (hm_dist_matmul_boxes() gives it); GPU ranks (device memory on every rank, one device a rank):
 * SUMMA on the same blocks, K's panels sent by NCCL while cuBLASLt multiplies the ones before.
 * The operands are exchanged into the blocks first and D out of them after, unless they are
 * already there. A, B and C are never modified. Collective.
 * @retval HM_STATUS_SUCCESS
 * @retval as hm_dist_reshape(), and:
 * @retval HM_STATUS_INVALID_SHAPE     an operand not 2-D
 * @retval HM_STATUS_SHAPE_MISMATCH    the global shapes do not multiply
 * @retval HM_STATUS_DTYPE_MISMATCH    operands of different dtypes
 * @retval HM_STATUS_INVALID_DTYPE     f16 or bf16
 * @retval HM_STATUS_NOT_SUPPORTED     built without ScaLAPACK; device memory in a build without
 *                                     NCCL; on CPU ranks a global size over 2^31 − 1
 *                                     (ScaLAPACK's int)
 * @retval HM_STATUS_NCCL_ERROR        (GPU ranks) NCCL failed; cuBLASLt's and CUDA's own statuses
 */
HM_API hm_status hm_dist_matmul(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *A,
                                const hm_dist_tensor *B, const hm_dist_tensor *C,
                                const hm_dist_tensor *D, const hm_dist_matmul_options *opts);

/** A distributed matmul planned once (its process grid and buffers), executed many times. */
typedef struct hm_dist_matmul_plan hm_dist_matmul_plan;

/** Plans hm_dist_matmul() for operands of these distributions and layouts (data not used);
 *  alpha and beta are the plan's. Collective. @retval as hm_dist_matmul() */
HM_API hm_status hm_dist_matmul_plan_create(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *A,
                                            const hm_dist_tensor *B, const hm_dist_tensor *C,
                                            const hm_dist_tensor *D,
                                            const hm_dist_matmul_options *opts,
                                            hm_dist_matmul_plan **out);

/** Executes a plan on operands of the planned boxes and layouts. Collective.
 *  @retval as hm_dist_fft_execute() */
HM_API hm_status hm_dist_matmul_execute(hm_context *ctx, hm_comm *comm, hm_dist_matmul_plan *plan,
                                        const hm_dist_tensor *A, const hm_dist_tensor *B,
                                        const hm_dist_tensor *C, const hm_dist_tensor *D);

/** Releases a plan (NULL: nothing). Not collective. */
HM_API void hm_dist_matmul_plan_destroy(hm_dist_matmul_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
