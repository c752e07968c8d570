/* Host operands streamed through a device memory budget (docs/OUT_OF_CORE.md): matmuls whose
 * operands do not fit the budget, pipelined in rings of row tiles and, when B does not fit
 * either, in panels of D's columns (pageable and pinned, f32, f64 and c64, the bias and an epilog
 * cut with the panels, B stored column-major, A's rows apart), or with K cut into passes (where
 * they move fewer bytes, and where nothing else fits), at sizes that divide into neither tiles
 * nor panels, against a double reference; the ledger's exact bytes (A once a panel or once in
 * all passes, B once, D once or once a pass); C by tiles; batched FFTs in rings of chunks; a plan
 * executed on new values; budgets refused when too small; a failure in the middle of a stream
 * (D's tiles left either complete or untouched; in passes, the call fails cleanly). Skipped (77)
 * without a device. */
#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hetmath/debug.h"

static hm_test_log g_log;

static hm_context *gpu_context(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_INFO);
    hm_test_require_cuda(ctx, "test_outofcore");
    return ctx;
}

/* Element i of a row-major array of dtype dt as a complex double, and back. */
static double complex get(const void *p, hm_dtype dt, int64_t i)
{
    switch (dt) {
    case HM_DTYPE_F32:
        return ((const float *)p)[i];
    case HM_DTYPE_F64:
        return ((const double *)p)[i];
    case HM_DTYPE_C64:
        return ((const float complex *)p)[i];
    default:
        return ((const double complex *)p)[i];
    }
}

static void put(void *p, hm_dtype dt, int64_t i, double complex v)
{
    switch (dt) {
    case HM_DTYPE_F32:
        ((float *)p)[i] = (float)creal(v);
        break;
    case HM_DTYPE_F64:
        ((double *)p)[i] = creal(v);
        break;
    case HM_DTYPE_C64:
        ((float complex *)p)[i] = (float complex)v;
        break;
    default:
        ((double complex *)p)[i] = v;
        break;
    }
}

static bool is_complex(hm_dtype dt)
{
    return dt == HM_DTYPE_C64 || dt == HM_DTYPE_C128;
}

/* Relative L2 error of got against ref; the threshold of each dtype. */
static double rel_error(const void *got, hm_dtype dt, const double complex *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double complex d = get(got, dt, i) - ref[i];
        num += creal(d * conj(d));
        den += creal(ref[i] * conj(ref[i]));
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static double threshold(hm_dtype dt)
{
    return dt == HM_DTYPE_F64 || dt == HM_DTYPE_C128 ? 1e-12 : 1e-5;
}

static void fill(hm_tensor *t, unsigned long long seed)
{
    int64_t n = hm_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double re = hm_test_rand(&seed), im = is_complex(t->dtype) ? hm_test_rand(&seed) : 0;
        put(t->data, t->dtype, i, re + I * im);
    }
}

/* Pageable f32 host operands of a product: A (M×K), B (K×N), D (M×N); and their release. */
static void host_operands(hm_context *ctx, int64_t M, int64_t K, int64_t N, hm_tensor *A,
                          hm_tensor *B, hm_tensor *D)
{
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sa, A), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sb, B), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sd, D), HM_STATUS_SUCCESS);
}

static void free_operands(hm_context *ctx, hm_tensor *A, hm_tensor *B, hm_tensor *D)
{
    hm_tensor_free(ctx, D);
    hm_tensor_free(ctx, B);
    hm_tensor_free(ctx, A);
}

/* ref = A·B (+ bias, then relu when asked), row-major, in double. */
static double complex *reference(const hm_tensor *A, const hm_tensor *B, const hm_tensor *bias,
                                 bool relu)
{
    int64_t M = A->shape[0], K = A->shape[1], N = B->shape[1];
    double complex *ref = calloc((size_t)(M * N), sizeof *ref);
    double complex *bt = malloc(sizeof *bt * (size_t)(K * N)); /* Bᵀ, for the inner loop */
    for (int64_t q = 0; q < K; q++)
        for (int64_t j = 0; j < N; j++)
            bt[j * K + q] = get(B->data, B->dtype, q * B->strides[0] + j * B->strides[1]);
    double complex *arow = malloc(sizeof *arow * (size_t)K);
    for (int64_t i = 0; i < M; i++) {
        for (int64_t q = 0; q < K; q++)
            arow[q] = get(A->data, A->dtype, i * A->strides[0] + q * A->strides[1]);
        for (int64_t j = 0; j < N; j++) {
            double complex s = 0;
            for (int64_t q = 0; q < K; q++)
                s += arow[q] * bt[j * K + q];
            if (bias)
                s += get(bias->data, bias->dtype, j);
            if (relu && creal(s) < 0)
                s = 0;
            ref[i * N + j] = s;
        }
    }
    free(arow);
    free(bt);
    return ref;
}

/* The bytes the ledger holds of operand `name` in direction dir. */
static long long ledger_bytes(const hm_context *ctx, const char *name, hm_transfer_direction dir)
{
    long long sum = 0;
    hm_transfer_record r;
    for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
        hm_ledger_record(ctx, i, &r);
        if (strcmp(r.operand, name) == 0 && r.direction == dir)
            sum += (long long)r.bytes;
    }
    return sum;
}

typedef struct mm_stream_case {
    hm_dtype dtype;
    int64_t m, k, n;
    size_t budget;
    int panels_min; /* A crosses at least this many times (1: the whole of B fits) */
    bool pinned, bias_relu;
    bool b_columns; /* B stored column-major: its panels packed on the host first */
} mm_stream_case;

/* One streamed matmul: D against the reference, the ledger's bytes, the log's schedule. */
static void run_stream_case(hm_context *ctx, const mm_stream_case *c)
{
    hm_device space = c->pinned ? hm_device_pinned() : hm_device_host();
    int64_t sa[2] = {c->m, c->k}, sb[2] = {c->k, c->n}, sd[2] = {c->m, c->n}, sbias[1] = {c->n};
    hm_tensor A, B, D, bias;
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sa, &A), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sb, &B), HM_STATUS_SUCCESS);
    if (c->b_columns) { /* the same buffer, column-major */
        B.strides[0] = 1;
        B.strides[1] = c->k;
    }
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sd, &D), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 1, sbias, &bias), HM_STATUS_SUCCESS);
    fill(&A, 101 + (unsigned long long)c->m);
    fill(&B, 202 + (unsigned long long)c->n);
    fill(&bias, 303);
    double complex *ref = reference(&A, &B, c->bias_relu ? &bias : NULL, c->bias_relu);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = c->budget;
    o.epilog = c->bias_relu ? HM_EPILOG_RELU_BIAS : HM_EPILOG_NONE;
    hm_test_log_clear(&g_log);
    hm_ledger_reset(ctx);
    hm_status st = c->bias_relu ? hm_matmul_advanced(ctx, &A, &B, NULL, &D, &bias, &o)
                                : hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o);
    CHECK_STATUS(st, HM_STATUS_SUCCESS);
    if (st != HM_STATUS_SUCCESS)
        fputs(g_log.text, stderr);
    char what[160];
    snprintf(what, sizeof what, "streamed %s %lldx%lldx%lld, budget %zu B%s%s",
             hm_dtype_name(c->dtype), (long long)c->m, (long long)c->k, (long long)c->n, c->budget,
             c->pinned ? ", pinned" : "", c->bias_relu ? ", relu+bias" : "");
    CHECK_NEAR(rel_error(D.data, c->dtype, ref, c->m * c->n), threshold(c->dtype), what);
    /* A crosses once a panel, B, the bias and D once; the log says how many panels. */
    long long a = (long long)hm_tensor_nbytes(&A);
    long long crossings = ledger_bytes(ctx, "A", HM_TRANSFER_H2D) / a;
    CHECK_EQ_INT(ledger_bytes(ctx, "A", HM_TRANSFER_H2D), crossings * a);
    CHECK(crossings >= c->panels_min);
    if (crossings > 1)
        CHECK_EQ_INT(hm_test_log_number(&g_log, "so A crosses the link "), crossings);
    else
        CHECK_CONTAINS(g_log.text, "the other operands whole");
    CHECK_EQ_INT(ledger_bytes(ctx, "B", HM_TRANSFER_H2D), (long long)hm_tensor_nbytes(&B));
    CHECK_EQ_INT(ledger_bytes(ctx, "bias", HM_TRANSFER_H2D),
                 c->bias_relu ? (long long)hm_tensor_nbytes(&bias) : 0);
    CHECK_EQ_INT(ledger_bytes(ctx, "D", HM_TRANSFER_D2H), (long long)hm_tensor_nbytes(&D));
    CHECK_CONTAINS(g_log.text, "device memory budget ");
    free(ref);
    hm_tensor_free(ctx, &bias);
    hm_tensor_free(ctx, &D);
    hm_tensor_free(ctx, &B);
    hm_tensor_free(ctx, &A);
}

/* Budgets that leave the whole of B beside a ring of tiles, and budgets that do not, so that D's
 * columns are cut into panels (2, then 4 or more), at sizes dividing into neither. */
static void matmul_streamed(void)
{
    hm_context *ctx = gpu_context();
    static const mm_stream_case cases[] = {
        {HM_DTYPE_F32, 700, 300, 1500, (size_t)6 << 20, 1, false, false, false},
        {HM_DTYPE_F32, 700, 300, 1500, (size_t)3 << 20, 2, false, false, false},
        {HM_DTYPE_F32, 700, 300, 1500, (size_t)1 << 20, 4, true, false, false},
        {HM_DTYPE_F32, 700, 300, 1500, (size_t)1 << 20, 4, false, false, false},
        {HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, 2, true, true, false},
        {HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, 2, false, true, false},
        {HM_DTYPE_F64, 333, 211, 999, (size_t)1 << 20, 2, false, false, false},
        {HM_DTYPE_C64, 333, 211, 999, (size_t)1 << 20, 2, true, false, false},
        {HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, 2, false, false, true},
    };
    /* under compute-sanitizer (HETMATH_TEST_QUICK), every other case */
    size_t step = getenv("HETMATH_TEST_QUICK") ? 2 : 1;
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i += step)
        run_stream_case(ctx, &cases[i]);
    hm_context_destroy(ctx);
}

/* Panels of pinned operands wide enough for their products to outlast A's copies (f32: 4096
 * columns and more), double-buffered: the next panel's B and bias go in while this one computes.
 * D with the bias and ReLU against the reference, B and the bias in exactly once, A once a panel,
 * the log saying so. */
static void matmul_prefetched_panels(void)
{
    hm_context *ctx = gpu_context();
    const mm_stream_case c = {HM_DTYPE_F32, 301, 64, 20011, (size_t)16 << 20, 2, true, true, false};
    run_stream_case(ctx, &c);
    CHECK_CONTAINS(g_log.text, "two of each: the next goes in while this one computes");
    hm_context_destroy(ctx);
}

/* A plan made under a budget that cuts D into panels, executed twice on new values of A and B,
 * pageable: each result against its own reference; a generic matmul with a CUDA execution space
 * streams too. */
static void plan_streamed_new_values(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 401, K = 150, N = 900;
    hm_tensor A, B, D;
    host_operands(ctx, M, K, N, &A, &B, &D);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.execution = hm_execution_cuda(0);
    o.device_memory_limit = (size_t)512 << 10;
    hm_matmul_plan *plan = NULL;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_SUCCESS);
    for (int round = 0; round < 2 && plan; round++) {
        fill(&A, 7 + (unsigned long long)round * 1000);
        fill(&B, 8 + (unsigned long long)round * 1000);
        double complex *ref = reference(&A, &B, NULL, false);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        CHECK_NEAR(rel_error(D.data, HM_DTYPE_F32, ref, M * N), 1e-5,
                   round ? "a streamed plan's second execution" : "its first");
        CHECK(ledger_bytes(ctx, "A", HM_TRANSFER_H2D) >= 2 * (long long)hm_tensor_nbytes(&A));
        free(ref);
    }
    hm_matmul_plan_destroy(plan);
    free_operands(ctx, &A, &B, &D);
    hm_context_destroy(ctx);
}

/* Budgets too small for any schedule: HM_STATUS_DEVICE_MEMORY_LIMIT naming the budget, D
 * untouched, no plan made; a call that cannot be pipelined (A stored column-major) and needs
 * more than the budget whole, refused alike; on the CPU a budget changes nothing; the context's
 * budget applies when the options set none. */
static void budget_refused(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 300, K = 200, N = 400;
    hm_tensor A, B, D;
    host_operands(ctx, M, K, N, &A, &B, &D);
    fill(&A, 1);
    fill(&B, 2);
    for (int64_t i = 0; i < M * N; i++)
        ((float *)D.data)[i] = 42.0f;
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    /* not even tiles of 16 rows in panels of one column, K in 64 passes of 4 */
    o.device_memory_limit = 1000;
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o),
                 HM_STATUS_DEVICE_MEMORY_LIMIT);
    CHECK_CONTAINS(hm_context_last_error(ctx),
                   "hm_matmul_advanced: the device memory budget of 1.0 kB on cuda:0 is too "
                   "small: its smallest schedule (tiles of 16 rows, panels of one column, K in 64 "
                   "passes) needs ");
    int untouched = 1;
    for (int64_t i = 0; i < M * N; i++)
        untouched &= ((float *)D.data)[i] == 42.0f;
    CHECK(untouched);
    hm_matmul_plan *plan = NULL;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_SPECIALIZED, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_DEVICE_MEMORY_LIMIT);
    CHECK(plan == NULL);

    /* A stored column-major is not pipelined: the whole computation must fit. */
    hm_tensor At = A;
    At.shape[0] = M;
    At.shape[1] = K;
    At.strides[0] = 1;
    At.strides[1] = M;
    o.device_memory_limit = (size_t)256 << 10;
    CHECK_STATUS(hm_matmul_advanced(ctx, &At, &B, NULL, &D, NULL, &o),
                 HM_STATUS_DEVICE_MEMORY_LIMIT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "the computation on its operands whole needs ");
    o.device_memory_limit = 0; /* the context's: what the device has free */
    CHECK_STATUS(hm_matmul_advanced(ctx, &At, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);

    /* On the CPU the budget is not consulted. */
    o.device_memory_limit = 1;
    o.execution = hm_execution_cpu(HM_AUTO);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);

    /* The context's limit. */
    hm_context_options co;
    hm_context_options_init(&co);
    co.device_memory_limit = 1000;
    hm_context *small = NULL;
    CHECK_STATUS(hm_context_create(&co, &small), HM_STATUS_SUCCESS);
    hm_matmul_options_init(&o);
    CHECK_STATUS(hm_matmul_advanced(small, &A, &B, NULL, &D, NULL, &o),
                 HM_STATUS_DEVICE_MEMORY_LIMIT);
    o.device_memory_limit = (size_t)8 << 20; /* the options' own wins */
    CHECK_STATUS(hm_matmul_advanced(small, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
    hm_context_destroy(small);

    free_operands(ctx, &A, &B, &D);
    hm_context_destroy(ctx);
}

/* A batched c64 FFT of host data several times its budget, pageable and pinned: chunks of the
 * batch round a ring, x in and y out exactly once, y against a double-precision transform (the
 * CPU's, c128); too small a budget refused. */
static void fft_streamed(void)
{
    hm_context *ctx = gpu_context();
    const int64_t batch = 3001, n = 256;
    int64_t shape[2] = {batch, n};
    for (int pinned = 0; pinned < 2; pinned++) {
        hm_device space = pinned ? hm_device_pinned() : hm_device_host();
        hm_tensor x, y, xd, yd;
        CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_C64, 2, shape, &x), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_C64, 2, shape, &y), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, 2, shape, &xd),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, 2, shape, &yd),
                     HM_STATUS_SUCCESS);
        fill(&x, 55 + (unsigned long long)pinned);
        for (int64_t i = 0; i < batch * n; i++)
            put(xd.data, HM_DTYPE_C128, i, get(x.data, HM_DTYPE_C64, i));
        hm_fft_options o;
        hm_fft_options_init(&o);
        o.num_axes = 1;
        o.axes[0] = 1;
        CHECK_STATUS(hm_fft(ctx, &xd, &yd, &o), HM_STATUS_SUCCESS); /* the CPU's, in double */
        o.execution = hm_execution_cuda(0);
        o.device_memory_limit = (size_t)2 << 20; /* x and y are 6.1 MB each */
        hm_test_log_clear(&g_log);
        hm_ledger_reset(ctx);
        hm_status st = hm_fft(ctx, &x, &y, &o);
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        if (st != HM_STATUS_SUCCESS)
            fputs(g_log.text, stderr);
        CHECK_NEAR(rel_error(y.data, HM_DTYPE_C64, yd.data, batch * n), 1e-5,
                   pinned ? "streamed FFT, pinned" : "streamed FFT, pageable");
        CHECK_EQ_INT(ledger_bytes(ctx, "x", HM_TRANSFER_H2D), (long long)hm_tensor_nbytes(&x));
        CHECK_EQ_INT(ledger_bytes(ctx, "y", HM_TRANSFER_D2H), (long long)hm_tensor_nbytes(&y));
        CHECK_CONTAINS(g_log.text, "device memory budget 2.1 MB a device: the schedule keeps ");
        o.device_memory_limit = 4096;
        CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_DEVICE_MEMORY_LIMIT);
        CHECK_CONTAINS(hm_context_last_error(ctx), "hm_fft: the device memory budget of 4.1 kB");
        hm_tensor_free(ctx, &yd);
        hm_tensor_free(ctx, &xd);
        hm_tensor_free(ctx, &y);
        hm_tensor_free(ctx, &x);
    }
    hm_context_destroy(ctx);
}

/* One streamed c64 FFT over `axes` of host data under `budget`, against the CPU's c128
 * transform: y within the f32 threshold; x crosses in `crossings` times and y out as many (the
 * passes of a transform over every axis each move the whole). */
/* x (dtype xt, shape xs) and y (yt, ys) in space, and their double twins xd and yd on the
 * host (xd holding x's values, x filled from seed). */
static void fft_operands(hm_context *ctx, hm_device space, int ndim, hm_dtype xt, const int64_t *xs,
                         hm_dtype yt, const int64_t *ys, unsigned long long seed, hm_tensor *x,
                         hm_tensor *y, hm_tensor *xd, hm_tensor *yd)
{
    hm_dtype wide_x = is_complex(xt) ? HM_DTYPE_C128 : HM_DTYPE_F64;
    CHECK_STATUS(hm_tensor_alloc(ctx, space, xt, ndim, xs, x), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, yt, ndim, ys, y), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), wide_x, ndim, xs, xd), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, ndim, ys, yd),
                 HM_STATUS_SUCCESS);
    fill(x, seed);
    for (int64_t i = 0; i < hm_tensor_numel(x); i++)
        put(xd->data, wide_x, i, get(x->data, xt, i));
}

/* o's transform of xd into yd on the CPU (the reference, in double), then of x into y on cuda:0
 * under the budget, with the log and the ledger cleared before; its status. */
static hm_status reference_then_streamed(hm_context *ctx, hm_tensor *x, hm_tensor *y, hm_tensor *xd,
                                         hm_tensor *yd, hm_fft_options *o, size_t budget)
{
    CHECK_STATUS(hm_fft(ctx, xd, yd, o), HM_STATUS_SUCCESS);
    o->execution = hm_execution_cuda(0);
    o->device_memory_limit = budget;
    hm_test_log_clear(&g_log);
    hm_ledger_reset(ctx);
    hm_status st = hm_fft(ctx, x, y, o);
    CHECK_STATUS(st, HM_STATUS_SUCCESS);
    if (st != HM_STATUS_SUCCESS)
        fputs(g_log.text, stderr);
    return st;
}

static void run_fft_case(hm_context *ctx, int ndim, const int64_t *shape, int naxes,
                         const int *axes, hm_fft_direction dir, hm_fft_norm norm, size_t budget,
                         bool pinned, int crossings, const char *what)
{
    hm_device space = pinned ? hm_device_pinned() : hm_device_host();
    hm_tensor x, y, xd, yd;
    fft_operands(ctx, space, ndim, HM_DTYPE_C64, shape, HM_DTYPE_C64, shape,
                 77 + (unsigned long long)budget, &x, &y, &xd, &yd);
    int64_t n = hm_tensor_numel(&x);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = naxes;
    for (int i = 0; i < naxes; i++)
        o.axes[i] = axes[i];
    o.direction = dir;
    o.norm = norm;
    reference_then_streamed(ctx, &x, &y, &xd, &yd, &o, budget);
    CHECK_NEAR(rel_error(y.data, HM_DTYPE_C64, yd.data, n), 1e-5, what);
    CHECK_EQ_INT(ledger_bytes(ctx, "x", HM_TRANSFER_H2D),
                 crossings * (long long)hm_tensor_nbytes(&x));
    CHECK_EQ_INT(ledger_bytes(ctx, "y", HM_TRANSFER_D2H),
                 crossings * (long long)hm_tensor_nbytes(&y));
    CHECK_CONTAINS(g_log.text, "device memory budget ");
    if (crossings > 1)
        CHECK_CONTAINS(g_log.text, "2 passes, each planned (and streamed) on its own");
    hm_tensor_free(ctx, &yd);
    hm_tensor_free(ctx, &xd);
    hm_tensor_free(ctx, &y);
    hm_tensor_free(ctx, &x);
}

/* An r2c transform over every axis of f32 data under budget (two passes: r2c of the inner axes
 * of slabs of the first, then c2c of the first axis in y) against the CPU's in double; x in once,
 * y out twice and in once, exactly. */
static void run_r2c_passes(hm_context *ctx, int ndim, const int64_t *shape, hm_fft_norm norm,
                           size_t budget, bool pinned, const char *what)
{
    hm_device space = pinned ? hm_device_pinned() : hm_device_host();
    int64_t half[3];
    memcpy(half, shape, sizeof(int64_t) * (size_t)ndim);
    half[ndim - 1] = shape[ndim - 1] / 2 + 1;
    hm_tensor x, y, xd, yd;
    fft_operands(ctx, space, ndim, HM_DTYPE_F32, shape, HM_DTYPE_C64, half,
                 91 + (unsigned long long)budget, &x, &y, &xd, &yd);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.type = HM_FFT_R2C;
    o.norm = norm;
    reference_then_streamed(ctx, &x, &y, &xd, &yd, &o, budget);
    CHECK_NEAR(rel_error(y.data, HM_DTYPE_C64, yd.data, hm_tensor_numel(&y)), 1e-5, what);
    long long xb = (long long)hm_tensor_nbytes(&x), yb = (long long)hm_tensor_nbytes(&y);
    CHECK_EQ_INT(ledger_bytes(ctx, "x", HM_TRANSFER_H2D), xb + yb); /* pass 2 reads y as x */
    CHECK_EQ_INT(ledger_bytes(ctx, "y", HM_TRANSFER_D2H), 2 * yb);
    CHECK_CONTAINS(g_log.text, "2 passes, each planned (and streamed) on its own");
    hm_tensor_free(ctx, &yd);
    hm_tensor_free(ctx, &xd);
    hm_tensor_free(ctx, &y);
    hm_tensor_free(ctx, &x);
}

/* Transforms whose leading axes are transformed and trailing ones batched (blocks of columns on
 * the device), and transforms over every axis of 2-D and 3-D data (two passes: slabs, then
 * pencils; r2c too), forward and inverse with each normalisation, pageable and pinned, under
 * budgets of a fraction of their data; a plan of two passes executed on new values; too small a
 * budget refused by the pass that cannot fit. */
static void fft_columns_and_passes(void)
{
    hm_context *ctx = gpu_context();
    /* (r2c: a last length of small primes; cuFFT's work area for 501 = 3 · 167 outgrows the
     * output tile the schedule reserves for it, and the budget is refused after planning) */
    const int64_t cols2[2] = {64, 3001}, cols3[3] = {16, 12, 1001}, two[2] = {300, 501},
                  two_r2c[2] = {300, 480}, three[3] = {40, 48, 56};
    const int ax0[1] = {0}, ax01[2] = {0, 1}, ax012[3] = {0, 1, 2};
    const size_t small = (size_t)256 << 10;
    for (int pinned = 0; pinned < 2; pinned++) {
        run_fft_case(ctx, 2, cols2, 1, ax0, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, small, pinned, 1,
                     "axis 0 of 64 x 3001, blocks of columns");
        run_fft_case(ctx, 3, cols3, 2, ax01, HM_FFT_INVERSE, HM_FFT_NORM_ORTHO, small, pinned, 1,
                     "axes 0, 1 of 16 x 12 x 1001, blocks of columns");
        run_fft_case(ctx, 2, two, 2, ax01, HM_FFT_FORWARD, HM_FFT_NORM_FORWARD, small, pinned, 2,
                     "300 x 501 in two passes");
        run_fft_case(ctx, 3, three, 3, ax012, HM_FFT_INVERSE, HM_FFT_NORM_BACKWARD, small, pinned,
                     2, "40 x 48 x 56 in two passes");
        run_r2c_passes(ctx, 2, two_r2c, HM_FFT_NORM_ORTHO, small, pinned,
                       "r2c 300 x 480 in two passes");
        run_r2c_passes(ctx, 3, three, HM_FFT_NORM_BACKWARD, small / 2, pinned,
                       "r2c 40 x 48 x 56 in two passes");
    }

    /* a plan of two passes, executed on new values */
    hm_tensor x, y, xd, yd;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 3, three, &x),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 3, three, &y),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, 3, three, &xd),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, 3, three, &yd),
                 HM_STATUS_SUCCESS);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.execution = hm_execution_cuda(0);
    o.device_memory_limit = small;
    hm_fft_plan *plan = NULL;
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    hm_fft_options co;
    hm_fft_options_init(&co);
    int64_t n = hm_tensor_numel(&x);
    for (int round = 0; round < 2 && plan; round++) {
        fill(&x, 500 + (unsigned long long)round);
        for (int64_t i = 0; i < n; i++)
            put(xd.data, HM_DTYPE_C128, i, get(x.data, HM_DTYPE_C64, i));
        CHECK_STATUS(hm_fft(ctx, &xd, &yd, &co), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &y), HM_STATUS_SUCCESS);
        CHECK_NEAR(rel_error(y.data, HM_DTYPE_C64, yd.data, n), 1e-5,
                   round ? "a plan of two passes, second execution" : "its first");
    }
    hm_fft_plan_destroy(plan);
    o.device_memory_limit = 4096;
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_DEVICE_MEMORY_LIMIT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_fft: the device memory budget of 4.1 kB");
    hm_tensor_free(ctx, &yd);
    hm_tensor_free(ctx, &xd);
    hm_tensor_free(ctx, &y);
    hm_tensor_free(ctx, &x);
    hm_context_destroy(ctx);
}

/* The backend calls one call of D = A·B under o makes (the fault site's count across it). */
static long long backend_calls(hm_context *ctx, hm_tensor *A, hm_tensor *B, hm_tensor *D,
                               const hm_matmul_options *o)
{
    long long before = hm_debug_site_count(ctx, HM_FAULT_BACKEND_CALL);
    CHECK_STATUS(hm_matmul_advanced(ctx, A, B, NULL, D, NULL, o), HM_STATUS_SUCCESS);
    return hm_debug_site_count(ctx, HM_FAULT_BACKEND_CALL) - before;
}

/* The same call with a failure injected at its k-th backend call. */
static hm_status failing_call(hm_context *ctx, long long k, hm_tensor *A, hm_tensor *B,
                              hm_tensor *D, const hm_matmul_options *o)
{
    CHECK_STATUS(hm_debug_inject_failure(ctx, HM_FAULT_BACKEND_CALL, (long)k), HM_STATUS_SUCCESS);
    hm_status st = hm_matmul_advanced(ctx, A, B, NULL, D, NULL, o);
    CHECK_STATUS(hm_debug_inject_failure(ctx, HM_FAULT_BACKEND_CALL, 0), HM_STATUS_SUCCESS);
    return st;
}

/* A failure in the middle of a stream (the k-th backend call of a cached call's execution, for
 * every k in turn over its first panels): the call fails, D holds complete tiles and untouched
 * ones only (each element is its result or the sentinel), nothing leaks (the sanitizers), and
 * the same call then succeeds on new values. */
static void failure_mid_stream(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 403, K = 120, N = 700;
    hm_tensor A, B, D;
    host_operands(ctx, M, K, N, &A, &B, &D);
    fill(&A, 31);
    fill(&B, 32);
    double complex *ref = reference(&A, &B, NULL, false);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = (size_t)256 << 10;
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
    long long calls = backend_calls(ctx, &A, &B, &D, &o);
    CHECK(calls >= 8);
    int partial = 0, failed = 0;
    long long step = calls / 6 > 1 ? calls / 6 : 1;
    for (long long k = 2; k < calls; k += step) {
        for (int64_t i = 0; i < M * N; i++)
            ((float *)D.data)[i] = -1e30f;
        hm_status st = failing_call(ctx, k, &A, &B, &D, &o);
        failed += st != HM_STATUS_SUCCESS;
        int64_t written = 0, wrong = 0;
        for (int64_t i = 0; i < M * N; i++) {
            float v = ((float *)D.data)[i];
            if (v == -1e30f)
                continue;
            written++;
            wrong += fabs(v - creal(ref[i])) > 1e-3 * (1 + fabs(creal(ref[i])));
        }
        CHECK_EQ_INT(wrong, 0);
        partial += written > 0 && written < M * N;
    }
    CHECK(failed > 0);
    CHECK(partial > 0); /* some failure came after some tiles were out */
    fill(&A, 33);       /* the cached plan once more, on new values */
    free(ref);
    ref = reference(&A, &B, NULL, false);
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(rel_error(D.data, HM_DTYPE_F32, ref, M * N), 1e-5, "after the failures");
    free(ref);
    free_operands(ctx, &A, &B, &D);
    hm_context_destroy(ctx);
}

/* How C is given to a streamed D = alpha·A·B + beta·C. */
typedef enum { SEED_C, SEED_C_IS_D, SEED_OLD_D } seed_kind;

typedef struct mm_seed_case {
    seed_kind kind;
    hm_dtype dtype;
    int64_t m, k, n;
    size_t budget;
    bool pinned, c_pinned; /* A, B, D declared pinned; C declared pinned */
} mm_seed_case;

/* One streamed product that reads C (beta not 0): D against the reference, C's (or D's old)
 * values crossing exactly once, tile by tile into D's ring; C unchanged. */
static void run_seed_case(hm_context *ctx, const mm_seed_case *c)
{
    hm_device space = c->pinned ? hm_device_pinned() : hm_device_host();
    int64_t sa[2] = {c->m, c->k}, sb[2] = {c->k, c->n}, sd[2] = {c->m, c->n};
    hm_tensor A, B, C = {0}, D;
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sa, &A), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sb, &B), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sd, &D), HM_STATUS_SUCCESS);
    if (c->kind == SEED_C)
        CHECK_STATUS(hm_tensor_alloc(ctx, c->c_pinned ? hm_device_pinned() : hm_device_host(),
                                     c->dtype, 2, sd, &C),
                     HM_STATUS_SUCCESS);
    fill(&A, 11 + (unsigned long long)c->m);
    fill(&B, 12 + (unsigned long long)c->n);
    const hm_tensor *seed = c->kind == SEED_C ? &C : &D;
    fill((hm_tensor *)seed, 13 + (unsigned long long)c->kind);
    int64_t n = c->m * c->n;
    double complex *ref = reference(&A, &B, NULL, false), *c0 = malloc(sizeof *c0 * (size_t)n);
    const double alpha = 1.5, beta = -0.75;
    for (int64_t i = 0; i < n; i++) {
        c0[i] = get(seed->data, c->dtype, i);
        ref[i] = alpha * ref[i] + beta * c0[i];
    }
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = c->budget;
    o.alpha = alpha;
    o.beta = beta;
    hm_test_log_clear(&g_log);
    hm_ledger_reset(ctx);
    const hm_tensor *cp = c->kind == SEED_C ? &C : c->kind == SEED_C_IS_D ? &D : NULL;
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, cp, &D, NULL, &o), HM_STATUS_SUCCESS);
    char what[160];
    snprintf(what, sizeof what, "streamed with %s, %s %lldx%lldx%lld, budget %zu B%s%s",
             c->kind == SEED_C        ? "C"
             : c->kind == SEED_C_IS_D ? "C = D"
                                      : "D's old values",
             hm_dtype_name(c->dtype), (long long)c->m, (long long)c->k, (long long)c->n, c->budget,
             c->pinned ? ", pinned" : "", c->c_pinned ? ", C pinned" : "");
    CHECK_NEAR(rel_error(D.data, c->dtype, ref, n), threshold(c->dtype), what);
    const char *name = c->kind == SEED_OLD_D ? "D" : "C";
    CHECK_EQ_INT(ledger_bytes(ctx, name, HM_TRANSFER_H2D), (long long)hm_tensor_nbytes(seed));
    CHECK_EQ_INT(ledger_bytes(ctx, "B", HM_TRANSFER_H2D), (long long)hm_tensor_nbytes(&B));
    CHECK_EQ_INT(ledger_bytes(ctx, "D", HM_TRANSFER_D2H), (long long)hm_tensor_nbytes(&D));
    long long a = (long long)hm_tensor_nbytes(&A);
    CHECK_EQ_INT(ledger_bytes(ctx, "A", HM_TRANSFER_H2D) % a, 0);
    CHECK_CONTAINS(g_log.text, "tiles going into D's");
    if (c->kind == SEED_C) { /* C is read, never written */
        int64_t changed = 0;
        for (int64_t i = 0; i < n; i++)
            changed += get(C.data, c->dtype, i) != c0[i];
        CHECK_EQ_INT(changed, 0);
        hm_tensor_free(ctx, &C);
    }
    free(c0);
    free(ref);
    free_operands(ctx, &A, &B, &D);
}

/* Products that read C streamed under budgets that keep B whole and that cut D into panels: C
 * apart (pageable, pinned, pageable beside pinned A and D), C the very view of D, and D's own
 * old values (no C); sizes dividing into no tile. */
static void matmul_streamed_with_c(void)
{
    hm_context *ctx = gpu_context();
    static const mm_seed_case cases[] = {
        {SEED_C, HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, false, false},
        {SEED_C, HM_DTYPE_F32, 700, 300, 1500, (size_t)6 << 20, true, true},
        {SEED_C, HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, true, false},
        {SEED_C_IS_D, HM_DTYPE_F32, 517, 263, 1201, (size_t)1 << 20, true, true},
        {SEED_OLD_D, HM_DTYPE_F32, 700, 300, 1500, (size_t)2 << 20, false, false},
        {SEED_C, HM_DTYPE_C64, 333, 211, 999, (size_t)1 << 20, false, false},
        {SEED_OLD_D, HM_DTYPE_F64, 333, 211, 999, (size_t)1 << 20, true, true},
    };
    size_t step = getenv("HETMATH_TEST_QUICK") ? 2 : 1;
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i += step)
        run_seed_case(ctx, &cases[i]);
    hm_context_destroy(ctx);
}

/* A failure in the middle of a stream that reads D's old values (beta 1, no C): each element of
 * D is then its old value or its complete result. */
static void failure_mid_stream_in_place(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 403, K = 120, N = 700;
    hm_tensor A, B, D;
    host_operands(ctx, M, K, N, &A, &B, &D);
    fill(&A, 41);
    fill(&B, 42);
    double complex *ref = reference(&A, &B, NULL, false);
    for (int64_t i = 0; i < M * N; i++)
        ref[i] += 1.0; /* D's old values are all 1 */
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = (size_t)256 << 10;
    o.beta = 1.0;
    for (int64_t i = 0; i < M * N; i++)
        ((float *)D.data)[i] = 1.0f;
    long long calls = backend_calls(ctx, &A, &B, &D, &o);
    CHECK(calls >= 8);
    int partial = 0, failed = 0;
    long long step = calls / 6 > 1 ? calls / 6 : 1;
    for (long long k = 2; k < calls; k += step) {
        for (int64_t i = 0; i < M * N; i++)
            ((float *)D.data)[i] = 1.0f;
        hm_status st = failing_call(ctx, k, &A, &B, &D, &o);
        failed += st != HM_STATUS_SUCCESS;
        int64_t written = 0, wrong = 0;
        for (int64_t i = 0; i < M * N; i++) {
            float v = ((float *)D.data)[i];
            if (v == 1.0f)
                continue;
            written++;
            wrong += fabs(v - creal(ref[i])) > 1e-3 * (1 + fabs(creal(ref[i])));
        }
        CHECK_EQ_INT(wrong, 0);
        partial += written > 0 && written < M * N;
    }
    CHECK(failed > 0);
    CHECK(partial > 0);
    free(ref);
    free_operands(ctx, &A, &B, &D);
    hm_context_destroy(ctx);
}

typedef struct mm_pass_case {
    hm_dtype dtype;
    int64_t m, k, n;
    size_t budget;
    int64_t pitch_extra; /* A a block of a matrix this many columns wider (its rows apart) */
    bool pinned, with_c, bias_relu;
} mm_pass_case;

/* One product whose K the budget cuts into passes: D = alpha·A·B + beta·C (+ bias, ReLU) against
 * the reference; A and B in once in all, C once, D out once a pass and back in once a pass after
 * the first, exactly; the log's count of passes. Returns the passes. */
static long long run_pass_case(hm_context *ctx, const mm_pass_case *c)
{
    hm_device space = c->pinned ? hm_device_pinned() : hm_device_host();
    int64_t wide[2] = {c->m, c->k + c->pitch_extra}, sb[2] = {c->k, c->n}, sd[2] = {c->m, c->n},
            sbias[1] = {c->n};
    hm_tensor Aw, B, C, D, bias;
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, wide, &Aw), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sb, &B), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sd, &C), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 2, sd, &D), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, c->dtype, 1, sbias, &bias), HM_STATUS_SUCCESS);
    fill(&Aw, 501 + (unsigned long long)c->k);
    fill(&B, 502);
    fill(&C, 503);
    fill(&bias, 504);
    hm_tensor A = Aw; /* its first k columns */
    A.shape[1] = c->k;
    double complex *ref = reference(&A, &B, NULL, false);
    const double alpha = 1.5, beta = c->with_c ? -0.5 : 0.0;
    for (int64_t i = 0; i < c->m * c->n; i++) {
        double complex v = alpha * ref[i] + beta * get(C.data, c->dtype, i);
        if (c->bias_relu) {
            v += get(bias.data, c->dtype, i % c->n);
            v = creal(v) < 0 ? 0 : v;
        }
        ref[i] = v;
    }
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = c->budget;
    o.alpha = alpha;
    o.beta = beta;
    o.epilog = c->bias_relu ? HM_EPILOG_RELU_BIAS : HM_EPILOG_NONE;
    hm_test_log_clear(&g_log);
    hm_ledger_reset(ctx);
    hm_status st =
        hm_matmul_advanced(ctx, &A, &B, c->with_c ? &C : NULL, &D, c->bias_relu ? &bias : NULL, &o);
    CHECK_STATUS(st, HM_STATUS_SUCCESS);
    if (st != HM_STATUS_SUCCESS)
        fputs(g_log.text, stderr);
    char what[160], prefix[48];
    snprintf(what, sizeof what, "K in passes: %s %lldx%lldx%lld, budget %zu B%s%s%s",
             hm_dtype_name(c->dtype), (long long)c->m, (long long)c->k, (long long)c->n, c->budget,
             c->pinned ? ", pinned" : "", c->with_c ? ", C" : "",
             c->pitch_extra ? ", A's rows apart" : "");
    CHECK_NEAR(rel_error(D.data, c->dtype, ref, c->m * c->n), threshold(c->dtype), what);
    snprintf(prefix, sizeof prefix, "K (%lld) in ", (long long)c->k);
    long long passes = hm_test_log_number(&g_log, prefix);
    CHECK(passes >= 2);
    long long a = (long long)(c->m * c->k) * (long long)hm_dtype_size(c->dtype),
              d = (long long)hm_tensor_nbytes(&D);
    CHECK_EQ_INT(ledger_bytes(ctx, "A", HM_TRANSFER_H2D), a);
    CHECK_EQ_INT(ledger_bytes(ctx, "B", HM_TRANSFER_H2D), (long long)hm_tensor_nbytes(&B));
    CHECK_EQ_INT(ledger_bytes(ctx, "C", HM_TRANSFER_H2D),
                 c->with_c ? (long long)hm_tensor_nbytes(&C) : 0);
    CHECK_EQ_INT(ledger_bytes(ctx, "bias", HM_TRANSFER_H2D),
                 c->bias_relu ? (long long)hm_tensor_nbytes(&bias) : 0);
    CHECK_EQ_INT(ledger_bytes(ctx, "D", HM_TRANSFER_H2D), (passes - 1) * d);
    CHECK_EQ_INT(ledger_bytes(ctx, "D", HM_TRANSFER_D2H), passes * d);
    free(ref);
    hm_tensor_free(ctx, &bias);
    hm_tensor_free(ctx, &D);
    hm_tensor_free(ctx, &C);
    hm_tensor_free(ctx, &B);
    hm_tensor_free(ctx, &Aw);
    return passes;
}

/* K cut into passes: where they move fewer bytes over the link than panels of D's columns would
 * (A read once, not once a panel), and where nothing else fits (a row of A longer than the
 * budget's tiles: 20000 elements); pageable and pinned, f32 and f64, with C, the bias and ReLU
 * (in the last pass only), A a block of a wider matrix. */
static void matmul_passes_over_k(void)
{
    hm_context *ctx = gpu_context();
    static const mm_pass_case cases[] = {
        {HM_DTYPE_F32, 512, 2048, 256, (size_t)3 << 19, 0, false, false, false},
        {HM_DTYPE_F32, 512, 2048, 256, (size_t)3 << 19, 37, true, true, true},
        {HM_DTYPE_F64, 256, 1536, 128, (size_t)1 << 20, 0, false, true, false},
        {HM_DTYPE_F32, 64, 20000, 32, (size_t)1 << 20, 5, false, false, true},
    };
    size_t step = getenv("HETMATH_TEST_QUICK") ? 2 : 1;
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i += step)
        run_pass_case(ctx, &cases[i]);
    CHECK_CONTAINS(g_log.text, "pass 1 of ");
    hm_context_destroy(ctx);
}

/* A block of a wider A (its rows apart) streamed by row tiles: pitched copies, the same bytes. */
static void matmul_pitched_a(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 700, K = 300, N = 1500, LDA = 333;
    int64_t wide[2] = {M, LDA}, sb[2] = {K, N}, sd[2] = {M, N};
    for (int pinned = 0; pinned < 2; pinned++) {
        hm_device space = pinned ? hm_device_pinned() : hm_device_host();
        hm_tensor Aw, B, D;
        CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, wide, &Aw), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, sb, &B), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, sd, &D), HM_STATUS_SUCCESS);
        fill(&Aw, 61);
        fill(&B, 62);
        hm_tensor A = Aw;
        A.shape[1] = K;
        double complex *ref = reference(&A, &B, NULL, false);
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.device_memory_limit = (size_t)3 << 20; /* two panels */
        hm_test_log_clear(&g_log);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
        CHECK_NEAR(rel_error(D.data, HM_DTYPE_F32, ref, M * N), 1e-5,
                   pinned ? "A's rows apart, pinned" : "A's rows apart, pageable");
        long long crossings = hm_test_log_number(&g_log, "so A crosses the link ");
        CHECK(crossings >= 2);
        CHECK_EQ_INT(ledger_bytes(ctx, "A", HM_TRANSFER_H2D), crossings * M * K * 4);
        CHECK_EQ_INT(ledger_bytes(ctx, "D", HM_TRANSFER_D2H), (long long)hm_tensor_nbytes(&D));
        free(ref);
        hm_tensor_free(ctx, &D);
        hm_tensor_free(ctx, &B);
        hm_tensor_free(ctx, &Aw);
    }
    hm_context_destroy(ctx);
}

/* A failure in any pass over K: the call fails with the injected status, frees what it took,
 * and the next call (of the cached plan, on new values of A) is right. */
static void failure_in_passes(void)
{
    hm_context *ctx = gpu_context();
    const int64_t M = 512, K = 2048, N = 256;
    hm_tensor A, B, D;
    host_operands(ctx, M, K, N, &A, &B, &D);
    fill(&A, 71);
    fill(&B, 72);
    double complex *ref = reference(&A, &B, NULL, false);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.device_memory_limit = (size_t)3 << 19;
    long long calls = backend_calls(ctx, &A, &B, &D, &o);
    CHECK(calls >= 8);
    CHECK_NEAR(rel_error(D.data, HM_DTYPE_F32, ref, M * N), 1e-5, "the call before failures");
    int failed = 0;
    long long step = calls / 5 > 1 ? calls / 5 : 1;
    for (long long k = 1; k < calls; k += step)
        failed += failing_call(ctx, k, &A, &B, &D, &o) != HM_STATUS_SUCCESS;
    CHECK(failed > 0);
    fill(&A, 73); /* the cached plan once more, on new values */
    free(ref);
    ref = reference(&A, &B, NULL, false);
    memset(D.data, 0, hm_tensor_nbytes(&D));
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(rel_error(D.data, HM_DTYPE_F32, ref, M * N), 1e-5, "the call after failed passes");
    free(ref);
    free_operands(ctx, &A, &B, &D);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(matmul_passes_over_k),
    HM_TEST_CASE(matmul_pitched_a),
    HM_TEST_CASE(failure_in_passes),
    HM_TEST_CASE(matmul_streamed_with_c),
    HM_TEST_CASE(failure_mid_stream_in_place),
    HM_TEST_CASE(matmul_streamed),
    HM_TEST_CASE(matmul_prefetched_panels),
    HM_TEST_CASE(plan_streamed_new_values),
    HM_TEST_CASE(budget_refused),
    HM_TEST_CASE(fft_streamed),
    HM_TEST_CASE(failure_mid_stream),
    HM_TEST_CASE(fft_columns_and_passes),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_outofcore", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
