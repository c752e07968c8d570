/* The backend interface: each backend is one `static const struct hm_backend_ops` table.
 *
 * Core code never calls a backend's slots directly; it goes through the hm__backend_* wrappers
 * (backend.c), which find the backend, supply the default of an empty slot, check the testing
 * hooks (hetmath/debug.h) and count the backend plans a context holds. A slot documented as
 * optional may be NULL. Adding a backend means a folder under src/backends and a row in the
 * registry; adding an operation means a slot in hm_backend_ops.op (docs/ARCHITECTURE.md). */
#ifndef HETMATH_BACKEND_H
#define HETMATH_BACKEND_H

#include "core/budget.h"
#include "core/internal.h"
#include "core/tiles.h"

/* A host-device link as measured: a copy of b bytes takes fixed + b / bps seconds. */
typedef struct hm_link {
    double in_fixed, in_bps;     /* pinned host memory to the device */
    double out_fixed, out_bps;   /* and back (measured with the other direction running) */
    double host_fixed, host_bps; /* the host's threads copying pageable memory into pinned memory
                                    (the staging of pageable operands) */
} hm_link;

/* The operations a backend may compute: indices into hm_backend_ops.op. */
typedef enum hm_op_id {
    HM_OP_FFT = 0,         /* desc: hm_fft_desc, args: hm_fft_args (core/fft_backend.h) */
    HM_OP_MATMUL = 1,      /* desc: hm_matmul_desc, args: hm_mm_args (core/matmul_backend.h) */
    HM_OP_DIST_FFT = 2,    /* desc: hm_dist_fft_desc, args: hm_dist_fft_args, layout:
                              hm_dist_fft_layout (core/dist_fft_backend.h; builds with MPI) */
    HM_OP_DIST_MATMUL = 3, /* desc: hm_dist_matmul_desc, args: hm_dist_matmul_args, layout:
                              hm_dist_matmul_layout (core/dist_matmul_backend.h; with MPI) */
    HM_OP_COUNT = 4
} hm_op_id;

/* One operation as a backend computes it, on operands already in its execution space. `desc`
 * and `args` are the operation's own types (the comment of hm_op_id names them). */
typedef struct hm_op_backend {
    /* The status a failure of this library maps to (used for injected failures too). */
    hm_status error;
    /* Whether the backend runs desc as described; why not, in why. Optional: everything. */
    bool (*supports)(const void *desc, char *why, size_t why_size);
    /* Plans desc. args: the operands at planning (autotuning may run on them), or NULL. */
    hm_status (*plan)(hm_context *ctx, const void *desc, const void *args, void **plan);
    /* Computes on new operands (CPU: blocking; a device: queued on its stream). Every value the
     * caller may change between executions of one plan arrives here, in args. */
    hm_status (*execute)(hm_context *ctx, void *plan, const void *args);
    void (*destroy)(void *plan);
    /* What the backend needs of the operands' layout for desc (an operation's own type: the
     * comment of hm_op_id names it). Optional. */
    hm_status (*layout)(hm_context *ctx, const void *desc, void *out);
    /* What its plans take of a device's memory beyond the operands, for the device memory
     * budget: a fixed workspace (per device); a work area the device's plans share, which a
     * schedule reserves as this many times its output before planning, and each plan's need of
     * it after (optional: none). */
    size_t workspace;
    double work_per_output;
    size_t (*work)(const void *plan);
} hm_op_backend;

/* A collective operation's agreement (core/op.h, hm_op_def.agree), for a backend call that is
 * itself collective: its failure point is agreed on by every rank before the library's call. */
typedef struct hm_collective {
    hm_status (*agree)(hm_context *ctx, const void *plan, hm_status local);
    const void *plan;
} hm_collective;

/* A host-operand pipeline (core/op_pipeline.c makes it): `rows` rows of in_row_bytes each,
 * copied from in_host (host or pinned; rows in_pitch bytes apart) to the device tile by tile
 * (core/tiles.h) while the tiles already there are computed and the results of earlier ones come
 * back, out_row_bytes a row, to out_host (rows out_pitch bytes apart: a panel of the output's
 * columns). On the device, tiles go round a ring of HM_RING_SLOTS slots of slot_rows rows
 * (core/budget.h): tile i's input at in_dev + (i % HM_RING_SLOTS)·slot_rows·in_row_bytes, its
 * result likewise in out_dev; a slot is reused once the tile three before is done with it.
 * Blocking; records the two copies in the ledger, named in_name and out_name, with the
 * pipeline's wall time. Over a device set, one job a device, run at once. */
/* An operand a pipeline copies in before its first tile: `rows` rows of `width` bytes, `pitch`
 * bytes apart at src (a panel of its columns), packed at dst; from pinned memory directly, from
 * pageable memory through the job's pinned buffers. */
typedef struct hm_pipeline_copy {
    const void *src;
    hm_device src_space;
    int pinned;
    void *dst;
    size_t rows, width, pitch;
    const char *name;
} hm_pipeline_copy;

typedef struct hm_pipeline_job {
    int device;
    const hm_tiles *tiles;
    int64_t rows, slot_rows;
    size_t in_row_bytes, out_row_bytes;
    size_t in_pitch, out_pitch;
    /* 0: tiles of rows, as above. Else the tiled "rows" are columns of a 2-D view of `outer`
     * host rows, in_pitch (out_pitch) bytes apart: a tile of n is the block of those rows'
     * n·in_row_bytes/outer bytes from its first column on, packed on the device (outer rows of
     * n columns: a row of the block after another). */
    int64_t outer;
    const void *in_host;
    hm_device in_space;
    void *out_host;
    hm_device out_space;
    /* The seed (NULL: none): host memory laid out as the output's (out_pitch apart), whose
     * tile goes into the output's ring slot before the tile's computation, which reads it
     * there (a matmul's C, or D's old values). */
    const void *seed_host;
    hm_device seed_space;
    const char *seed_name;
    void *in_dev, *out_dev; /* the rings */
    /* One tile's computation, queued on the device's stream: rows of the input at in_tile into
     * out_tile. */
    hm_status (*compute)(hm_context *ctx, void *user, int64_t rows, const void *in_tile,
                         void *out_tile);
    void *user;
    const char *op, *in_name, *out_name;
    /* Operands the computation reads whole, copied in on the input stream before the first
     * tile (so a device set's devices take theirs at once, each over its own link), recorded
     * in the ledger with the pipeline's wall time. */
    const hm_pipeline_copy *pre;
    int npre;
    /* Copies for the job after this one (the next panel's operands, from pinned memory), queued
     * on the input stream after the last tile's input; in the ledger with this job's copies. */
    const hm_pipeline_copy *next;
    int nnext;
} hm_pipeline_job;

/* Collectives between the processes of a communicator over device memory (NCCL), for the
 * distributed operations of GPU ranks; the processes find each other through a token one rank
 * makes and the others are given (the distributed layer sends it by MPI). */
typedef struct hm_group_ops {
    size_t token_bytes; /* at most HM_GROUP_TOKEN_MAX */
    /* Whether this rank can join on `device` (the library loads, the device is there): every
     * rank asks before any joins, so that none waits in a join another rank never makes. */
    hm_status (*ready)(hm_context *ctx, int device);
    hm_status (*token)(hm_context *ctx, void *token);
    /* Joins the group of `size` ranks as `rank`, on `device` (each rank a device of its own).
     * Collective over the group's ranks. */
    hm_status (*join)(hm_context *ctx, const void *token, int size, int rank, int device,
                      void **group);
    void (*leave)(void *group);
    /* To each peer q, send_bytes[q] bytes at send + send_at[q]; from each, recv_bytes[q] bytes
     * into recv + recv_at[q] (device memory of the group's device; this rank's own entries are
     * not moved). Queued on the device's stream, then waited for. Collective. */
    hm_status (*alltoallv)(hm_context *ctx, void *group, const void *send, const size_t *send_bytes,
                           const size_t *send_at, void *recv, const size_t *recv_bytes,
                           const size_t *recv_at);
} hm_group_ops;

#define HM_GROUP_TOKEN_MAX 256

typedef struct hm_backend_ops {
    const char *name;
    /* The execution kind this backend computes for. */
    hm_execution_kind exec_kind;

    /* Number of devices this backend computes on (the CPU: 1). "No driver" or "no GPU" is
     * not an error: count 0. Required. */
    hm_status (*probe)(hm_context *ctx, int *count);

    /* Frees the per-context state in ctx->backend_state[slot]. Optional. */
    void (*release)(hm_context *ctx);

    /* Memory of the spaces this backend owns (see hm__backend_for_memory). Required. */
    hm_status (*alloc)(hm_context *ctx, hm_device device, size_t bytes, void **out);
    void (*free)(hm_context *ctx, hm_device device, void *ptr, size_t bytes);

    /* Where does ptr really live? Sets *space (host pageable if the backend does not know the
     * pointer) and *pinned. Optional: default host, not pinned. */
    hm_status (*locate)(hm_context *ctx, const void *ptr, hm_device *space, int *pinned);

    /* Page-locks host memory the caller owns, so that copies of it go direct; false, with the
     * reason in why, when it cannot (neither the call nor the context's error is touched).
     * host_unregister undoes it. Optional: without them nothing is registered
     * (core/registration.h has the rule). */
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

    /* Multiplies every element of the view t (data in a space this backend owns, real dtypes
     * and the real and imaginary parts of complex ones) by factor; factor 0 writes zeros,
     * whatever was there (NaN included). Blocking. Required. */
    hm_status (*scale)(hm_context *ctx, const hm_tensor *t, double factor);

    /* Waits for all queued work of this context. Optional: nothing to wait for. */
    hm_status (*synchronize)(hm_context *ctx);

    /* Waits for the work queued on one device's main stream (a blocking call's own work).
     * Optional: nothing to wait for. */
    hm_status (*synchronize_device)(hm_context *ctx, int device);

    /* Orders the context's stream of `device` and a caller's `stream` (a cudaStream_t): after
     * false, the context's waits for the work queued on the caller's (before a call); true, the
     * caller's waits for the context's (after it). No host wait. Optional: no streams. */
    hm_status (*join)(hm_context *ctx, int device, void *stream, bool after);

    /* A call that computes on the caller's stream itself, with nothing staged or allocated
     * (core/op_run.c says which): before it (after false) the stream is ordered after the
     * context's work on the device and made the one the backend computes on; after it, the
     * context's later work on the device is ordered after the call. No host wait; cheaper than
     * join in a loop of calls on one stream. Optional: join is used. */
    hm_status (*direct)(hm_context *ctx, int device, void *stream, bool after);

    /* Timing on the stream of `device`: with *state NULL, records a start and sets *state;
     * otherwise records the end and, with seconds set, waits for it, sets *seconds and frees
     * *state (setting it NULL); with seconds NULL, returns at once, the end to be read by
     * timer_read. Optional: host wall time. */
    hm_status (*timer)(hm_context *ctx, int device, void **state, double *seconds);

    /* A timer ended without waiting: true, with *seconds, once its end is reached, the state
     * then freed; false while it is not. With drop, frees the state unread (true). */
    bool (*timer_read)(void *state, bool drop, double *seconds);

    /* The link between host memory and `device`, measured on the first call for each context
     * and device, then remembered. Optional: pipelines without it use the fixed schedule. */
    hm_status (*link)(hm_context *ctx, int device, hm_link *out);

    /* Collectives of device memory between processes. Optional: distributed operations then
     * refuse device operands. */
    const hm_group_ops *group;

    /* Runs host-operand pipelines, `count` jobs on distinct devices at once (the parts of one
     * operation over a device set), each with its own staging buffers. Optional: operations
     * then copy whole operands. */
    hm_status (*pipeline)(hm_context *ctx, const hm_pipeline_job *jobs, int count);

    /* Whether devices a and b copy to each other directly (peer access, enabled on the first
     * ask). Optional: never. */
    hm_status (*peer)(hm_context *ctx, int a, int b, bool *direct);

    /* Adds this backend's library versions to out. Optional. */
    void (*versions)(hm_context *ctx, hm_library_versions *out);

    /* Describes device id. Optional. */
    hm_status (*device_info)(hm_context *ctx, int id, hm_device_info *out);

    /* The memory of device id: what hetmath may still allocate there (free, and what the
     * context's pools hold unused) and the total. Optional: no device memory. */
    hm_status (*memory)(hm_context *ctx, int id, size_t *available, size_t *total);

    /* The operations, by hm_op_id. NULL where the backend has none. */
    const hm_op_backend *op[HM_OP_COUNT];
} hm_backend_ops;

/* ---- the registry ------------------------------------------------------------------------- */

/* Slot → table, NULL where not built (for loops over every backend). */
const hm_backend_ops *hm__backend(int slot);

/* The backend owning memory of this type (host → CPU; pinned, cuda → CUDA), or NULL. */
const hm_backend_ops *hm__backend_for_memory(hm_device device);

/* The backend of an execution kind (cpu → CPU, cuda → CUDA), or NULL. */
const hm_backend_ops *hm__backend_for_execution(hm_execution_kind kind);

/* The backend that moves bytes between host and device memory, or NULL without one. */
const hm_backend_ops *hm__backend_mover(void);

/* ---- wrappers: defaults, testing hooks, counts ------------------------------------------- */

/* Where ptr lives, asked of the backend that owns device memory (host, not pinned, without). */
hm_status hm__backend_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned);

/* Whether b computes operation op as desc describes (false with why when b has no such op). */
bool hm__backend_supports(const hm_backend_ops *b, hm_op_id op, const void *desc, char *why,
                          size_t why_size);

/* b's plan / execution / destruction of operation op. Plan and execute are failure points
 * (HM_FAULT_BACKEND_CALL); destroy accepts NULL. `fn` names the caller in messages. */
hm_status hm__backend_plan(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, const char *fn,
                           const void *desc, const void *args, void **plan);
hm_status hm__backend_execute(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, const char *fn,
                              void *plan, const void *args);
void hm__backend_destroy(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, void *plan);

/* The same two for a backend call that is collective (all: the operation's agreement). */
hm_status hm__backend_plan_collective(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                                      const char *fn, const void *desc, const void *args,
                                      void **plan, const hm_collective *all);
hm_status hm__backend_execute_collective(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                                         const char *fn, void *plan, const void *args,
                                         const hm_collective *all);

/* b's layout of operation op for desc (hm_op_backend.layout). */
hm_status hm__backend_layout(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                             const void *desc, void *out);

/* Whether b can pipeline host operands (it has the slot). */
bool hm__backend_can_pipeline(const hm_backend_ops *b);
hm_status hm__backend_pipeline(hm_context *ctx, const hm_backend_ops *b,
                               const hm_pipeline_job *jobs, int count);

/* The work area plan of b's operation op needs (0 without the slot or plan). */
size_t hm__backend_work(const hm_backend_ops *b, hm_op_id op, const void *plan);

/* Device id's memory (see hm_backend_ops.memory); HM_STATUS_NOT_SUPPORTED without the slot. */
hm_status hm__backend_memory(hm_context *ctx, const hm_backend_ops *b, int id, size_t *available,
                             size_t *total);

/* Whether b's devices a and b copy to each other directly (false without the slot). */
hm_status hm__backend_peer(hm_context *ctx, const hm_backend_ops *b, int a, int bdev, bool *direct);

/* Waits for the work of execution space exec (nothing on the CPU). */
hm_status hm__backend_wait(hm_context *ctx, const hm_execution *exec);

/* Joins a caller's stream and the context's stream of the CUDA device `device` (see
 * hm_backend_ops.join); nothing without the CUDA backend. */
hm_status hm__backend_join(hm_context *ctx, int device, void *stream, bool after);

/* The CUDA backend's direct call (see hm_backend_ops.direct); false without the slot. */
bool hm__backend_has_direct(void);
hm_status hm__backend_direct(hm_context *ctx, int device, void *stream, bool after);

/* After a failure: waits for everything the context queued, ignoring errors, so that freeing
 * the call's temporaries is safe. */
void hm__backend_drain(hm_context *ctx);

/* Timing on the stream of `device` of b (see hm_backend_ops.timer); HM_STATUS_NOT_SUPPORTED
 * without the slot. */
hm_status hm__backend_timer(hm_context *ctx, const hm_backend_ops *b, int device, void **state,
                            double *seconds);
bool hm__backend_timer_read(const hm_backend_ops *b, void *state, bool drop, double *seconds);

/* The link of `device` (see hm_backend_ops.link); HM_STATUS_NOT_SUPPORTED without the slot. */
bool hm__backend_has_link(const hm_backend_ops *b);
hm_status hm__backend_link(hm_context *ctx, const hm_backend_ops *b, int device, hm_link *out);

/* Moves bytes between two spaces of which at least one is a device's (a failure point). */
hm_status hm__backend_copy_bytes(hm_context *ctx, const char *operand, void *dst,
                                 hm_device dst_space, const void *src, hm_device src_space,
                                 size_t bytes, hm_transfer_path *path, int *chunks);

/* A strided copy inside one space (pinned memory counts as host memory here); a failure
 * point. */
hm_status hm__backend_copy_strided(hm_context *ctx, hm_device space, void *dst,
                                   const int64_t *dst_strides, const void *src,
                                   const int64_t *src_strides, const hm_tensor *shape_of);

/* t *= factor in t's own space (pinned memory counts as host memory); a failure point. */
hm_status hm__backend_scale(hm_context *ctx, const hm_tensor *t, double factor);

/* Host registration through the backend owning pinned memory; false (with why) without one. */
bool hm__backend_host_register(hm_context *ctx, void *ptr, size_t bytes, char *why,
                               size_t why_size);
void hm__backend_host_unregister(hm_context *ctx, void *ptr);

#endif
