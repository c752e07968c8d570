/**
 * @file hetmath/status.h
 * @brief Status codes returned by every fallible hetmath call.
 *
 * One list (HM_STATUS_MAP) makes the enum, the names and the messages. Codes are append-only:
 * a value, once released, never changes meaning. The sentence that says which function, which
 * operand and why is kept on the context: see hm_context_last_error().
 */
#ifndef HETMATH_STATUS_H
#define HETMATH_STATUS_H

#include "hetmath/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define HM_STATUS_MAP(X)                                                                           \
    X(SUCCESS, 0, "success")                                                                       \
    X(INVALID_ARGUMENT, 1, "an argument is NULL, out of range or inconsistent")                    \
    X(INVALID_DTYPE, 2, "the dtype code is unknown or not allowed here")                           \
    X(INVALID_SHAPE, 3, "the number of dimensions or an extent is invalid")                        \
    X(INVALID_LAYOUT, 4, "the strides describe an overlapping or unsupported layout")              \
    X(MISALIGNED, 5, "the data pointer is not aligned for the dtype")                              \
    X(SIZE_OVERFLOW, 6, "the size in bytes does not fit in size_t")                                \
    X(SPACE_MISMATCH, 7, "the declared memory space does not match where the pointer lives")       \
    X(DEVICE_NOT_FOUND, 8, "the CUDA device id does not exist")                                    \
    X(INVALID_EXECUTION, 9, "the execution space is invalid for this call")                        \
    X(OPERANDS_ON_DIFFERENT_DEVICES, 10, "operands live on different devices")                     \
    X(SHAPE_MISMATCH, 11, "operand shapes do not agree")                                           \
    X(DTYPE_MISMATCH, 12, "operand dtypes do not combine")                                         \
    X(ALIASING, 13, "an output overlaps an input")                                                 \
    X(NOT_SUPPORTED, 14, "no backend supports this operation for these operands")                  \
    X(CUDA_UNAVAILABLE, 15, "CUDA is not available (not built in, no driver or no device)")        \
    X(TRANSFER_REFUSED, 16, "the transfer guard refused a copy between memory spaces")             \
    X(OUT_OF_HOST_MEMORY, 17, "host memory allocation failed")                                     \
    X(OUT_OF_DEVICE_MEMORY, 18, "device memory allocation failed")                                 \
    X(CUDA_ERROR, 19, "the CUDA runtime reported an error")                                        \
    X(CUBLAS_ERROR, 20, "cuBLASLt reported an error")                                              \
    X(CUFFT_ERROR, 21, "cuFFT reported an error")                                                  \
    X(FFTW_ERROR, 22, "FFTW could not plan the transform")                                         \
    X(PLAN_MISMATCH, 23, "the operands do not match the plan's layout")                            \
    X(INVALID_AXES, 24, "the transform axes are repeated, out of range or too many")               \
    X(BROADCAST_MISMATCH, 25, "batch dimensions do not broadcast")                                 \
    X(INTERNAL, 26, "internal error (a bug in hetmath)")                                           \
    X(INVALID_DISTRIBUTION, 27,                                                                    \
      "the ranks' boxes do not tile the global shape, or ranks disagree")                          \
    X(REMOTE_FAILURE, 28, "the collective call failed on another rank")                            \
    X(MPI_ERROR, 29, "MPI reported an error")                                                      \
    X(DEVICE_MEMORY_LIMIT, 30,                                                                     \
      "the operation's smallest schedule needs more device memory than its budget")                \
    X(NCCL_ERROR, 31, "NCCL reported an error")

/** Status of a hetmath call. HM_STATUS_SUCCESS is 0; every other value is a failure. */
typedef enum hm_status {
#define HM_STATUS_ENUM_(name, value, msg) HM_STATUS_##name = value,
    HM_STATUS_MAP(HM_STATUS_ENUM_)
#undef HM_STATUS_ENUM_
        HM_STATUS_COUNT_ /**< one past the last code; not a status */
} hm_status;

/** The code's name without prefix, e.g. "TRANSFER_REFUSED"; "UNKNOWN" for other values. */
HM_API const char *hm_status_name(hm_status status);

/** A one-line general description of the code; "unknown status" for other values. */
HM_API const char *hm_status_string(hm_status status);

#ifdef __cplusplus
}
#endif

#endif
