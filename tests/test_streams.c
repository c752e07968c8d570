/* The caller's stream (hm_*_options.stream): a call of device operands is ordered after the work
 * the caller queued on it and before what it queues next, without waiting on the host: long work
 * queued first is still running when the call returns, and the call reads the values that work
 * wrote (queued last on that stream, after the long work). A plan from the cache runs on the
 * stream of the call that reuses it, with new values; a CPU call of device operands waits for the
 * caller's stream too; a call of host operands on the CPU never uses it. A plan moves to another
 * stream (hm_*_plan_set_stream); hm_copy_on_stream orders a copy the same way. Results against
 * double-precision references. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "hetmath.h"

#define N     4096
#define BUSY  ((size_t)1 << 30) /* bytes the long work sets, a few times over */
#define TIMES 200 /* about 50 ms on an H200: far longer than a call, which must not wait */

static float host_in[2 * N], host_out[2 * N];

static void values(unsigned seed)
{
    for (int i = 0; i < 2 * N; i++) {
        seed = seed * 1664525u + 1013904223u;
        host_in[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
    }
}

/* max |y - DFT(x)| / (N max|x|) of host_out against host_in, in double. */
static double dft_error(void)
{
    double worst = 0;
    for (int f = 0; f < N; f++) {
        double re = 0, im = 0;
        for (int t = 0; t < N; t++) {
            double w = -2.0 * M_PI * (double)((long)f * t % N) / N;
            re += host_in[2 * t] * cos(w) - host_in[2 * t + 1] * sin(w);
            im += host_in[2 * t] * sin(w) + host_in[2 * t + 1] * cos(w);
        }
        double e = hypot(re - host_out[2 * f], im - host_out[2 * f + 1]);
        worst = e > worst ? e : worst;
    }
    return worst / (N * 0.5);
}

/* Queues long work on s (memsets of a large buffer), then the input's values. */
static void busy_then_input(cudaStream_t s, void *busy, void *x)
{
    for (int i = 0; i < TIMES; i++)
        cudaMemsetAsync(busy, i, BUSY, s);
    cudaMemcpyAsync(x, host_in, sizeof host_in, cudaMemcpyHostToDevice, s);
}

static void fft_on_callers_stream(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    hm_test_require_cuda(ctx, "test_streams");
    void *busy = NULL;
    cudaStream_t s[2];
    CHECK(cudaMalloc(&busy, BUSY) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&s[0], cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&s[1], cudaStreamNonBlocking) == cudaSuccess);
    /* host_in, host_out pinned: the caller's copies are asynchronous too */
    CHECK(cudaHostRegister(host_in, sizeof host_in, 0) == cudaSuccess);
    CHECK(cudaHostRegister(host_out, sizeof host_out, 0) == cudaSuccess);
    int64_t n = N;
    hm_tensor x, y;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &x),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &y),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS); /* before another stream */
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.blocking = 1; /* the device's first use (its libraries, its stream) out of the way */
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    o.blocking = 0;
    hm_plan_cache_stats before = {.size = sizeof before}, stats = {.size = sizeof stats};
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, &before), HM_STATUS_SUCCESS);
    for (int call = 0; call < 2; call++) { /* both reuse the first call's plan, on s[0], s[1] */
        values(100 + (unsigned)call);
        memset(host_out, 0, sizeof host_out);
        o.stream = s[call];
        busy_then_input(s[call], busy, x.data);
        CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
        /* returned with the caller's long work still running: no wait on the host */
        CHECK(cudaStreamQuery(s[call]) == cudaErrorNotReady);
        cudaMemcpyAsync(host_out, y.data, sizeof host_out, cudaMemcpyDeviceToHost, s[call]);
        CHECK(cudaStreamSynchronize(s[call]) == cudaSuccess);
        CHECK_NEAR(dft_error(), 1e-5, call ? "the cached plan on another stream" : "the first");
    }
    CHECK_STATUS(hm_context_plan_cache_stats(ctx, &stats), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(stats.hits - before.hits, 2); /* the plan of the call on the context's stream */
    CHECK_EQ_INT(stats.misses - before.misses, 0);

    /* a plan made with s[0]'s options runs on s[0], new values each time; then, moved to s[1]
     * (hm_fft_plan_set_stream), on s[1] */
    hm_fft_plan *plan = NULL;
    o.stream = s[0];
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    for (int call = 0; call < 3 && plan; call++) {
        cudaStream_t on = s[call / 2];
        if (call == 2)
            CHECK_STATUS(hm_fft_plan_set_stream(plan, s[1]), HM_STATUS_SUCCESS);
        values(200 + (unsigned)call);
        busy_then_input(on, busy, x.data);
        CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &y), HM_STATUS_SUCCESS);
        CHECK(cudaStreamQuery(on) == cudaErrorNotReady);
        cudaMemcpyAsync(host_out, y.data, sizeof host_out, cudaMemcpyDeviceToHost, on);
        CHECK(cudaStreamSynchronize(on) == cudaSuccess);
        CHECK_NEAR(dft_error(), 1e-5, call < 2 ? "the plan on its stream" : "the plan moved");
    }
    hm_fft_plan_destroy(plan);

    /* hetmath's own stream after a call computed on the caller's: hm_copy reads the result of
     * the transform queued on s[0] (after long work), the caller waiting for nothing */
    values(260);
    o.stream = s[0];
    busy_then_input(s[0], busy, x.data);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK(cudaStreamQuery(s[0]) == cudaErrorNotReady);
    memset(host_out, 0, sizeof host_out);
    hm_tensor out;
    CHECK_STATUS(hm_tensor_init(&out, host_out, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &y, &out), HM_STATUS_SUCCESS);
    CHECK_NEAR(dft_error(), 1e-5, "the context's stream after the caller's");

    /* the CPU computing on device operands waits for the caller's stream before copying them */
    values(300);
    o.stream = s[1];
    o.execution = hm_execution_cpu(HM_AUTO);
    busy_then_input(s[1], busy, x.data);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    cudaMemcpyAsync(host_out, y.data, sizeof host_out, cudaMemcpyDeviceToHost, s[1]);
    CHECK(cudaStreamSynchronize(s[1]) == cudaSuccess);
    CHECK_NEAR(dft_error(), 1e-5, "the CPU on device operands");

    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &x);
    hm_tensor_free(ctx, &y);
    cudaHostUnregister(host_in);
    cudaHostUnregister(host_out);
    cudaStreamDestroy(s[0]);
    cudaStreamDestroy(s[1]);
    cudaFree(busy);
    hm_context_destroy(ctx);
}

static void matmul_on_callers_stream(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    hm_test_require_cuda(ctx, "test_streams");
    enum { M = 96, K = 80, NN = 64 };
    static float a[M * K], b[K * NN], d[M * NN];
    unsigned seed = 7;
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (float)(1u << 24) - 0.5f;
    for (int i = 0; i < K * NN; i++)
        b[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (float)(1u << 24) - 0.5f;
    void *busy = NULL;
    cudaStream_t s;
    CHECK(cudaMalloc(&busy, BUSY) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    int64_t sa[2] = {M, K}, sb[2] = {K, NN};
    hm_tensor A, B, D = {0};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sa, &A),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sb, &B),
                 HM_STATUS_SUCCESS);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.blocking = 1; /* the device's first use out of the way, then the product on the stream */
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &D);
    D = (hm_tensor){0};
    o.blocking = 0;
    o.stream = s;
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS); /* before another stream */
    for (int i = 0; i < TIMES; i++)
        cudaMemsetAsync(busy, i, BUSY, s);
    cudaMemcpyAsync(A.data, a, sizeof a, cudaMemcpyHostToDevice, s);
    cudaMemcpyAsync(B.data, b, sizeof b, cudaMemcpyHostToDevice, s);
    /* D allocated by hetmath, stream-ordered: usable on the caller's stream after the call */
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);
    CHECK(cudaStreamQuery(s) == cudaErrorNotReady);
    cudaMemcpyAsync(d, D.data, sizeof d, cudaMemcpyDeviceToHost, s);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < NN; j++) {
            double r = 0;
            for (int l = 0; l < K; l++)
                r += (double)a[i * K + l] * b[l * NN + j];
            worst = fabs(r - d[i * NN + j]) > worst ? fabs(r - d[i * NN + j]) : worst;
        }
    CHECK_NEAR(worst / (K * 0.25), 1e-6, "the product on the caller's stream");
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &A);
    hm_tensor_free(ctx, &B);
    hm_tensor_free(ctx, &D);
    cudaStreamDestroy(s);
    cudaFree(busy);
    hm_context_destroy(ctx);
}

/* hm_copy_on_stream: a copy within the device is left queued after the caller's work, its
 * ledger record pending until it is done and then timed; a strided one too; a copy from the
 * host blocks, after the caller's earlier work (a memset it must overwrite). */
static void copy_on_callers_stream(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    hm_test_require_cuda(ctx, "test_streams");
    void *busy = NULL;
    cudaStream_t s;
    CHECK(cudaMalloc(&busy, BUSY) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaHostRegister(host_in, sizeof host_in, 0) == cudaSuccess);
    CHECK(cudaHostRegister(host_out, sizeof host_out, 0) == cudaSuccess);
    int64_t n = N, sq[2] = {64, 64}, tr[2] = {1, 64};
    hm_tensor x, x2, h;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &x),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &x2),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&h, host_in, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL),
                 HM_STATUS_SUCCESS);
    hm_tensor sq_x, sq_t; /* x as [64, 64], and x2 as its transpose */
    CHECK_STATUS(hm_tensor_init(&sq_x, x.data, x.device, HM_DTYPE_C64, 2, sq, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&sq_t, x2.data, x2.device, HM_DTYPE_C64, 2, sq, tr),
                 HM_STATUS_SUCCESS);
    /* the transposing kernel's first launch loads its module, which may wait: out of the way */
    CHECK_STATUS(hm_copy(ctx, &sq_x, &sq_t), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    for (int strided = 0; strided < 2; strided++) {
        values(500 + (unsigned)strided);
        busy_then_input(s, busy, x.data);
        CHECK_STATUS(hm_copy_on_stream(ctx, strided ? &sq_x : &x, strided ? &sq_t : &x2, s),
                     HM_STATUS_SUCCESS);
        CHECK(cudaStreamQuery(s) == cudaErrorNotReady); /* returned, the caller's work running */
        hm_transfer_record r;
        CHECK_STATUS(hm_ledger_record(ctx, hm_ledger_count(ctx) - 1, &r), HM_STATUS_SUCCESS);
        CHECK(r.pending == 1 && r.seconds == 0 && r.direction == HM_TRANSFER_D2D);
        cudaMemcpyAsync(host_out, x2.data, sizeof host_out, cudaMemcpyDeviceToHost, s);
        CHECK(cudaStreamSynchronize(s) == cudaSuccess);
        int wrong = 0;
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++) {
                int at = strided ? j * 64 + i : i * 64 + j; /* where x's (i, j) went */
                wrong += memcmp(&host_out[2 * at], &host_in[2 * (i * 64 + j)], 8) != 0;
            }
        CHECK_EQ_INT(wrong, 0);
        CHECK_STATUS(hm_ledger_record(ctx, hm_ledger_count(ctx) - 1, &r), HM_STATUS_SUCCESS);
        CHECK(r.pending == 0 && r.seconds > 0 && r.gbps > 0); /* timed on the device, now read */
    }
    hm_transfer_totals t;
    CHECK_STATUS(hm_ledger_totals(ctx, &t), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(t.copies[HM_TRANSFER_D2D], 2);
    CHECK(t.seconds[HM_TRANSFER_D2D] > 0);

    /* from the host: after the caller's memset of x2, which it overwrites; blocking */
    values(502);
    for (int i = 0; i < TIMES; i++)
        cudaMemsetAsync(busy, i, BUSY, s);
    cudaMemsetAsync(x2.data, 0, sizeof host_in, s);
    CHECK_STATUS(hm_copy_on_stream(ctx, &h, &x2, s), HM_STATUS_SUCCESS);
    memset(host_out, 0, sizeof host_out);
    cudaMemcpyAsync(host_out, x2.data, sizeof host_out, cudaMemcpyDeviceToHost, s);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    CHECK(memcmp(host_out, host_in, sizeof host_in) == 0);
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, hm_ledger_count(ctx) - 1, &r), HM_STATUS_SUCCESS);
    CHECK(r.direction == HM_TRANSFER_H2D && r.pending == 0 && r.seconds > 0);

    hm_tensor_free(ctx, &x);
    hm_tensor_free(ctx, &x2);
    cudaHostUnregister(host_in);
    cudaHostUnregister(host_out);
    cudaStreamDestroy(s);
    cudaFree(busy);
    hm_context_destroy(ctx);
}

/* Host operands on the CPU: no device is touched, so the stream is never used (here a pointer
 * no stream has, which a use would trip on). Runs with or without a device. */
static void host_operands_ignore_it(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    int64_t n = N;
    hm_tensor x, y;
    CHECK_STATUS(hm_tensor_init(&x, host_in, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&y, host_out, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL),
                 HM_STATUS_SUCCESS);
    values(400);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.stream = (void *)(uintptr_t)0x10;
    o.execution = hm_execution_cpu(HM_AUTO);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(dft_error(), 1e-5, "host operands with a stream named");
    /* a copy of host memory never uses the stream; the checks are hm_copy's */
    CHECK_STATUS(hm_copy_on_stream(ctx, &x, &y, (void *)(uintptr_t)0x10), HM_STATUS_SUCCESS);
    CHECK(memcmp(host_in, host_out, sizeof host_in) == 0);
    CHECK_STATUS(hm_copy_on_stream(ctx, NULL, &y, NULL), HM_STATUS_INVALID_ARGUMENT);
    hm_tensor f;
    CHECK_STATUS(hm_tensor_init(&f, host_out, hm_device_host(), HM_DTYPE_F32, 1, &n, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy_on_stream(ctx, &x, &f, NULL), HM_STATUS_DTYPE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_copy_on_stream: operand src is c64");
    /* a plan's stream set later: the same; and no plan is no plan */
    hm_fft_plan *plan = NULL;
    o.stream = NULL;
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft_plan_set_stream(plan, (void *)(uintptr_t)0x10), HM_STATUS_SUCCESS);
    values(401);
    CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &y), HM_STATUS_SUCCESS);
    CHECK_NEAR(dft_error(), 1e-5, "a plan of host operands given a stream");
    hm_fft_plan_destroy(plan);
    CHECK_STATUS(hm_fft_plan_set_stream(NULL, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_matmul_plan_set_stream(NULL, NULL), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(host_operands_ignore_it),
    HM_TEST_CASE(fft_on_callers_stream),
    HM_TEST_CASE(matmul_on_callers_stream),
    HM_TEST_CASE(copy_on_callers_stream),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_streams", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
