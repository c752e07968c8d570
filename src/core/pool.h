/* A per-context pool of host worker threads for data-parallel host work (staging copies into
 * and out of pinned memory). Created on first use, joined when the context is destroyed. */
#ifndef HETMATH_POOL_H
#define HETMATH_POOL_H

#include "core/internal.h"

/* Runs fn(arg, i, n) for i in 0..n-1 at once, the calling thread taking i = 0, and returns when
 * all have finished. n is clamped to the context's CPU threads; if worker threads cannot be
 * started, everything runs on the calling thread (slower, never wrong). */
void hm__pool_run(hm_context *ctx, int n, void (*fn)(void *arg, int i, int n), void *arg);

/* Runs fn(arg, i, b) once for every block b in 0..blocks-1, on up to n threads at once (i: the
 * thread, 0 the calling one), each thread claiming the next unclaimed block as it finishes one:
 * a thread the host delays holds up one block, not a fixed share. Returns when all are done. */
void hm__pool_run_blocks(hm_context *ctx, int n, int64_t blocks,
                         void (*fn)(void *arg, int i, int64_t block), void *arg);

/* memcpy with non-temporal (streaming) stores: dst's lines are not read first and do not fill
 * the cache. For memory written once and read later by something else. */
void hm__stream_copy(void *dst, const void *src, size_t bytes);

/* Copies bytes with up to `threads` threads (slices of at least 256 KiB each), by
 * hm__stream_copy. */
void hm__parallel_memcpy(hm_context *ctx, void *dst, const void *src, size_t bytes, int threads);

/* Copies `rows` rows of `width` bytes, `spitch` apart at src, to rows `dpitch` apart at dst,
 * with up to `threads` threads (whole rows each; at least 256 KiB a thread), by
 * hm__stream_copy. */
void hm__parallel_copy_rows(hm_context *ctx, void *dst, size_t dpitch, const void *src,
                            size_t spitch, size_t width, size_t rows, int threads);

/* Stops and joins the workers (context destruction). */
void hm__pool_destroy(hm_context *ctx);

#endif
