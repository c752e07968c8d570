/* The host worker pool (src/core/pool.h), an internal part tested through the static library:
 * every index of every round runs exactly once, rounds come back to back (the spinning hand-off)
 * and after pauses (the sleeping one), blocks claimed as threads go are each run once on a
 * thread in range, and the parallel copy is byte-exact at sizes that do not divide among the
 * threads. Run under ThreadSanitizer by hand (docs/RELIABILITY.md). */
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "core/pool.h"

enum { MAX_N = 64 };

typedef struct round_job {
    _Atomic int hits[MAX_N];
} round_job;

static void count(void *arg, int i, int n)
{
    round_job *j = arg;
    if (i >= 0 && i < n && i < MAX_N)
        atomic_fetch_add(&j->hits[i], 1);
}

enum { MAX_BLOCKS = 1000 };

typedef struct blocks_job {
    _Atomic int hits[MAX_BLOCKS];
    _Atomic int bad_thread;
    int n; /* threads asked for */
} blocks_job;

static void count_block(void *arg, int i, int64_t b)
{
    blocks_job *j = arg;
    if (i < 0 || i >= j->n)
        atomic_fetch_add(&j->bad_thread, 1);
    if (b >= 0 && b < MAX_BLOCKS)
        atomic_fetch_add(&j->hits[b], 1);
}

static void worker_pool(void)
{
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_level = HM_LOG_OFF;
    hm_context *ctx = NULL;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    if (!ctx)
        return;
    int threads[] = {1, 2, 3, 8, ctx->cpu_threads, 64};
    int bad_rounds = 0;
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        int want = threads[t] < ctx->cpu_threads ? threads[t] : ctx->cpu_threads;
        for (int round = 0; round < 3000; round++) {
            round_job j;
            for (int i = 0; i < MAX_N; i++)
                atomic_init(&j.hits[i], 0);
            hm__pool_run(ctx, threads[t], count, &j);
            for (int i = 0; i < MAX_N; i++)
                bad_rounds += atomic_load(&j.hits[i]) != (i < want ? 1 : 0);
            if (round % 1000 == 999) /* a pause: the workers go to sleep, and wake again */
                nanosleep(&(struct timespec){0, 2000000}, NULL);
        }
    }
    CHECK_EQ_INT(bad_rounds, 0);

    /* blocks claimed as the threads go: more blocks than threads, fewer, none */
    int64_t block_counts[] = {0, 1, 5, 999};
    int bad_blocks = 0, bad_threads = 0;
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++)
        for (size_t k = 0; k < sizeof block_counts / sizeof block_counts[0]; k++)
            for (int round = 0; round < 20; round++) {
                static blocks_job j;
                for (int b = 0; b < MAX_BLOCKS; b++)
                    atomic_init(&j.hits[b], 0);
                atomic_init(&j.bad_thread, 0);
                j.n = threads[t];
                hm__pool_run_blocks(ctx, threads[t], block_counts[k], count_block, &j);
                for (int b = 0; b < MAX_BLOCKS; b++)
                    bad_blocks += atomic_load(&j.hits[b]) != (b < block_counts[k] ? 1 : 0);
                bad_threads += atomic_load(&j.bad_thread);
            }
    CHECK_EQ_INT(bad_blocks, 0);
    CHECK_EQ_INT(bad_threads, 0);

    /* parallel copies: odd sizes, odd offsets, every thread count */
    size_t sizes[] = {
        0, 1, 4095, (size_t)1 << 20, ((size_t)3 << 20) + 4097, ((size_t)17 << 20) + 13};
    unsigned char *src = malloc(((size_t)17 << 20) + 64), *dst = malloc(((size_t)17 << 20) + 64);
    CHECK(src && dst);
    int bad_copies = 0;
    for (size_t s = 0; src && dst && s < sizeof sizes / sizeof sizes[0]; s++)
        for (int th = 1; th <= 16; th *= 2) {
            size_t off = (size_t)th % 7;
            for (size_t i = 0; i < sizes[s] + 8; i++)
                src[off + i] = (unsigned char)(i * 31 + s + (size_t)th);
            memset(dst, 0xA5, sizes[s] + 16);
            hm__parallel_memcpy(ctx, dst + 1, src + off, sizes[s], th);
            bad_copies += memcmp(dst + 1, src + off, sizes[s]) != 0 || dst[0] != 0xA5 ||
                          dst[sizes[s] + 1] != 0xA5;
        }
    CHECK_EQ_INT(bad_copies, 0);
    free(src);
    free(dst);
    hm_context_destroy(ctx); /* joins the workers, sleeping or spinning */
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(worker_pool),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_pool", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
