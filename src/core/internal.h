/* Internal declarations shared by the core and the backends. Not installed. */
#ifndef HETMATH_INTERNAL_H
#define HETMATH_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetmath.h"
#include "hetmath/cpu.h"
#include "hetmath/debug.h"

#if defined(__GNUC__) || defined(__clang__)
#define HM_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HM_PRINTF(fmt_index, first_arg)
#endif

struct hm_backend_ops;
struct hm_plan_cache;
struct hm_pool;

/* Indices of the backends in the registry and in hm_context.backend_state. */
enum { HM_BACKEND_CPU = 0, HM_BACKEND_CUDA = 1, HM_BACKEND_SLOTS = 2 };

/* The transfer ledger: exact totals plus a ring of the most recent records. */
/* A copy left queued on a caller's stream (hm_copy_on_stream), its time still to be read. */
struct hm_ledger_pending {
    uint64_t sequence;
    hm_transfer_direction direction;
    const struct hm_backend_ops *backend; /* whose timer */
    void *timer;
};

struct hm_ledger {
    hm_transfer_record *ring; /* HM_LEDGER_CAPACITY entries, allocated at context creation */
    size_t head;              /* index of the oldest kept record */
    size_t count;             /* records kept */
    uint64_t sequence;        /* of the last record */
    hm_transfer_totals totals;
    hm_transfer_fn fn;
    void *fn_user_data;
    struct hm_ledger_pending pending[HM_LEDGER_PENDING]; /* oldest first */
    int npending;
};

struct hm_context {
    hm_log_fn log_fn;
    void *log_user_data;
    hm_log_level log_level;

    hm_status last_status;
    char last_error[1024];
    const char *api_fn; /* the public function running now, for messages (HM_ENTER) */

    struct hm_ledger ledger;
    hm_guard_mode guard[HM_TRANSFER_DIRECTION_COUNT];

    int device_count; /* CUDA devices; 0 without CUDA */
    int cpu_threads;  /* cores this process may use */
    size_t pinned_pool_bytes;
    size_t pinned_held;         /* bytes the staging pool holds now (≤ pinned_pool_bytes) */
    size_t device_memory_limit; /* an operation's device memory budget; 0: free less a margin */
    hm_pipeline_schedule pipeline_schedule;
    hm_cpu_fft_options cpu_fft;     /* the CPU FFT's strategies (hetmath/cpu.h) */
    char cpu_fft_wisdom_path[1024]; /* cpu_fft.wisdom_path points here when set */
    bool pipeline_tile_timing;      /* time every pipeline tile (hetmath/debug.h) */
    bool peer_forbidden;            /* copies between devices staged (hetmath/debug.h) */
    bool copy_ordered; /* a copy within one device's memory is left queued on its stream, not
                          waited for (hm_copy_on_stream sets it around its copy) */

    void *backend_state[HM_BACKEND_SLOTS]; /* owned by each backend, released by it */
    struct hm_plan_cache *plans;           /* stateless calls' plan cache */
    int plan_cache_max;                    /* its limits (hm_context_set_plan_cache_limits) */
    size_t plan_cache_max_bytes;
    uint64_t plan_cache_hits, plan_cache_misses, plan_cache_evictions, plan_cache_uncached;
    struct hm_pool *pool;               /* host worker threads, created on first use */
    hm_allocator allocator;             /* the caller's (hm_context_options.allocator); the
                                           callbacks of a kind NULL: hetmath's own */
    hm_memory_stats memory;             /* what was allocated (hm_context_memory_stats) */
    int calibration_mode;               /* an hm_calibration_mode */
    struct hm_calibration *calibration; /* the auto execution space's (core/calibrate.h) */

    long fault_countdown[HM_FAULT_SITE_COUNT]; /* testing hooks (hetmath/debug.h) */
    long fault_seen[HM_FAULT_SITE_COUNT];
    long live_plans; /* backend plans made and not destroyed (core/backend.c counts them) */
};

/* A testing hook's check at a failure point: counts the event, and true when it must fail. */
static inline bool hm__fault(hm_context *ctx, hm_fault_site site)
{
    ctx->fault_seen[site]++;
    return ctx->fault_countdown[site] > 0 && --ctx->fault_countdown[site] == 0;
}

/* ---- errors (src/core/error.c) ---------------------------------------------------------- */

/* Records a failure on ctx ("hm_fn: operand X ...: reason"; a message that does not start with
 * a function's name gets the running public function's), logs it at DEBUG (the caller has the
 * status) and returns status. */
hm_status hm__fail(hm_context *ctx, hm_status status, const char *fmt, ...) HM_PRINTF(3, 4);
hm_status hm__vfail(hm_context *ctx, hm_status status, const char *fmt, va_list ap);

/* The same, for the accessors that take a const context. */
/* A struct of figures written to the caller's `out` of the same type (`type` names it), whose
 * first member, a size_t `size`, the caller set: that many bytes of `full` (an older, shorter
 * struct gets its first fields), `size` kept. HM_STATUS_INVALID_ARGUMENT, fn's message, for a NULL
 * out or a size that is not one of the struct's. */
hm_status hm__sized_out(const hm_context *ctx, const char *fn, const char *type, void *out,
                        const void *full, size_t full_size);

hm_status hm__fail_const(const hm_context *ctx, hm_status status, const char *fmt, ...)
    HM_PRINTF(3, 4);

/* Clears the last error and names the public function running (HM_ENTER); the second for the
 * accessors that take a const context. */
void hm__enter(hm_context *ctx, const char *fn);
void hm__enter_const(const hm_context *ctx, const char *fn);

/* Clears the last error inside a call (a failure that was handled). */
void hm__clear_error(hm_context *ctx);

/* ---- logging (src/core/log.c) ----------------------------------------------------------- */

bool hm__log_enabled(const hm_context *ctx, hm_log_level level);
void hm__log(hm_context *ctx, hm_log_level level, const char *fmt, ...) HM_PRINTF(3, 4);
void hm__vlog(hm_context *ctx, hm_log_level level, const char *fmt, va_list ap);

typedef enum hm_phase {
    HM_PHASE_SPECIFICATION = 0,
    HM_PHASE_PLANNING = 1,
    HM_PHASE_EXECUTION = 2,
} hm_phase;

/* "= SPECIFICATION PHASE =" etc., at INFO. */
void hm__log_phase(hm_context *ctx, hm_phase phase);

/* A copy an operation will make, as the spaces line reports it. */
typedef struct hm_planned_copy {
    const char *operand;
    size_t bytes;
    hm_device src, dst;
    bool back; /* the result, copied back after the computation */
} hm_planned_copy;

/* The one spaces line, at INFO: both spaces and every copy the call will make, e.g.
 *   "memory space: host; execution space: cuda:0 — operands A, B (160.0 MB) will be copied in,
 *    result D (64.0 MB) copied back"
 *   "memory space: cuda:0; execution space: cuda:0 — no copies"
 *   "memory space: host; execution space: cuda:0 (auto: cpu 113 ms, cuda:0 6.6 ms with 224 MB
 *    of copies) — operands A, B (160 MB) will be copied in, result D (64 MB) copied back"
 *   "memory space: host; execution space: cpu (2 threads) — no copies between spaces; staged
 *    within host memory: x (8.2 kB)"
 * A copy within one space (host and pinned memory, or one device) is "staged". `why` says how
 * the space was chosen, in brackets after it ("" or NULL: nothing). */
void hm__log_spaces(hm_context *ctx, hm_device memory, const hm_execution *exec, const char *why,
                    const hm_planned_copy *copies, int count);

/* One operand in the specification phase: "operand A: f32 [8000, 2000] strides [2000, 1] host" */
void hm__log_operand(hm_context *ctx, const char *name, const hm_tensor *t);

/* "160.0 MB", "1.5 GB", "512 B" (decimal units, like the rates). */
const char *hm__format_bytes(size_t bytes, char *buf, size_t size);
const char *hm__format_execution(const hm_execution *exec, char *buf, size_t size);

/* Monotonic seconds. */
double hm__now(void);

/* ---- dtypes and spaces (src/core/types.c) ------------------------------------------------ */

/* The alignment a pointer of this dtype must have: the size of one real component. */
size_t hm__dtype_alignment(hm_dtype dtype);
bool hm__device_equal(hm_device a, hm_device b);
bool hm__device_is_host(hm_device d); /* pageable or pinned */

/* ---- tensor views (src/core/layout.c) and tensors (src/core/tensor.c) ------------------- */

/* Validates a tensor as operand `operand` of function `fn` (hm_tensor_check, with names). */
hm_status hm__check_operand(hm_context *ctx, const char *fn, const char *operand,
                            const hm_tensor *t);

/* Shape/dtype/layout checks only (no pointer, no context); writes the reason into why. */
hm_status hm__tensor_validate(const hm_tensor *t, char *why, size_t why_size);

/* Lowest and one-past-highest element offsets the view touches (0,0 for an empty tensor). */
void hm__tensor_extent(const hm_tensor *t, int64_t *lo, int64_t *hi);

/* True if the view covers exactly numel consecutive elements in some order (no gaps). */
bool hm__tensor_is_compact(const hm_tensor *t);

/* The same elements in the same order: one pointer, space and shape, the same strides (those of
 * extent-1 dimensions ignored; nothing beyond ndim read). */
bool hm__same_view(const hm_tensor *a, const hm_tensor *b);

/* True if the byte ranges the two views may touch intersect. */
bool hm__tensors_overlap(const hm_tensor *a, const hm_tensor *b);

bool hm__same_shape(const hm_tensor *a, const hm_tensor *b);

/* Same dtype, shape, memory space and strides (strides of extent-1 dimensions ignored): a plan
 * made for one runs the other. */
bool hm__same_layout(const hm_tensor *a, const hm_tensor *b);

/* Fills `out` with row-major strides for (ndim, shape). */
void hm__row_major_strides(int ndim, const int64_t *shape, int64_t *out);

/* Allocation in any space through the owning backend (used by hm_tensor_alloc and ops). Device
 * memory is usable in the order of the device's stream (the context's work that uses it is
 * queued there); hm_tensor_alloc waits for it, as memory handed to the caller. hm__free takes
 * the bytes the block was allocated with (the caller's allocator is told them). */
hm_status hm__alloc(hm_context *ctx, hm_device device, size_t bytes, void **out);
void hm__free(hm_context *ctx, hm_device device, void *ptr, size_t bytes);

/* Counts a block of device or pinned memory taken (allocated true) or given back, in the
 * context's memory statistics (hm_context_memory_stats). */
void hm__memory_count(hm_context *ctx, hm_device space, size_t bytes, bool allocated);

/* The pinned staging pool's chunk: copies of pageable memory move through buffers of this size,
 * and pipelined operations cut their operands into tiles no larger. */
#define HM_STAGE_CHUNK ((size_t)32 << 20)

/* The pinned buffers a staged copy, or one device's pipeline, goes round. */
#define HM_STAGE_BUFFERS 4

/* ---- transfer (src/core/transfer.c) ----------------------------------------------------- */

hm_transfer_direction hm__direction(hm_device src, hm_device dst);

/* Asks the guard about a copy op would make of operand (before any work). Returns
 * HM_STATUS_TRANSFER_REFUSED with a message naming op and operand, or SUCCESS (warning first in
 * HM_GUARD_LOG mode). */
hm_status hm__transfer_guard(hm_context *ctx, const char *op, const char *operand, hm_device src,
                             hm_device dst, size_t bytes);

/* The same for a copy between ranks of a communicator (the remote direction). */
hm_status hm__transfer_guard_remote(hm_context *ctx, const char *op, const char *operand,
                                    int src_rank, int dst_rank, size_t bytes);

/* Records a finished copy (sequence and GB/s filled in), logs it, tells the observer. For
 * backends that move bytes themselves in a pipeline; everything else goes through hm__transfer. */
/* Frees the timers of copies still queued on callers' streams, their times unread (a ledger
 * reset, the context's end). */
void hm__ledger_drop_pending(hm_context *ctx);
void hm__ledger_add(hm_context *ctx, hm_transfer_record *r);

/* The one copy path: src and dst have equal shape and dtype and were checked. Blocking.
 * implicit: made by an operation (true) or by hm_copy (false). */
hm_status hm__transfer(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst, const char *op,
                       const char *operand, bool implicit);

/* ---- execution (src/core/execution.c) --------------------------------------------------- */

hm_status hm__resolve_execution(hm_context *ctx, const char *fn, const hm_execution *requested,
                                hm_op_class op_class, const hm_tensor *const *operands,
                                const char *const *names, int n, hm_execution *resolved);

/* Refuses an auto execution space with a device id, a thread count, a device set or a negative
 * reuse hint (HM_STATUS_INVALID_EXECUTION). */
hm_status hm__check_auto(hm_context *ctx, const char *fn, const hm_execution *requested);

/* ---- misc ------------------------------------------------------------------------------- */

int hm__cpu_count(void);

/* Checked size arithmetic: false on overflow. */
static inline bool hm__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

#define HM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every public entry point that takes a context starts with this. */
#define HM_ENTER(ctx, fn)                                                                          \
    do {                                                                                           \
        if (!(ctx))                                                                                \
            return HM_STATUS_INVALID_ARGUMENT;                                                     \
        hm__enter((ctx), (fn));                                                                    \
    } while (0)

#endif
