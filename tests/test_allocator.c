/* The caller's allocator (hm_context_options.allocator) and the context's memory statistics:
 * every block of device and pinned memory comes from the allocator and goes back to it with the
 * bytes it was taken with; the allocator's own count equals hetmath's statistics, and a call's
 * temporaries are exactly the bytes its ledger says it copied; a refusal is a status, with
 * nothing leaked. Results against double-precision references. The checks of arguments run
 * without a device. */
#include <cuda_runtime.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hetmath.h"

#define BLOCKS 64

/* The test's allocator: cudaMallocAsync and cudaHostAlloc, with a table of what is held. */
typedef struct counter {
    uint64_t allocs[2], frees[2], total[2]; /* [0] device, [1] pinned */
    size_t held[2];
    int mismatched; /* frees of a pointer not held, or with other bytes or device */
    int streamless; /* device allocations given no stream */
    int refuse;     /* nonzero: refuse device memory */
    void *ptr[BLOCKS];
    size_t bytes[BLOCKS];
    int device[BLOCKS];
} counter;

static void take(counter *c, int kind, int device, void *p, size_t bytes)
{
    c->allocs[kind]++;
    c->total[kind] += bytes;
    c->held[kind] += bytes;
    for (int i = 0; i < BLOCKS; i++)
        if (!c->ptr[i]) {
            c->ptr[i] = p;
            c->bytes[i] = bytes;
            c->device[i] = device;
            return;
        }
    c->mismatched++; /* the table is full: more blocks at once than this test expects */
}

static void give(counter *c, int kind, int device, void *p, size_t bytes)
{
    c->frees[kind]++;
    for (int i = 0; i < BLOCKS; i++)
        if (c->ptr[i] == p) {
            c->mismatched += c->bytes[i] != bytes || c->device[i] != device;
            c->held[kind] -= c->bytes[i];
            c->ptr[i] = NULL;
            return;
        }
    c->mismatched++;
}

static int device_alloc(void *user, int device, size_t bytes, void *stream, void **out)
{
    counter *c = user;
    c->streamless += stream == NULL;
    if (c->refuse || cudaMallocAsync(out, bytes, (cudaStream_t)stream) != cudaSuccess)
        return 1;
    take(c, 0, device, *out, bytes);
    return 0;
}

static void device_free(void *user, int device, void *ptr, size_t bytes, void *stream)
{
    give(user, 0, device, ptr, bytes);
    cudaFreeAsync(ptr, (cudaStream_t)stream);
}

static int pinned_alloc(void *user, size_t bytes, void **out)
{
    if (cudaHostAlloc(out, bytes, cudaHostAllocPortable) != cudaSuccess)
        return 1;
    take(user, 1, -1, *out, bytes);
    return 0;
}

static void pinned_free(void *user, void *ptr, size_t bytes)
{
    give(user, 1, -1, ptr, bytes);
    cudaFreeHost(ptr);
}

static hm_context *context_with(counter *c)
{
    hm_allocator a = {.size = sizeof a,
                      .user_data = c,
                      .device_alloc = device_alloc,
                      .device_free = device_free,
                      .pinned_alloc = pinned_alloc,
                      .pinned_free = pinned_free};
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_level = HM_LOG_OFF;
    o.allocator = &a; /* copied: the struct may go */
    hm_context *ctx = NULL;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    return ctx;
}

/* A context counting through a fresh counter `c`, with a CUDA device (else the test is
 * skipped). */
static hm_context *cuda_context_with(counter *c)
{
    memset(c, 0, sizeof *c);
    hm_context *ctx = context_with(c);
    if (ctx)
        hm_test_require_cuda(ctx, "test_allocator");
    return ctx;
}

static hm_memory_stats stats_of(hm_context *ctx)
{
    hm_memory_stats m = {.size = sizeof m};
    CHECK_STATUS(hm_context_memory_stats(ctx, &m), HM_STATUS_SUCCESS);
    return m;
}

/* The allocator's count and the context's statistics agree. */
static void check_agree(const counter *c, const hm_memory_stats *m)
{
    CHECK_EQ_INT(c->allocs[0], m->device_allocations);
    CHECK_EQ_INT(c->frees[0], m->device_frees);
    CHECK_EQ_INT(c->total[0], m->device_bytes_total);
    CHECK_EQ_INT(c->held[0], m->device_bytes);
    CHECK_EQ_INT(c->allocs[1], m->pinned_allocations);
    CHECK_EQ_INT(c->frees[1], m->pinned_frees);
    CHECK_EQ_INT(c->total[1], m->pinned_bytes_total);
    CHECK_EQ_INT(c->held[1], m->pinned_bytes);
}

static void fill(float *v, int n, unsigned seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
    }
}

enum { M = 512, K = 384, N = 256 };
static float a[M * K], b[K * N], d[M * N];

static double product_error(void)
{
    double worst = 0;
    for (int i = 0; i < M; i += 7)
        for (int j = 0; j < N; j++) {
            double r = 0;
            for (int l = 0; l < K; l++)
                r += (double)a[i * K + l] * b[l * N + j];
            worst = fabs(r - d[i * N + j]) > worst ? fabs(r - d[i * N + j]) : worst;
        }
    return worst / (K * 0.25);
}

/* A, B and D over the host arrays; options running their product on cuda:0. */
static void host_product(hm_tensor *A, hm_tensor *B, hm_tensor *D, hm_matmul_options *o)
{
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
    CHECK_STATUS(hm_tensor_init(A, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(B, b, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(D, d, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL),
                 HM_STATUS_SUCCESS);
    hm_matmul_options_init(o);
    o->execution = hm_execution_cuda(0);
}

static void cuda_counts(void)
{
    counter c;
    hm_context *ctx = cuda_context_with(&c);
    if (!ctx)
        return;
    hm_tensor A, B, D;
    hm_matmul_options o;
    host_product(&A, &B, &D, &o);
    int64_t sa[2] = {M, K}, sb[2] = {K, N};
    /* host operands on the device: copied in, multiplied, copied back; new values each call */
    for (int call = 0; call < 2; call++) {
        fill(a, M * K, 11u + (unsigned)call);
        fill(b, K * N, 23u + (unsigned)call);
        hm_memory_stats before = stats_of(ctx);
        hm_transfer_totals t0, t1;
        CHECK_STATUS(hm_ledger_totals(ctx, &t0), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);
        CHECK_NEAR(product_error(), 1e-6, call ? "the second product" : "the first product");
        CHECK_STATUS(hm_ledger_totals(ctx, &t1), HM_STATUS_SUCCESS);
        hm_memory_stats after = stats_of(ctx);
        check_agree(&c, &after);
        uint64_t moved = t1.bytes[HM_TRANSFER_H2D] - t0.bytes[HM_TRANSFER_H2D] +
                         t1.bytes[HM_TRANSFER_D2H] - t0.bytes[HM_TRANSFER_D2H];
        CHECK_EQ_INT(moved, sizeof a + sizeof b + sizeof d);
        if (call == 1) { /* the workspace and staging pool made: only A, B, D's copies remain */
            CHECK_EQ_INT(after.device_bytes_total - before.device_bytes_total, moved);
            CHECK_EQ_INT(after.device_allocations - before.device_allocations, 3);
            CHECK_EQ_INT(after.device_frees - before.device_frees, 3);
            CHECK_EQ_INT(after.device_bytes, before.device_bytes);
            CHECK_EQ_INT(after.pinned_allocations, before.pinned_allocations);
        }
        CHECK(after.pinned_bytes == hm_context_pinned_pool_held(ctx)); /* none staged: small */
    }
    /* device operands, the result allocated by hetmath: one block, the result's */
    hm_tensor X, Y = {0};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sa, &X),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &A, &X), HM_STATUS_SUCCESS);
    hm_tensor Bd;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sb, &Bd),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &B, &Bd), HM_STATUS_SUCCESS);
    hm_memory_stats before = stats_of(ctx);
    o.blocking = 1;
    CHECK_STATUS(hm_matmul(ctx, &X, &Bd, NULL, &Y, &o), HM_STATUS_SUCCESS);
    hm_memory_stats after = stats_of(ctx);
    CHECK_EQ_INT(after.device_allocations - before.device_allocations, 1);
    CHECK_EQ_INT(after.device_bytes - before.device_bytes, sizeof d);
    memset(d, 0, sizeof d);
    CHECK_STATUS(hm_copy(ctx, &Y, &D), HM_STATUS_SUCCESS);
    CHECK_NEAR(product_error(), 1e-6, "the product of device operands");
    hm_tensor_free(ctx, &Y);
    hm_tensor_free(ctx, &X);
    hm_tensor_free(ctx, &Bd);
    after = stats_of(ctx);
    check_agree(&c, &after);
    CHECK(c.streamless == 0);

    /* pinned memory: a pinned tensor, and the staging pool a large pageable copy fills */
    hm_tensor P, big, bigd;
    int64_t nb = (int64_t)4 << 20; /* 16 MiB of f32, staged (over 4 MiB) */
    float *pageable = malloc((size_t)nb * sizeof(float));
    CHECK(pageable != NULL);
    if (!pageable) {
        hm_context_destroy(ctx);
        return;
    }
    for (int64_t i = 0; i < nb; i++)
        pageable[i] = (float)(i % 1000);
    before = stats_of(ctx);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_F32, 2, sa, &P),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&big, pageable, hm_device_host(), HM_DTYPE_F32, 1, &nb, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 1, &nb, &bigd),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &big, &bigd), HM_STATUS_SUCCESS);
    memset(pageable, 0, (size_t)nb * sizeof(float));
    CHECK_STATUS(hm_copy(ctx, &bigd, &big), HM_STATUS_SUCCESS);
    int64_t wrong = 0;
    for (int64_t i = 0; i < nb; i++)
        wrong += pageable[i] != (float)(i % 1000);
    CHECK_EQ_INT(wrong, 0);
    after = stats_of(ctx);
    check_agree(&c, &after);
    CHECK_EQ_INT(after.pinned_bytes, sizeof a + hm_context_pinned_pool_held(ctx));
    CHECK(hm_context_pinned_pool_held(ctx) > 0);
    hm_tensor_free(ctx, &P);
    hm_tensor_free(ctx, &bigd);
    free(pageable);
    hm_context_destroy(ctx);
    /* everything back, each block with the bytes it was taken with */
    CHECK_EQ_INT(c.held[0], 0);
    CHECK_EQ_INT(c.held[1], 0);
    CHECK_EQ_INT(c.allocs[0], c.frees[0]);
    CHECK_EQ_INT(c.allocs[1], c.frees[1]);
    CHECK_EQ_INT(c.mismatched, 0);
    CHECK(c.allocs[1] > 1); /* the pinned tensor and the staging pool's buffers came from it */
}

static void cuda_refusal(void)
{
    counter c;
    hm_context *ctx = cuda_context_with(&c);
    if (!ctx)
        return;
    hm_tensor X;
    int64_t sa[2] = {M, K};
    c.refuse = 1;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sa, &X),
                 HM_STATUS_OUT_OF_DEVICE_MEMORY);
    CHECK_CONTAINS(hm_context_last_error(ctx), "the caller's allocator gave no memory on cuda:0");
    /* a call of host operands fails at its first device block, nothing left held */
    hm_tensor A, B, D;
    hm_matmul_options o;
    host_product(&A, &B, &D, &o);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_OUT_OF_DEVICE_MEMORY);
    hm_memory_stats m = stats_of(ctx);
    check_agree(&c, &m);
    CHECK_EQ_INT(m.device_bytes, 0);
    c.refuse = 0; /* and the next call, allowed, succeeds */
    fill(a, M * K, 5);
    fill(b, K * N, 6);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(product_error(), 1e-6, "the product after a refusal");
    hm_context_destroy(ctx);
    CHECK_EQ_INT(c.held[0], 0);
    CHECK_EQ_INT(c.held[1], 0);
    CHECK_EQ_INT(c.mismatched, 0);
}

/* Arguments: half a pair of callbacks, a bad size; the statistics' arguments; host memory never
 * goes through the allocator. Runs with or without a device. */
static void arguments(void)
{
    counter c;
    memset(&c, 0, sizeof c);
    hm_allocator half = {.size = sizeof half, .user_data = &c, .device_alloc = device_alloc};
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_level = HM_LOG_OFF;
    o.allocator = &half;
    hm_context *ctx = NULL;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    CHECK(ctx == NULL);
    hm_allocator pinned_only = {
        .size = sizeof pinned_only, .user_data = &c, .pinned_alloc = pinned_alloc};
    o.allocator = &pinned_only;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    hm_allocator sized = {.size = sizeof sized + 8};
    o.allocator = &sized;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    sized.size = 0;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);

    ctx = context_with(&c);
    if (!ctx)
        return;
    CHECK_STATUS(hm_context_memory_stats(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_context_memory_stats: the output is NULL");
    hm_memory_stats m = {.size = sizeof m + 1};
    CHECK_STATUS(hm_context_memory_stats(ctx, &m), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "is not that of an hm_memory_stats");
    CHECK_STATUS(hm_context_memory_stats(NULL, &m), HM_STATUS_INVALID_ARGUMENT);
    /* an older, shorter struct gets its first fields */
    m.size = offsetof(hm_memory_stats, device_frees);
    m.device_frees = 12345;
    CHECK_STATUS(hm_context_memory_stats(ctx, &m), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(m.device_frees, 12345);

    hm_tensor t;
    int64_t shape[1] = {1000};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, 1, shape, &t),
                 HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &t);
    m = stats_of(ctx);
    CHECK_EQ_INT(m.device_allocations + m.pinned_allocations, 0);
    CHECK_EQ_INT(c.allocs[0] + c.allocs[1], 0);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(arguments),
    HM_TEST_CASE(cuda_counts),
    HM_TEST_CASE(cuda_refusal),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_allocator", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
