/* A product larger than the card (issue 19, docs/OUT_OF_CORE.md): D = A·B of pageable host f32
 * operands whose sum exceeds the devices' memory (D of 160 GB at 200000×200000), through
 * hetmath's out-of-core pipeline on one device or a set, under the default device memory budget
 * or a given one; timed once after A and B are filled and D's pages are touched (so that the
 * time is hetmath's, not the kernel's first faults), then checked on sampled 8×8 tiles of D
 * against a double reference computed here. Prints one JSON line.
 *
 *   big_product M N K DEVICES [LIMIT_BYTES]     (DEVICES 1: cuda:0; 2: the set cuda:0,1) */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hetmath.h"

enum { TILE = 8, TILES = 64, THREADS_MAX = 64 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A value in [-0.5, 0.5) from an element's index and a seed. */
static float value(uint64_t i, uint64_t seed)
{
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ULL ^ seed;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return (float)(h >> 40) / (float)(1u << 24) - 0.5f;
}

/* One thread's share of filling (seed != 0) or touching (seed 0: zeros) an array. */
typedef struct part {
    float *p;
    size_t lo, hi;
    uint64_t seed;
} part;

static void *fill_part(void *arg)
{
    const part *w = arg;
    if (w->seed == 0)
        memset(w->p + w->lo, 0, (w->hi - w->lo) * sizeof(float));
    else
        for (size_t i = w->lo; i < w->hi; i++)
            w->p[i] = value(i, w->seed);
    return NULL;
}

static void fill(float *p, size_t n, uint64_t seed)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus < 1 ? 1 : cpus > THREADS_MAX ? THREADS_MAX : (int)cpus;
    pthread_t tid[THREADS_MAX];
    part w[THREADS_MAX];
    for (int t = 0; t < threads; t++) {
        w[t] =
            (part){p, n * (size_t)t / (size_t)threads, n * (size_t)(t + 1) / (size_t)threads, seed};
        if (pthread_create(&tid[t], NULL, fill_part, &w[t]) != 0)
            fill_part(&w[t]), tid[t] = 0;
    }
    for (int t = 0; t < threads; t++)
        if (tid[t])
            pthread_join(tid[t], NULL);
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: big_product M N K DEVICES [LIMIT_BYTES]\n");
        return 2;
    }
    int64_t m = atoll(argv[1]), n = atoll(argv[2]), k = atoll(argv[3]);
    int devices = atoi(argv[4]);
    size_t limit = argc == 6 ? (size_t)atoll(argv[5]) : 0;
    float *a = malloc((size_t)(m * k) * sizeof(float)),
          *b = malloc((size_t)(k * n) * sizeof(float));
    float *d = malloc((size_t)(m * n) * sizeof(float));
    if (!a || !b || !d || m < TILE || n < TILE || k < 1 || devices < 1 || devices > 2) {
        fprintf(stderr, "big_product: no memory for the operands, or bad sizes\n");
        return 2;
    }
    double t0 = now();
    fill(a, (size_t)(m * k), 1);
    fill(b, (size_t)(k * n), 2);
    fill(d, (size_t)(m * n), 0);
    double prepared = now() - t0;

    hm_context_options co;
    hm_context_options_init(&co);
    co.log_level = HM_LOG_INFO; /* the schedule, on standard error */
    hm_context *ctx = NULL;
    if (hm_context_create(&co, &ctx) != HM_STATUS_SUCCESS) {
        fprintf(stderr, "big_product: no context\n");
        return 1;
    }
    hm_tensor A, B, D;
    const int64_t sa[2] = {m, k}, sb[2] = {k, n}, sd[2] = {m, n};
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&B, b, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    const int ids[2] = {0, 1};
    hm_status st = hm_execution_cuda_set(ids, devices, &o.execution);
    o.device_memory_limit = limit;
    t0 = now();
    if (st == HM_STATUS_SUCCESS)
        st = hm_matmul(ctx, &A, &B, NULL, &D, &o);
    double seconds = now() - t0;
    if (st != HM_STATUS_SUCCESS) {
        fprintf(stderr, "big_product: %s\n", hm_context_last_error(ctx));
        hm_context_destroy(ctx);
        return 1;
    }
    /* Sampled tiles against a double reference: the worst relative error of an element against
     * the sum of its products' magnitudes (f32's threshold of a K-term dot product). */
    double worst = 0;
    for (int s = 0; s < TILES; s++) {
        int64_t i0 = (int64_t)((uint64_t)(m - TILE) * (uint64_t)s / (TILES - 1));
        int64_t j0 = (int64_t)(((uint64_t)s * 2654435761u) % (uint64_t)(n - TILE + 1));
        for (int64_t i = i0; i < i0 + TILE; i++)
            for (int64_t j = j0; j < j0 + TILE; j++) {
                double ref = 0, mag = 0;
                for (int64_t l = 0; l < k; l++) {
                    double x = (double)a[i * k + l] * (double)b[l * n + j];
                    ref += x;
                    mag += fabs(x);
                }
                double err = fabs((double)d[i * n + j] - ref) / (mag > 0 ? mag : 1);
                worst = err > worst ? err : worst;
            }
    }
    double bytes = 4.0 * (double)(m * k + k * n + m * n);
    printf("{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"devices\": %d, \"limit_bytes\": %zu, "
           "\"operand_bytes\": %.0f, \"prepare_s\": %.3f, \"seconds\": %.4f, \"tflops\": %.2f, "
           "\"sampled_elements\": %d, \"worst_rel_error\": %.3g, \"ok\": %s}\n",
           (long long)m, (long long)n, (long long)k, devices, limit, bytes, prepared, seconds,
           2.0 * (double)m * (double)n * (double)k / seconds * 1e-12, TILES * TILE * TILE, worst,
           worst < 1e-5 ? "true" : "false");
    hm_context_destroy(ctx);
    free(a);
    free(b);
    free(d);
    return worst < 1e-5 ? 0 : 1;
}
