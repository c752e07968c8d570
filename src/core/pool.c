/* Host worker threads: a generation counter and two condition variables. Work is handed out
 * whole (one function, n indices), so there is no queue and nothing to leak.
 *
 * Staged copies hand out rounds of a few tens of microseconds each, back to back, and waking
 * sleeping threads one by one through a mutex costs microseconds each: a worker that finishes a
 * round, and the caller waiting for a round to finish, first spin for up to HM_POOL_SPIN_S on
 * the atomic counters, and only then sleep on the condition variables (docs/TUNING.md). */
#include <pthread.h>
#include <stdatomic.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"

#define HM_POOL_SPIN_S 50e-6

struct hm_pool {
    int workers;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    _Atomic uint64_t generation; /* written under mu; read by spinning workers without it */
    _Atomic int pending;         /* workers of this generation not finished yet */
    atomic_bool stop;
    int sleepers; /* workers waiting on `start` (under mu) */
    /* The round: written under mu before `generation` moves, read after it has. */
    int active; /* workers taking part in this generation */
    void (*fn)(void *, int, int);
    void *arg;
    int n;
};

static void relax(void)
{
#if defined(__SSE2__)
    _mm_pause();
#endif
}

/* Spins until *v differs from `old` (true) or the spin time is over (false). */
static bool spin_until_changed(_Atomic uint64_t *v, uint64_t old)
{
    double t0 = 0;
    for (unsigned i = 0;; i++) {
        if (atomic_load_explicit(v, memory_order_acquire) != old)
            return true;
        if ((i & 63) == 63) {
            double t = hm__now();
            if (!t0)
                t0 = t;
            else if (t - t0 > HM_POOL_SPIN_S)
                return false;
        }
        relax();
    }
}

typedef struct worker_arg {
    struct hm_pool *pool;
    int index;
} worker_arg;

static void *worker(void *v)
{
    worker_arg *w = v;
    struct hm_pool *p = w->pool;
    int index = w->index;
    free(w);
    uint64_t seen = 0;
    for (;;) {
        if (!spin_until_changed(&p->generation, seen)) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (!atomic_load(&p->stop) && atomic_load(&p->generation) == seen)
                pthread_cond_wait(&p->start, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (index >= p->active)
            continue;
        p->fn(p->arg, index + 1, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static struct hm_pool *pool_create(int workers)
{
    struct hm_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < workers; i++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w)
            break;
        w->pool = p;
        w->index = i;
        if (pthread_create(&p->threads[i], NULL, worker, w) != 0) {
            free(w);
            break;
        }
        p->workers++;
    }
    return p;
}

void hm__pool_destroy(hm_context *ctx)
{
    struct hm_pool *p = ctx->pool;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    atomic_fetch_add(&p->generation, 1); /* spinning workers see a change and then the stop */
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->workers; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
    ctx->pool = NULL;
}

void hm__pool_run(hm_context *ctx, int n, void (*fn)(void *arg, int i, int n), void *arg)
{
    if (n > ctx->cpu_threads)
        n = ctx->cpu_threads;
    if (n > 1 && !ctx->pool)
        ctx->pool = pool_create(ctx->cpu_threads - 1);
    struct hm_pool *p = ctx->pool;
    if (n <= 1 || !p || p->workers == 0) {
        for (int i = 0; i < (n < 1 ? 1 : n); i++)
            fn(arg, i, n < 1 ? 1 : n);
        return;
    }
    if (n > p->workers + 1)
        n = p->workers + 1;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->active = n - 1;
    atomic_store(&p->pending, n - 1);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (p->sleepers > 0)
        pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, n);
    double t0 = hm__now();
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 &&
           hm__now() - t0 < HM_POOL_SPIN_S)
        relax();
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->pending) > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

typedef struct blocks_job {
    void (*fn)(void *arg, int i, int64_t block);
    void *arg;
    int64_t blocks;
    atomic_llong next; /* the next block to claim */
} blocks_job;

static void blocks_slice(void *v, int i, int n)
{
    (void)n;
    blocks_job *j = v;
    for (long long b;
         (b = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->blocks;)
        j->fn(j->arg, i, b);
}

void hm__pool_run_blocks(hm_context *ctx, int n, int64_t blocks,
                         void (*fn)(void *arg, int i, int64_t block), void *arg)
{
    blocks_job j = {fn, arg, blocks, 0};
    hm__pool_run(ctx, (int64_t)n < blocks ? n : (int)blocks, blocks_slice, &j);
}

typedef struct memcpy_job {
    char *dst;
    const char *src;
    size_t bytes;
} memcpy_job;

/* memcpy with non-temporal stores: the destination is not read first (no read-for-ownership)
 * and does not evict the cache, which matters when the copy engine reads the same memory bus.
 * glibc switches to such stores only past a threshold larger than our per-thread slices. */
void hm__stream_copy(void *to, const void *from, size_t len)
{
    char *dst = to;
    const char *src = from;
#if defined(__SSE2__)
    size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
    if (head > len)
        head = len;
    memcpy(dst, src, head);
    dst += head;
    src += head;
    len -= head;
    size_t body = len & ~(size_t)63;
    for (size_t i = 0; i < body; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_stream_si128((__m128i *)(dst + i), a);
        _mm_stream_si128((__m128i *)(dst + i + 16), b);
        _mm_stream_si128((__m128i *)(dst + i + 32), c);
        _mm_stream_si128((__m128i *)(dst + i + 48), d);
    }
    _mm_sfence();
    memcpy(dst + body, src + body, len - body);
#else
    memcpy(dst, src, len);
#endif
}

static void memcpy_slice(void *v, int i, int n)
{
    memcpy_job *j = v;
    /* Slices on 4 KiB boundaries, so no two threads touch one page. */
    size_t per = ((j->bytes + (size_t)n - 1) / (size_t)n + 4095) & ~(size_t)4095;
    size_t lo = per * (size_t)i;
    if (lo >= j->bytes)
        return;
    size_t len = j->bytes - lo < per ? j->bytes - lo : per;
    hm__stream_copy(j->dst + lo, j->src + lo, len);
}

void hm__parallel_memcpy(hm_context *ctx, void *dst, const void *src, size_t bytes, int threads)
{
    /* At least 256 KiB a thread: more threads on less data cost more than they copy
     * (docs/TUNING.md). */
    size_t max_threads = bytes >> 18;
    if ((size_t)threads > max_threads)
        threads = max_threads < 1 ? 1 : (int)max_threads;
    if (threads <= 1) {
        hm__stream_copy(dst, src, bytes);
        return;
    }
    memcpy_job j = {dst, src, bytes};
    hm__pool_run(ctx, threads, memcpy_slice, &j);
}

typedef struct rows_job {
    char *dst;
    const char *src;
    size_t dpitch, spitch, width, rows;
} rows_job;

static void rows_slice(void *arg, int i, int n)
{
    const rows_job *j = arg;
    size_t lo = j->rows * (size_t)i / (size_t)n, hi = j->rows * (size_t)(i + 1) / (size_t)n;
    for (size_t r = lo; r < hi; r++)
        hm__stream_copy(j->dst + r * j->dpitch, j->src + r * j->spitch, j->width);
}

void hm__parallel_copy_rows(hm_context *ctx, void *dst, size_t dpitch, const void *src,
                            size_t spitch, size_t width, size_t rows, int threads)
{
    if ((dpitch == width && spitch == width) || rows == 1) {
        hm__parallel_memcpy(ctx, dst, src, width * rows, threads);
        return;
    }
    size_t max_threads = (width * rows) >> 18; /* as hm__parallel_memcpy: 256 KiB a thread */
    if ((size_t)threads > max_threads)
        threads = max_threads < 1 ? 1 : (int)max_threads;
    if ((size_t)threads > rows)
        threads = (int)rows;
    rows_job j = {dst, src, dpitch, spitch, width, rows};
    if (threads <= 1)
        rows_slice(&j, 0, 1);
    else
        hm__pool_run(ctx, threads, rows_slice, &j);
}
