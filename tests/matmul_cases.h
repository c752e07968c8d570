/* The matmul test table, run by test_matmul_cpu (host operands, CPU) and test_matmul_cuda
 * (device operands, and host operands on the GPU), against a double-precision reference. */
#ifndef HETMATH_TESTS_MATMUL_CASES_H
#define HETMATH_TESTS_MATMUL_CASES_H

#include <complex.h>

#include "check.h"

/* ---- f16 / bf16 storage ------------------------------------------------------------------- */

static uint16_t to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    if (exp <= 0)
        return (uint16_t)sign; /* tests use values far from the subnormal range */
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00);
    uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
        h++;
    return (uint16_t)h;
}

static float from_half(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    uint32_t x = exp == 0 ? sign : sign | ((exp - 15 + 127) << 23) | (mant << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint16_t to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

static float from_bf16(uint16_t b)
{
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static void mm_put(void *base, hm_dtype dt, int64_t i, double complex v)
{
    switch (dt) {
    case HM_DTYPE_F16:
        ((uint16_t *)base)[i] = to_half((float)creal(v));
        break;
    case HM_DTYPE_BF16:
        ((uint16_t *)base)[i] = to_bf16((float)creal(v));
        break;
    case HM_DTYPE_F32:
        ((float *)base)[i] = (float)creal(v);
        break;
    case HM_DTYPE_F64:
        ((double *)base)[i] = creal(v);
        break;
    case HM_DTYPE_C64:
        ((float *)base)[2 * i] = (float)creal(v);
        ((float *)base)[2 * i + 1] = (float)cimag(v);
        break;
    default:
        ((double *)base)[2 * i] = creal(v);
        ((double *)base)[2 * i + 1] = cimag(v);
        break;
    }
}

static double complex mm_get(const void *base, hm_dtype dt, int64_t i)
{
    switch (dt) {
    case HM_DTYPE_F16:
        return from_half(((const uint16_t *)base)[i]);
    case HM_DTYPE_BF16:
        return from_bf16(((const uint16_t *)base)[i]);
    case HM_DTYPE_F32:
        return ((const float *)base)[i];
    case HM_DTYPE_F64:
        return ((const double *)base)[i];
    case HM_DTYPE_C64:
        return ((const float *)base)[2 * i] + I * ((const float *)base)[2 * i + 1];
    default:
        return ((const double *)base)[2 * i] + I * ((const double *)base)[2 * i + 1];
    }
}

static double mm_tolerance(hm_dtype dt, int tf32)
{
    if (tf32)
        return 5e-3;
    switch (dt) {
    case HM_DTYPE_F16:
        return 5e-3;
    case HM_DTYPE_BF16:
        return 3e-2;
    case HM_DTYPE_F64:
    case HM_DTYPE_C128:
        return 1e-12;
    default:
        return 2e-5;
    }
}

/* ---- operands ------------------------------------------------------------------------------ */

enum mm_layout { MM_ROW = 0, MM_COL = 1, MM_PAD = 2 }; /* PAD: row-major, leading dim + 3 */

/* A host buffer of `shape` laid out as `l` (last two dims; batch dims outside, compact), filled
 * from `vals` (row-major logical order). Returns the host tensor; *buf owns the memory. */
static hm_tensor mm_host(hm_dtype dt, int ndim, const int64_t *shape, enum mm_layout l,
                         const double complex *vals, void **buf)
{
    int64_t strides[HM_MAX_NDIM];
    int64_t r = shape[ndim - 2], c = shape[ndim - 1];
    int64_t mat;
    if (l == MM_COL) {
        strides[ndim - 2] = 1;
        strides[ndim - 1] = r;
        mat = r * c;
    } else {
        int64_t ld = c + (l == MM_PAD ? 3 : 0);
        strides[ndim - 1] = 1;
        strides[ndim - 2] = ld;
        mat = r * ld;
    }
    int64_t s = mat;
    for (int d = ndim - 3; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
    }
    *buf = calloc((size_t)s, hm_dtype_size(dt));
    hm_tensor t;
    CHECK_STATUS(hm_tensor_init(&t, *buf, hm_device_host(), dt, ndim, shape, strides),
                 HM_STATUS_SUCCESS);
    int64_t n = hm_tensor_numel(&t), idx[HM_MAX_NDIM] = {0};
    for (int64_t e = 0; e < n; e++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++)
            off += idx[d] * strides[d];
        if (vals)
            mm_put(*buf, dt, off, vals[e]);
        for (int d = ndim - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    return t;
}

/* The same layout in `memory` (a raw copy of the host span through hm_copy). */
static hm_tensor mm_place(hm_context *ctx, const hm_tensor *h, hm_device memory, void **dev)
{
    *dev = NULL;
    if (memory.type == HM_DEVICE_HOST)
        return *h;
    int64_t span = 1;
    for (int d = 0; d < h->ndim; d++)
        span += (h->shape[d] - 1) * h->strides[d];
    int64_t bytes = span * (int64_t)hm_dtype_size(h->dtype);
    hm_tensor raw_h, raw_d;
    int64_t n16 = bytes / 2;
    hm_tensor_init(&raw_h, h->data, hm_device_host(), HM_DTYPE_F16, 1, &n16, NULL);
    CHECK_STATUS(hm_tensor_alloc(ctx, memory, HM_DTYPE_F16, 1, &n16, &raw_d), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &raw_h, &raw_d), HM_STATUS_SUCCESS);
    *dev = raw_d.data;
    hm_tensor t = *h;
    t.data = raw_d.data;
    t.device = memory;
    return t;
}

static void mm_free(hm_context *ctx, hm_device memory, void *p)
{
    if (!p)
        return;
    hm_tensor t;
    memset(&t, 0, sizeof t);
    t.device = memory;
    t.data = p;
    hm_tensor_free(ctx, &t);
}

/* Brings any tensor back to a row-major host array of double complex. */
static double complex *mm_fetch(hm_context *ctx, const hm_tensor *t)
{
    int64_t n = hm_tensor_numel(t);
    void *buf = malloc((size_t)n * hm_dtype_size(t->dtype));
    hm_tensor h;
    hm_tensor_init(&h, buf, hm_device_host(), t->dtype, t->ndim, t->shape, NULL);
    CHECK_STATUS(hm_copy(ctx, t, &h), HM_STATUS_SUCCESS);
    double complex *out = malloc(sizeof *out * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = mm_get(buf, t->dtype, i);
    free(buf);
    return out;
}

/* ---- the table ----------------------------------------------------------------------------- */

typedef struct mm_case {
    const char *what;
    hm_dtype dtype;
    int a_nd, b_nd;
    int64_t a_shape[4], b_shape[4];
    enum mm_layout la, lb, ld; /* ld -1: D allocated by hetmath */
    double alpha, beta;
    int with_c; /* 1: a separate C; 0: none (C is D) */
} mm_case;

static const mm_case mm_cases[] = {
    {"f32 square", HM_DTYPE_F32, 2, 2, {16, 16}, {16, 16}, MM_ROW, MM_ROW, MM_ROW, 1, 0, 0},
    {"f32 odd, A col-major", HM_DTYPE_F32, 2, 2, {13, 7}, {7, 9}, MM_COL, MM_ROW, MM_ROW, 1, 0, 0},
    {"f32 B col-major, D col-major",
     HM_DTYPE_F32,
     2,
     2,
     {5, 11},
     {11, 6},
     MM_ROW,
     MM_COL,
     MM_COL,
     2,
     0,
     0},
    {"f64 padded, alpha beta C",
     HM_DTYPE_F64,
     2,
     2,
     {9, 4},
     {4, 10},
     MM_PAD,
     MM_PAD,
     MM_PAD,
     0.5,
     -2,
     1},
    {"f64 beta into D", HM_DTYPE_F64, 2, 2, {6, 6}, {6, 3}, MM_COL, MM_COL, MM_ROW, 1, 1, 0},
    {"c64 all col-major", HM_DTYPE_C64, 2, 2, {7, 5}, {5, 4}, MM_COL, MM_COL, MM_COL, 1, 0, 0},
    {"c128 with C", HM_DTYPE_C128, 2, 2, {4, 8}, {8, 3}, MM_ROW, MM_COL, MM_ROW, -1, 0.25, 1},
    {"f32 D allocated", HM_DTYPE_F32, 2, 2, {12, 3}, {3, 12}, MM_ROW, MM_ROW, -1, 1, 0, 0},
    {"f32 batched 3-D", HM_DTYPE_F32, 3, 3, {4, 6, 5}, {4, 5, 7}, MM_ROW, MM_ROW, MM_ROW, 1, 0, 0},
    {"f64 batch broadcast B",
     HM_DTYPE_F64,
     3,
     2,
     {3, 5, 4},
     {4, 6},
     MM_ROW,
     MM_COL,
     MM_ROW,
     1,
     0,
     0},
    {"f32 batch broadcast A",
     HM_DTYPE_F32,
     2,
     3,
     {5, 4},
     {3, 4, 6},
     MM_COL,
     MM_ROW,
     MM_COL,
     1,
     0,
     0},
    {"c64 4-D broadcast (2,1)x(1,3)",
     HM_DTYPE_C64,
     4,
     4,
     {2, 1, 3, 4},
     {1, 3, 4, 2},
     MM_ROW,
     MM_ROW,
     MM_ROW,
     1,
     0,
     0},
    {"f32 batched with C and beta",
     HM_DTYPE_F32,
     3,
     3,
     {2, 3, 3},
     {2, 3, 4},
     MM_PAD,
     MM_COL,
     MM_ROW,
     1,
     1,
     1},
    {"f32 vector-shaped", HM_DTYPE_F32, 2, 2, {1, 8}, {8, 1}, MM_ROW, MM_ROW, MM_ROW, 1, 0, 0},
};

typedef struct mm_run {
    hm_device memory;
    hm_execution exec;
    int advanced;
    int expect_copies; /* operands cross spaces: check the ledger counts them exactly */
    const char *label;
} mm_run;

/* Reference: ref = alpha·A·B + beta·C0 in double, broadcasting batch dims like NumPy. */
static double complex *mm_reference(const mm_case *c, const double complex *a,
                                    const double complex *b, const double complex *c0, int nd,
                                    const int64_t *dshape)
{
    int64_t M = dshape[nd - 2], N = dshape[nd - 1], K = c->a_shape[c->a_nd - 1];
    int64_t batch = 1;
    for (int d = 0; d < nd - 2; d++)
        batch *= dshape[d];
    double complex *ref = calloc((size_t)(batch * M * N), sizeof *ref);
    for (int64_t f = 0; f < batch; f++) {
        int64_t rem = f, ao = 0, bo = 0, as = M * K, bs = K * N;
        for (int d = nd - 3; d >= 0; d--) {
            int64_t i = rem % dshape[d];
            rem /= dshape[d];
            int ad = d - (nd - c->a_nd), bd = d - (nd - c->b_nd);
            if (ad >= 0 && c->a_shape[ad] != 1)
                ao += i * as;
            if (bd >= 0 && c->b_shape[bd] != 1)
                bo += i * bs;
            if (ad >= 0)
                as *= c->a_shape[ad];
            if (bd >= 0)
                bs *= c->b_shape[bd];
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double complex s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += a[ao + i * K + k] * b[bo + k * N + j];
                int64_t o = f * M * N + i * N + j;
                ref[o] = c->alpha * s + (c->beta != 0 ? c->beta * c0[o] : 0);
            }
    }
    return ref;
}

static void run_mm_cases(hm_context *ctx, const mm_run *r)
{
    unsigned long long seed = 0x1234567ULL;
    for (size_t ci = 0; ci < sizeof mm_cases / sizeof mm_cases[0]; ci++) {
        const mm_case *c = &mm_cases[ci];
        int cplx = c->dtype == HM_DTYPE_C64 || c->dtype == HM_DTYPE_C128;
        int nd = c->a_nd > c->b_nd ? c->a_nd : c->b_nd;
        int64_t dshape[4];
        for (int d = 0; d < nd - 2; d++) {
            int ad = d - (nd - c->a_nd), bd = d - (nd - c->b_nd);
            int64_t x = ad >= 0 ? c->a_shape[ad] : 1, y = bd >= 0 ? c->b_shape[bd] : 1;
            dshape[d] = x > y ? x : y;
        }
        dshape[nd - 2] = c->a_shape[c->a_nd - 2];
        dshape[nd - 1] = c->b_shape[c->b_nd - 1];
        int64_t na = 1, nb = 1, ndn = 1;
        for (int d = 0; d < c->a_nd; d++)
            na *= c->a_shape[d];
        for (int d = 0; d < c->b_nd; d++)
            nb *= c->b_shape[d];
        for (int d = 0; d < nd; d++)
            ndn *= dshape[d];
        double complex *va = malloc(sizeof *va * (size_t)na), *vb = malloc(sizeof *vb * (size_t)nb),
                       *vc = malloc(sizeof *vc * (size_t)ndn);
        void *ha, *hb, *hc = NULL, *hd = NULL, *da, *db, *dc = NULL, *dd = NULL;
        /* Values rounded to the dtype first, so the reference sees what the library sees. */
        hm_tensor tmp;
        double complex *vals[3] = {va, vb, vc};
        int64_t counts[3] = {na, nb, ndn};
        for (int v = 0; v < 3; v++)
            for (int64_t i = 0; i < counts[v]; i++) {
                double complex x = hm_test_rand(&seed) + (cplx ? I * hm_test_rand(&seed) : 0);
                unsigned char cell[16];
                mm_put(cell, c->dtype, 0, x);
                vals[v][i] = mm_get(cell, c->dtype, 0);
            }
        hm_tensor ta = mm_host(c->dtype, c->a_nd, c->a_shape, c->la, va, &ha);
        hm_tensor tb = mm_host(c->dtype, c->b_nd, c->b_shape, c->lb, vb, &hb);
        hm_tensor A = mm_place(ctx, &ta, r->memory, &da), B = mm_place(ctx, &tb, r->memory, &db);
        hm_tensor C, D, *pc = NULL;
        if (c->with_c) {
            tmp = mm_host(c->dtype, nd, dshape, MM_ROW, vc, &hc);
            C = mm_place(ctx, &tmp, r->memory, &dc);
            pc = &C;
        }
        int alloc = c->ld == (enum mm_layout) - 1;
        if (alloc) {
            memset(&D, 0, sizeof D);
        } else {
            /* D starts as vc when beta applies to D itself, else as garbage. */
            tmp = mm_host(c->dtype, nd, dshape, c->ld, c->with_c ? NULL : vc, &hd);
            if (c->with_c)
                memset(hd, 0x7b, 1); /* not read: beta uses C */
            D = mm_place(ctx, &tmp, r->memory, &dd);
        }
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.alpha = c->alpha;
        o.beta = c->beta;
        o.execution = r->exec;
        o.blocking = 1;
        hm_ledger_reset(ctx);
        hm_status st = r->advanced ? hm_matmul_advanced(ctx, &A, &B, pc, &D, NULL, &o)
                                   : hm_matmul(ctx, &A, &B, pc, &D, &o);
        if (st != HM_STATUS_SUCCESS)
            fprintf(stderr, "[%s] case '%s': %s\n", r->label, c->what, hm_context_last_error(ctx));
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        if (st == HM_STATUS_SUCCESS) {
            hm_transfer_totals tot;
            hm_ledger_totals(ctx, &tot);
            size_t es = hm_dtype_size(c->dtype);
            if (r->expect_copies) {
                int host = r->memory.type != HM_DEVICE_CUDA;
                size_t in = (size_t)(na + nb) * es +
                            (c->beta != 0 ? (size_t)ndn * es : 0); /* C, or D for beta */
                CHECK_EQ_INT(tot.bytes[host ? HM_TRANSFER_H2D : HM_TRANSFER_D2H], in);
                CHECK_EQ_INT(tot.bytes[host ? HM_TRANSFER_D2H : HM_TRANSFER_H2D], (size_t)ndn * es);
            } else {
                CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D] + tot.bytes[HM_TRANSFER_D2H], 0);
            }
            double complex *got = mm_fetch(ctx, &D);
            double complex *ref = mm_reference(c, va, vb, vc, nd, dshape);
            double num = 0, den = 0;
            for (int64_t i = 0; i < ndn; i++) {
                num += creal((got[i] - ref[i]) * conj(got[i] - ref[i]));
                den += creal(ref[i] * conj(ref[i]));
            }
            char what[160];
            snprintf(what, sizeof what, "[%s] %s", r->label, c->what);
            CHECK_NEAR(sqrt(num / (den > 0 ? den : 1)), mm_tolerance(c->dtype, 0), what);
            free(got);
            free(ref);
            if (alloc) {
                CHECK(D.data != NULL && D.device.type == r->memory.type);
                hm_tensor_free(ctx, &D);
            }
        }
        mm_free(ctx, r->memory, da);
        mm_free(ctx, r->memory, db);
        mm_free(ctx, r->memory, dc);
        mm_free(ctx, r->memory, dd);
        free(ha);
        free(hb);
        free(hc);
        free(hd);
        free(va);
        free(vb);
        free(vc);
    }
}

/* BLIS-style residual at a large size: ||D·x − A·(B·x)|| / (||A||·||B||·||x||·K·eps) small. */
static void run_mm_residual(hm_context *ctx, hm_device memory, hm_execution exec, int advanced,
                            int tf32, int64_t M, int64_t N, int64_t K, const char *label)
{
    unsigned long long seed = 777;
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
    float *a = malloc(sizeof(float) * (size_t)(M * K)),
          *b = malloc(sizeof(float) * (size_t)(K * N));
    float *d = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++)
        a[i] = (float)hm_test_rand(&seed);
    for (int64_t i = 0; i < K * N; i++)
        b[i] = (float)hm_test_rand(&seed);
    hm_tensor ha, hb, hd;
    hm_tensor_init(&ha, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&hb, b, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    hm_tensor_init(&hd, d, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    void *da, *db, *dd;
    hm_tensor A = mm_place(ctx, &ha, memory, &da), B = mm_place(ctx, &hb, memory, &db);
    hm_tensor D = mm_place(ctx, &hd, memory, &dd);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.execution = exec;
    o.blocking = 1;
    o.tf32 = tf32;
    hm_status st = advanced ? hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o)
                            : hm_matmul(ctx, &A, &B, NULL, &D, &o);
    CHECK_STATUS(st, HM_STATUS_SUCCESS);
    if (memory.type == HM_DEVICE_CUDA)
        CHECK_STATUS(hm_copy(ctx, &D, &hd), HM_STATUS_SUCCESS);
    double *x = malloc(sizeof(double) * (size_t)N), *bx = malloc(sizeof(double) * (size_t)K);
    double na = 0, nb = 0, nx = 0, res = 0;
    for (int64_t j = 0; j < N; j++) {
        x[j] = hm_test_rand(&seed);
        nx += x[j] * x[j];
    }
    for (int64_t i = 0; i < M * K; i++)
        na += (double)a[i] * a[i];
    for (int64_t i = 0; i < K * N; i++)
        nb += (double)b[i] * b[i];
    for (int64_t k = 0; k < K; k++) {
        double s = 0;
        for (int64_t j = 0; j < N; j++)
            s += (double)b[k * N + j] * x[j];
        bx[k] = s;
    }
    for (int64_t i = 0; i < M; i++) {
        double dx = 0, abx = 0;
        for (int64_t j = 0; j < N; j++)
            dx += (double)d[i * N + j] * x[j];
        for (int64_t k = 0; k < K; k++)
            abx += (double)a[i * K + k] * bx[k];
        res += (dx - abx) * (dx - abx);
    }
    double eps = tf32 ? 9.8e-4 : 1.2e-7; /* unit roundoff of tf32 / f32 */
    double scaled = sqrt(res) / (sqrt(na) * sqrt(nb) * sqrt(nx) * eps * sqrt((double)K));
    char what[128];
    snprintf(what, sizeof what, "[%s] residual %lldx%lldx%lld", label, (long long)M, (long long)N,
             (long long)K);
    CHECK_NEAR(scaled, 10.0, what);
    mm_free(ctx, memory, da);
    mm_free(ctx, memory, db);
    mm_free(ctx, memory, dd);
    free(a);
    free(b);
    free(d);
    free(x);
    free(bx);
}

/* ---- values a cached plan must take from each call ---------------------------------------- */

/* Relative L2 distance of n values at got from ref (row-major f32). */
static double mm_rel_f32(const float *got, const double *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* ref = alpha·A·B + beta·C (+ bias), f32 row-major A (m×k), B (k×n); C and bias may be NULL. */
static void mm_ref_f32(const float *a, const float *b, const float *c, const float *bias,
                       double alpha, double beta, int64_t m, int64_t n, int64_t k, double *ref)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++)
                s += (double)a[i * k + q] * b[q * n + j];
            ref[i * n + j] = alpha * s + (c ? beta * c[i * n + j] : 0) + (bias ? bias[j] : 0);
        }
}

/* Stateless calls of one layout, one after the other, so that all but the first reuse the
 * cached plan: each must compute with its own alpha, beta, C, bias and operand pointers. */
static void run_mm_call_values(hm_context *ctx, hm_device memory, hm_execution exec, int advanced,
                               const char *label)
{
    enum { M = 7, N = 5, K = 3 };
    static float a1[M * K], a2[M * K], b[K * N], c1[M * N], c2[M * N], bias1[N], bias2[N];
    static float d[M * N];
    static double ref[M * N];
    unsigned long long seed = 4242;
    float *fill[] = {a1, a2, b, c1, c2, bias1, bias2};
    int count[] = {M * K, M * K, K * N, M * N, M * N, N, N};
    for (int v = 0; v < 7; v++)
        for (int i = 0; i < count[v]; i++)
            fill[v][i] = (float)hm_test_rand(&seed);
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N}, sn[1] = {N};
    hm_tensor h[7], t[7];
    void *dev[7];
    const int64_t *shapes[7] = {sa, sa, sb, sd, sd, sn, sn};
    for (int v = 0; v < 7; v++) {
        hm_tensor_init(&h[v], fill[v], hm_device_host(), HM_DTYPE_F32, v >= 5 ? 1 : 2, shapes[v],
                       NULL);
        t[v] = mm_place(ctx, &h[v], memory, &dev[v]);
    }
    hm_tensor hd, D;
    void *ddev;
    hm_tensor_init(&hd, d, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    D = mm_place(ctx, &hd, memory, &ddev);
    struct {
        int a, c, bias; /* indices into t (c, bias: -1 for none) */
        double alpha, beta;
    } calls[] = {{0, -1, -1, 1, 0}, {0, -1, -1, 2, 0},  {0, 3, -1, -1, 0.5},
                 {0, 3, -1, 1, 3},  {1, 4, -1, 0.5, 2}, {1, 4, -1, 0.5, 0}};
    struct {
        int bias;
        double alpha;
    } bias_calls[] = {{5, 1}, {6, 1}, {5, -2}};
    char what[160];
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.alpha = calls[i].alpha;
        o.beta = calls[i].beta;
        o.execution = exec;
        o.blocking = 1;
        const hm_tensor *C = calls[i].c >= 0 ? &t[calls[i].c] : NULL;
        hm_status st = advanced ? hm_matmul_advanced(ctx, &t[calls[i].a], &t[2], C, &D, NULL, &o)
                                : hm_matmul(ctx, &t[calls[i].a], &t[2], C, &D, &o);
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        if (memory.type == HM_DEVICE_CUDA)
            CHECK_STATUS(hm_copy(ctx, &D, &hd), HM_STATUS_SUCCESS);
        mm_ref_f32(fill[calls[i].a], b, calls[i].c >= 0 ? fill[calls[i].c] : NULL, NULL,
                   calls[i].alpha, calls[i].beta, M, N, K, ref);
        snprintf(what, sizeof what, "[%s] call %zu (alpha %g, beta %g, %s)", label, i + 1,
                 calls[i].alpha, calls[i].beta, calls[i].c >= 0 ? "C" : "no C");
        CHECK_NEAR(mm_rel_f32(d, ref, M * N), 2e-5, what);
    }
    for (size_t i = 0; advanced && i < sizeof bias_calls / sizeof bias_calls[0]; i++) {
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.alpha = bias_calls[i].alpha;
        o.epilog = HM_EPILOG_BIAS;
        o.execution = exec;
        o.blocking = 1;
        CHECK_STATUS(hm_matmul_advanced(ctx, &t[0], &t[2], NULL, &D, &t[bias_calls[i].bias], &o),
                     HM_STATUS_SUCCESS);
        if (memory.type == HM_DEVICE_CUDA)
            CHECK_STATUS(hm_copy(ctx, &D, &hd), HM_STATUS_SUCCESS);
        mm_ref_f32(a1, b, NULL, fill[bias_calls[i].bias], bias_calls[i].alpha, 0, M, N, K, ref);
        snprintf(what, sizeof what, "[%s] bias call %zu (bias %d, alpha %g)", label, i + 1,
                 bias_calls[i].bias - 4, bias_calls[i].alpha);
        CHECK_NEAR(mm_rel_f32(d, ref, M * N), 2e-5, what);
    }
    for (int v = 0; v < 7; v++)
        mm_free(ctx, memory, dev[v]);
    mm_free(ctx, memory, ddev);
}

/* ---- empty products and K = 0 --------------------------------------------------------------- */

/* BLAS's edges, for one dtype: an empty D (M = 0, N = 0, an empty batch) is a successful no-op
 * that moves no byte and writes nothing; K = 0 makes D = beta·C (D zeroed for beta 0, whatever it
 * held; beta·D's old values without C). */
static void run_mm_edges(hm_context *ctx, hm_device memory, hm_execution exec, int advanced,
                         hm_dtype dt, const char *label)
{
    enum { M = 6, N = 4 };
    int cplx = dt == HM_DTYPE_C64 || dt == HM_DTYPE_C128;
    size_t es = hm_dtype_size(dt);
    char what[160];
    struct {
        int64_t a[3], b[3];
        int nd;
    } empties[] = {
        {{0, 3}, {3, N}, 2}, {{M, 3}, {3, 0}, 2}, {{0, M, 3}, {3, N}, 3}, {{0, 0}, {0, 0}, 2}};
    for (size_t e = 0; e < sizeof empties / sizeof empties[0]; e++) {
        void *ha, *hb, *da, *db;
        hm_tensor ta = mm_host(dt, empties[e].nd, empties[e].a, MM_ROW, NULL, &ha);
        hm_tensor tb = mm_host(dt, 2, empties[e].b, MM_ROW, NULL, &hb);
        hm_tensor A = mm_place(ctx, &ta, memory, &da), B = mm_place(ctx, &tb, memory, &db);
        hm_tensor D;
        memset(&D, 0, sizeof D);
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.execution = exec;
        hm_ledger_reset(ctx);
        hm_status st = advanced ? hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o)
                                : hm_matmul(ctx, &A, &B, NULL, &D, &o);
        snprintf(what, sizeof what, "[%s] %s empty product %zu", label, hm_dtype_name(dt), e);
        if (st != HM_STATUS_SUCCESS)
            fprintf(stderr, "%s: %s\n", what, hm_context_last_error(ctx));
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        CHECK_EQ_INT(hm_tensor_numel(&D), 0);
        CHECK_EQ_INT(hm_ledger_count(ctx), 0);
        hm_tensor_free(ctx, &D);
        mm_free(ctx, memory, da);
        mm_free(ctx, memory, db);
        free(ha);
        free(hb);
    }
    /* K = 0: beta 0 (D poisoned with NaN first), beta·C, and beta·D without C. */
    int64_t sa[2] = {M, 0}, sb[2] = {0, N}, sd[2] = {M, N};
    double complex cv[M * N], dv[M * N];
    unsigned long long seed = 99;
    for (int i = 0; i < M * N; i++) {
        unsigned char cell[16];
        mm_put(cell, dt, 0, hm_test_rand(&seed) + (cplx ? I * hm_test_rand(&seed) : 0));
        cv[i] = mm_get(cell, dt, 0);
        mm_put(cell, dt, 0, hm_test_rand(&seed) + (cplx ? I * hm_test_rand(&seed) : 0));
        dv[i] = mm_get(cell, dt, 0);
    }
    for (int mode = 0; mode < 3; mode++) {
        double beta = mode == 0 ? 0 : 2;
        void *ha, *hb, *hc, *hd, *da, *db, *dc = NULL, *dd;
        hm_tensor ta = mm_host(dt, 2, sa, MM_ROW, NULL, &ha),
                  tb = mm_host(dt, 2, sb, MM_ROW, NULL, &hb);
        hm_tensor tc = mm_host(dt, 2, sd, MM_ROW, cv, &hc),
                  td = mm_host(dt, 2, sd, MM_ROW, dv, &hd);
        if (mode == 0)
            memset(hd, 0xff, (size_t)(M * N) * es); /* NaN in every float format */
        hm_tensor A = mm_place(ctx, &ta, memory, &da), B = mm_place(ctx, &tb, memory, &db);
        hm_tensor C = mode == 1 ? mm_place(ctx, &tc, memory, &dc) : tc;
        hm_tensor D = mm_place(ctx, &td, memory, &dd);
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.execution = exec;
        o.beta = beta;
        o.alpha = 3;
        hm_status st = advanced
                           ? hm_matmul_advanced(ctx, &A, &B, mode == 1 ? &C : NULL, &D, NULL, &o)
                           : hm_matmul(ctx, &A, &B, mode == 1 ? &C : NULL, &D, &o);
        snprintf(what, sizeof what, "[%s] %s K = 0, %s", label, hm_dtype_name(dt),
                 mode == 0   ? "beta 0"
                 : mode == 1 ? "beta C"
                             : "beta D");
        if (st != HM_STATUS_SUCCESS)
            fprintf(stderr, "%s: %s\n", what, hm_context_last_error(ctx));
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        double complex *got = mm_fetch(ctx, &D);
        double num = 0, den = 0;
        for (int i = 0; i < M * N; i++) {
            double complex want = mode == 0 ? 0 : beta * (mode == 1 ? cv[i] : dv[i]);
            num += creal((got[i] - want) * conj(got[i] - want));
            den += creal(want * conj(want));
        }
        CHECK_NEAR(mode == 0 ? sqrt(num) : sqrt(num / den), mm_tolerance(dt, 0), what);
        free(got);
        mm_free(ctx, memory, da);
        mm_free(ctx, memory, db);
        mm_free(ctx, memory, dc);
        mm_free(ctx, memory, dd);
        free(ha);
        free(hb);
        free(hc);
        free(hd);
    }
}

#endif
