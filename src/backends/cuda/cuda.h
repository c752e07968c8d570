/* The CUDA backend's internal interface: per-device state, error translation, kernel launchers.
 * Compiled only when hetmath is built with CUDA. */
#ifndef HETMATH_CUDA_H
#define HETMATH_CUDA_H

#include <cuda_runtime.h>

#include "core/backend.h"

/* Staging of pageable host memory: chunks through a few pinned buffers, host threads copying
 * one chunk while the copy engine moves the previous one. */
#define HM_STAGE_BUFFERS   4
#define HM_STAGE_MIN_BYTES ((size_t)4 << 20) /* below this, CUDA's own pageable copy is as fast */

/* Per-device state of one context, created on first use of the device. */
typedef struct hm_cuda_device {
    bool ready;
    cudaEvent_t stage_done[HM_STAGE_BUFFERS]; /* a pinned buffer's last copy on this device */
    bool stage_events;
    cudaStream_t stream; /* non-blocking; all of the context's work on this device goes here */
    cudaStream_t stream_in, stream_out; /* copy streams of pipelines, made on first use */
    cudaMemPool_t pool;                 /* device memory, stream-ordered, kept between calls */
    bool pool_made;
    void *lt_handle; /* cublasLtHandle_t, created by the matmul on first use */
    void *workspace; /* device workspace shared by the device's plans (cuBLASLt) */
    size_t workspace_bytes;
    hm_link link; /* measured on first use (the link op) */
    bool link_known;
} hm_cuda_device;

typedef struct hm_cuda_state {
    void *stage_buf[HM_STAGE_BUFFERS]; /* pinned, portable: shared by the context's devices */
    size_t stage_chunk;
    int stage_count;
    int count;
    hm_cuda_device dev[]; /* count entries */
} hm_cuda_state;

/* The state of device id for ctx, created (stream) on first use. Sets the current device. */
hm_status hm__cuda_device(hm_context *ctx, int id, hm_cuda_device **out);

/* As hm__cuda_device, with the device's two copy streams made too. */
hm_status hm__cuda_device_streams(hm_context *ctx, int id, hm_cuda_device **out);

/* The staging pool (at least `need` buffers of HM_STAGE_CHUNK-or-more bytes, else
 * HM_STATUS_NOT_SUPPORTED): buffers 0 and 1 into in[], 2 and 3 into out[]. */
hm_status hm__cuda_stage_buffers(hm_context *ctx, hm_cuda_device *d, int device, int need,
                                 void *in[2], void *out[2]);

/* A host-operand pipeline: `rows` rows of in_row_bytes each, from in_host (host or pinned) to
 * in_dev, computed tile by tile (core/tiles.h) into out_dev, and out_row_bytes a row back to
 * out_host. compute runs on the device's main stream with the tile's device pointers. Blocking;
 * records the two copies in the ledger (named in_name and out_name, with the pipeline's wall time).
 */
typedef struct hm_cuda_pipeline {
    int device;
    int64_t rows;
    const hm_tiles *tiles; /* how many rows each tile has */
    size_t in_row_bytes, out_row_bytes;
    const void *in_host;
    hm_device in_space;
    void *out_host;
    hm_device out_space;
    void *in_dev, *out_dev;
    hm_status (*compute)(hm_context *ctx, void *user, int64_t rows, const void *in_tile,
                         void *out_tile);
    void *user;
    const char *op, *in_name, *out_name;
} hm_cuda_pipeline;

hm_status hm__cuda_pipeline_run(hm_context *ctx, const hm_cuda_pipeline *p);

/* Translates a CUDA runtime error into a status and a message (out of memory is its own
 * status), clears the sticky-free error state, and returns the status. */
hm_status hm__cuda_fail(hm_context *ctx, cudaError_t err, const char *fmt, ...) HM_PRINTF(3, 4);

/* One macro per library: in a function with `hm_status st` and a `fail:` label. */
#define HM_CUDA_TRY(ctx, expr, ...)                                                                \
    do {                                                                                           \
        cudaError_t e_ = (expr);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            st = hm__cuda_fail((ctx), e_, __VA_ARGS__);                                            \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Kernels (cuda_kernels.cu). Asynchronous on stream; return the launch error. */
cudaError_t hm__cuda_launch_strided_copy(cudaStream_t stream, void *dst, const int64_t *dst_strides,
                                         const void *src, const int64_t *src_strides,
                                         const int64_t *shape, int ndim, size_t elem_size);

/* Multiplies each of the comps real components of every element of a strided view (strides in
 * elements of comps reals, ndim ≤ 8) by factor; float unless is_double. */
cudaError_t hm__cuda_launch_scale(cudaStream_t stream, void *data, const int64_t *shape,
                                  const int64_t *strides, int ndim, int is_double, int comps,
                                  double factor);

extern const hm_fft_backend hm__cuda_fft;
extern const hm_matmul_backend hm__cuda_matmul;

/* Releases the device's cuBLASLt handle (context destruction). */
void hm__cuda_matmul_release_device(hm_cuda_device *d);

#endif
