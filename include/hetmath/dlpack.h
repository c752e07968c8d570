/**
 * @file hetmath/dlpack.h
 * @brief Conversion between DLPack's DLTensor and hm_tensor (devices map one to one).
 *
 * Needs dlpack/dlpack.h; installed only when hetmath was built with it.
 */
#ifndef HETMATH_DLPACK_H
#define HETMATH_DLPACK_H

#include <dlpack/dlpack.h>

#include "hetmath/core.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif
