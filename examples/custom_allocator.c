/* An application that owns hetmath's memory: its allocator (hm_context_options.allocator) takes
 * device memory from the application's own stream-ordered pool and pinned memory from
 * cudaHostAlloc, and counts every block. hetmath runs an FFT of host operands on the GPU (copied
 * in, transformed, copied back) and a matmul of device operands whose result it allocates; the
 * example then prints its own count beside hetmath's memory statistics and the ledger's copies,
 * and says whether they agree: the FFT's device blocks are exactly the bytes the ledger says it
 * copied, and every block came back when the context was destroyed. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "hetmath.h"

typedef struct app_memory {
    cudaMemPool_t pool; /* the application's: hetmath's device blocks come from it */
    unsigned long long blocks[2], bytes[2], held[2]; /* [0] device, [1] pinned */
} app_memory;

static int device_alloc(void *user, int device, size_t bytes, void *stream, void **out)
{
    app_memory *m = user;
    (void)device; /* one device in this example */
    if (cudaMallocFromPoolAsync(out, bytes, m->pool, (cudaStream_t)stream) != cudaSuccess)
        return 1;
    m->blocks[0]++;
    m->bytes[0] += bytes;
    m->held[0] += bytes;
    return 0;
}

static void device_free(void *user, int device, void *ptr, size_t bytes, void *stream)
{
    app_memory *m = user;
    (void)device;
    m->held[0] -= bytes;
    cudaFreeAsync(ptr, (cudaStream_t)stream);
}

static int pinned_alloc(void *user, size_t bytes, void **out)
{
    app_memory *m = user;
    if (cudaHostAlloc(out, bytes, cudaHostAllocPortable) != cudaSuccess)
        return 1;
    m->blocks[1]++;
    m->bytes[1] += bytes;
    m->held[1] += bytes;
    return 0;
}

static void pinned_free(void *user, void *ptr, size_t bytes)
{
    app_memory *m = user;
    m->held[1] -= bytes;
    cudaFreeHost(ptr);
}

static int failed(hm_context *ctx, hm_status st, const char *what)
{
    if (st == HM_STATUS_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, hm_status_name(st), hm_context_last_error(ctx));
    return 1;
}

/* Two FFTs of host operands on cuda:0, then a product of device operands into a result hetmath
 * allocates; *fft_blocks and *fft_copied: the second FFT's device bytes and the bytes its ledger
 * says it copied. */
static int work(hm_context *ctx, unsigned long long *fft_blocks, unsigned long long *fft_copied)
{
    enum { N = 1 << 16, M = 256 };
    static float x[2 * N], y[2 * N], a[M * M];
    for (int i = 0; i < 2 * N; i++)
        x[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < M * M; i++)
        a[i] = (float)(i % 5) * 0.25f;
    int64_t n = N, sa[2] = {M, M};
    hm_tensor X, Y, A, Ad, Dd = {0};
    hm_tensor_init(&X, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_tensor_init(&Y, y, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_fft_options fo;
    hm_fft_options_init(&fo);
    fo.execution = hm_execution_cuda(0);
    if (failed(ctx, hm_fft(ctx, &X, &Y, &fo), "hm_fft"))
        return 1;
    /* a second FFT reuses the plan and its work area: its device blocks are its copies alone */
    hm_memory_stats before = {.size = sizeof before}, after = {.size = sizeof after};
    hm_transfer_totals t0, t1;
    hm_context_memory_stats(ctx, &before);
    hm_ledger_totals(ctx, &t0);
    if (failed(ctx, hm_fft(ctx, &X, &Y, &fo), "hm_fft"))
        return 1;
    hm_context_memory_stats(ctx, &after);
    hm_ledger_totals(ctx, &t1);
    *fft_blocks = after.device_bytes_total - before.device_bytes_total;
    *fft_copied = t1.bytes[HM_TRANSFER_H2D] - t0.bytes[HM_TRANSFER_H2D] +
                  t1.bytes[HM_TRANSFER_D2H] - t0.bytes[HM_TRANSFER_D2H];

    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.blocking = 1;
    if (failed(ctx, hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sa, &Ad),
               "hm_tensor_alloc") ||
        failed(ctx, hm_copy(ctx, &A, &Ad), "hm_copy") ||
        failed(ctx, hm_matmul(ctx, &Ad, &Ad, NULL, &Dd, &mo), "hm_matmul"))
        return 1;
    hm_tensor_free(ctx, &Dd);
    hm_tensor_free(ctx, &Ad);
    return 0;
}

int main(void)
{
    app_memory m;
    memset(&m, 0, sizeof m);
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("no CUDA device here\n");
        return 0;
    }
    struct cudaMemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = 0;
    if (cudaMemPoolCreate(&m.pool, &props) != cudaSuccess)
        return 1;
    hm_allocator a = {.size = sizeof a,
                      .user_data = &m,
                      .device_alloc = device_alloc,
                      .device_free = device_free,
                      .pinned_alloc = pinned_alloc,
                      .pinned_free = pinned_free};
    hm_context_options o;
    hm_context_options_init(&o);
    o.allocator = &a;
    hm_context *ctx = NULL;
    if (hm_context_create(&o, &ctx) != HM_STATUS_SUCCESS)
        return 1;
    unsigned long long fft_blocks = 0, fft_copied = 0;
    int bad = work(ctx, &fft_blocks, &fft_copied);
    hm_memory_stats s = {.size = sizeof s};
    hm_context_memory_stats(ctx, &s);
    hm_context_destroy(ctx);
    cudaDeviceSynchronize();
    cudaMemPoolDestroy(m.pool);
    if (bad)
        return 1;
    printf("the application's allocator: %llu device blocks, %llu bytes; %llu pinned blocks, "
           "%llu bytes\n",
           m.blocks[0], m.bytes[0], m.blocks[1], m.bytes[1]);
    printf("hetmath's statistics:        %llu device blocks, %llu bytes; %llu pinned blocks, "
           "%llu bytes\n",
           (unsigned long long)s.device_allocations, (unsigned long long)s.device_bytes_total,
           (unsigned long long)s.pinned_allocations, (unsigned long long)s.pinned_bytes_total);
    printf("the second FFT's device blocks: %llu bytes; its copies in the ledger: %llu bytes\n",
           fft_blocks, fft_copied);
    printf("held after the context: %llu device bytes, %llu pinned bytes\n", m.held[0], m.held[1]);
    int agree = m.blocks[0] == s.device_allocations && m.bytes[0] == s.device_bytes_total &&
                m.blocks[1] == s.pinned_allocations && m.bytes[1] == s.pinned_bytes_total &&
                fft_blocks == fft_copied && m.held[0] == 0 && m.held[1] == 0;
    printf("%s\n", agree ? "counts agree" : "counts DIFFER");
    return agree ? 0 : 1;
}
