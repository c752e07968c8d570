// Small device kernels the CUDA backend needs besides the libraries: strided copies (the
// transfer layer's pack and unpack, layout changes; transposes through shared-memory tiles) and
// scaling (FFT normalisation, D = beta·C).
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

// A copy whose source is contiguous along axis a and whose destination is contiguous along
// another axis b (a transpose, possibly batched over the other axes): 32×32 tiles through shared
// memory, so that both the reads (along a) and the writes (along b) are coalesced. The batch
// (the other axes, `rest`) runs over blockIdx.z.
struct Transpose {
    int64_t na, nb;       // extents of a and b
    int64_t src_b, dst_a; // the source's stride along b, the destination's along a
    Layout rest;          // the other axes (shape and both strides)
    int64_t rest_numel;
};

constexpr int kTile = 32, kRows = 8;

template <typename T>
__global__ void tiled_transpose(T *__restrict__ dst, const T *__restrict__ src, Transpose t)
{
    __shared__ T tile[kTile][kTile + 1];
    const int64_t a0 = (int64_t)blockIdx.x * kTile, b0 = (int64_t)blockIdx.y * kTile;
    for (int64_t z = blockIdx.z; z < t.rest_numel; z += gridDim.z) {
        int64_t rem = z, so = 0, d = 0;
        for (int k = t.rest.ndim - 1; k >= 0; k--) {
            int64_t c = rem % t.rest.shape[k];
            rem /= t.rest.shape[k];
            so += c * t.rest.src_strides[k];
            d += c * t.rest.dst_strides[k];
        }
        for (int r = threadIdx.y; r < kTile; r += kRows) { // read along a
            int64_t a = a0 + threadIdx.x, b = b0 + r;
            if (a < t.na && b < t.nb)
                tile[r][threadIdx.x] = src[so + a + b * t.src_b];
        }
        __syncthreads();
        for (int r = threadIdx.y; r < kTile; r += kRows) { // write along b
            int64_t b = b0 + threadIdx.x, a = a0 + r;
            if (a < t.na && b < t.nb)
                dst[d + a * t.dst_a + b] = tile[threadIdx.x][r];
        }
        __syncthreads();
    }
}

// The transpose form of a copy, when it has one (a source-contiguous axis and another,
// destination-contiguous axis, and a grid that fits).
bool as_transpose(const int64_t *shape, const int64_t *ss, const int64_t *ds, int ndim,
                  Transpose *t)
{
    int a = -1, b = -1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] > 1 && ss[k] == 1 && a < 0)
            a = k;
        if (shape[k] > 1 && ds[k] == 1 && b < 0)
            b = k;
    }
    if (a < 0 || b < 0 || a == b)
        return false;
    t->na = shape[a];
    t->nb = shape[b];
    t->src_b = ss[b];
    t->dst_a = ds[a];
    t->rest.ndim = 0;
    t->rest_numel = 1;
    for (int k = 0; k < ndim; k++) {
        if (k == a || k == b || shape[k] == 1)
            continue;
        t->rest.shape[t->rest.ndim] = shape[k];
        t->rest.src_strides[t->rest.ndim] = ss[k];
        t->rest.dst_strides[t->rest.ndim] = ds[k];
        t->rest.ndim++;
        t->rest_numel *= shape[k];
    }
    return (t->nb + kTile - 1) / kTile <= 65535;
}

template <typename T>
void launch_transpose(cudaStream_t stream, void *dst, const void *src, const Transpose &t)
{
    dim3 block(kTile, kRows);
    int64_t z = t.rest_numel < 65535 ? t.rest_numel : 65535;
    dim3 grid((unsigned)((t.na + kTile - 1) / kTile), (unsigned)((t.nb + kTile - 1) / kTile),
              (unsigned)z);
    tiled_transpose<<<grid, block, 0, stream>>>((T *)dst, (const T *)src, t);
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
    Transpose t;
    if (as_transpose(shape, src_strides, dst_strides, ndim, &t) && elem_size >= 4) {
        switch (elem_size) {
        case 4:
            launch_transpose<uint32_t>(stream, dst, src, t);
            break;
        case 8:
            launch_transpose<uint64_t>(stream, dst, src, t);
            break;
        case 16:
            launch_transpose<Pair64>(stream, dst, src, t);
            break;
        default:
            return cudaErrorInvalidValue;
        }
        return cudaGetLastError();
    }
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
