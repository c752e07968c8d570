/* Contexts are single-threaded objects; distinct contexts work at once. 8 threads, each with its
 * own context, make 1000 mixed calls (FFT, matmul, strided copy) and check every result exactly
 * against the result the same call gave on one thread first. Built twice: test_concurrency
 * (host operands, CPU) and test_concurrency_cuda (4 threads sharing cuda:0; skipped, 77,
 * without a device). */
#include <pthread.h>

#include "check.h"

#ifdef HM_CONCURRENCY_CUDA
#define THREADS 4
#define CALLS   250
#else
#define THREADS 8
#define CALLS   1000
#endif

enum { N = 256, M = 24 };
static float x[2 * N], a[M * M], ref_fft[2 * N], ref_mm[M * M], ref_copy[M * M];

typedef struct worker {
    int id;
    int failures;
    hm_status first_error;
} worker;

/* One call of kind k (0 FFT, 1 matmul, 2 transposing copy) into out, on ctx. */
static hm_status call(hm_context *ctx, int k, float *out)
{
    hm_device mem = hm_device_host();
    hm_tensor hx, hy, A, D;
    int64_t sn[1] = {N}, sm[2] = {M, M}, cm[2] = {1, M};
    hm_tensor_init(&hx, x, mem, HM_DTYPE_C64, 1, sn, NULL);
    hm_tensor_init(&hy, out, mem, HM_DTYPE_C64, 1, sn, NULL);
    hm_tensor_init(&A, a, mem, HM_DTYPE_F32, 2, sm, NULL);
    hm_tensor_init(&D, out, mem, HM_DTYPE_F32, 2, sm, NULL);
#ifdef HM_CONCURRENCY_CUDA
    hm_execution exec = hm_execution_cuda(0);
#else
    hm_execution exec = hm_execution_cpu(1);
#endif
    if (k == 0) {
        hm_fft_options o;
        hm_fft_options_init(&o);
        o.execution = exec;
        return hm_fft(ctx, &hx, &hy, &o);
    }
    if (k == 1) {
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.execution = exec;
        return hm_matmul(ctx, &A, &A, NULL, &D, &o);
    }
    hm_tensor Dt = D;
    Dt.strides[0] = cm[0];
    Dt.strides[1] = cm[1];
    return hm_copy(ctx, &A, &Dt);
}

static void *run(void *v)
{
    worker *w = v;
    hm_context *ctx = NULL;
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_level = HM_LOG_OFF;
    if (hm_context_create(&o, &ctx) != HM_STATUS_SUCCESS) {
        w->failures++;
        return NULL;
    }
    static const float *refs[3] = {ref_fft, ref_mm, ref_copy};
    static const size_t sizes[3] = {sizeof ref_fft, sizeof ref_mm, sizeof ref_copy};
    float out[2 * N > M * M ? 2 * N : M * M];
    for (int i = 0; i < CALLS; i++) {
        int k = (i + w->id) % 3;
        memset(out, 0, sizeof out);
        hm_status st = call(ctx, k, out);
        if (st != HM_STATUS_SUCCESS || memcmp(out, refs[k], sizes[k]) != 0) {
            if (!w->failures)
                w->first_error = st;
            w->failures++;
        }
    }
    hm_context_destroy(ctx);
    return NULL;
}

static void threads_with_own_contexts(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
#ifdef HM_CONCURRENCY_CUDA
    hm_test_require_cuda(ctx, "test_concurrency_cuda");
#endif
    unsigned long long seed = 77;
    for (int i = 0; i < 2 * N; i++)
        x[i] = (float)hm_test_rand(&seed);
    for (int i = 0; i < M * M; i++)
        a[i] = (float)hm_test_rand(&seed);
    CHECK_STATUS(call(ctx, 0, ref_fft), HM_STATUS_SUCCESS);
    CHECK_STATUS(call(ctx, 1, ref_mm), HM_STATUS_SUCCESS);
    CHECK_STATUS(call(ctx, 2, ref_copy), HM_STATUS_SUCCESS);
    hm_context_destroy(ctx);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){i, 0, HM_STATUS_SUCCESS};
        CHECK(pthread_create(&t[i], NULL, run, &w[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (w[i].failures)
            fprintf(stderr, "thread %d: %d failures, first %s\n", i, w[i].failures,
                    hm_status_name(w[i].first_error));
        failures += w[i].failures;
    }
    CHECK_EQ_INT(failures, 0);
    printf("%d threads x %d calls, each result compared exactly\n", THREADS, CALLS);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(threads_with_own_contexts),
};

int main(int argc, char **argv)
{
#ifdef HM_CONCURRENCY_CUDA
    const char *program = "test_concurrency_cuda";
#else
    const char *program = "test_concurrency";
#endif
    return hm_test_main(argc, argv, program, test_cases, (int)HM_ARRAY_LEN(test_cases));
}
