/**
 * @file hetmath/transfer.h
 * @brief Explicit copies between memory spaces, the transfer ledger and the transfer guard.
 *
 * Every byte hetmath moves between memory spaces, in hm_copy() or inside an operation, goes
 * through one transfer layer that records it in the context's ledger, logs one line at INFO,
 * and, for copies an operation makes on its own, asks the guard first.
 */
#ifndef HETMATH_TRANSFER_H
#define HETMATH_TRANSFER_H

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Direction of a copy. Pinned host memory counts as host. */
typedef enum hm_transfer_direction {
    HM_TRANSFER_H2H = 0,    /**< host ↔ host (pageable ↔ pinned, or a layout change) */
    HM_TRANSFER_H2D = 1,    /**< host → CUDA device */
    HM_TRANSFER_D2H = 2,    /**< CUDA device → host */
    HM_TRANSFER_D2D = 3,    /**< CUDA device → CUDA device (the same or another) */
    HM_TRANSFER_REMOTE = 4, /**< to or from another process of a communicator (hetmath/dist.h) */
    HM_TRANSFER_DIRECTION_COUNT = 5
} hm_transfer_direction;

/** "h2h", "h2d", "d2h", "d2d", "remote". */
HM_API const char *hm_transfer_direction_name(hm_transfer_direction dir);

/** How a copy was carried out. */
typedef enum hm_transfer_path {
    HM_PATH_DIRECT = 0, /**< one copy engine (or memcpy) transfer, no staging */
    HM_PATH_STAGED = 1, /**< through pinned staging buffers, in chunks: pageable host memory to or
                             from a device, or between two devices that cannot reach each other */
    HM_PATH_PACKED = 2, /**< a strided view packed/unpacked around a contiguous transfer (the log
                             names the transfer's own path) */
    HM_PATH_PEER = 3,   /**< between two devices over their direct link (NVLink or PCIe
                             peer-to-peer), peer access enabled by hetmath on first use */
    HM_PATH_MPI = 4,    /**< between processes, by MPI */
    HM_PATH_NCCL = 5,   /**< between processes' devices, by NCCL */
} hm_transfer_path;

/** One copy, as the ledger keeps it. */
typedef struct hm_transfer_record {
    uint64_t sequence; /**< 1 for the first copy since context creation */
    hm_transfer_direction direction;
    hm_device src;
    hm_device dst;
    int src_pinned; /**< 1 if the host side was page-locked */
    int dst_pinned;
    size_t bytes;   /**< bytes of payload moved (elements × dtype size) */
    double seconds; /**< wall time from start to completion */
    double gbps;    /**< bytes / seconds / 1e9 */
    hm_transfer_path path;
    int chunks;            /**< number of chunks (1 unless staged) */
    int implicit;          /**< 1 if an operation made it, 0 for hm_copy() */
    const char *operation; /**< static string: "hm_copy", "hm_fft", … */
    const char *operand;   /**< static string: "src", "A", "x", "result", … */
    int src_rank;          /**< a remote copy: the sending and receiving ranks of the */
    int dst_rank;          /**< communicator (one of them this process's); else -1 */
    int pending;           /**< 1: a copy left queued on a caller's stream (hm_copy_on_stream)
                                that had not finished when this record was read: seconds and
                                gbps are 0 until it has (a later read gives them) */
} hm_transfer_record;

/** Per-direction totals since context creation or the last hm_ledger_reset(). */
typedef struct hm_transfer_totals {
    uint64_t copies[HM_TRANSFER_DIRECTION_COUNT];
    uint64_t bytes[HM_TRANSFER_DIRECTION_COUNT];
    double seconds[HM_TRANSFER_DIRECTION_COUNT];
} hm_transfer_totals;

/** How many of the most recent records the ledger keeps (totals are always exact). */
#define HM_LEDGER_CAPACITY 4096

/** How many copies left queued on callers' streams are timed at once (hm_copy_on_stream). */
#define HM_LEDGER_PENDING 64

/**
 * Copies @p src into @p dst, between any two memory spaces (host, pinned, cuda:N) and any two
 * layouts of the same shape and dtype. Blocking: returns when the bytes are in @p dst. Recorded
 * in the ledger (a same-space copy too, as h2h or d2d) and logged at INFO. An explicit copy is
 * never refused by the guard. Strided views are packed on the source side and unpacked on the
 * destination side around one contiguous transfer. Between two devices the bytes go over the
 * devices' direct link when they have one (peer access is enabled for the pair, both ways, on the
 * first copy and stays enabled for the process), else through the pinned staging pool.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument
 * @retval (any status of hm_tensor_check(), for either operand)
 * @retval HM_STATUS_SHAPE_MISMATCH    shapes differ
 * @retval HM_STATUS_DTYPE_MISMATCH    dtypes differ
 * @retval HM_STATUS_ALIASING          the two views overlap (and are not the same view)
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY, HM_STATUS_OUT_OF_DEVICE_MEMORY, HM_STATUS_CUDA_ERROR
 */
HM_API hm_status hm_copy(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst);

/**
 * hm_copy() ordered on the caller's @p stream (a cudaStream_t of a device the copy touches; NULL:
 * exactly hm_copy()). The copy comes after the work queued on @p stream before the call. A copy
 * within one device's memory is left queued, and the work queued on @p stream after the call
 * comes after it: the call returns without waiting, and its ledger record is `pending` until
 * the copy is done, its time then measured by events on the device (from where the copy was
 * ordered to its end) and filled in when the ledger is next read. A copy that involves host
 * memory or two devices blocks as hm_copy() does: it waits for the stream's earlier work on the
 * device, and returns when the bytes are in @p dst. At most HM_LEDGER_PENDING (64) copies are
 * timed while pending; one beyond is recorded untimed (seconds 0), never waited for.
 * @retval as hm_copy()
 */
HM_API hm_status hm_copy_on_stream(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst,
                                   void *stream);

/** Reads the totals. @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT */
HM_API hm_status hm_ledger_totals(const hm_context *ctx, hm_transfer_totals *out);

/** Number of records kept (≤ HM_LEDGER_CAPACITY); 0 for NULL. */
HM_API size_t hm_ledger_count(const hm_context *ctx);

/** Reads record @p index, 0 being the oldest kept.
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT NULL or index ≥ count */
HM_API hm_status hm_ledger_record(const hm_context *ctx, size_t index, hm_transfer_record *out);

/** Forgets all records and zeroes the totals (sequence numbers keep counting); the times of
 *  copies still pending are never read. */
HM_API void hm_ledger_reset(hm_context *ctx);

/** Called after every recorded copy, with the record (valid during the call only); for a copy
 *  left queued on a caller's stream, when it is queued (`pending`, no time yet). */
typedef void (*hm_transfer_fn)(const hm_transfer_record *record, void *user_data);

/** Sets (or, with NULL, clears) the ledger observer.
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT */
HM_API hm_status hm_ledger_set_callback(hm_context *ctx, hm_transfer_fn fn, void *user_data);

/** What the guard does with a copy an operation wants to make. */
typedef enum hm_guard_mode {
    HM_GUARD_ALLOW = 0, /**< copy (logged at INFO like every copy) */
    HM_GUARD_LOG = 1,   /**< copy, and warn that an implicit copy happened */
    HM_GUARD_ERROR = 2, /**< refuse: the operation fails with HM_STATUS_TRANSFER_REFUSED before
                             any work, naming the operand */
} hm_guard_mode;

/** Sets the guard for one direction (all directions start as HM_GUARD_ALLOW).
 *  @retval HM_STATUS_SUCCESS @retval HM_STATUS_INVALID_ARGUMENT */
HM_API hm_status hm_transfer_set_guard(hm_context *ctx, hm_transfer_direction dir,
                                       hm_guard_mode mode);

/** The guard for @p dir (HM_GUARD_ALLOW for NULL or an unknown direction). */
HM_API hm_guard_mode hm_transfer_guard(const hm_context *ctx, hm_transfer_direction dir);

#ifdef __cplusplus
}
#endif

#endif
