/* The CUDA backend's internal interface: per-device state (cuda_device.c), error translation,
 * copies and the link (cuda_copy.c), the host-operand pipeline (cuda_pipeline.c), the
 * operations (cuda_fft.c, cuda_matmul.c), kernel launchers (cuda_kernels.cu); cuda_backend.c
 * assembles the table. Compiled only when hetmath is built with CUDA. */
#ifndef HETMATH_BACKENDS_CUDA_H
#define HETMATH_BACKENDS_CUDA_H

#include <cuda_runtime.h>

#include "core/backend.h"

/* Staging of pageable host memory: chunks through a few pinned buffers, host threads copying
 * one chunk while the copy engine moves the previous one. A staged copy, or one device's
 * pipeline, uses HM_STAGE_BUFFERS of them; pipelines on several devices at once, that many
 * each. */
#define HM_STAGE_MAX       (HM_STAGE_BUFFERS * HM_MAX_DEVICE_SET)
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
    void *fft_work; /* the work area shared by the device's cuFFT plans, grown on demand */
    size_t fft_work_bytes;
    hm_link link; /* measured on first use (the link op) */
    bool link_known;
    cudaEvent_t join[2]; /* a caller's stream joined to this device's: before, after a call */
    bool join_made;
    /* A call computing on the caller's stream itself (hm__cuda_direct): the stream while it
     * runs; the caller's stream the last such call ran on (NULL: none since the device's own
     * stream took over), and an event recorded there after it. While `owner` is set, every use
     * of the device's own stream first waits for that event (hm__cuda_device does). */
    cudaStream_t call_stream;
    cudaStream_t owner;
    cudaEvent_t owner_done;
    bool owner_made;
} hm_cuda_device;

/* The stream the device's computation goes on now: the caller's during a direct call, else the
 * device's own. */
static inline cudaStream_t hm__cuda_stream(const hm_cuda_device *d)
{
    return d->call_stream ? d->call_stream : d->stream;
}

typedef struct hm_cuda_state {
    void *stage_buf[HM_STAGE_MAX]; /* pinned, portable: shared by the context's devices */
    size_t stage_chunk;
    int stage_count;
    int count;
    signed char *peer;    /* count × count: 0 not decided yet, 1 peer access on, -1 staged */
    hm_cuda_device dev[]; /* count entries */
} hm_cuda_state;

/* ---- devices, memory, errors (cuda_device.c) ---------------------------------------------- */

/* The backend's state of ctx (NULL before the probe). */
hm_cuda_state *hm__cuda_state(hm_context *ctx);

/* Makes the state for `count` devices (the probe). */
hm_status hm__cuda_state_create(hm_context *ctx, int count);

/* Releases every device's stream, pool, events and buffers, and the state. */
void hm__cuda_state_destroy(hm_context *ctx);

/* The state of device id for ctx, created (stream) on first use. Sets the current device. Outside
 * a direct call, the device's stream is first ordered after the last direct call's work. */
hm_status hm__cuda_device(hm_context *ctx, int id, hm_cuda_device **out);

/* A direct call (hm_backend_ops.direct): before it (after false), `stream` is ordered after all
 * of the context's work on the device, unless the last direct call ran on that stream (it was
 * then, and nothing came since), and the backend computes on it; after it, an event recorded
 * there lets the device's own stream wait for the call when it is next used. */
hm_status hm__cuda_direct(hm_context *ctx, int id, void *stream, bool after);

/* As hm__cuda_device, with the device's two copy streams made too. */
hm_status hm__cuda_device_streams(hm_context *ctx, int id, hm_cuda_device **out);

/* Whether devices a and b (a ≠ b) copy to each other directly: decided on the pair's first
 * copy (both can access the other, and the context allows it: hetmath/debug.h), peer access then
 * enabled both ways for the devices and for the context's memory pools on them, and the decision
 * logged and remembered. */
hm_status hm__cuda_peer(hm_context *ctx, int a, int b, bool *direct);

/* Every block of device or pinned memory the backend takes (and its memory slots,
 * hm_backend_ops.alloc and .free): from the context's allocator when it
 * has one for that kind, else from the device's stream-ordered pool (device memory, usable in
 * the order of the device's stream, no wait) or cudaHostAlloc (pinned); counted in the
 * context's memory statistics. hm__cuda_mem_put gives a block back (device memory in the order
 * of the device's stream), with the bytes it was taken with; NULL is a no-op. */
hm_status hm__cuda_mem_get(hm_context *ctx, hm_device space, size_t bytes, void **out);
void hm__cuda_mem_put(hm_context *ctx, hm_device space, void *ptr, size_t bytes);

/* A device's area shared by its plans (cuBLASLt's workspace, cuFFT's work area) of at least
 * `bytes`: a larger one replaces *area once the work queued on the device's stream, which may use
 * the old one, is done. `what` names it in a failure. */
hm_status hm__cuda_grow(hm_context *ctx, int id, void **area, size_t *have, size_t bytes,
                        const char *what);

/* Device id's memory for the device memory budget (hm_backend_ops.memory). */
hm_status hm__cuda_memory(hm_context *ctx, int id, size_t *available, size_t *total);

/* The pinned staging pool and device's events, made on first use (all or nothing). */
hm_status hm__cuda_stage_setup(hm_context *ctx, hm_cuda_device *d, int device);

/* The four staging buffers of pipeline `slot` (0 for the first of pipelines running at once):
 * 4·slot and 4·slot+1 into in[], the next two into out[]. The pool grows to hold them within
 * the context's bound, else HM_STATUS_NOT_SUPPORTED. */
hm_status hm__cuda_stage_buffers(hm_context *ctx, hm_cuda_device *d, int device, int slot,
                                 void *in[2], void *out[2]);

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

/* ---- copies and the link (cuda_copy.c) ---------------------------------------------------- */

hm_status hm__cuda_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned);
bool hm__cuda_host_register(hm_context *ctx, void *ptr, size_t bytes, char *why, size_t why_size);
void hm__cuda_host_unregister(hm_context *ctx, void *ptr);
hm_status hm__cuda_copy_bytes(hm_context *ctx, void *dst, hm_device dst_space, const void *src,
                              hm_device src_space, size_t bytes, hm_transfer_path *path,
                              int *chunks);
hm_status hm__cuda_copy_strided(hm_context *ctx, hm_device space, void *dst,
                                const int64_t *dst_strides, const void *src,
                                const int64_t *src_strides, const int64_t *shape, int ndim,
                                size_t elem_size);
hm_status hm__cuda_scale(hm_context *ctx, const hm_tensor *t, double factor);
/* Queues on s a copy of `rows` rows of `width` bytes (elements of es bytes), src_pitch and
 * dst_pitch bytes apart, between two places of one device, by hetmath's copy kernel (as fast as
 * the device's memory; cudaMemcpy2DAsync within a device ran packing at a fraction of it). */
cudaError_t hm__cuda_copy_rows_on_device(void *dst, size_t dst_pitch, const void *src,
                                         size_t src_pitch, size_t width, size_t rows, size_t es,
                                         cudaStream_t s);
hm_status hm__cuda_link(hm_context *ctx, int id, hm_link *out);

/* ---- the pipeline (cuda_pipeline.c) ------------------------------------------------------- */

hm_status hm__cuda_pipeline_run(hm_context *ctx, const hm_pipeline_job *jobs, int count);

/* ---- kernels (cuda_kernels.cu): asynchronous on stream; return the launch error ----------- */

cudaError_t hm__cuda_launch_strided_copy(cudaStream_t stream, void *dst, const int64_t *dst_strides,
                                         const void *src, const int64_t *src_strides,
                                         const int64_t *shape, int ndim, size_t elem_size);

/* The real type of hm__cuda_launch_scale's components. */
enum { HM_CUDA_REAL_F16 = 0, HM_CUDA_REAL_BF16 = 1, HM_CUDA_REAL_F32 = 2, HM_CUDA_REAL_F64 = 3 };

/* Multiplies each of the comps real components of every element of a strided view (strides in
 * elements of comps reals, ndim ≤ 8) by factor; factor 0 writes zeros. */
cudaError_t hm__cuda_launch_scale(cudaStream_t stream, void *data, const int64_t *shape,
                                  const int64_t *strides, int ndim, int real_type, int comps,
                                  double factor);

/* ---- the operations ----------------------------------------------------------------------- */

extern const hm_op_backend hm__cuda_fft;
extern const hm_op_backend hm__cuda_matmul;

/* Releases the device's cuBLASLt handle (context destruction). */
void hm__cuda_matmul_release_device(hm_cuda_device *d);

#ifdef HETMATH_HAVE_NCCL
/* ---- NCCL groups (cuda_nccl.c), the distributed FFT and matmul of GPU ranks --------------- */

#include <nccl.h>

/* A group: an NCCL communicator of `size` ranks, this one `rank`, on `device`. */
typedef struct hm_nccl_group {
    ncclComm_t comm;
    int device, size, rank;
} hm_nccl_group;

extern const hm_group_ops hm__cuda_group;
extern const hm_op_backend hm__cuda_dist_fft;
extern const hm_op_backend hm__cuda_dist_matmul;

/* An NCCL result (an ncclResult_t) as HM_STATUS_NCCL_ERROR naming `what`. */
hm_status hm__nccl_fail(hm_context *ctx, int result, const char *what);

/* The NCCL boundary: in a function with `hm_status st` and a `fail:` label. */
#define HM_NCCL_TRY(ctx, expr, what)                                                               \
    do {                                                                                           \
        ncclResult_t r_ = (expr);                                                                  \
        if (r_ != ncclSuccess) {                                                                   \
            st = hm__nccl_fail((ctx), r_, (what));                                                 \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Waits for `stream`, then asks the group for an error NCCL found asynchronously. */
hm_status hm__nccl_wait(hm_context *ctx, hm_nccl_group *g, cudaStream_t stream, const char *what);

/* The end of a distributed call: its messages' stream xs waited for (as hm__nccl_wait), then
 * the computations' stream cs. */
hm_status hm__nccl_finish(hm_context *ctx, hm_nccl_group *g, cudaStream_t xs, cudaStream_t cs,
                          const char *what);

/* Orders on `to` what is queued next after what `from` has queued so far, through ev (an
 * event of the caller's, recorded on from). */
hm_status hm__nccl_follow(hm_context *ctx, cudaEvent_t ev, cudaStream_t from, cudaStream_t to);

/* A stream for a distributed plan's messages on the current device (*out; the caller destroys
 * it), of the device's highest priority: NCCL's kernels then take SMs as the computations'
 * blocks retire, rather than waiting behind the next computation. */
hm_status hm__nccl_message_stream(hm_context *ctx, int device, cudaStream_t *out);
#endif

/* The libraries' versions (loading them); 0 when they cannot be loaded. */
int hm__cuda_fft_version(hm_context *ctx);
int hm__cuda_lt_version(hm_context *ctx);

#endif
