/* An application's own kernels around hetmath's FFT, on the application's one stream, with no
 * synchronisation between them: a kernel writes an impulse, hetmath transforms it in place on
 * that stream (hm_fft_options.stream), a second kernel takes the magnitude of every bin, and the
 * one wait is the application's, at the end. The impulse's transform has magnitude 1 in every
 * bin: the example prints the least and the greatest. */
#include <cuda_runtime.h>
#include <stdio.h>

#include "hetmath.h"

#define N 4096

__global__ void impulse(float2 *x, int n, int at)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        x[i] = make_float2(i == at ? 1.0f : 0.0f, 0.0f);
}

__global__ void magnitude(const float2 *x, float *m, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        m[i] = hypotf(x[i].x, x[i].y);
}

static int failed(hm_context *ctx, hm_status st, const char *what)
{
    if (st == HM_STATUS_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, hm_status_name(st), hm_context_last_error(ctx));
    return 1;
}

int main(void)
{
    hm_context *ctx = NULL;
    int devices = 0;
    if (hm_context_create(NULL, &ctx) != HM_STATUS_SUCCESS)
        return 1;
    hm_context_device_count(ctx, &devices);
    if (devices == 0) {
        printf("no CUDA device here: nothing to order\n");
        hm_context_destroy(ctx);
        return 0;
    }
    int rc = 1;
    cudaStream_t s = NULL;
    float2 *x = NULL;
    float *m = NULL;
    static float host[N];
    hm_tensor t;
    int64_t n = N;
    hm_fft_options o;
    hm_fft_options_init(&o);
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess ||
        cudaMalloc(&x, N * sizeof *x) != cudaSuccess ||
        cudaMalloc(&m, N * sizeof *m) != cudaSuccess)
        goto done;
    o.stream = s;
    if (failed(ctx, hm_tensor_init(&t, x, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, NULL),
               "hm_tensor_init"))
        goto done;
    impulse<<<(N + 255) / 256, 256, 0, s>>>(x, N, 5);
    if (failed(ctx, hm_fft(ctx, &t, &t, &o), "hm_fft")) /* in place, ordered on s */
        goto done;
    magnitude<<<(N + 255) / 256, 256, 0, s>>>(x, m, N);
    cudaMemcpyAsync(host, m, sizeof host, cudaMemcpyDeviceToHost, s);
    if (cudaStreamSynchronize(s) != cudaSuccess) /* the application's one wait */
        goto done;
    {
        float lo = host[0], hi = host[0];
        for (int i = 1; i < N; i++) {
            lo = host[i] < lo ? host[i] : lo;
            hi = host[i] > hi ? host[i] : hi;
        }
        printf("cuda:0: |y| from %.4f to %.4f over %d bins\n", lo, hi, N);
    }
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "stream_order: %s\n", cudaGetErrorString(cudaGetLastError()));
    cudaFree(m);
    cudaFree(x);
    if (s)
        cudaStreamDestroy(s);
    hm_context_destroy(ctx);
    return rc;
}
