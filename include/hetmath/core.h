/**
 * @file hetmath/core.h
 * @brief Memory spaces, dtypes, tensors, execution spaces, the context and its logger.
 *
 * A *memory space* is where an operand's bytes are (host pageable, host pinned, or a CUDA
 * device); an *execution space* is where the arithmetic runs (the CPU or a CUDA device). The
 * context holds everything stateful: logger, last error, transfer ledger and guard, per-device
 * CUDA state and plan caches. A context is a single-threaded object: use one per thread; distinct
 * contexts may be used from distinct threads at once.
 */
#ifndef HETMATH_CORE_H
#define HETMATH_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "hetmath/export.h"
#include "hetmath/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Memory spaces                                                                               */

/** Kind of memory. The values equal DLPack's DLDeviceType and are fixed forever. */
typedef enum hm_device_type {
    HM_DEVICE_HOST = 1,      /**< pageable host memory (kDLCPU) */
    HM_DEVICE_CUDA = 2,      /**< memory of CUDA device `id` (kDLCUDA) */
    HM_DEVICE_CUDA_HOST = 3, /**< page-locked (pinned) host memory, DMA-able (kDLCUDAHost) */
} hm_device_type;

/** A memory space: a type and, for HM_DEVICE_CUDA, the device ordinal (0 otherwise). */
typedef struct hm_device {
    hm_device_type type;
    int id;
} hm_device;

/** Pageable host memory. */
static inline hm_device hm_device_host(void)
{
    hm_device d = {HM_DEVICE_HOST, 0};
    return d;
}

/** Pinned (page-locked) host memory. */
static inline hm_device hm_device_pinned(void)
{
    hm_device d = {HM_DEVICE_CUDA_HOST, 0};
    return d;
}

/** Memory of CUDA device @p id. */
static inline hm_device hm_device_cuda(int id)
{
    hm_device d = {HM_DEVICE_CUDA, id};
    return d;
}

/** Writes "host", "pinned" or "cuda:N" into @p buf (at most @p size bytes with the NUL).
 *  @return @p buf. */
HM_API const char *hm_device_format(hm_device device, char *buf, size_t size);

/* ------------------------------------------------------------------------------------------ */
/* Dtypes                                                                                      */

/** Element types. Values are fixed forever. Complex types are interleaved (re, im) pairs. */
typedef enum hm_dtype {
    HM_DTYPE_F16 = 1,  /**< IEEE binary16 */
    HM_DTYPE_BF16 = 2, /**< bfloat16 */
    HM_DTYPE_F32 = 3,
    HM_DTYPE_F64 = 4,
    HM_DTYPE_C64 = 5,  /**< complex of two f32 */
    HM_DTYPE_C128 = 6, /**< complex of two f64 */
} hm_dtype;

/** Size of one element in bytes; 0 for an unknown code. */
HM_API size_t hm_dtype_size(hm_dtype dtype);

/** "f16", "bf16", "f32", "f64", "c64", "c128"; "unknown" for other codes. */
HM_API const char *hm_dtype_name(hm_dtype dtype);

/* ------------------------------------------------------------------------------------------ */
/* Tensors                                                                                     */

/** Largest number of dimensions a tensor may have. */
#define HM_MAX_NDIM 8

/**
 * A non-owning, device-tagged view of strided data (like DLPack's DLTensor).
 *
 * `strides` are in elements, not bytes. Any non-overlapping layout with non-negative strides
 * is allowed: row-major, column-major, transposed, sliced. `data` points at element (0,…,0).
 * `ndim` may be 0 (a scalar) to HM_MAX_NDIM. A view never owns its memory, except one filled
 * by hm_tensor_alloc(), which is released by hm_tensor_free().
 */
typedef struct hm_tensor {
    void *data;
    hm_device device;
    hm_dtype dtype;
    int ndim;
    int64_t shape[HM_MAX_NDIM];
    int64_t strides[HM_MAX_NDIM];
} hm_tensor;

/**
 * Fills @p out as a view of @p data. @p strides may be NULL for a row-major (C-order) layout.
 * Checks the dtype, ndim, extents, strides and byte size, not the pointer (that needs a context:
 * see hm_tensor_check()). Nothing is allocated.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  @p out is NULL, or @p shape is NULL while ndim > 0
 * @retval HM_STATUS_INVALID_DTYPE     unknown dtype code
 * @retval HM_STATUS_INVALID_SHAPE     ndim outside 0..HM_MAX_NDIM, or a negative extent
 * @retval HM_STATUS_INVALID_LAYOUT    a negative stride or overlapping elements
 * @retval HM_STATUS_SIZE_OVERFLOW     the extent in bytes does not fit in size_t
 */
HM_API hm_status hm_tensor_init(hm_tensor *out, void *data, hm_device device, hm_dtype dtype,
                                int ndim, const int64_t *shape, const int64_t *strides);

/** Number of elements (product of the shape; 1 for a scalar, 0 if any extent is 0). */
HM_API int64_t hm_tensor_numel(const hm_tensor *t);

/** Bytes of the elements themselves: numel × dtype size. */
HM_API size_t hm_tensor_nbytes(const hm_tensor *t);

/** 1 if @p t is row-major contiguous (dims of extent 1 ignored), else 0. */
HM_API int hm_tensor_is_contiguous(const hm_tensor *t);

/* ------------------------------------------------------------------------------------------ */
/* Logging                                                                                     */

/** Log levels. A context logs messages at or above (numerically at or below) its level. */
typedef enum hm_log_level {
    HM_LOG_OFF = 0,
    HM_LOG_ERROR = 1,
    HM_LOG_WARN = 2,
    HM_LOG_INFO = 3,
    HM_LOG_DEBUG = 4,
} hm_log_level;

/** A log sink. @p message has no trailing newline and is valid during the call only. */
typedef void (*hm_log_fn)(hm_log_level level, const char *message, void *user_data);

/** The default sink: writes "YYYY-mm-ddTHH:MM:SS.mmmZ LEVEL message" to stderr. */
HM_API void hm_log_stderr(hm_log_level level, const char *message, void *user_data);

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                     */

/** Opaque per-thread state: logger, last error, ledger, guard, per-device CUDA state, caches. */
typedef struct hm_context hm_context;

/** Value of hm_context_options.log_level that means "HETMATH_LOG_LEVEL, else WARN". */
#define HM_LOG_LEVEL_FROM_ENV (-1)

/** How the pipelines of host operands on a GPU (hm_matmul_advanced(), hm_fft()) cut their rows
 *  into tiles. */
typedef enum hm_pipeline_schedule {
    /** From a model of the pipeline measured at planning: the host-device link (once per context
     *  and device, milliseconds) and a tile's computation at the sizes the candidates use (tens
     *  of milliseconds a plan; docs/TUNING.md has the figures). The default shape is
     *  kept unless another is modelled 10% faster, so tiles differ only where that clearly pays;
     *  where they do, and so between runs or machines, the low bits of matmul results may differ
     *  (cuBLASLt may pick another algorithm for another tile size). The model assumes the
     *  operands' memory kind (pageable or pinned) seen at planning. */
    HM_PIPELINE_MEASURED = 0,
    /** From the sizes alone (rows/10 at the ends, rows/4 between): the same tiles, and
     *  bit-identical results, in every run on every machine; no measurement at planning. */
    HM_PIPELINE_FIXED = 1
} hm_pipeline_schedule;

/**
 * The caller's allocator (hm_context_options.allocator): every block of device memory and of
 * pinned host memory hetmath allocates for a context — results it allocates, operands' copies,
 * temporaries, cuBLASLt's workspace, cuFFT's work area, the pinned staging pool — comes from
 * these callbacks instead of hetmath's own (a stream-ordered pool per device; cudaHostAlloc).
 * Pageable host memory (plans, host results) stays malloc's, and what cuFFT and cuBLASLt allocate
 * inside their own plans and handles stays theirs. A pair left NULL keeps hetmath's own for that
 * kind; a pair must be both set or both NULL. The device memory budget
 * (device_memory_limit) applies on top: hetmath asks for no more than it allows.
 *
 * The auto execution space's calibration measures on a private context that allocates through
 * the same callbacks (hm_context_memory_stats counts the context's own blocks only).
 *
 * Callbacks run on the thread calling hetmath, never at once for one context. @p bytes is never
 * 0. A free is called once for each successful allocation, with the same pointer, device and
 * byte count (so hm_tensor_free() must be given the tensor as allocated), at the latest when the
 * context is destroyed.
 */
typedef struct hm_allocator {
    size_t size;     /**< sizeof(hm_allocator), set by the caller */
    void *user_data; /**< passed to every callback */
    /** @p bytes of memory on cuda:@p device, usable in the order of @p stream (a cudaStream_t,
     *  the context's own for that device: hetmath's work that uses the block is queued there).
     *  Returns 0 and sets @p *out, or nonzero when it cannot (hetmath then fails the call with
     *  HM_STATUS_OUT_OF_DEVICE_MEMORY). */
    int (*device_alloc)(void *user_data, int device, size_t bytes, void *stream, void **out);
    /** Gives the block back in the order of @p stream: hetmath's work that used it was queued
     *  there before, and may still be running. */
    void (*device_free)(void *user_data, int device, void *ptr, size_t bytes, void *stream);
    /** @p bytes of page-locked host memory known to CUDA (cudaHostAlloc'd or
     *  cudaHostRegister'ed), usable by every device. Returns 0 and sets @p *out, or nonzero
     *  (HM_STATUS_OUT_OF_HOST_MEMORY). */
    int (*pinned_alloc)(void *user_data, size_t bytes, void **out);
    /** Gives a pinned block back: no work of hetmath's uses it any more. */
    void (*pinned_free)(void *user_data, void *ptr, size_t bytes);
} hm_allocator;

/** Options for hm_context_create(). Initialise with hm_context_options_init(). */
typedef struct hm_context_options {
    size_t size;                   /**< sizeof(hm_context_options), so the struct can grow */
    hm_log_fn log_fn;              /**< NULL: hm_log_stderr */
    void *log_user_data;           /**< passed to log_fn */
    int log_level;                 /**< an hm_log_level, or HM_LOG_LEVEL_FROM_ENV (default) */
    size_t pinned_pool_bytes;      /**< bound of the pinned staging pool; 0: the default (256 MiB,
                                        enough for pipelines of pageable operands on two devices at
                                        once: 128 MiB a device) */
    int pipeline_schedule;         /**< an hm_pipeline_schedule; default HM_PIPELINE_MEASURED */
    size_t device_memory_limit;    /**< the device memory budget: bytes an operation may allocate on
                                        each device for its operands' copies, staging and
                                        workspace (an operation's options may set their own);
                                        host operands larger than it are streamed through it
                                        (docs/OUT_OF_CORE.md). 0 (default): what the device has
                                        free when the operation is planned, less a margin (a 32nd
                                        of its memory, at least 256 MiB) */
    int plan_cache_entries;        /**< the plan cache's bound on plans (see
                                        hm_context_set_plan_cache_limits); 0: the default
                                        (HM_PLAN_CACHE_DEFAULT_ENTRIES); negative: no plan cached */
    size_t plan_cache_bytes;       /**< its bound on bytes held; 0 (default): none */
    int calibration;               /**< an hm_calibration_mode: the auto execution space's
                                        calibration file; default HM_CALIBRATION_CACHED */
    const hm_allocator *allocator; /**< NULL (default): hetmath's own; else copied at creation
                                        and used for the context's whole life */
} hm_context_options;

/** Where the auto execution space's calibration comes from (HM_EXEC_AUTO). Its file is
 *  $XDG_CACHE_HOME/hetmath/calibration (else ~/.cache/hetmath/calibration), made on the machine
 *  and library versions it names: a file of another machine, version or format is ignored, with a
 *  log line, and measured again. */
typedef enum hm_calibration_mode {
    HM_CALIBRATION_CACHED = 0,    /**< read the file; measure when it is missing or unusable, and
                                       write it */
    HM_CALIBRATION_READ_ONLY = 1, /**< read the file; measure when it is unusable; never write */
    HM_CALIBRATION_FRESH = 2,     /**< measure on first use; never read or write a file */
} hm_calibration_mode;

/** Sets @p opts to the defaults. */
HM_API void hm_context_options_init(hm_context_options *opts);

/**
 * Creates a context. @p opts may be NULL for the defaults. Probes for CUDA devices (no driver or
 * no GPU is not an error: the context then has 0 devices). Per-device state (stream, library
 * handles) is created lazily, on first use of each device.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  @p out is NULL, or @p opts has a bad size, log level,
 *                                     pipeline schedule, calibration mode or plan_cache_entries
 *                                     (over HM_PLAN_CACHE_MAX_ENTRIES), or an allocator with a
 *                                     bad size or half a pair of callbacks
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY
 */
HM_API hm_status hm_context_create(const hm_context_options *opts, hm_context **out);

/** Waits for the context's device work, releases everything it owns. NULL is a no-op. */
HM_API void hm_context_destroy(hm_context *ctx);

/** The sentence describing the last failure on @p ctx ("" after success; never NULL). */
HM_API const char *hm_context_last_error(const hm_context *ctx);

/** The status of the last failing call on @p ctx (HM_STATUS_SUCCESS if none). */
HM_API hm_status hm_context_last_status(const hm_context *ctx);

/** Replaces the log sink (NULL restores hm_log_stderr).
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT ctx is NULL */
HM_API hm_status hm_context_set_logger(hm_context *ctx, hm_log_fn fn, void *user_data);

/** Sets the level.
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT ctx NULL or level unknown */
HM_API hm_status hm_context_set_log_level(hm_context *ctx, hm_log_level level);

/** The current level (HM_LOG_OFF for NULL). */
HM_API hm_log_level hm_context_log_level(const hm_context *ctx);

/** Number of usable CUDA devices (0 without CUDA, driver or GPU).
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT a NULL argument */
HM_API hm_status hm_context_device_count(const hm_context *ctx, int *count);

/** What hm_context_device_info() reports about a CUDA device. */
typedef struct hm_device_info {
    char name[256];
    size_t total_memory; /**< bytes */
    int compute_major;
    int compute_minor;
    int multiprocessors;
    int pci_bus_id;
    int pcie_generation; /**< current link generation, 0 if unknown */
    int pcie_width;      /**< current link width, 0 if unknown */
} hm_device_info;

/**
 * Describes CUDA device @p id.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument
 * @retval HM_STATUS_CUDA_UNAVAILABLE  built without CUDA, or no device
 * @retval HM_STATUS_DEVICE_NOT_FOUND  @p id is not a device of this machine
 */
HM_API hm_status hm_context_device_info(hm_context *ctx, int id, hm_device_info *out);

/**
 * Waits until all work the context queued on its devices has finished.
 * @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT
 * @retval HM_STATUS_CUDA_ERROR  an earlier asynchronous operation failed
 */
HM_API hm_status hm_context_synchronize(hm_context *ctx);

/** Destroys every plan in the context's plan cache (the stateless calls' plans), releasing
 *  their backend plans. The next stateless calls plan again. The statistics are kept. (The work
 *  areas the plans of a device share, cuFFT's and cuBLASLt's, stay with the context.)
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT ctx is NULL */
HM_API hm_status hm_context_clear_plan_cache(hm_context *ctx);

/** The default bound of the plan cache's entries, and the most it may be set to. */
#define HM_PLAN_CACHE_DEFAULT_ENTRIES 32
#define HM_PLAN_CACHE_MAX_ENTRIES     4096

/** The plan cache of a context: what it holds and what it did (hm_context_plan_cache_stats). */
typedef struct hm_plan_cache_stats {
    size_t size;        /**< sizeof(hm_plan_cache_stats), set by the caller */
    uint64_t hits;      /**< stateless calls that found their plan */
    uint64_t misses;    /**< stateless calls that planned */
    uint64_t evictions; /**< plans destroyed to keep within the limits (least recently used
                             first; hm_context_clear_plan_cache's are not counted) */
    uint64_t uncached;  /**< plans destroyed after their one call: caching off, or the plan
                             alone over max_bytes */
    int entries;        /**< plans held now */
    size_t bytes;       /**< what they hold: the plans, their keys, their own allocations and
                             the work areas their backend plans need */
    int max_entries;    /**< the limits in force */
    size_t max_bytes;   /**< 0: none */
} hm_plan_cache_stats;

/**
 * Sets the plan cache's limits: at most @p max_entries plans (0: stateless calls plan every time
 * and keep nothing) and at most @p max_bytes bytes held (0: no byte limit). Plans are evicted,
 * least recently used first, at once and whenever a new plan would exceed either. Defaults:
 * HM_PLAN_CACHE_DEFAULT_ENTRIES entries, no byte limit (or hm_context_options' values).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  ctx NULL, or max_entries outside 0..HM_PLAN_CACHE_MAX_ENTRIES
 */
HM_API hm_status hm_context_set_plan_cache_limits(hm_context *ctx, int max_entries,
                                                  size_t max_bytes);

/**
 * Fills @p out (whose size the caller sets) with the plan cache's statistics and limits.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, or a size that is not one of this struct's
 */
HM_API hm_status hm_context_plan_cache_stats(const hm_context *ctx, hm_plan_cache_stats *out);

/** The device and pinned memory a context has allocated (hm_context_memory_stats): through its
 *  allocator when it has one, else through its own. */
typedef struct hm_memory_stats {
    size_t size;                 /**< sizeof(hm_memory_stats), set by the caller */
    uint64_t device_allocations; /**< blocks of device memory allocated, every device */
    uint64_t device_frees;       /**< and given back */
    size_t device_bytes;         /**< held now */
    size_t device_bytes_peak;    /**< the most held at once */
    uint64_t device_bytes_total; /**< ever allocated */
    uint64_t pinned_allocations; /**< the same for pinned host memory */
    uint64_t pinned_frees;
    size_t pinned_bytes;
    size_t pinned_bytes_peak;
    uint64_t pinned_bytes_total;
} hm_memory_stats;

/**
 * Fills @p out (whose size the caller sets) with what the context has allocated so far: every
 * allocation counts, its results and tensors (hm_tensor_alloc) as much as its temporaries,
 * workspaces and staging pool.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, or a size that is not one of this struct's
 */
HM_API hm_status hm_context_memory_stats(const hm_context *ctx, hm_memory_stats *out);

/** Bytes of pinned memory the context's staging pool holds now: 0 until the first staged copy,
 *  then four chunks (32 MiB each), four more for each further device a divided pipeline of
 *  pageable operands stages for at once; reused, never grown past
 *  hm_context_options.pinned_pool_bytes. */
HM_API size_t hm_context_pinned_pool_held(const hm_context *ctx);

/** Allocates a row-major contiguous tensor in memory space @p device (host pageable,
 *  pinned or cuda:N). Contents are uninitialised. Free with hm_tensor_free().
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT, HM_STATUS_INVALID_DTYPE, HM_STATUS_INVALID_SHAPE,
 *         HM_STATUS_SIZE_OVERFLOW  as for hm_tensor_init()
 * @retval HM_STATUS_CUDA_UNAVAILABLE  pinned or cuda memory asked for without CUDA
 * @retval HM_STATUS_DEVICE_NOT_FOUND  cuda:N with N not a device
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY
 */
HM_API hm_status hm_tensor_alloc(hm_context *ctx, hm_device device, hm_dtype dtype, int ndim,
                                 const int64_t *shape, hm_tensor *out);

/** Releases memory obtained by hm_tensor_alloc() (or a result a call allocated) and clears
 *  @p t. NULL @p t or NULL data is a no-op. Never pass a view of memory the caller allocated,
 *  nor a view changed since it was allocated (its bytes size the release). Device memory goes
 *  back in the order of the context's stream for that device, without waiting: work the caller
 *  queued on other streams that uses it must have finished (or the caller synchronized them). */
HM_API void hm_tensor_free(hm_context *ctx, hm_tensor *t);

/**
 * Full check of a tensor as an operand: everything hm_tensor_init() checks, plus alignment and
 * that the pointer really lives in the declared memory space (cudaPointerGetAttributes): a host
 * pointer declared as cuda:N, a device pointer declared as host, pageable memory declared as
 * pinned, or memory of another device are all refused.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL context or tensor, or NULL data with elements
 * @retval HM_STATUS_INVALID_DTYPE, HM_STATUS_INVALID_SHAPE, HM_STATUS_INVALID_LAYOUT,
 *         HM_STATUS_SIZE_OVERFLOW, HM_STATUS_MISALIGNED
 * @retval HM_STATUS_SPACE_MISMATCH    the pointer is not in the declared space
 * @retval HM_STATUS_DEVICE_NOT_FOUND  the declared device does not exist
 * @retval HM_STATUS_CUDA_UNAVAILABLE  a pinned or cuda space without CUDA
 */
HM_API hm_status hm_tensor_check(hm_context *ctx, const hm_tensor *t);

/* ------------------------------------------------------------------------------------------ */
/* Execution spaces                                                                            */

/** Where the arithmetic runs. */
typedef enum hm_execution_kind {
    HM_EXEC_DEFAULT = 0, /**< generic ops: where the operands are; specialized ops: CUDA */
    HM_EXEC_CPU = 1,
    HM_EXEC_CUDA = 2,
    HM_EXEC_AUTO = 3, /**< generic ops: the CPU or a CUDA device, whichever the machine's
                           calibration models fastest for this call (copies included); specialized
                           ops: CUDA, as the default */
} hm_execution_kind;

/** "Choose for me" value of hm_execution.device_id and hm_execution.num_threads. */
#define HM_AUTO (-1)

/** The most threads a CPU execution space may ask for (more than any machine's cores: a count
 *  above it is refused as a mistake, never clamped). */
#define HM_MAX_THREADS 4096

/** The most devices an execution space of several devices may name. */
#define HM_MAX_DEVICE_SET 8

/**
 * An execution space. With HM_EXEC_CPU, `device_id` must be HM_AUTO and `num_threads` is
 * HM_AUTO (the cores this process may use) or 1 to HM_MAX_THREADS. With HM_EXEC_CUDA, `num_threads`
 * must be HM_AUTO and `device_id` is HM_AUTO (the operands' device, else 0) or an existing device.
 * With HM_EXEC_DEFAULT and HM_EXEC_AUTO both must be HM_AUTO. A NULL hm_execution pointer
 * means the default.
 *
 * HM_EXEC_AUTO (hm_execution_auto()): a generic operation runs where its modelled time is least
 * among the CPU and each CUDA device: the copies its operands need to get there, planning (when
 * no plan is cached for that space; shared by `reuse` executions), the computation, and the
 * result's copy back to where the operands are, from the machine's calibration (measured on
 * first use with a CUDA device, in about a second, and kept in $XDG_CACHE_HOME/hetmath:
 * hm_context_calibrate(), hm_context_options.calibration). Candidates within 1% of each other:
 * where the operands are. Without a CUDA device, the CPU, with nothing measured. The log's spaces
 * line gives each candidate's time; hm_matmul_estimate() and hm_fft_estimate() return them.
 *
 * Several devices (HM_EXEC_CUDA, `device_set` not 0, `device_id` HM_AUTO; made by
 * hm_execution_cuda_set()): operations whose host operands are pipelined divide their rows
 * between the devices, each device pipelining its part over its own link with its own staging
 * buffers, and operands the parts share copied to each device once (from the first device over
 * the devices' direct link where they have one). Everything else runs on one device of the set:
 * the operands' device when it is in the set, else the lowest; the log says which and why.
 */
typedef struct hm_execution {
    hm_execution_kind kind;
    int device_id;
    int num_threads;
    int reuse;           /**< HM_EXEC_AUTO only: executions expected of a plan made with it, which
                              share its planning (0 or 1: one); else 0 */
    uint64_t device_set; /**< HM_EXEC_CUDA only: 0 (one device), or bit i set for cuda:i */
} hm_execution;

static inline hm_execution hm_execution_default(void)
{
    hm_execution e = {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0};
    return e;
}

static inline hm_execution hm_execution_cpu(int num_threads)
{
    hm_execution e = {HM_EXEC_CPU, HM_AUTO, num_threads, 0, 0};
    return e;
}

static inline hm_execution hm_execution_cuda(int device_id)
{
    hm_execution e = {HM_EXEC_CUDA, device_id, HM_AUTO, 0, 0};
    return e;
}

/** The auto execution space (HM_EXEC_AUTO): @p reuse executions expected of a plan made with it
 *  (1 for a stateless call or a plan run once; they share its planning cost). */
static inline hm_execution hm_execution_auto(int reuse)
{
    hm_execution e = {HM_EXEC_AUTO, HM_AUTO, HM_AUTO, reuse, 0};
    return e;
}

/**
 * Sets @p out to the CUDA execution space of the @p count devices @p ids (in any order). Whether
 * they exist is checked where the space is used (hm_execution_resolve()).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT   @p ids or @p out NULL
 * @retval HM_STATUS_INVALID_EXECUTION  @p count outside 1..HM_MAX_DEVICE_SET, an id outside
 *                                      0..63, or an id named twice
 */
HM_API hm_status hm_execution_cuda_set(const int *ids, int count, hm_execution *out);

/** Whether an operation is generic (runs where its operands are) or specialized (CUDA only). */
typedef enum hm_op_class {
    HM_OP_GENERIC = 0,
    HM_OP_SPECIALIZED = 1,
} hm_op_class;

/**
 * Resolves where an operation over @p operands would run: a generic op
 * with the default space runs on the CPU for host/pinned operands and on their device for cuda
 * operands; a specialized op runs on CUDA (the operands' device, else device 0); an explicit
 * space is honoured; HM_EXEC_AUTO resolves as the default (its choice needs the operation:
 * hm_matmul_estimate(), hm_fft_estimate()). The result has a concrete kind, device id (CUDA) and
 * thread count (CPU); a device set keeps its devices in `device_set` (0 when it names one device,
 * which is then `device_id`) and has as `device_id` the one that runs what is not divided: the
 * operands' device when the set holds it, else the set's lowest.
 * @p operands may hold NULL entries (absent optional operands), which are skipped.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT           a NULL context or result
 * @retval HM_STATUS_INVALID_EXECUTION          cpu with a device id, num_threads ≤ 0 or above
 *                                              HM_MAX_THREADS, cuda with
 *                                              num_threads, an unknown kind, a specialized op on
 *                                              cpu, a device set with another kind or with a
 *                                              device id, or of more than HM_MAX_DEVICE_SET
 * @retval HM_STATUS_DEVICE_NOT_FOUND           the named device (or one of the set) does not
 *                                              exist
 * @retval HM_STATUS_CUDA_UNAVAILABLE           CUDA execution without CUDA or a device
 * @retval HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES  operands on two CUDA devices and no device
 *                                              named
 */
HM_API hm_status hm_execution_resolve(hm_context *ctx, const hm_execution *requested,
                                      hm_op_class op_class, const hm_tensor *const *operands,
                                      int num_operands, hm_execution *resolved);

/** One candidate of the auto execution space, as modelled: seconds (negative: the calibration
 *  has no figure for it, and it is never chosen). */
typedef struct hm_estimate_candidate {
    hm_execution execution; /**< the CPU, one CUDA device, or a set of them */
    double copy_in_s;       /**< the operands' copies to it, from where they are */
    double plan_s;          /**< planning: 0 when a plan is cached; shared by `reuse` executions */
    double compute_s;
    double copy_out_s; /**< the result's copy back to where the operands are */
    double total_s;    /**< plan_s / reuse + the others */
    size_t copy_bytes; /**< bytes those copies move between spaces */
    int excluded;      /**< 1: never chosen (the transfer guard refuses its copies, or the CPU for
                            a CUDA-only operation); its times are modelled all the same */
} hm_estimate_candidate;

/** What the auto execution space would choose for an operation (hm_matmul_estimate(),
 *  hm_fft_estimate()): every candidate and the chosen one's index. */
typedef struct hm_estimate {
    int count;
    int chosen;
    hm_estimate_candidate candidate[2 + HM_MAX_DEVICE_SET]; /**< the CPU, each device, and
                                  (host operands a pipeline would divide, two devices or more)
                                  every device as one set */
    int calibrated; /**< 1: from a calibration (measured now or read from its file); 0: no CUDA
                         device, the CPU alone and unmodelled */
} hm_estimate;

/** What hm_context_calibrate() did. */
typedef struct hm_calibration_report {
    double seconds;  /**< the measuring's wall time */
    char path[1024]; /**< the file written ("" when not: no cache folder, a read-only or fresh
                          mode, or the write failed — the log says why) */
    int devices;     /**< CUDA devices measured */
} hm_calibration_report;

/**
 * Measures the machine for the auto execution space now (each backend's matmul and FFT at a few
 * sizes, each device's link and planning cost), replacing the calibration the context holds, and
 * writes it to its file unless hm_context_options.calibration forbids. Without a CUDA device
 * only the CPU is measured. @p report may be NULL.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL context
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY, HM_STATUS_CUDA_ERROR (a
 *         measurement failed; the context keeps the calibration it had)
 */
HM_API hm_status hm_context_calibrate(hm_context *ctx, hm_calibration_report *report);

/** The libraries behind the backends, as found at run time. */
typedef struct hm_library_versions {
    char blas[160];   /**< the CBLAS provider ("OpenBLAS 0.3.21 …" where it says) */
    char fftw[64];    /**< FFTW's version string */
    int cuda_runtime; /**< e.g. 13000 for 13.0; 0 without CUDA */
    int cuda_driver;  /**< the driver's CUDA version; 0 without a driver */
    int cublaslt;     /**< cublasLtGetVersion(); 0 without CUDA */
    int cufft;        /**< cufftGetVersion(); 0 without CUDA */
} hm_library_versions;

/** Fills @p out. @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT a NULL argument */
HM_API hm_status hm_context_library_versions(hm_context *ctx, hm_library_versions *out);

/** The library's version, "MAJOR.MINOR.PATCH". */
HM_API const char *hm_version_string(void);

/** The library's version as HETMATH_VERSION gives the headers' (hetmath/version.h): a program
 *  can check at run time that the library it loaded is the one it was built against. */
HM_API int hm_version(void);

#ifdef __cplusplus
}
#endif

#endif
