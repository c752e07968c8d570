/**
 * @file hetmath/dlpack.h
 * @brief Conversion between DLPack's DLTensor (and DLPack 1.0's versioned managed tensor) and
 *        hm_tensor (devices map one to one).
 *
 * Needs dlpack/dlpack.h; installed only when hetmath was built with it. Where that header is
 * older than DLPack 1.0 (Debian's libdlpack-dev is 0.6; 0.8 has the version macros, not the
 * structs), the 1.0 structs are declared here as
 * the DLPack specification lays them out (an ABI: a 1.0 producer's or consumer's structs are
 * these).
 */
#ifndef HETMATH_DLPACK_H
#define HETMATH_DLPACK_H

#include <dlpack/dlpack.h>

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The managed tensor is named by its struct tag below: some 1.0 headers (CuPy's) declare the tag
 * without the typedef. */
#if !defined(DLPACK_MAJOR_VERSION) || DLPACK_MAJOR_VERSION < 1 /* 0.6 has none; 0.8 says 0 */
/** DLPack 1.0: the version of the ABI a managed tensor follows. */
typedef struct DLPackVersion {
    uint32_t major; /**< 1 for DLPack 1.x; another major version is another ABI */
    uint32_t minor;
} DLPackVersion;

/** DLPack 1.0: a tensor, who manages it, and how it is released. */
typedef struct DLManagedTensorVersioned {
    DLPackVersion version;
    void *manager_ctx; /**< the producer's */
    /** Called by the consumer once when it no longer uses the tensor; NULL: nothing to do. */
    void (*deleter)(struct DLManagedTensorVersioned *self);
    uint64_t flags; /**< DLPACK_FLAG_BITMASK_* */
    DLTensor dl_tensor;
} DLManagedTensorVersioned;

#define DLPACK_FLAG_BITMASK_READ_ONLY (1ULL << 0) /**< the consumer must not write the data */
#define DLPACK_FLAG_BITMASK_IS_COPIED (1ULL << 1) /**< the producer made a copy for it */
#endif

/** Options of hm_tensor_to_dlpack_versioned(). */
enum {
    /** The consumer's deleter also frees the tensor's data (memory hm_tensor_alloc() made) through
     *  the context, which must then outlive the consumer's use. Without it the data stays the
     *  caller's, who keeps it alive while the consumer uses it. */
    HM_DLPACK_TRANSFER_OWNERSHIP = 1,
    /** Sets the read-only flag: the consumer must not write the data. */
    HM_DLPACK_READ_ONLY = 2
};

/**
 * Makes @p out a view of @p dl: byte_offset folded into data, NULL strides read as row-major.
 * Devices: kDLCPU → host, kDLCUDAHost → pinned, kDLCUDA → cuda:N. dtypes: float16, bfloat16,
 * float32, float64, complex64, complex128 with one lane. Does not check the pointer: pass the
 * result through hm_tensor_check() before trusting it.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, or NULL shape with ndim > 0
 * @retval HM_STATUS_NOT_SUPPORTED     another device type
 * @retval HM_STATUS_INVALID_DTYPE     another dtype, or lanes ≠ 1
 * @retval HM_STATUS_INVALID_SHAPE, HM_STATUS_INVALID_LAYOUT, HM_STATUS_SIZE_OVERFLOW
 */
HM_API hm_status hm_tensor_from_dlpack(const DLTensor *dl, hm_tensor *out);

/**
 * Makes @p out describe @p t. `out->shape` and `out->strides` point into @p t, so @p out is
 * valid only while @p t is. byte_offset is 0.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument
 * @retval HM_STATUS_INVALID_DTYPE     an unknown dtype
 */
HM_API hm_status hm_tensor_to_dlpack(const hm_tensor *t, DLTensor *out);

/**
 * Makes @p out a view of a DLPack 1.x managed tensor, as hm_tensor_from_dlpack() does of its
 * dl_tensor; @p read_only (may be NULL) gets its read-only flag: such a view may be an input, and
 * the caller must not pass it as an output. The managed tensor stays the caller's: call its
 * deleter when the view is no longer used.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_NOT_SUPPORTED  a major version other than 1 (another ABI), or as below
 * @retval (the statuses of hm_tensor_from_dlpack())
 */
HM_API hm_status hm_tensor_from_dlpack_versioned(const struct DLManagedTensorVersioned *m,
                                                 hm_tensor *out, int *read_only);

/**
 * Exports @p t as a new DLPack 1.0 managed tensor for a consumer (which calls its deleter once,
 * when done): version 1.0, its own copies of the shape and strides, flags from @p options
 * (HM_DLPACK_READ_ONLY); with HM_DLPACK_TRANSFER_OWNERSHIP the deleter also frees t's data
 * through @p ctx (t must come from hm_tensor_alloc() on ctx, and the caller must not free it).
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  a NULL argument, unknown options, or ownership asked
 *                                     without a context
 * @retval HM_STATUS_INVALID_DTYPE     an unknown dtype
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY
 */
HM_API hm_status hm_tensor_to_dlpack_versioned(hm_context *ctx, const hm_tensor *t, int options,
                                               struct DLManagedTensorVersioned **out);

#ifdef __cplusplus
}
#endif

#endif
