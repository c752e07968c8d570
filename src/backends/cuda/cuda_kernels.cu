// Small device kernels the CUDA backend needs besides the libraries: strided copies (the
// transfer layer's pack and unpack, layout changes) and scaling (FFT normalisation, D = beta·C).
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace
{

constexpr int kMaxNdim = 8;

struct Layout {
    int ndim;
    int64_t shape[kMaxNdim];
    int64_t src_strides[kMaxNdim];
    int64_t dst_strides[kMaxNdim];
};

// 16-byte elements (c128) are only 8-byte aligned, so they move as two 8-byte words.
struct Pair64 {
    unsigned long long lo, hi;
};

template <typename T>
__global__ void strided_copy(T *__restrict__ dst, const T *__restrict__ src, Layout l,
                             int64_t numel)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, so = 0, d = 0;
        for (int k = l.ndim - 1; k >= 0; k--) {
            int64_t c = rem % l.shape[k];
            rem /= l.shape[k];
            so += c * l.src_strides[k];
            d += c * l.dst_strides[k];
        }
        dst[d] = src[so];
    }
}

// A real component as the arithmetic type, and back.
__device__ inline float load(const __half *p)
{
    return __half2float(*p);
}
__device__ inline void store(__half *p, float v)
{
    *p = __float2half_rn(v);
}
__device__ inline float load(const __nv_bfloat16 *p)
{
    return __bfloat162float(*p);
}
__device__ inline void store(__nv_bfloat16 *p, float v)
{
    *p = __float2bfloat16_rn(v);
}
__device__ inline float load(const float *p)
{
    return *p;
}
__device__ inline void store(float *p, float v)
{
    *p = v;
}
__device__ inline double load(const double *p)
{
    return *p;
}
__device__ inline void store(double *p, double v)
{
    *p = v;
}

// Scales every real component of the elements of a strided view (comps reals per element);
// factor 0 writes zeros, whatever was there (NaN included), as BLAS does for beta 0.
template <typename T, typename S>
__global__ void scale(T *data, Layout l, int comps, int64_t numel, S factor)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, off = 0;
        for (int k = l.ndim - 1; k >= 0; k--) {
            int64_t c = rem % l.shape[k];
            rem /= l.shape[k];
            off += c * l.dst_strides[k];
        }
        for (int c = 0; c < comps; c++) {
            T *p = &data[off * comps + c];
            store(p, factor == S(0) ? S(0) : load(p) * factor);
        }
    }
}

unsigned grid_for(int64_t n, int block)
{
    int64_t g = (n + block - 1) / block;
    return (unsigned)(g > 65535 * 8 ? 65535 * 8 : (g < 1 ? 1 : g));
}

} // namespace

extern "C" cudaError_t hm__cuda_launch_strided_copy(cudaStream_t stream, void *dst,
                                                    const int64_t *dst_strides, const void *src,
                                                    const int64_t *src_strides,
                                                    const int64_t *shape, int ndim,
                                                    size_t elem_size)
{
    Layout l;
    l.ndim = ndim;
    int64_t numel = 1;
    for (int k = 0; k < ndim; k++) {
        l.shape[k] = shape[k];
        l.src_strides[k] = src_strides[k];
        l.dst_strides[k] = dst_strides[k];
        numel *= shape[k];
    }
    if (numel == 0)
        return cudaSuccess;
    const int block = 256;
    unsigned grid = grid_for(numel, block);
    switch (elem_size) {
    case 2:
        strided_copy<<<grid, block, 0, stream>>>((uint16_t *)dst, (const uint16_t *)src, l, numel);
        break;
    case 4:
        strided_copy<<<grid, block, 0, stream>>>((uint32_t *)dst, (const uint32_t *)src, l, numel);
        break;
    case 8:
        strided_copy<<<grid, block, 0, stream>>>((uint64_t *)dst, (const uint64_t *)src, l, numel);
        break;
    case 16:
        strided_copy<<<grid, block, 0, stream>>>((Pair64 *)dst, (const Pair64 *)src, l, numel);
        break;
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

extern "C" cudaError_t hm__cuda_launch_scale(cudaStream_t stream, void *data, const int64_t *shape,
                                             const int64_t *strides, int ndim, int real_type,
                                             int comps, double factor)
{
    Layout l;
    l.ndim = ndim;
    int64_t numel = 1;
    for (int k = 0; k < ndim; k++) {
        l.shape[k] = shape[k];
        l.src_strides[k] = strides[k];
        l.dst_strides[k] = strides[k];
        numel *= shape[k];
    }
    if (numel == 0)
        return cudaSuccess;
    const int block = 256;
    unsigned grid = grid_for(numel, block);
    switch (real_type) { // HM_CUDA_REAL_* of cuda.h
    case 0:
        scale<<<grid, block, 0, stream>>>((__half *)data, l, comps, numel, (float)factor);
        break;
    case 1:
        scale<<<grid, block, 0, stream>>>((__nv_bfloat16 *)data, l, comps, numel, (float)factor);
        break;
    case 2:
        scale<<<grid, block, 0, stream>>>((float *)data, l, comps, numel, (float)factor);
        break;
    default:
        scale<<<grid, block, 0, stream>>>((double *)data, l, comps, numel, factor);
        break;
    }
    return cudaGetLastError();
}
