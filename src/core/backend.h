/* The backend interface: each backend is one `static const struct hm_backend_ops` table.
 *
 * Core code never calls a backend's functions directly; it goes through the hm__backend_*
 * wrappers in backend.c, which look the backend up in the registry, supply the default for an
 * empty slot (HM_STATUS_NOT_SUPPORTED, or a no-op for release/synchronize) and keep the error
 * message naming the caller. Adding a backend means a folder under src/backends and a row in
 * the registry. */
#ifndef HETMATH_BACKEND_H
#define HETMATH_BACKEND_H

#include "core/internal.h"
#include "core/fft_backend.h"
#include "core/matmul_backend.h"

/* A host-device link as measured: a copy of b bytes takes fixed + b / bps seconds. */
typedef struct hm_link {
    double in_fixed, in_bps;     /* pinned host memory to the device */
    double out_fixed, out_bps;   /* and back (measured with the other direction running) */
    double host_fixed, host_bps; /* the host's threads copying pageable memory into pinned memory
                                    (the staging of pageable operands) */
} hm_link;

typedef struct hm_backend_ops {
    const char *name;

    /* Number of devices this backend computes on (the CPU: 1). "No driver" or "no GPU" is
     * not an error: count 0. Required. */
    hm_status (*probe)(hm_context *ctx, int *count);

    /* Frees the per-context state in ctx->backend_state[slot]. Optional. */
    void (*release)(hm_context *ctx);

    /* Memory of the spaces this backend owns (see hm__backend_for_memory). Required. */
    hm_status (*alloc)(hm_context *ctx, hm_device device, size_t bytes, void **out);
    void (*free)(hm_context *ctx, hm_device device, void *ptr);

    /* Where does ptr really live? Sets *space (host pageable if the backend does not know the
     * pointer) and *pinned. Optional: default host, not pinned. */
    hm_status (*locate)(hm_context *ctx, const void *ptr, hm_device *space, int *pinned);

    /* Page-locks host memory the caller owns (cudaHostRegister), so that copies of it go direct;
     * false, with the reason in why, when it cannot (the call is not failed for it, nor the
     * context's error set). host_unregister undoes it. Optional: without them nothing is
     * registered (core/registration.h has the rule). */
    bool (*host_register)(hm_context *ctx, void *ptr, size_t bytes, char *why, size_t why_size);
    void (*host_unregister)(hm_context *ctx, void *ptr);

    /* A contiguous copy of `bytes` between two spaces, at least one of them owned by this
     * backend. Blocking. Sets *path and *chunks. Required for backends owning device memory. */
    hm_status (*copy_bytes)(hm_context *ctx, void *dst, hm_device dst_space, const void *src,
                            hm_device src_space, size_t bytes, hm_transfer_path *path, int *chunks);

    /* A strided element copy inside one space this backend owns (same shape, any strides).
     * Blocking. Required. */
    hm_status (*copy_strided)(hm_context *ctx, hm_device space, void *dst,
                              const int64_t *dst_strides, const void *src,
                              const int64_t *src_strides, const int64_t *shape, int ndim,
                              size_t elem_size);

    /* Waits for all queued work of this context. Optional. */
    hm_status (*synchronize)(hm_context *ctx);

    /* Waits for the work queued on one device's main stream (a blocking call's own work). */
    hm_status (*synchronize_device)(hm_context *ctx, int device);

    /* GPU timing on the context's stream of `device`: with *state NULL, records a start and
     * sets *state; otherwise records the end, waits for it, sets *seconds and frees *state
     * (setting it NULL). Optional. */
    hm_status (*timer)(hm_context *ctx, int device, void **state, double *seconds);

    /* The link between host memory and `device`, measured on the first call for each context
     * and device, then remembered. Optional: pipelines without it use the fixed schedule. */
    hm_status (*link)(hm_context *ctx, int device, hm_link *out);

    /* Adds this backend's library versions to out. Optional. */
    void (*versions)(hm_library_versions *out);

    /* Describes device id. Optional. */
    hm_status (*device_info)(hm_context *ctx, int id, hm_device_info *out);

    /* Operations. NULL when the backend has none. */
    const struct hm_fft_backend *fft;
    const struct hm_matmul_backend *matmul;
} hm_backend_ops;

/* The registry (backend.c): slot → table, NULL where not built. */
const hm_backend_ops *hm__backend(int slot);

/* The backend owning memory of this type (host → CPU; pinned, cuda → CUDA), or NULL. */
const hm_backend_ops *hm__backend_for_memory(hm_device device);

/* The backend of an execution kind (cpu → CPU, cuda → CUDA), or NULL. */
const hm_backend_ops *hm__backend_for_execution(hm_execution_kind kind);

/* Wrappers with defaults. */
hm_status hm__backend_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned);

#endif
