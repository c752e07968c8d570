/* cuBLASLt, cuFFT and NCCL, loaded on first use (dlopen): a process that never multiplies or
 * transforms on a GPU (a CPU FFT, `hetmath --help`) does not pay for mapping and relocating
 * them. The tables are filled once per process and only read afterwards. */
#ifndef HETMATH_BACKENDS_CUDA_LIBS_H
#define HETMATH_BACKENDS_CUDA_LIBS_H

#include <cublasLt.h>
#include <cufft.h>

#include "core/internal.h"

#define HM_LT_FUNCTIONS(X)                                                                         \
    X(cublasLtCreate)                                                                              \
    X(cublasLtDestroy)                                                                             \
    X(cublasLtGetStatusName)                                                                       \
    X(cublasLtGetStatusString)                                                                     \
    X(cublasLtGetVersion)                                                                          \
    X(cublasLtMatmul)                                                                              \
    X(cublasLtMatmulAlgoConfigGetAttribute)                                                        \
    X(cublasLtMatmulAlgoGetHeuristic)                                                              \
    X(cublasLtMatmulDescCreate)                                                                    \
    X(cublasLtMatmulDescDestroy)                                                                   \
    X(cublasLtMatmulDescSetAttribute)                                                              \
    X(cublasLtMatmulPreferenceCreate)                                                              \
    X(cublasLtMatmulPreferenceDestroy)                                                             \
    X(cublasLtMatmulPreferenceSetAttribute)                                                        \
    X(cublasLtMatrixLayoutCreate)                                                                  \
    X(cublasLtMatrixLayoutDestroy)                                                                 \
    X(cublasLtMatrixLayoutSetAttribute)

#define HM_CUFFT_FUNCTIONS(X)                                                                      \
    X(cufftCreate)                                                                                 \
    X(cufftDestroy)                                                                                \
    X(cufftExecC2C)                                                                                \
    X(cufftExecC2R)                                                                                \
    X(cufftExecD2Z)                                                                                \
    X(cufftExecR2C)                                                                                \
    X(cufftExecZ2D)                                                                                \
    X(cufftExecZ2Z)                                                                                \
    X(cufftGetVersion)                                                                             \
    X(cufftMakePlanMany64)                                                                         \
    X(cufftSetAutoAllocation)                                                                      \
    X(cufftSetStream)                                                                              \
    X(cufftSetWorkArea)

#ifdef HETMATH_HAVE_NCCL
#include <nccl.h>
/* NCCL: the distributed operations of GPU ranks (cuda_nccl.c), loaded on their first use. */
#define HM_NCCL_FUNCTIONS(X)                                                                       \
    X(ncclCommDestroy)                                                                             \
    X(ncclCommGetAsyncError)                                                                       \
    X(ncclCommInitRank)                                                                            \
    X(ncclGetErrorString)                                                                          \
    X(ncclGetUniqueId)                                                                             \
    X(ncclGetVersion)                                                                              \
    X(ncclGroupEnd)                                                                                \
    X(ncclGroupStart)                                                                              \
    X(ncclRecv)                                                                                    \
    X(ncclSend)
#endif

#define HM_LIB_POINTER_(f) __typeof__(f) *f;
typedef struct hm_lt_api {
    HM_LT_FUNCTIONS(HM_LIB_POINTER_)
} hm_lt_api;
typedef struct hm_cufft_api {
    HM_CUFFT_FUNCTIONS(HM_LIB_POINTER_)
} hm_cufft_api;
#ifdef HETMATH_HAVE_NCCL
typedef struct hm_nccl_api {
    HM_NCCL_FUNCTIONS(HM_LIB_POINTER_)
} hm_nccl_api;
extern hm_nccl_api hm__nccl_api;
#define HM_NCCL(f) (hm__nccl_api.f)
/* Loads NCCL (its soname, else the library CMake found) on the first call of the process. */
hm_status hm__cuda_load_nccl(hm_context *ctx);
#endif
#undef HM_LIB_POINTER_

/* The loaded tables. Call through HM_LT(f) / HM_CUFFT(f) only after the load succeeded. */
extern hm_lt_api hm__lt_api;
extern hm_cufft_api hm__cufft_api;
#define HM_LT(f)    (hm__lt_api.f)
#define HM_CUFFT(f) (hm__cufft_api.f)

/* Loads the library on the first call of the process; HM_STATUS_CUDA_UNAVAILABLE (naming the
 * library and why) when it cannot be loaded or lacks a function. */
hm_status hm__cuda_load_lt(hm_context *ctx);
hm_status hm__cuda_load_cufft(hm_context *ctx);

#endif
