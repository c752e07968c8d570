/* The floor for hetmath's small-call overhead: the same small operations called on cuFFT and
 * cuBLASLt directly (a 1024-point c64 FFT, a 64x64x64 f32 product, both on device memory), timed
 * the way `hetmath bench` times hetmath: wall time around the call and a stream synchronisation,
 * median of 200 after 20 warm-ups. Prints one JSON object. Error checks abort: this is a
 * benchmark program, not the library. */
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cufft.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            fprintf(stderr, "raw_calls: %s failed at line %d\n", #x, __LINE__);                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

enum { WARMUP = 20, REPEAT = 200 };

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

int main(void)
{
    static double t[REPEAT];
    cudaStream_t s;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));

    /* cuFFT, 1024-point c64, out of place */
    cufftComplex *x, *y;
    CHECK(cudaMalloc((void **)&x, 1024 * sizeof *x));
    CHECK(cudaMalloc((void **)&y, 1024 * sizeof *y));
    CHECK(cudaMemset(x, 0, 1024 * sizeof *x));
    cufftHandle plan;
    CHECK(cufftPlan1d(&plan, 1024, CUFFT_C2C, 1));
    CHECK(cufftSetStream(plan, s));
    for (int i = 0; i < WARMUP + REPEAT; i++) {
        double t0 = now();
        CHECK(cufftExecC2C(plan, x, y, CUFFT_FORWARD));
        CHECK(cudaStreamSynchronize(s));
        if (i >= WARMUP)
            t[i - WARMUP] = now() - t0;
    }
    double fft_s = median(t, REPEAT);

    /* cuBLASLt, 64x64x64 f32, column-major, the heuristic's first algorithm */
    enum { N = 64 };
    float *a, *d, alpha = 1, beta = 0;
    CHECK(cudaMalloc((void **)&a, N * N * sizeof *a));
    CHECK(cudaMalloc((void **)&d, N * N * sizeof *d));
    CHECK(cudaMemset(a, 0, N * N * sizeof *a));
    void *ws;
    size_t ws_size = 32 << 20;
    CHECK(cudaMalloc(&ws, ws_size));
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t l;
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulHeuristicResult_t h;
    int got = 0;
    CHECK(cublasLtCreate(&lt));
    CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CHECK(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, N, N, N));
    CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &ws_size, sizeof ws_size));
    CHECK(cublasLtMatmulAlgoGetHeuristic(lt, op, l, l, l, l, pref, 1, &h, &got));
    CHECK(got != 1);
    for (int i = 0; i < WARMUP + REPEAT; i++) {
        double t0 = now();
        CHECK(
            cublasLtMatmul(lt, op, &alpha, a, l, a, l, &beta, d, l, d, l, &h.algo, ws, ws_size, s));
        CHECK(cudaStreamSynchronize(s));
        if (i >= WARMUP)
            t[i - WARMUP] = now() - t0;
    }
    double mm_s = median(t, REPEAT);
    printf("{\"fft_c64_1024_s\": %.9g, \"matmul_f32_64_s\": %.9g}\n", fft_s, mm_s);

    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(l);
    cublasLtMatmulDescDestroy(op);
    cublasLtDestroy(lt);
    cufftDestroy(plan);
    cudaFree(ws);
    cudaFree(a);
    cudaFree(d);
    cudaFree(x);
    cudaFree(y);
    cudaStreamDestroy(s);
    return 0;
}
