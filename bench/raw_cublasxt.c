/* cuBLASXt's SGEMM on host operands, the peer of hetmath's out-of-core matmul
 * (bench/peers.py --outofcore): D = A·B, row-major f32 A (M×K), B (K×N), D (M×N) in pageable or
 * pinned host memory, on device 0, cuBLASXt's default block size, its pinning mode on or off.
 * One untimed call, then `repeat` timed ones (cublasXtSgemm returns when D is written); prints
 * one JSON line with the median.
 *
 *   raw_cublasxt M N K host|pinned PINNING(0|1) REPEAT */
#include <cublasXt.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *host(size_t n, int pinned)
{
    void *p = NULL;
    if (pinned)
        return cudaMallocHost(&p, n * sizeof(float)) == cudaSuccess ? p : NULL;
    return malloc(n * sizeof(float));
}

static void release(float *p, int pinned)
{
    if (pinned)
        cudaFreeHost(p);
    else
        free(p);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: raw_cublasxt M N K host|pinned PINNING(0|1) REPEAT\n");
        return 2;
    }
    long long m = atoll(argv[1]), n = atoll(argv[2]), k = atoll(argv[3]);
    int pinned = strcmp(argv[4], "pinned") == 0, pinning = atoi(argv[5]), repeat = atoi(argv[6]);
    if (m < 1 || n < 1 || k < 1 || repeat < 1 || repeat > 100) {
        fprintf(stderr, "raw_cublasxt: bad arguments\n");
        return 2;
    }
    float *a = host((size_t)(m * k), pinned), *b = host((size_t)(k * n), pinned),
          *d = host((size_t)(m * n), pinned);
    if (!a || !b || !d) {
        fprintf(stderr, "raw_cublasxt: no memory for the operands\n");
        return 1;
    }
    unsigned long long s = 88172645463325252ULL;
    for (long long i = 0; i < m * k; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        a[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    for (long long i = 0; i < k * n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        b[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    cublasXtHandle_t h;
    int dev0 = 0;
    if (cublasXtCreate(&h) != CUBLAS_STATUS_SUCCESS ||
        cublasXtDeviceSelect(h, 1, &dev0) != CUBLAS_STATUS_SUCCESS ||
        cublasXtSetPinningMemMode(h,
                                  pinning ? CUBLASXT_PINNING_ENABLED : CUBLASXT_PINNING_DISABLED) !=
            CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "raw_cublasxt: cannot set cuBLASXt up\n");
        return 1;
    }
    const float alpha = 1.0f, beta = 0.0f;
    double t[100];
    int bad = 0;
    for (int r = -1; r < repeat && !bad; r++) {
        double t0 = now();
        /* row-major D = A·B is column-major Dᵀ = Bᵀ·Aᵀ */
        bad = cublasXtSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (size_t)n, (size_t)m, (size_t)k, &alpha, b,
                            (size_t)n, a, (size_t)k, &beta, d, (size_t)n) != CUBLAS_STATUS_SUCCESS;
        if (r >= 0)
            t[r] = now() - t0;
    }
    if (bad) {
        fprintf(stderr, "raw_cublasxt: cublasXtSgemm failed\n");
        return 1;
    }
    qsort(t, (size_t)repeat, sizeof t[0], cmp);
    printf("{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"memory\": \"%s\", \"pinning\": %d, "
           "\"median_s\": %.6f, \"min_s\": %.6f}\n",
           m, n, k, pinned ? "pinned" : "host", pinning, t[repeat / 2], t[0]);
    cublasXtDestroy(h);
    release(d, pinned);
    release(b, pinned);
    release(a, pinned);
    return 0;
}
