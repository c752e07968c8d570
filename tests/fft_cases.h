/* The FFT test table, run by test_fft_cpu (host memory, CPU execution) and test_fft_cuda
 * (device memory on cuda:0, and host/device memory with the other execution space). Each case is
 * checked against a double-precision reference DFT computed axis by axis. */
#ifndef HETMATH_TESTS_FFT_CASES_H
#define HETMATH_TESTS_FFT_CASES_H

#include <complex.h>

#include "check.h"

enum layout { ROW = 0, COL = 1, PADDED = 2 }; /* PADDED: row-major with every stride doubled */

typedef struct fft_case {
    const char *what;
    hm_fft_type type;
    hm_dtype dtype; /* of x */
    int ndim;
    int64_t shape[4];
    int num_axes;
    int axes[3];
    enum layout x_layout, y_layout; /* y_layout -1: let the library allocate */
    hm_fft_direction dir;
    hm_fft_norm norm;
    int in_place;
} fft_case;

#define F   HM_FFT_FORWARD
#define INV HM_FFT_INVERSE
#define NB  HM_FFT_NORM_BACKWARD
static const fft_case fft_cases[] = {
    {"c64 1-D 8", HM_FFT_C2C, HM_DTYPE_C64, 1, {8}, 0, {0}, ROW, ROW, F, NB, 0},
    {"c64 1-D prime 7", HM_FFT_C2C, HM_DTYPE_C64, 1, {7}, 0, {0}, ROW, ROW, F, NB, 0},
    {"c128 1-D prime 97 inverse", HM_FFT_C2C, HM_DTYPE_C128, 1, {97}, 0, {0}, ROW, ROW, INV, NB, 0},
    {"c64 1-D prime 10007", HM_FFT_C2C, HM_DTYPE_C64, 1, {10007}, 0, {0}, ROW, -1, F, NB, 0},
    {"c128 1-D mixed 360",
     HM_FFT_C2C,
     HM_DTYPE_C128,
     1,
     {360},
     0,
     {0},
     ROW,
     ROW,
     F,
     HM_FFT_NORM_ORTHO,
     0},
    /* Long enough for the CPU backend's split into two passes (n1 x n2, both >= 16): scaled,
     * strided, in place, batched and along a strided axis. */
    {"c64 1-D 4096 norm forward",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     1,
     {4096},
     0,
     {0},
     ROW,
     ROW,
     F,
     HM_FFT_NORM_FORWARD,
     0},
    {"c128 1-D 1000 inverse, padded",
     HM_FFT_C2C,
     HM_DTYPE_C128,
     1,
     {1000},
     0,
     {0},
     PADDED,
     PADDED,
     INV,
     NB,
     0},
    {"c64 1-D 2304 in place, ortho inverse",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     1,
     {2304},
     0,
     {0},
     ROW,
     ROW,
     INV,
     HM_FFT_NORM_ORTHO,
     1},
    {"c64 rows of 1024, axis 1 of 3",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     2,
     {3, 1024},
     1,
     {1},
     ROW,
     ROW,
     F,
     NB,
     0},
    {"c128 axis 0 of 576x3", HM_FFT_C2C, HM_DTYPE_C128, 2, {576, 3}, 1, {0}, ROW, -1, F, NB, 0},
    {"c64 2-D 12x10", HM_FFT_C2C, HM_DTYPE_C64, 2, {12, 10}, 0, {0}, ROW, ROW, F, NB, 0},
    {"c128 2-D col-major in",
     HM_FFT_C2C,
     HM_DTYPE_C128,
     2,
     {9, 6},
     0,
     {0},
     COL,
     ROW,
     INV,
     HM_FFT_NORM_FORWARD,
     0},
    {"c64 3-D 4x6x5",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     3,
     {4, 6, 5},
     0,
     {0},
     ROW,
     ROW,
     F,
     HM_FFT_NORM_NONE,
     0},
    {"c64 batched axis 1 of 3",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     3,
     {3, 16, 5},
     1,
     {1},
     ROW,
     ROW,
     F,
     NB,
     0},
    {"c128 axis 0 of 2, padded",
     HM_FFT_C2C,
     HM_DTYPE_C128,
     2,
     {15, 4},
     1,
     {0},
     PADDED,
     COL,
     INV,
     NB,
     0},
    {"c64 axes (2,0) of 3", HM_FFT_C2C, HM_DTYPE_C64, 3, {6, 3, 10}, 2, {2, 0}, ROW, ROW, F, NB, 0},
    {"c64 axis -1 batched 4-D",
     HM_FFT_C2C,
     HM_DTYPE_C64,
     4,
     {2, 3, 2, 32},
     1,
     {-1},
     ROW,
     ROW,
     F,
     NB,
     0},
    {"c64 in place", HM_FFT_C2C, HM_DTYPE_C64, 2, {8, 12}, 0, {0}, ROW, ROW, F, NB, 1},
    {"c128 in place inverse, padded",
     HM_FFT_C2C,
     HM_DTYPE_C128,
     2,
     {5, 6},
     1,
     {1},
     PADDED,
     PADDED,
     INV,
     NB,
     1},
    {"r2c f32 1-D 64", HM_FFT_R2C, HM_DTYPE_F32, 1, {64}, 0, {0}, ROW, ROW, F, NB, 0},
    {"r2c f64 1-D odd 45",
     HM_FFT_R2C,
     HM_DTYPE_F64,
     1,
     {45},
     0,
     {0},
     ROW,
     -1,
     F,
     HM_FFT_NORM_ORTHO,
     0},
    {"r2c f32 2-D batched", HM_FFT_R2C, HM_DTYPE_F32, 3, {3, 8, 10}, 2, {1, 2}, ROW, ROW, F, NB, 0},
    {"r2c f64 axis 0 col-major", HM_FFT_R2C, HM_DTYPE_F64, 2, {14, 3}, 1, {0}, COL, COL, F, NB, 0},
    {"c2r c64 1-D 33 -> 64", HM_FFT_C2R, HM_DTYPE_C64, 1, {33}, 0, {0}, ROW, ROW, INV, NB, 0},
    {"c2r c128 2-D", HM_FFT_C2R, HM_DTYPE_C128, 2, {6, 5}, 0, {0}, ROW, -1, INV, NB, 0},
    {"c2r c64 3-D batched axes (0,2)",
     HM_FFT_C2R,
     HM_DTYPE_C64,
     3,
     {4, 3, 9},
     2,
     {0, 2},
     PADDED,
     ROW,
     INV,
     HM_FFT_NORM_FORWARD,
     0},
};
#undef F
#undef INV
#undef NB

static int is_cplx(hm_dtype d)
{
    return d == HM_DTYPE_C64 || d == HM_DTYPE_C128;
}

static int is_double(hm_dtype d)
{
    return d == HM_DTYPE_F64 || d == HM_DTYPE_C128;
}

static void layout_strides(int ndim, const int64_t *shape, enum layout l, int64_t *strides)
{
    int64_t s = 1;
    if (l == COL) {
        for (int i = 0; i < ndim; i++) {
            strides[i] = s;
            s *= shape[i];
        }
        return;
    }
    /* ROW: row-major. PADDED: every other element, and each row one element longer. */
    s = l == PADDED ? 2 : 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] + (l == PADDED ? 1 : 0);
    }
}

static int64_t span_of(int ndim, const int64_t *shape, const int64_t *strides)
{
    int64_t hi = 0;
    for (int i = 0; i < ndim; i++)
        hi += (shape[i] - 1) * strides[i];
    return hi + 1;
}

static double complex get(const void *base, hm_dtype dt, int64_t off)
{
    switch (dt) {
    case HM_DTYPE_F32:
        return ((const float *)base)[off];
    case HM_DTYPE_F64:
        return ((const double *)base)[off];
    case HM_DTYPE_C64:
        return ((const float *)base)[2 * off] + I * ((const float *)base)[2 * off + 1];
    default:
        return ((const double *)base)[2 * off] + I * ((const double *)base)[2 * off + 1];
    }
}

static void put(void *base, hm_dtype dt, int64_t off, double complex v)
{
    switch (dt) {
    case HM_DTYPE_F32:
        ((float *)base)[off] = (float)creal(v);
        break;
    case HM_DTYPE_F64:
        ((double *)base)[off] = creal(v);
        break;
    case HM_DTYPE_C64:
        ((float *)base)[2 * off] = (float)creal(v);
        ((float *)base)[2 * off + 1] = (float)cimag(v);
        break;
    default:
        ((double *)base)[2 * off] = creal(v);
        ((double *)base)[2 * off + 1] = cimag(v);
        break;
    }
}

/* In-place naive DFT of a row-major double complex array along axis `ax` with length n. */
static void dft_axis(double complex *a, int ndim, const int64_t *shape, int ax, int sign)
{
    int64_t n = shape[ax], inner = 1, outer = 1;
    for (int i = ax + 1; i < ndim; i++)
        inner *= shape[i];
    for (int i = 0; i < ax; i++)
        outer *= shape[i];
    double complex *tmp = malloc(sizeof *tmp * (size_t)n), *tw = malloc(sizeof *tw * (size_t)n);
    for (int64_t k = 0; k < n; k++)
        tw[k] = cexp(sign * 2.0 * M_PI * I * (double)k / (double)n);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            double complex *base = a + o * n * inner + in;
            for (int64_t k = 0; k < n; k++) {
                double complex s = 0;
                for (int64_t j = 0; j < n; j++)
                    s += base[j * inner] * tw[(j * k) % n];
                tmp[k] = s;
            }
            for (int64_t k = 0; k < n; k++)
                base[k * inner] = tmp[k];
        }
    free(tmp);
    free(tw);
}

/* Fills x (host, layout of t) with random values; for c2r, makes it the spectrum of a real
 * signal so every backend agrees on the result. Returns the reference output, row-major, in
 * double complex, of the shape of the output. */
static double complex *reference(const fft_case *c, const hm_tensor *x, const int *axes, int rank,
                                 const int64_t *out_shape, unsigned long long *seed)
{
    int nd = c->ndim;
    int64_t n_in = 1, n_out = 1;
    for (int i = 0; i < nd; i++) {
        n_in *= c->shape[i];
        n_out *= out_shape[i];
    }
    int last = axes[rank - 1];
    int sign = c->dir == HM_FFT_FORWARD ? -1 : 1;
    double complex *ref = calloc((size_t)n_out, sizeof *ref);
    if (c->type == HM_FFT_C2R) {
        /* Build a real signal r (shape out_shape), x = its r2c spectrum; then ref = n-scaled r. */
        double complex *full = calloc((size_t)n_out, sizeof *full);
        for (int64_t i = 0; i < n_out; i++)
            full[i] = hm_test_rand(seed);
        memcpy(ref, full, sizeof *ref * (size_t)n_out);
        for (int i = 0; i < rank; i++)
            dft_axis(full, nd, out_shape, axes[i], -1);
        /* x = full restricted to the halved axis */
        int64_t idx[4] = {0};
        for (int64_t e = 0; e < n_in; e++) {
            int64_t fo = 0, xo = 0, s = 1;
            for (int i = nd - 1; i >= 0; i--) {
                fo += idx[i] * s;
                s *= out_shape[i];
                xo += idx[i] * x->strides[i];
            }
            put(x->data, c->dtype, xo, full[fo]);
            for (int i = nd - 1; i >= 0; i--) {
                if (++idx[i] < c->shape[i])
                    break;
                idx[i] = 0;
            }
        }
        free(full);
        double n = 1;
        for (int i = 0; i < rank; i++)
            n *= (double)out_shape[axes[i]];
        for (int64_t i = 0; i < n_out; i++)
            ref[i] *= n; /* an unnormalised inverse of the forward spectrum */
    } else {
        double complex *full = calloc((size_t)n_in, sizeof *full);
        int64_t idx[4] = {0};
        for (int64_t e = 0; e < n_in; e++) {
            double complex v = hm_test_rand(seed);
            if (is_cplx(c->dtype))
                v += I * hm_test_rand(seed);
            int64_t xo = 0;
            for (int i = 0; i < nd; i++)
                xo += idx[i] * x->strides[i];
            put(x->data, c->dtype, xo, v);
            full[e] = get(x->data, c->dtype, xo); /* the rounded value */
            for (int i = nd - 1; i >= 0; i--) {
                if (++idx[i] < c->shape[i])
                    break;
                idx[i] = 0;
            }
        }
        for (int i = 0; i < rank; i++)
            dft_axis(full, nd, c->shape, axes[i], sign);
        if (c->type == HM_FFT_R2C) {
            int64_t oidx[4] = {0};
            for (int64_t e = 0; e < n_out; e++) {
                int64_t fo = 0, s = 1;
                for (int i = nd - 1; i >= 0; i--) {
                    fo += oidx[i] * s;
                    s *= c->shape[i];
                }
                ref[e] = full[fo];
                for (int i = nd - 1; i >= 0; i--) {
                    if (++oidx[i] < out_shape[i])
                        break;
                    oidx[i] = 0;
                }
            }
        } else {
            memcpy(ref, full, sizeof *ref * (size_t)n_out);
        }
        free(full);
        (void)last;
    }
    double n = 1;
    for (int i = 0; i < rank; i++)
        n *= (double)out_shape[axes[i]] > (double)c->shape[axes[i]] ? (double)out_shape[axes[i]]
                                                                    : (double)c->shape[axes[i]];
    double scale = 1;
    int fwd = c->dir == HM_FFT_FORWARD;
    switch (c->norm) {
    case HM_FFT_NORM_BACKWARD:
        scale = fwd ? 1 : 1 / n;
        break;
    case HM_FFT_NORM_FORWARD:
        scale = fwd ? 1 / n : 1;
        break;
    case HM_FFT_NORM_ORTHO:
        scale = 1 / sqrt(n);
        break;
    default:
        break;
    }
    for (int64_t i = 0; i < n_out; i++)
        ref[i] *= scale;
    return ref;
}

/* Runs every case with operands in `memory` and execution `exec`. Returns failures. */
static void run_fft_cases(hm_context *ctx, hm_device memory, hm_execution exec, int expect_h2d,
                          const char *label)
{
    unsigned long long seed = 0x9e3779b97f4a7c15ULL;
    for (size_t ci = 0; ci < sizeof fft_cases / sizeof fft_cases[0]; ci++) {
        const fft_case *c = &fft_cases[ci];
        int nd = c->ndim, rank = c->num_axes ? c->num_axes : nd, axes[3];
        for (int i = 0; i < rank; i++)
            axes[i] = c->num_axes ? (c->axes[i] < 0 ? c->axes[i] + nd : c->axes[i]) : i;
        int last = axes[rank - 1];
        int64_t out_shape[4];
        memcpy(out_shape, c->shape, sizeof out_shape);
        hm_dtype ydt = c->dtype;
        if (c->type == HM_FFT_R2C) {
            out_shape[last] = c->shape[last] / 2 + 1;
            ydt = is_double(c->dtype) ? HM_DTYPE_C128 : HM_DTYPE_C64;
        } else if (c->type == HM_FFT_C2R) {
            out_shape[last] = 2 * (c->shape[last] - 1);
            ydt = is_double(c->dtype) ? HM_DTYPE_F64 : HM_DTYPE_F32;
        }
        /* x on the host with its layout; poison the gaps */
        int64_t xs[4], ys[4];
        layout_strides(nd, c->shape, c->x_layout, xs);
        int64_t xspan = span_of(nd, c->shape, xs);
        size_t xes = hm_dtype_size(c->dtype), yes = hm_dtype_size(ydt);
        void *xh = malloc((size_t)xspan * xes);
        memset(xh, 0x7f, (size_t)xspan * xes);
        hm_tensor xt;
        CHECK_STATUS(hm_tensor_init(&xt, xh, hm_device_host(), c->dtype, nd, c->shape, xs),
                     HM_STATUS_SUCCESS);
        double complex *ref = reference(c, &xt, axes, rank, out_shape, &seed);
        void *xcopy = malloc((size_t)xspan * xes);
        memcpy(xcopy, xh, (size_t)xspan * xes);

        /* x and y in the memory space under test */
        hm_tensor x = xt, y;
        int64_t one_d;
        hm_tensor raw_h, raw_d;
        void *xdev = NULL, *ydev = NULL;
        if (memory.type == HM_DEVICE_CUDA) {
            one_d = xspan * (int64_t)(xes / hm_dtype_size(HM_DTYPE_F32));
            hm_tensor_init(&raw_h, xh, hm_device_host(), HM_DTYPE_F32, 1, &one_d, NULL);
            hm_tensor buf;
            CHECK_STATUS(hm_tensor_alloc(ctx, memory, HM_DTYPE_F32, 1, &one_d, &buf),
                         HM_STATUS_SUCCESS);
            raw_d = buf;
            CHECK_STATUS(hm_copy(ctx, &raw_h, &raw_d), HM_STATUS_SUCCESS);
            xdev = buf.data;
            x.data = xdev;
            x.device = memory;
        }
        int allocate = c->y_layout == (enum layout) - 1 && !c->in_place;
        int64_t yspan = 0;
        void *yh = NULL;
        if (c->in_place) {
            y = x; /* the same view, described with other values beyond ndim */
            for (int i = nd; i < HM_MAX_NDIM; i++)
                y.shape[i] = y.strides[i] = 777 + i;
        } else if (allocate) {
            memset(&y, 0, sizeof y);
        } else {
            layout_strides(nd, out_shape, c->y_layout, ys);
            yspan = span_of(nd, out_shape, ys);
            yh = malloc((size_t)yspan * yes);
            memset(yh, 0x7f, (size_t)yspan * yes);
            CHECK_STATUS(hm_tensor_init(&y, yh, hm_device_host(), ydt, nd, out_shape, ys),
                         HM_STATUS_SUCCESS);
            if (memory.type == HM_DEVICE_CUDA) {
                int64_t n32 = yspan * (int64_t)(yes / 4);
                hm_tensor buf;
                CHECK_STATUS(hm_tensor_alloc(ctx, memory, HM_DTYPE_F32, 1, &n32, &buf),
                             HM_STATUS_SUCCESS);
                ydev = buf.data;
                y.data = ydev;
                y.device = memory;
            }
        }
        hm_fft_options o;
        hm_fft_options_init(&o);
        o.type = c->type;
        o.direction = c->dir;
        o.norm = c->norm;
        o.num_axes = c->num_axes;
        memcpy(o.axes, c->axes, sizeof o.axes);
        o.execution = exec;
        o.blocking = 1;
        hm_ledger_reset(ctx);
        hm_status st = hm_fft(ctx, &x, &y, &o);
        if (st != HM_STATUS_SUCCESS)
            fprintf(stderr, "[%s] case '%s': %s\n", label, c->what, hm_context_last_error(ctx));
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        hm_transfer_totals tot;
        hm_ledger_totals(ctx, &tot);
        uint64_t crossed = tot.bytes[HM_TRANSFER_H2D] + tot.bytes[HM_TRANSFER_D2H];
        if (expect_h2d) {
            size_t xb = (size_t)hm_tensor_numel(&x) * xes, yb = (size_t)hm_tensor_numel(&y) * yes;
            int host_mem = memory.type != HM_DEVICE_CUDA;
            CHECK_EQ_INT(tot.bytes[host_mem ? HM_TRANSFER_H2D : HM_TRANSFER_D2H], xb);
            CHECK_EQ_INT(tot.bytes[host_mem ? HM_TRANSFER_D2H : HM_TRANSFER_H2D], yb);
        } else {
            CHECK_EQ_INT(crossed, 0);
        }
        if (st == HM_STATUS_SUCCESS) {
            /* the result, row-major on the host */
            int64_t n_out = 1;
            for (int i = 0; i < nd; i++)
                n_out *= out_shape[i];
            void *got = malloc((size_t)n_out * yes);
            hm_tensor g;
            hm_tensor_init(&g, got, hm_device_host(), ydt, nd, out_shape, NULL);
            CHECK(y.dtype == ydt && hm_tensor_numel(&y) == n_out);
            CHECK(y.device.type == memory.type && y.device.id == memory.id);
            CHECK_STATUS(hm_copy(ctx, &y, &g), HM_STATUS_SUCCESS);
            double num = 0, den = 0;
            for (int64_t i = 0; i < n_out; i++) {
                double complex v = get(got, ydt, i), r = ref[i];
                num += creal((v - r) * conj(v - r));
                den += creal(r * conj(r));
            }
            double err = sqrt(num / (den > 0 ? den : 1));
            double tol = is_double(c->dtype) ? 1e-12 : 3e-6;
            char what[160];
            snprintf(what, sizeof what, "[%s] %s", label, c->what);
            CHECK_NEAR(err, tol, what);
            free(got);
            /* x unchanged (unless in place) */
            if (!c->in_place) {
                if (memory.type == HM_DEVICE_CUDA) {
                    memset(xh, 0, (size_t)xspan * xes);
                    CHECK_STATUS(hm_copy(ctx, &raw_d, &raw_h), HM_STATUS_SUCCESS);
                }
                CHECK(memcmp(xh, xcopy, (size_t)xspan * xes) == 0);
            }
        }
        if (allocate && st == HM_STATUS_SUCCESS)
            hm_tensor_free(ctx, &y);
        if (xdev) {
            hm_tensor t = raw_d;
            hm_tensor_free(ctx, &t);
        }
        if (ydev) {
            hm_tensor t = y;
            t.data = ydev;
            hm_tensor_free(ctx, &t);
        }
        free(yh);
        free(xh);
        free(xcopy);
        free(ref);
    }
}

#endif

/* ---- large sizes: FFTW-style properties instead of a reference ------------------------- */

/* A c64 vector of n elements in `memory`, filled from host data h (NULL: uninitialised). */
static hm_tensor vec_in(hm_context *ctx, hm_device memory, int64_t n, const float *h)
{
    hm_tensor t, src;
    CHECK_STATUS(hm_tensor_alloc(ctx, memory, HM_DTYPE_C64, 1, &n, &t), HM_STATUS_SUCCESS);
    if (h) {
        hm_tensor_init(&src, (void *)h, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
        CHECK_STATUS(hm_copy(ctx, &src, &t), HM_STATUS_SUCCESS);
    }
    return t;
}

static void vec_out(hm_context *ctx, const hm_tensor *t, float *h)
{
    hm_tensor dst;
    int64_t n = t->shape[0];
    hm_tensor_init(&dst, h, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    CHECK_STATUS(hm_copy(ctx, t, &dst), HM_STATUS_SUCCESS);
}

static double rel_l2(const float *a, const float *b, int64_t n2)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n2; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static void run_fft_properties(hm_context *ctx, hm_device memory, hm_execution exec, int log2n,
                               const char *label)
{
    const int64_t n = (int64_t)1 << log2n;
    unsigned long long seed = 12345 + (unsigned long long)log2n;
    float *x = malloc(sizeof(float) * 2 * (size_t)n), *z = malloc(sizeof(float) * 2 * (size_t)n);
    float *X = malloc(sizeof(float) * 2 * (size_t)n), *Z = malloc(sizeof(float) * 2 * (size_t)n);
    float *W = malloc(sizeof(float) * 2 * (size_t)n);
    for (int64_t i = 0; i < 2 * n; i++) {
        x[i] = (float)hm_test_rand(&seed);
        z[i] = (float)hm_test_rand(&seed);
    }
    hm_fft_options fwd, inv;
    hm_fft_options_init(&fwd);
    fwd.execution = exec;
    fwd.blocking = 1;
    inv = fwd;
    inv.direction = HM_FFT_INVERSE;
    hm_tensor tx = vec_in(ctx, memory, n, x), tz = vec_in(ctx, memory, n, z);
    hm_tensor tX = vec_in(ctx, memory, n, NULL), tZ = vec_in(ctx, memory, n, NULL);
    char what[96];
    CHECK_STATUS(hm_fft(ctx, &tx, &tX, &fwd), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft(ctx, &tz, &tZ, &fwd), HM_STATUS_SUCCESS);
    vec_out(ctx, &tX, X);
    vec_out(ctx, &tZ, Z);
    /* Parseval: sum |X|^2 = n sum |x|^2 */
    double ex = 0, eX = 0;
    for (int64_t i = 0; i < 2 * n; i++) {
        ex += (double)x[i] * x[i];
        eX += (double)X[i] * X[i];
    }
    snprintf(what, sizeof what, "[%s] Parseval 2^%d", label, log2n);
    CHECK_NEAR(fabs(eX - (double)n * ex) / ((double)n * ex), 1e-5, what);
    /* Round trip: ifft(fft(x)) = x */
    CHECK_STATUS(hm_fft(ctx, &tX, &tz, &inv), HM_STATUS_SUCCESS);
    vec_out(ctx, &tz, W);
    snprintf(what, sizeof what, "[%s] round trip 2^%d", label, log2n);
    CHECK_NEAR(rel_l2(W, x, 2 * n), 1e-5, what);
    /* Linearity: fft(2x - 3z) = 2X - 3Z */
    float *comb = W;
    for (int64_t i = 0; i < 2 * n; i++)
        comb[i] = 2 * x[i] - 3 * z[i];
    hm_tensor tc = vec_in(ctx, memory, n, comb);
    CHECK_STATUS(hm_fft(ctx, &tc, &tX, &fwd), HM_STATUS_SUCCESS);
    vec_out(ctx, &tX, W);
    float *expect = z; /* z is no longer needed on the host */
    for (int64_t i = 0; i < 2 * n; i++)
        expect[i] = 2 * X[i] - 3 * Z[i];
    snprintf(what, sizeof what, "[%s] linearity 2^%d", label, log2n);
    CHECK_NEAR(rel_l2(W, expect, 2 * n), 2e-5, what);
    /* Shift: x delayed by s has the spectrum X[k] exp(-2 pi i k s / n). */
    const int64_t s = n / 5 + 3;
    for (int64_t j = 0; j < n; j++) {
        int64_t from = (j - s % n + n) % n;
        comb[2 * j] = x[2 * from];
        comb[2 * j + 1] = x[2 * from + 1];
    }
    hm_tensor ts = vec_in(ctx, memory, n, comb);
    CHECK_STATUS(hm_fft(ctx, &ts, &tX, &fwd), HM_STATUS_SUCCESS);
    vec_out(ctx, &tX, W);
    for (int64_t k = 0; k < n; k++) {
        double ang = -2.0 * M_PI * (double)((k * s) % n) / (double)n, c = cos(ang), si = sin(ang);
        expect[2 * k] = (float)(X[2 * k] * c - X[2 * k + 1] * si);
        expect[2 * k + 1] = (float)(X[2 * k] * si + X[2 * k + 1] * c);
    }
    snprintf(what, sizeof what, "[%s] shift 2^%d", label, log2n);
    CHECK_NEAR(rel_l2(W, expect, 2 * n), 2e-5, what);
    hm_tensor_free(ctx, &ts);
    /* Impulse at k0: X[j] = exp(-2 pi i j k0 / n) */
    int64_t k0 = n / 3 + 1;
    memset(x, 0, sizeof(float) * 2 * (size_t)n);
    x[2 * k0] = 1;
    hm_tensor ti = vec_in(ctx, memory, n, x);
    CHECK_STATUS(hm_fft(ctx, &ti, &tX, &fwd), HM_STATUS_SUCCESS);
    vec_out(ctx, &tX, W);
    double worst = 0;
    for (int64_t j = 0; j < n; j += 97) {
        double ang = -2.0 * M_PI * (double)((j * k0) % n) / (double)n;
        double dr = W[2 * j] - cos(ang), di = W[2 * j + 1] - sin(ang);
        double e = sqrt(dr * dr + di * di);
        worst = e > worst ? e : worst;
    }
    snprintf(what, sizeof what, "[%s] impulse 2^%d", label, log2n);
    CHECK_NEAR(worst, 1e-4, what);
    hm_tensor_free(ctx, &ti);
    hm_tensor_free(ctx, &tc);
    hm_tensor_free(ctx, &tx);
    hm_tensor_free(ctx, &tz);
    hm_tensor_free(ctx, &tX);
    hm_tensor_free(ctx, &tZ);
    free(x);
    free(z);
    free(X);
    free(Z);
    free(W);
}
