/* The plan cache's control (hetmath/core.h): its statistics, its limits on plans and on bytes
 * held (least recently used out first), caching off, a plan alone over the byte limit run once and
 * released, clearing, the context's options, bad arguments; 10,000 stateless calls of a mixed
 * workload (matmuls and FFTs of 24 layouts in a shuffled order, new values every call) within the
 * limits after every call, each hit or miss counted, results against a double reference; and
 * plans executed unchecked (hm_*_execute_unchecked) on new values, bit for bit as checked; and
 * the breakdown of a stateless call at DEBUG. */
#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static hm_plan_cache_stats stats(const hm_context *ctx)
{
    hm_plan_cache_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, &s), HM_STATUS_SUCCESS);
    return s;
}

/* D = A·B, f32 n×n host operands with values from seed; max |D - reference| relative to n. */
static double matmul_call(hm_context *ctx, int n, unsigned long long seed)
{
    float a[64 * 64], b[64 * 64], d[64 * 64];
    for (int i = 0; i < n * n; i++) {
        a[i] = (float)hm_test_rand(&seed);
        b[i] = (float)hm_test_rand(&seed);
    }
    int64_t shape[2] = {n, n};
    hm_tensor A, B, D;
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
    hm_tensor_init(&B, b, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
    hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
    double worst = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < n; q++)
                s += (double)a[i * n + q] * b[q * n + j];
            worst = fmax(worst, fabs(s - d[i * n + j]) / n);
        }
    return worst;
}

/* y = FFT(x), c64 of n points (batch of `batch`); max |y - DFT| relative to n. */
static double fft_call(hm_context *ctx, int n, int batch, unsigned long long seed)
{
    float complex x[4 * 64], y[4 * 64];
    for (int i = 0; i < n * batch; i++) {
        double re = hm_test_rand(&seed);
        x[i] = (float)re + (float)hm_test_rand(&seed) * I;
    }
    int64_t shape[2] = {batch, n};
    hm_tensor X, Y;
    hm_tensor_init(&X, x, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_tensor_init(&Y, y, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    CHECK_STATUS(hm_fft(ctx, &X, &Y, &o), HM_STATUS_SUCCESS);
    double worst = 0;
    for (int r = 0; r < batch; r++)
        for (int k = 0; k < n; k++) {
            double complex s = 0;
            for (int t = 0; t < n; t++)
                s += x[r * n + t] * cexp(-2 * M_PI * I * (double)k * t / n);
            worst = fmax(worst, cabs(s - y[r * n + k]) / n);
        }
    return worst;
}

/* Hits, misses and bytes of a few calls; the least recently used evicted first at the limit;
 * clearing keeps the counts. */
static void stats_and_eviction(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_WARN);
    hm_plan_cache_stats s = stats(ctx);
    CHECK_EQ_INT(s.entries, 0);
    CHECK_EQ_INT((long long)s.bytes, 0);
    CHECK_EQ_INT(s.max_entries, HM_PLAN_CACHE_DEFAULT_ENTRIES);
    CHECK_EQ_INT((long long)s.max_bytes, 0);
    CHECK(matmul_call(ctx, 8, 1) < 1e-6);
    CHECK(matmul_call(ctx, 8, 2) < 1e-6);
    s = stats(ctx);
    CHECK_EQ_INT((long long)s.misses, 1);
    CHECK_EQ_INT((long long)s.hits, 1);
    CHECK_EQ_INT(s.entries, 1);
    CHECK(s.bytes > 0);
    size_t one = s.bytes;
    /* three layouts under a limit of two: the first (least recently used) goes */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 2, 0), HM_STATUS_SUCCESS);
    CHECK(matmul_call(ctx, 9, 3) < 1e-6);
    CHECK(matmul_call(ctx, 8, 4) < 1e-6); /* a hit: 8 is now the most recent */
    CHECK(matmul_call(ctx, 10, 5) < 1e-6);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 2);
    CHECK_EQ_INT((long long)s.evictions, 1); /* 9 went, being the least recently used */
    CHECK_EQ_INT((long long)s.hits, 2);
    CHECK(matmul_call(ctx, 8, 6) < 1e-6);
    CHECK_EQ_INT((long long)stats(ctx).hits, 3);
    CHECK(matmul_call(ctx, 9, 7) < 1e-6);
    CHECK_EQ_INT((long long)stats(ctx).misses, 4);
    /* lowering the limit evicts at once */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 1, 0), HM_STATUS_SUCCESS);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 1);
    CHECK_EQ_INT((long long)s.evictions, 3);
    /* a byte limit below one plan: run once, released, counted */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 8, one / 2), HM_STATUS_SUCCESS);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 0);
    CHECK(matmul_call(ctx, 11, 8) < 1e-6);
    CHECK(matmul_call(ctx, 11, 9) < 1e-6);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 0);
    CHECK_EQ_INT((long long)s.uncached, 2);
    /* caching off */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 0, 0), HM_STATUS_SUCCESS);
    CHECK(fft_call(ctx, 16, 2, 10) < 1e-5);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 0);
    CHECK_EQ_INT((long long)s.uncached, 3);
    /* clearing: no plan left, the counts kept */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 8, 0), HM_STATUS_SUCCESS);
    CHECK(fft_call(ctx, 16, 2, 11) < 1e-5);
    CHECK_EQ_INT(stats(ctx).entries, 1);
    uint64_t misses = stats(ctx).misses;
    CHECK_STATUS(hm_context_clear_plan_cache(ctx), HM_STATUS_SUCCESS);
    s = stats(ctx);
    CHECK_EQ_INT(s.entries, 0);
    CHECK_EQ_INT((long long)s.bytes, 0);
    CHECK_EQ_INT((long long)s.misses, (long long)misses);
    hm_context_destroy(ctx);
}

/* The context's options; bad arguments. */
static void options_and_arguments(void)
{
    hm_context_options o;
    hm_context_options_init(&o);
    o.plan_cache_entries = 3;
    o.plan_cache_bytes = 1 << 20;
    hm_context *ctx = NULL;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    hm_plan_cache_stats s = stats(ctx);
    CHECK_EQ_INT(s.max_entries, 3);
    CHECK_EQ_INT((long long)s.max_bytes, 1 << 20);
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, -1, 0), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx),
                   "hm_context_set_plan_cache_limits: max_entries -1 is outside 0..4096");
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, HM_PLAN_CACHE_MAX_ENTRIES + 1, 0),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_set_plan_cache_limits(NULL, 4, 0), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_plan_cache_stats(NULL, &s), HM_STATUS_INVALID_ARGUMENT);
    s.size = sizeof s + 8;
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, &s), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "is not that of an hm_plan_cache_stats");
    /* an older caller's smaller struct: filled up to its size */
    hm_plan_cache_stats part;
    memset(&part, 0xAB, sizeof part);
    part.size = offsetof(hm_plan_cache_stats, misses);
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, &part), HM_STATUS_SUCCESS);
    CHECK_EQ_INT((long long)part.hits, 0);
    CHECK(part.misses == 0xABABABABABABABABull);
    hm_context_destroy(ctx);
    o.plan_cache_entries = -1; /* no cache */
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(stats(ctx).max_entries, 0);
    hm_context_destroy(ctx);
    o.plan_cache_entries = HM_PLAN_CACHE_MAX_ENTRIES + 1;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
}

/* 10,000 stateless calls over 24 layouts (12 matmul sizes, 12 FFT lengths and batches) in a
 * shuffled order, under 6 plans and a byte limit of four plans of the largest: within both after
 * every call, hits + misses = calls, and every 97th call's result against the reference. */
static void mixed_workload(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_WARN);
    /* the bytes of the largest plan, from a cache of one */
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 1, 0), HM_STATUS_SUCCESS);
    size_t largest = 0;
    for (int k = 0; k < 24; k++) {
        if (k < 12)
            matmul_call(ctx, 4 + 5 * k, 1);
        else
            fft_call(ctx, 4 << (k % 4), 1 + (k - 12) / 4, 1);
        size_t b = stats(ctx).bytes;
        largest = b > largest ? b : largest;
    }
    size_t max_bytes = 4 * largest;
    CHECK_STATUS(hm_context_set_plan_cache_limits(ctx, 6, max_bytes), HM_STATUS_SUCCESS);
    hm_plan_cache_stats before = stats(ctx);
    unsigned long long seed = 12345;
    int over = 0, wrong = 0;
    const int calls = 10000;
    for (int c = 0; c < calls; c++) {
        int k = (int)((hm_test_rand(&seed) + 1) * 12) % 24;
        bool check = c % 97 == 0;
        double err = 0;
        if (k < 12) {
            int n = 4 + 5 * k;
            err = check ? matmul_call(ctx, n, seed) : 0;
            if (!check) { /* the same call without the reference's cost */
                float a[64 * 64] = {0}, d[64 * 64];
                int64_t shape[2] = {n, n};
                hm_tensor A, D;
                hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
                hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
                CHECK_STATUS(hm_matmul(ctx, &A, &A, NULL, &D, NULL), HM_STATUS_SUCCESS);
            }
        } else {
            err = fft_call(ctx, 4 << (k % 4), 1 + (k - 12) / 4, seed);
        }
        wrong += err > 1e-5;
        hm_plan_cache_stats s = stats(ctx);
        over += s.entries > 6 || s.bytes > max_bytes;
    }
    CHECK_EQ_INT(over, 0);
    CHECK_EQ_INT(wrong, 0);
    hm_plan_cache_stats s = stats(ctx);
    CHECK_EQ_INT((long long)(s.hits + s.misses - before.hits - before.misses), calls);
    CHECK(s.evictions > before.evictions);
    CHECK(s.hits > before.hits);
    /* every miss put a plan in (none alone over the limit): what is held is what came in less
     * what went out */
    CHECK_EQ_INT((long long)(s.misses - before.misses) + before.entries -
                     (long long)(s.evictions - before.evictions),
                 s.entries);
    hm_context_destroy(ctx);
}

/* A matmul plan and an FFT plan executed unchecked on new values in new buffers: bit for bit the
 * checked execution's results; what is still checked (NULLs, the plan's context). */
static void unchecked_execution(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_WARN),
               *other = hm_test_context(NULL, HM_LOG_WARN);
    enum { N = 24 };
    float a[2][N * N], b[2][N * N], d[2][N * N];
    int64_t shape[2] = {N, N};
    hm_tensor A[2], B[2], D[2];
    for (int k = 0; k < 2; k++) {
        hm_tensor_init(&A[k], a[k], hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
        hm_tensor_init(&B[k], b[k], hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
        hm_tensor_init(&D[k], d[k], hm_device_host(), HM_DTYPE_F32, 2, shape, NULL);
    }
    hm_matmul_plan *mp = NULL;
    CHECK_STATUS(
        hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A[0], &B[0], NULL, &D[0], NULL, NULL, &mp),
        HM_STATUS_SUCCESS);
    unsigned long long seed = 77;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N * N; i++) {
            a[0][i] = a[1][i] = (float)hm_test_rand(&seed);
            b[0][i] = b[1][i] = (float)hm_test_rand(&seed);
        }
        CHECK_STATUS(hm_matmul_execute(ctx, mp, &A[0], &B[0], NULL, &D[0], NULL),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul_execute_unchecked(ctx, mp, &A[1], &B[1], NULL, &D[1], NULL),
                     HM_STATUS_SUCCESS);
        CHECK(memcmp(d[0], d[1], sizeof d[0]) == 0);
    }
    CHECK_STATUS(hm_matmul_execute_unchecked(ctx, mp, &A[1], NULL, NULL, &D[1], NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_matmul_execute_unchecked: operand B is NULL");
    CHECK_STATUS(hm_matmul_execute_unchecked(other, mp, &A[1], &B[1], NULL, &D[1], NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_matmul_execute_unchecked(ctx, NULL, &A[1], &B[1], NULL, &D[1], NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    hm_matmul_plan_destroy(mp);

    float complex x[2][N * 4], y[2][N * 4];
    int64_t fshape[2] = {4, N};
    hm_tensor X[2], Y[2];
    for (int k = 0; k < 2; k++) {
        hm_tensor_init(&X[k], x[k], hm_device_host(), HM_DTYPE_C64, 2, fshape, NULL);
        hm_tensor_init(&Y[k], y[k], hm_device_host(), HM_DTYPE_C64, 2, fshape, NULL);
    }
    hm_fft_plan *fp = NULL;
    CHECK_STATUS(hm_fft_plan_create(ctx, &X[0], &Y[0], NULL, &fp), HM_STATUS_SUCCESS);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N * 4; i++) {
            double re = hm_test_rand(&seed);
            x[0][i] = x[1][i] = (float)re + (float)hm_test_rand(&seed) * I;
        }
        CHECK_STATUS(hm_fft_execute(ctx, fp, &X[0], &Y[0]), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft_execute_unchecked(ctx, fp, &X[1], &Y[1]), HM_STATUS_SUCCESS);
        CHECK(memcmp(y[0], y[1], sizeof y[0]) == 0);
    }
    CHECK_STATUS(hm_fft_execute_unchecked(ctx, fp, &X[1], NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_fft_execute_unchecked(NULL, fp, &X[1], &Y[1]), HM_STATUS_INVALID_ARGUMENT);
    hm_fft_plan_destroy(fp);
    hm_context_destroy(other);
    hm_context_destroy(ctx);
}

/* At DEBUG a stateless call says what it spent: specifying, its plan (made, then from the cache),
 * executing. */
static void call_breakdown(void)
{
    static hm_test_log log;
    hm_context *ctx = hm_test_context(&log, HM_LOG_DEBUG);
    CHECK(matmul_call(ctx, 8, 1) < 1e-6);
    CHECK_CONTAINS(log.text, "hm_matmul: the call spent ");
    CHECK_CONTAINS(log.text, "us on its plan (made)");
    hm_test_log_clear(&log);
    CHECK(matmul_call(ctx, 8, 2) < 1e-6);
    CHECK_CONTAINS(log.text, "us on its plan (from the cache)");
    CHECK(hm_test_log_number(&log, "hm_matmul: the call spent ") >= 0);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(stats_and_eviction), HM_TEST_CASE(options_and_arguments),
    HM_TEST_CASE(mixed_workload),     HM_TEST_CASE(unchecked_execution),
    HM_TEST_CASE(call_breakdown),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_plan_cache", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
