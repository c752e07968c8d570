/* Injected failures: for each operation, each failure site (host, pinned and device allocation,
 * backend call) and each event N at that site, make the N-th event fail and check a clean status
 * naming the injection (or a graceful fallback with the right result), that every backend plan
 * the call made was released (hm_debug_live_plans once the plan cache is emptied), and that the
 * context then still gives the right result. Run under ASan in CI, which also checks that nothing
 * else leaks.
 * Built twice: test_faults (CPU operations) and test_faults_cuda (GPU operations; skipped, 77,
 * without a device). */
#include "check.h"
#include "hetmath/debug.h"

typedef hm_status (*op_fn)(hm_context *ctx, void *state, void *out);

enum { N = 96, R = 4 };
static float xbuf[2 * N * R], cbuf[N * N];
static float amat[32 * 24], bmat[24 * 16];

#ifndef HM_FAULTS_CUDA
/* 1. FFT of host data into an allocated output (host allocation, plan, transform). */
static hm_status op_fft(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t shape[2] = {R, N};
    hm_tensor x, y;
    memset(&y, 0, sizeof y);
    hm_tensor_init(&x, xbuf, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    hm_status s = hm_fft(ctx, &x, &y, &o);
    if (s == HM_STATUS_SUCCESS) {
        memcpy(out, y.data, sizeof xbuf);
        hm_tensor_free(ctx, &y);
    }
    return s;
}

/* 2. c2r of host data (its input copied through an h2h staging copy). */
static hm_status op_c2r(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t hs[1] = {N / 2 + 1}, rs[1] = {N};
    hm_tensor x, y;
    hm_tensor_init(&x, xbuf, hm_device_host(), HM_DTYPE_C64, 1, hs, NULL);
    hm_tensor_init(&y, out, hm_device_host(), HM_DTYPE_F32, 1, rs, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.type = HM_FFT_C2R;
    o.direction = HM_FFT_INVERSE;
    return hm_fft(ctx, &x, &y, &o);
}

/* 3. matmul with a separate C and beta (C copied into D), through a plan. */
static hm_status op_matmul_plan(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t sa[2] = {32, 24}, sb[2] = {24, 16}, sd[2] = {32, 16};
    hm_tensor A, B, C, D;
    hm_tensor_init(&A, amat, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&B, bmat, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    hm_tensor_init(&C, cbuf, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_tensor_init(&D, out, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.beta = 0.5;
    hm_matmul_plan *p = NULL;
    hm_status s = hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A, &B, &C, &D, NULL, &o, &p);
    if (s == HM_STATUS_SUCCESS)
        s = hm_matmul_execute(ctx, p, &A, &B, &C, &D, NULL);
    hm_matmul_plan_destroy(p);
    return s;
}

/* 4. a strided host copy (a transpose). */
static hm_status op_copy(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t shape[2] = {32, 24}, cm[2] = {1, 32};
    hm_tensor s, d;
    hm_tensor_init(&s, amat, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
    hm_tensor_init(&d, out, hm_device_host(), HM_DTYPE_F32, 2, shape, cm);
    return hm_copy(ctx, &s, &d);
}

#else
/* 5. FFT of host data on cuda:0: device allocations, staging, copies both ways. */
static hm_status op_fft_on_gpu(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t shape[2] = {R, N};
    hm_tensor x, y;
    hm_tensor_init(&x, xbuf, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_tensor_init(&y, out, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.execution = hm_execution_cuda(0);
    return hm_fft(ctx, &x, &y, &o);
}

/* 6. The advanced matmul of large host operands: pinned pool, pipeline, device memory. */
enum { BM = 2048, BK = 1100, BN = 64 };
static float *big_a, *big_b;
static hm_status op_pipelined(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t sa[2] = {BM, BK}, sb[2] = {BK, BN}, sd[2] = {BM, BN};
    hm_tensor A, B, D;
    hm_tensor_init(&A, big_a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&B, big_b, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    hm_tensor_init(&D, out, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    return hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o);
}

/* 8. FFT of batched host data pipelined on cuda:0 (x of 16 MiB, 64 transforms): the link and
 * chunk timings, a cuFFT plan per chunk size, the pipeline's copies. */
enum { FB = 64, FN = 32768 };
static float *big_x;
static hm_status op_fft_pipelined(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t shape[2] = {FB, FN};
    hm_tensor x, y;
    hm_tensor_init(&x, big_x, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_tensor_init(&y, out, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    o.execution = hm_execution_cuda(0);
    return hm_fft(ctx, &x, &y, &o);
}

/* 7. a device tensor allocated, filled from pageable memory (staged), read back. */
static hm_status op_roundtrip(hm_context *ctx, void *st, void *out)
{
    (void)st;
    int64_t n = (int64_t)BM * BK;
    hm_tensor h, d, back;
    hm_tensor_init(&h, big_a, hm_device_host(), HM_DTYPE_F32, 1, &n, NULL);
    hm_tensor_init(&back, out, hm_device_host(), HM_DTYPE_F32, 1, &n, NULL);
    hm_status s = hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 1, &n, &d);
    if (s != HM_STATUS_SUCCESS)
        return s;
    s = hm_copy(ctx, &h, &d);
    if (s == HM_STATUS_SUCCESS)
        s = hm_copy(ctx, &d, &back);
    hm_tensor_free(ctx, &d);
    return s;
}
#endif

/* The contexts' pipeline schedule, and how near a result must be to the first run's: 0, bit for
 * bit; else the relative L2 error of f32 results. A fixed schedule gives the same tiles in every
 * context; a measured one may give other tiles, so other cuBLASLt algorithms and low bits. */
static int g_schedule = HM_PIPELINE_FIXED;
static double g_tolerance = 0;

static hm_context *quiet_context(void)
{
    return hm_test_context_scheduled(NULL, HM_LOG_OFF, g_schedule);
}

static int same_result(const void *got, const void *expect, size_t bytes)
{
    if (g_tolerance == 0)
        return memcmp(got, expect, bytes) == 0;
    const float *g = got, *e = expect;
    double num = 0, den = 0;
    for (size_t i = 0; i < bytes / sizeof(float); i++) {
        num += ((double)g[i] - e[i]) * ((double)g[i] - e[i]);
        den += (double)e[i] * e[i];
    }
    return num <= g_tolerance * g_tolerance * den;
}

static void walk(const char *label, op_fn op, size_t out_bytes, int *points_total)
{
    static const char *const sites[] = {"host alloc", "pinned alloc", "device alloc",
                                        "backend call"};
    unsigned char *expect = malloc(out_bytes), *got = malloc(out_bytes);
    hm_context *ctx = quiet_context();
    long before[HM_FAULT_SITE_COUNT], events[HM_FAULT_SITE_COUNT];
    for (int s = 0; s < HM_FAULT_SITE_COUNT; s++)
        before[s] = hm_debug_site_count(ctx, (hm_fault_site)s);
    memset(expect, 0, out_bytes);
    CHECK_STATUS(op(ctx, NULL, expect), HM_STATUS_SUCCESS);
    for (int s = 0; s < HM_FAULT_SITE_COUNT; s++)
        events[s] = hm_debug_site_count(ctx, (hm_fault_site)s) - before[s];
    hm_context_destroy(ctx);
    printf("%-34s", label);
    for (int s = 0; s < HM_FAULT_SITE_COUNT; s++) {
        int failed = 0;
        for (long n = 1; n <= events[s]; n++) {
            ctx = quiet_context();
            CHECK_STATUS(hm_debug_inject_failure(ctx, (hm_fault_site)s, n), HM_STATUS_SUCCESS);
            memset(got, 0, out_bytes);
            hm_status st = op(ctx, NULL, got);
            if (st == HM_STATUS_SUCCESS) {
                /* a graceful fallback: the result must still be right */
                CHECK(same_result(got, expect, out_bytes));
            } else {
                failed++;
                CHECK(st == HM_STATUS_OUT_OF_HOST_MEMORY || st == HM_STATUS_OUT_OF_DEVICE_MEMORY ||
                      st == HM_STATUS_FFTW_ERROR || st == HM_STATUS_CUFFT_ERROR ||
                      st == HM_STATUS_CUBLAS_ERROR || st == HM_STATUS_CUDA_ERROR ||
                      st == HM_STATUS_INTERNAL);
                CHECK_CONTAINS(hm_context_last_error(ctx), "(injected)");
            }
            /* every backend plan the call made is released or cached */
            CHECK_STATUS(hm_context_clear_plan_cache(ctx), HM_STATUS_SUCCESS);
            CHECK_EQ_INT(hm_debug_live_plans(ctx), 0);
            /* the same context, disarmed, works */
            CHECK_STATUS(hm_debug_inject_failure(ctx, (hm_fault_site)s, 0), HM_STATUS_SUCCESS);
            memset(got, 0, out_bytes);
            CHECK_STATUS(op(ctx, NULL, got), HM_STATUS_SUCCESS);
            CHECK(same_result(got, expect, out_bytes));
            hm_context_destroy(ctx);
        }
        *points_total += (int)events[s];
        printf(" %s %ld (%d failed)%s", sites[s], events[s], failed,
               s + 1 < HM_FAULT_SITE_COUNT ? "," : "\n");
    }
    free(expect);
    free(got);
}

static void fill(float *v, size_t n, unsigned long long *seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)hm_test_rand(seed);
}

static void fill_small(void)
{
    unsigned long long seed = 8;
    fill(xbuf, sizeof xbuf / sizeof xbuf[0], &seed);
    fill(cbuf, sizeof cbuf / sizeof cbuf[0], &seed);
    fill(amat, sizeof amat / sizeof amat[0], &seed);
    fill(bmat, sizeof bmat / sizeof bmat[0], &seed);
}

/* The hooks' own arguments. */
static void hook_arguments(void)
{
    CHECK_STATUS(hm_debug_inject_failure(NULL, HM_FAULT_HOST_ALLOC, 1), HM_STATUS_INVALID_ARGUMENT);
    hm_context *c = quiet_context();
    CHECK_STATUS(hm_debug_inject_failure(c, (hm_fault_site)9, 1), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_debug_inject_failure(c, HM_FAULT_HOST_ALLOC, -1), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(hm_debug_site_count(c, (hm_fault_site)9), -1);
    CHECK_EQ_INT(hm_debug_live_plans(NULL), -1);
    CHECK_EQ_INT(hm_debug_live_plans(c), 0);
    CHECK_STATUS(hm_debug_set_pipeline_timing(c, 2), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_debug_set_pipeline_timing(c, 1), HM_STATUS_SUCCESS);
    hm_context_destroy(c);
}

#ifdef HM_FAULTS_CUDA
#define PROGRAM "test_faults_cuda"
static void require_cuda(void)
{
    hm_context *c = quiet_context();
    hm_test_require_cuda(c, PROGRAM);
    hm_context_destroy(c);
}

static void cuda_fft_on_gpu(void)
{
    require_cuda();
    fill_small();
    int points = 0;
    walk("fft of host data on cuda:0", op_fft_on_gpu, sizeof xbuf, &points);
}

static void cuda_fft_pipelined(void)
{
    require_cuda();
    unsigned long long seed = 9;
    big_x = malloc(sizeof(float) * 2 * FB * FN);
    fill(big_x, (size_t)2 * FB * FN, &seed);
    int points = 0;
    walk("fft of host data, pipelined", op_fft_pipelined, sizeof(float) * 2 * FB * FN, &points);
    g_schedule = HM_PIPELINE_MEASURED; /* the measurement's failure points too */
    g_tolerance = 1e-5;
    walk("fft pipelined, measured chunks", op_fft_pipelined, sizeof(float) * 2 * FB * FN, &points);
    g_schedule = HM_PIPELINE_FIXED;
    g_tolerance = 0;
    free(big_x);
}

static void cuda_matmul_pipelined(void)
{
    require_cuda();
    unsigned long long seed = 10;
    big_a = malloc(sizeof(float) * BM * BK);
    big_b = malloc(sizeof(float) * BK * BN);
    fill(big_a, (size_t)BM * BK, &seed);
    fill(big_b, (size_t)BK * BN, &seed);
    int points = 0;
    walk("advanced matmul, pipelined", op_pipelined, sizeof(float) * BM * BN, &points);
    g_schedule = HM_PIPELINE_MEASURED;
    g_tolerance = 1e-5;
    walk("advanced matmul, measured tiles", op_pipelined, sizeof(float) * BM * BN, &points);
    g_schedule = HM_PIPELINE_FIXED;
    g_tolerance = 0;
    walk("staged round trip", op_roundtrip, sizeof(float) * BM * BK, &points);
    free(big_a);
    free(big_b);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(hook_arguments),
    HM_TEST_CASE(cuda_fft_on_gpu),
    HM_TEST_CASE(cuda_fft_pipelined),
    HM_TEST_CASE(cuda_matmul_pipelined),
};
#else
#define PROGRAM "test_faults"
static void fft_c2c(void)
{
    fill_small();
    int points = 0;
    walk("fft c2c, allocated output", op_fft, sizeof xbuf, &points);
}

static void fft_c2r(void)
{
    fill_small();
    int points = 0;
    walk("fft c2r (staged input)", op_c2r, sizeof(float) * N, &points);
}

static void matmul_plan_with_c(void)
{
    fill_small();
    int points = 0;
    walk("matmul plan with C and beta", op_matmul_plan, sizeof(float) * 32 * 16, &points);
}

static void strided_copy(void)
{
    fill_small();
    int points = 0;
    walk("strided copy", op_copy, sizeof amat, &points);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(hook_arguments),     HM_TEST_CASE(fft_c2c),      HM_TEST_CASE(fft_c2r),
    HM_TEST_CASE(matmul_plan_with_c), HM_TEST_CASE(strided_copy),
};
#endif

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, PROGRAM, test_cases, (int)HM_ARRAY_LEN(test_cases));
}
