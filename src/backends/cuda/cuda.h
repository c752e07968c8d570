/* The CUDA backend's internal interface: per-device state, error translation, kernel launchers.
 * Compiled only when hetmath is built with CUDA. */
#ifndef HETMATH_CUDA_H
#define HETMATH_CUDA_H

#include <cuda_runtime.h>

#include "core/backend.h"

/* Per-device state of one context, created on first use of the device. */
typedef struct hm_cuda_device {
    bool ready;
    cudaStream_t stream; /* non-blocking; all of the context's work on this device goes here */
    void *lt_handle;     /* cublasLtHandle_t, created by the matmul on first use */
    void *workspace;     /* device workspace shared by the device's plans (cuBLASLt) */
    size_t workspace_bytes;
} hm_cuda_device;

typedef struct hm_cuda_state {
    int count;
    hm_cuda_device dev[]; /* count entries */
} hm_cuda_state;

/* The state of device id for ctx, created (stream) on first use. Sets the current device. */
hm_status hm__cuda_device(hm_context *ctx, int id, hm_cuda_device **out);

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
