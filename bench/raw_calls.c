/* hetmath's small-call overhead against its floor, in one process and in turns: a 1024-point c64
 * FFT and a 64x64x64 f32 product on device memory, called on cuFFT and cuBLASLt directly and on
 * hetmath (stateless, a plan, a plan unchecked) on the same stream of the program's (the
 * options' stream), over the same buffers. Each round runs every variant BATCH times, in an order
 * that turns from round to round, so that the clocks' and the host's drift touch all alike.
 * A call is timed two ways: to its return (what the host spends queueing it: the overhead
 * itself) and to its return plus a synchronisation of the stream (the latency a caller sees).
 * Medians over ROUNDS × BATCH calls after a warm-up. Prints one JSON object (its first two keys
 * the raw latencies, as before). Error checks abort: this is a benchmark program, not the
 * library. */
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cufft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hetmath.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            fprintf(stderr, "raw_calls: %s failed at line %d\n", #x, __LINE__);                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

enum { WARMUP = 20, ROUNDS = 30, BATCH = 20, VARIANTS = 4 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* One case: the raw call and hetmath's three, by variant. */
typedef struct small_case {
    cudaStream_t s;
    /* raw */
    cufftHandle fft;
    void *x, *y;
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t l;
    cublasLtMatmulHeuristicResult_t h;
    void *ws;
    size_t ws_size;
    /* hetmath */
    hm_context *ctx;
    hm_tensor in, in2, out;
    hm_fft_options fo;
    hm_matmul_options mo;
    hm_fft_plan *fp;
    hm_matmul_plan *mp;
    int is_fft;
} small_case;

static const char *const variant_name[VARIANTS] = {"raw", "stateless", "plan", "unchecked"};

static void call(small_case *c, int v)
{
    static const float alpha = 1, beta = 0;
    if (c->is_fft) {
        if (v == 0)
            CHECK(cufftExecC2C(c->fft, c->x, c->y, CUFFT_FORWARD));
        else if (v == 1)
            CHECK(hm_fft(c->ctx, &c->in, &c->out, &c->fo));
        else if (v == 2)
            CHECK(hm_fft_execute(c->ctx, c->fp, &c->in, &c->out));
        else
            CHECK(hm_fft_execute_unchecked(c->ctx, c->fp, &c->in, &c->out));
        return;
    }
    if (v == 0)
        CHECK(cublasLtMatmul(c->lt, c->op, &alpha, c->x, c->l, c->x, c->l, &beta, c->y, c->l, c->y,
                             c->l, &c->h.algo, c->ws, c->ws_size, c->s));
    else if (v == 1)
        CHECK(hm_matmul(c->ctx, &c->in, &c->in2, NULL, &c->out, &c->mo));
    else if (v == 2)
        CHECK(hm_matmul_execute(c->ctx, c->mp, &c->in, &c->in2, NULL, &c->out, NULL));
    else
        CHECK(hm_matmul_execute_unchecked(c->ctx, c->mp, &c->in, &c->in2, NULL, &c->out, NULL));
}

/* Medians of each variant: to the call's return (host) and with the stream's synchronisation. */
static void measure(small_case *c, double host[VARIANTS], double total[VARIANTS])
{
    static double th[VARIANTS][ROUNDS * BATCH], tt[VARIANTS][ROUNDS * BATCH];
    for (int v = 0; v < VARIANTS; v++)
        for (int i = 0; i < WARMUP; i++) {
            call(c, v);
            CHECK(cudaStreamSynchronize(c->s));
        }
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < VARIANTS; k++) {
            int v = (k + r) % VARIANTS;
            for (int i = 0; i < BATCH; i++) {
                double t0 = now();
                call(c, v);
                double t1 = now();
                CHECK(cudaStreamSynchronize(c->s));
                th[v][r * BATCH + i] = t1 - t0;
                tt[v][r * BATCH + i] = now() - t0;
            }
        }
    for (int v = 0; v < VARIANTS; v++) {
        host[v] = median(th[v], ROUNDS * BATCH);
        total[v] = median(tt[v], ROUNDS * BATCH);
    }
}

static void print_case(const char *name, const double host[VARIANTS], const double total[VARIANTS],
                       int last)
{
    printf("\"%s\": {", name);
    for (int v = 0; v < VARIANTS; v++)
        printf("\"%s_s\": %.9g, \"%s_host_s\": %.9g, \"%s_over_raw\": %.4f, ", variant_name[v],
               total[v], variant_name[v], host[v], variant_name[v], total[v] / total[0]);
    printf("\"calls\": %d}%s", ROUNDS * BATCH, last ? "" : ", ");
}

int main(void)
{
    small_case c;
    memset(&c, 0, sizeof c);
    CHECK(cudaStreamCreateWithFlags(&c.s, cudaStreamNonBlocking));
    hm_context_options co;
    hm_context_options_init(&co);
    co.log_level = HM_LOG_OFF;
    CHECK(hm_context_create(&co, &c.ctx));
    double host[2][VARIANTS], total[2][VARIANTS];

    /* 1024-point c64, out of place */
    int64_t n = 1024;
    CHECK(cudaMalloc(&c.x, 1024 * sizeof(cufftComplex)));
    CHECK(cudaMalloc(&c.y, 1024 * sizeof(cufftComplex)));
    CHECK(cudaMemset(c.x, 0, 1024 * sizeof(cufftComplex)));
    CHECK(cufftPlan1d(&c.fft, 1024, CUFFT_C2C, 1));
    CHECK(cufftSetStream(c.fft, c.s));
    CHECK(hm_tensor_init(&c.in, c.x, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, NULL));
    CHECK(hm_tensor_init(&c.out, c.y, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, NULL));
    hm_fft_options_init(&c.fo);
    c.fo.stream = c.s;
    CHECK(hm_fft_plan_create(c.ctx, &c.in, &c.out, &c.fo, &c.fp));
    c.is_fft = 1;
    measure(&c, host[0], total[0]);
    hm_fft_plan_destroy(c.fp);
    cufftDestroy(c.fft);
    cudaFree(c.x);
    cudaFree(c.y);

    /* 64x64x64 f32: cuBLASLt column-major with the heuristic's first algorithm; hetmath's
     * row-major view of the same buffers (the same flops and bytes) */
    enum { N = 64 };
    int64_t sq[2] = {N, N};
    cublasLtMatmulPreference_t pref;
    int got = 0;
    c.ws_size = 32 << 20;
    CHECK(cudaMalloc(&c.x, N * N * sizeof(float)));
    CHECK(cudaMalloc(&c.y, N * N * sizeof(float)));
    CHECK(cudaMemset(c.x, 0, N * N * sizeof(float)));
    CHECK(cudaMalloc(&c.ws, c.ws_size));
    CHECK(cublasLtCreate(&c.lt));
    CHECK(cublasLtMatmulDescCreate(&c.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CHECK(cublasLtMatrixLayoutCreate(&c.l, CUDA_R_32F, N, N, N));
    CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &c.ws_size, sizeof c.ws_size));
    CHECK(cublasLtMatmulAlgoGetHeuristic(c.lt, c.op, c.l, c.l, c.l, c.l, pref, 1, &c.h, &got));
    CHECK(got != 1);
    CHECK(hm_tensor_init(&c.in, c.x, hm_device_cuda(0), HM_DTYPE_F32, 2, sq, NULL));
    CHECK(hm_tensor_init(&c.in2, c.x, hm_device_cuda(0), HM_DTYPE_F32, 2, sq, NULL));
    CHECK(hm_tensor_init(&c.out, c.y, hm_device_cuda(0), HM_DTYPE_F32, 2, sq, NULL));
    hm_matmul_options_init(&c.mo);
    c.mo.stream = c.s;
    CHECK(hm_matmul_plan_create(c.ctx, HM_OP_GENERIC, &c.in, &c.in2, NULL, &c.out, NULL, &c.mo,
                                &c.mp));
    c.is_fft = 0;
    measure(&c, host[1], total[1]);
    hm_matmul_plan_destroy(c.mp);

    printf("{\"fft_c64_1024_s\": %.9g, \"matmul_f32_64_s\": %.9g, ", total[0][0], total[1][0]);
    print_case("fft_c64_1024", host[0], total[0], 0);
    print_case("matmul_f32_64", host[1], total[1], 1);
    printf("}\n");

    hm_context_destroy(c.ctx);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(c.l);
    cublasLtMatmulDescDestroy(c.op);
    cublasLtDestroy(c.lt);
    cudaFree(c.ws);
    cudaFree(c.x);
    cudaFree(c.y);
    cudaStreamDestroy(c.s);
    return 0;
}
