/* What an FFT backend is given: one transform fully described in elements, on operands that are
 * already in the backend's execution space. */
#ifndef HETMATH_FFT_BACKEND_H
#define HETMATH_FFT_BACKEND_H

#include "core/internal.h"
#include "core/tiles.h"

typedef struct hm_fft_desc {
    hm_fft_type type;
    hm_fft_direction direction;
    bool double_precision;
    int rank;                           /* 1..3 */
    int64_t n[HM_FFT_MAX_RANK];         /* logical lengths, outermost first (real length for the
                                           halved axis) */
    int64_t in_stride[HM_FFT_MAX_RANK]; /* element strides of the transform axes */
    int64_t out_stride[HM_FFT_MAX_RANK];
    int batch_rank; /* the other axes, in input order */
    int64_t batch_n[HM_MAX_NDIM];
    int64_t batch_in_stride[HM_MAX_NDIM];
    int64_t batch_out_stride[HM_MAX_NDIM];
    int64_t in_span; /* elements from the first to one past the last touched */
    int64_t out_span;
    bool in_place;
    double scale; /* applied to every output element; 1.0: none */
    hm_execution exec;
    hm_fft_effort effort;
} hm_fft_desc;

/* A host-operand transform pipelined over its batch: x and y compact row-major in host memory,
 * the transform axes trailing, `rows` batch entries of in_row_bytes / out_row_bytes; chunks of
 * the batch go in while earlier ones are transformed and come back. */
typedef struct hm_fft_pipeline {
    void *const *plans;    /* a plan for each chunk size: plans[i] for tiles->size[i] entries */
    const hm_tiles *tiles; /* the chunks */
    int64_t rows;
    size_t in_row_bytes, out_row_bytes;
    const void *x_host;
    hm_device x_space;
    void *y_host;
    hm_device y_space;
    void *x_dev, *y_dev; /* device buffers of x and y, compact */
    int device;
} hm_fft_pipeline;

typedef struct hm_fft_backend {
    /* Can this backend run the layout as described? (FFTW: always; cuFFT: embed layouts with one
     * batch stride.) If not, the core gives it compact canonical copies instead. */
    bool (*expressible)(const hm_fft_desc *desc);
    hm_status (*plan)(hm_context *ctx, const hm_fft_desc *desc, void **plan);
    /* Runs the plan on in/out (CPU: blocking; CUDA: queued on the device's stream), scaling
     * included. in is never written unless in place. */
    hm_status (*execute)(hm_context *ctx, void *plan, const void *in, void *out);
    void (*destroy)(void *plan);
    /* Optional: runs an hm_fft_pipeline (blocking), recording its copies in the ledger. */
    hm_status (*pipelined)(hm_context *ctx, const hm_fft_pipeline *job);
} hm_fft_backend;

#endif
