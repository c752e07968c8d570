/* The CPU backend: host memory, strided host copies, and the CPU operations (FFTW3, CBLAS). */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE, a Linux extension */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "backends/cpu/cpu.h"
#include "core/pool.h"

static hm_status cpu_probe(hm_context *ctx, int *count)
{
    (void)ctx;
    *count = 1;
    return HM_STATUS_SUCCESS;
}

static hm_status cpu_alloc(hm_context *ctx, hm_device device, size_t bytes, void **out)
{
    (void)device;
    /* 64-byte alignment suits every dtype, AVX-512 loads and FFTW's SIMD plans. From 4 MiB up,
     * 2 MiB alignment and transparent huge pages asked for, as NumPy does for its arrays (where
     * the kernel gives huge pages only when asked, as on Ubuntu's default): fewer TLB misses for
     * BLAS and FFTW on large operands, and like for like in the comparisons with NumPy. */
    size_t align = bytes >= ((size_t)4 << 20) ? ((size_t)2 << 20) : 64;
    size_t rounded = (bytes + align - 1) & ~(align - 1);
    void *p = rounded >= bytes ? aligned_alloc(align, rounded) : NULL;
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "host allocation of %zu bytes failed",
                        bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align > 64)
        (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: no huge pages is no error */
#endif
    *out = p;
    return HM_STATUS_SUCCESS;
}

static void cpu_free(hm_context *ctx, hm_device device, void *ptr, size_t bytes)
{
    (void)ctx;
    (void)device;
    (void)bytes;
    free(ptr);
}

static inline void copy_elem(char *d, const char *s, size_t es)
{
    switch (es) {
    case 2:
        memcpy(d, s, 2);
        break;
    case 4:
        memcpy(d, s, 4);
        break;
    case 8:
        memcpy(d, s, 8);
        break;
    default:
        memcpy(d, s, 16);
        break;
    }
}

static hm_status host_copy_strided(void *dst, const int64_t *dst_strides, const void *src,
                                   const int64_t *src_strides, const int64_t *shape, int ndim,
                                   size_t es)
{
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++)
        numel *= shape[i];
    if (numel == 0)
        return HM_STATUS_SUCCESS;
    if (ndim == 0) {
        copy_elem(dst, src, es);
        return HM_STATUS_SUCCESS;
    }
    int last = ndim - 1;
    int64_t n = shape[last], ss = src_strides[last], ds = dst_strides[last];
    int64_t idx[HM_MAX_NDIM] = {0};
    int64_t rows = numel / n;
    for (int64_t r = 0; r < rows; r++) {
        int64_t so = 0, dof = 0;
        for (int i = 0; i < last; i++) {
            so += idx[i] * src_strides[i];
            dof += idx[i] * dst_strides[i];
        }
        const char *s = (const char *)src + so * (int64_t)es;
        char *d = (char *)dst + dof * (int64_t)es;
        if ((ss == 1 && ds == 1) || n == 1) {
            memcpy(d, s, (size_t)n * es);
        } else {
            for (int64_t j = 0; j < n; j++)
                copy_elem(d + j * ds * (int64_t)es, s + j * ss * (int64_t)es, es);
        }
        for (int i = last - 1; i >= 0; i--) {
            if (++idx[i] < shape[i])
                break;
            idx[i] = 0;
        }
    }
    return HM_STATUS_SUCCESS;
}

/* A copy whose source is contiguous along one axis and whose destination along another (a
 * transpose, batched over the other axes), in 32 x 32 element tiles: each tile's source rows and
 * destination rows stay in cache, where an element-wise copy misses on every destination store.
 * Tiles are claimed by the worker threads as they go. */
typedef struct host_transpose {
    char *dst;
    const char *src;
    size_t es;
    int64_t na, nb, src_b, dst_a; /* the two axes' extents; the strides across them */
    int rest_ndim;
    int64_t rest_shape[HM_MAX_NDIM], rest_src[HM_MAX_NDIM], rest_dst[HM_MAX_NDIM];
    int64_t tiles_a, tiles_b;
} host_transpose;

enum { HOST_TILE = 32 };

static void transpose_tile(void *arg, int thread, int64_t block)
{
    (void)thread;
    const host_transpose *t = arg;
    int64_t per = t->tiles_a * t->tiles_b, z = block / per, tb = block % per;
    int64_t a0 = tb / t->tiles_b * HOST_TILE, b0 = tb % t->tiles_b * HOST_TILE;
    int64_t so = 0, d = 0;
    for (int k = t->rest_ndim - 1; k >= 0; k--) {
        int64_t c = z % t->rest_shape[k];
        z /= t->rest_shape[k];
        so += c * t->rest_src[k];
        d += c * t->rest_dst[k];
    }
    int64_t a1 = a0 + HOST_TILE < t->na ? a0 + HOST_TILE : t->na;
    int64_t b1 = b0 + HOST_TILE < t->nb ? b0 + HOST_TILE : t->nb;
    /* One loop per element size, so that each element moves as one load and one store (by a
     * memcpy of constant size: elements need only their component's alignment, c64's 4). */
#define HM_TILE_LOOP(N)                                                                            \
    do {                                                                                           \
        char *dd = t->dst + d * (N);                                                               \
        const char *ss = t->src + so * (N);                                                        \
        for (int64_t b = b0; b < b1; b++)                                                          \
            for (int64_t a = a0; a < a1; a++)                                                      \
                memcpy(dd + (a * t->dst_a + b) * (N), ss + (a + b * t->src_b) * (N), (N));         \
    } while (0)
    switch (t->es) {
    case 2:
        HM_TILE_LOOP(2);
        break;
    case 4:
        HM_TILE_LOOP(4);
        break;
    case 8:
        HM_TILE_LOOP(8);
        break;
    default:
        HM_TILE_LOOP(16);
        break;
    }
#undef HM_TILE_LOOP
}

/* The transpose form of a copy, when it has one: a source-contiguous axis, and another that is
 * contiguous in the destination. */
static bool as_transpose(const int64_t *dst_strides, const int64_t *src_strides,
                         const int64_t *shape, int ndim, host_transpose *t)
{
    int a = -1, b = -1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] > 1 && src_strides[k] == 1 && a < 0)
            a = k;
        if (shape[k] > 1 && dst_strides[k] == 1 && b < 0)
            b = k;
    }
    if (a < 0 || b < 0 || a == b)
        return false;
    t->na = shape[a];
    t->nb = shape[b];
    t->src_b = src_strides[b];
    t->dst_a = dst_strides[a];
    t->rest_ndim = 0;
    for (int k = 0; k < ndim; k++) {
        if (k == a || k == b || shape[k] == 1)
            continue;
        t->rest_shape[t->rest_ndim] = shape[k];
        t->rest_src[t->rest_ndim] = src_strides[k];
        t->rest_dst[t->rest_ndim] = dst_strides[k];
        t->rest_ndim++;
    }
    t->tiles_a = (t->na + HOST_TILE - 1) / HOST_TILE;
    t->tiles_b = (t->nb + HOST_TILE - 1) / HOST_TILE;
    return true;
}

/* Whether both views are the same row-major contiguous layout (extent-1 axes aside). */
static bool both_contiguous(const int64_t *a, const int64_t *b, const int64_t *shape, int ndim)
{
    int64_t expect = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        if (shape[i] == 1)
            continue;
        if (a[i] != expect || b[i] != expect)
            return false;
        expect *= shape[i];
    }
    return true;
}

/* From this size a contiguous host copy goes over the worker threads: one thread's memcpy
 * reaches a third or less of the memory bandwidth (docs/TUNING.md). */
#define HM_PARALLEL_COPY_BYTES ((size_t)8 << 20)

static hm_status cpu_copy_strided(hm_context *ctx, hm_device space, void *dst,
                                  const int64_t *dst_strides, const void *src,
                                  const int64_t *src_strides, const int64_t *shape, int ndim,
                                  size_t elem_size)
{
    (void)space;
    size_t bytes = elem_size;
    for (int i = 0; i < ndim; i++)
        bytes *= (size_t)shape[i];
    if (bytes >= HM_PARALLEL_COPY_BYTES && both_contiguous(dst_strides, src_strides, shape, ndim)) {
        hm__parallel_memcpy(ctx, dst, src, bytes, ctx->cpu_threads);
        return HM_STATUS_SUCCESS;
    }
    host_transpose t;
    if (bytes > 0 && as_transpose(dst_strides, src_strides, shape, ndim, &t)) {
        t.dst = dst;
        t.src = src;
        t.es = elem_size;
        int64_t tiles =
            t.tiles_a * t.tiles_b * (int64_t)(bytes / elem_size / (size_t)t.na / (size_t)t.nb);
        int threads = bytes >= HM_PARALLEL_COPY_BYTES ? ctx->cpu_threads : 1;
        hm__pool_run_blocks(ctx, threads, tiles, transpose_tile, &t);
        return HM_STATUS_SUCCESS;
    }
    return host_copy_strided(dst, dst_strides, src, src_strides, shape, ndim, elem_size);
}

/* IEEE binary16 and bfloat16 to and from float, rounding to nearest even. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf, NaN */
    } else if (exp) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else { /* zero or subnormal: man x 2^-24 */
        float f = (float)man * 5.9604644775390625e-8f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or NaN (kept quiet) */
        return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) /* rounds past the largest half */
        return (uint16_t)(sign | 0x7c00);
    if (ax < 0x38800000u) { /* below the smallest normal half: a multiple of 2^-24 */
        float v;
        memcpy(&v, &ax, 4);
        v = v * 16777216.0f; /* exact in float */
        uint32_t q = (uint32_t)v;
        float r = v - (float)q;
        if (r > 0.5f || (r == 0.5f && (q & 1)))
            q++;
        return (uint16_t)(sign | q);
    }
    uint32_t man = ax & 0x7fffff, exp = (ax >> 23) - 112;
    uint32_t h = (exp << 10) | (man >> 13), rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
        h++; /* may carry into the exponent, which is right */
    return (uint16_t)(sign | h);
}

static float bf16_to_float(uint16_t b)
{
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint16_t float_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40); /* NaN stays NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* One real component times factor; factor 0 writes zero whatever was there. */
static void scale_component(void *v, hm_dtype dtype, double factor)
{
    switch (dtype) {
    case HM_DTYPE_F16:
        *(uint16_t *)v =
            factor == 0 ? 0 : float_to_half(half_to_float(*(uint16_t *)v) * (float)factor);
        break;
    case HM_DTYPE_BF16:
        *(uint16_t *)v =
            factor == 0 ? 0 : float_to_bf16(bf16_to_float(*(uint16_t *)v) * (float)factor);
        break;
    case HM_DTYPE_F32:
    case HM_DTYPE_C64:
        *(float *)v = factor == 0 ? 0.0f : *(float *)v * (float)factor;
        break;
    default:
        *(double *)v = factor == 0 ? 0.0 : *(double *)v * factor;
        break;
    }
}

static hm_status cpu_scale(hm_context *ctx, const hm_tensor *t, double factor)
{
    (void)ctx;
    int64_t n = hm_tensor_numel(t), idx[HM_MAX_NDIM] = {0};
    int comps = t->dtype == HM_DTYPE_C64 || t->dtype == HM_DTYPE_C128 ? 2 : 1;
    size_t es = hm_dtype_size(t->dtype), part = es / (size_t)comps;
    for (int64_t e = 0; e < n; e++) {
        int64_t off = 0;
        for (int i = 0; i < t->ndim; i++)
            off += idx[i] * t->strides[i];
        char *elem = (char *)t->data + off * (int64_t)es;
        for (int c = 0; c < comps; c++)
            scale_component(elem + (size_t)c * part, t->dtype, factor);
        for (int i = t->ndim - 1; i >= 0; i--) {
            if (++idx[i] < t->shape[i])
                break;
            idx[i] = 0;
        }
    }
    return HM_STATUS_SUCCESS;
}

void hm_cpu_fft_options_init(hm_cpu_fft_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->split = HM_CPU_FFT_AUTO;
    opts->row_blocks = HM_CPU_FFT_AUTO;
    opts->wisdom_file = HM_CPU_FFT_AUTO;
}

hm_status hm_context_set_cpu_fft_options(hm_context *ctx, const hm_cpu_fft_options *opts)
{
    static const char *const fn = "hm_context_set_cpu_fft_options";
    HM_ENTER(ctx, fn);
    hm_cpu_fft_options o;
    hm_cpu_fft_options_init(&o);
    if (!opts)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the options are NULL", fn);
    if (opts->size < sizeof(size_t) || opts->size > sizeof o)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: options size %zu is not that of an hm_cpu_fft_options (%zu)", fn,
                        opts->size, sizeof o);
    memcpy(&o, opts, opts->size);
    if (o.split < HM_CPU_FFT_AUTO || o.split > HM_CPU_FFT_ALWAYS)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: split %d is not auto, never or always", fn, o.split);
    if (o.row_blocks < HM_CPU_FFT_AUTO || o.row_blocks > HM_CPU_FFT_STREAM)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: row_blocks %d is not auto, never, always or stream", fn, o.row_blocks);
    if (o.row_block_bytes > ((size_t)1 << 30))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: a block of %zu bytes is over 1 GiB",
                        fn, o.row_block_bytes);
    if (o.wisdom_file != HM_CPU_FFT_AUTO && o.wisdom_file != HM_CPU_FFT_NEVER)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: wisdom_file %d is neither auto nor never", fn, o.wisdom_file);
    if (o.wisdom_path && strlen(o.wisdom_path) >= sizeof ctx->cpu_fft_wisdom_path)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: the wisdom path is %zu bytes long (at most %zu)", fn,
                        strlen(o.wisdom_path), sizeof ctx->cpu_fft_wisdom_path - 1);
    o.size = sizeof o;
    if (o.wisdom_path) {
        memcpy(ctx->cpu_fft_wisdom_path, o.wisdom_path, strlen(o.wisdom_path) + 1);
        o.wisdom_path = ctx->cpu_fft_wisdom_path;
    }
    ctx->cpu_fft = o;
    return HM_STATUS_SUCCESS;
}

static void cpu_versions(hm_context *ctx, hm_library_versions *out)
{
    (void)ctx;
    hm__cpu_fft_version(out->fftw, sizeof out->fftw);
    hm__cpu_blas_version(out->blas, sizeof out->blas);
}

const hm_backend_ops hm__cpu_backend = {
    .name = "cpu",
    .exec_kind = HM_EXEC_CPU,
    .probe = cpu_probe,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .copy_strided = cpu_copy_strided,
    .scale = cpu_scale,
    .versions = cpu_versions,
    .op = {[HM_OP_FFT] = &hm__cpu_fft,
           [HM_OP_MATMUL] = &hm__cpu_matmul,
           [HM_OP_DIST_FFT] = HM_CPU_DIST_FFT,
           [HM_OP_DIST_MATMUL] = HM_CPU_DIST_MATMUL},
};
