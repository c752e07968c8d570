/* The host-operand pipeline of the CUDA backend: rows of an input in host memory go to the
 * device tile by tile while the tiles already there are computed and the results of earlier ones
 * come back, on three streams (copy in, compute, copy out), through pinned buffers when the host
 * memory is pageable. The matmul (row tiles of A and D) and the FFT (batches) use it. */
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "core/pool.h"

hm_status hm__cuda_pipeline_run(hm_context *ctx, const hm_pipeline_job *j)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *dev = NULL;
    int id = j->device;
    if ((st = hm__cuda_device_streams(ctx, id, &dev)) != HM_STATUS_SUCCESS)
        return st;
    int tiles = (int)j->tiles->count;
    hm_device where;
    int a_pinned = 0, d_pinned = 0;
    (void)hm__cuda_locate(ctx, j->in_host, &where, &a_pinned);
    (void)hm__cuda_locate(ctx, j->out_host, &where, &d_pinned);
    void *inbuf[2] = {NULL, NULL}, *outbuf[2] = {NULL, NULL};
    if (!a_pinned || !d_pinned) {
        if ((st = hm__cuda_stage_buffers(ctx, dev, id, 4, inbuf, outbuf)) != HM_STATUS_SUCCESS)
            return st;
    }
    /* Per tile, three ordering events (the input's tile in, its computation, the result's tile
     * out), without timing: timing events recorded in these streams serialise copies and
     * computation (docs/TUNING.md). So the ledger gets the pipeline's wall time for both copies,
     * and only when the context asks (hm_debug_set_pipeline_timing) is every tile timed, for the
     * timeline at DEBUG. */
    bool per_tile = ctx->pipeline_tile_timing;
    int nd = 3 * tiles, nt = per_tile ? 6 * tiles : 0;
    cudaEvent_t *ev = calloc((size_t)(nd + nt), sizeof *ev);
    if (!ev)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for events", j->op);
    cudaEvent_t *tm = ev + nd;
    int made = 0;
    for (; made < nd + nt; made++)
        HM_CUDA_TRY(ctx,
                    cudaEventCreateWithFlags(&ev[made],
                                             made < nd ? cudaEventDisableTiming : cudaEventDefault),
                    "%s: creating pipeline events", j->op);
        /* Timing event k of tile i (diagnosis only). */
#define HM_MARK(k, stream)                                                                         \
    do {                                                                                           \
        if (per_tile)                                                                              \
            HM_CUDA_TRY(ctx, cudaEventRecord(tm[6 * i + (k)], (stream)), "%s: recording", j->op);  \
    } while (0)
    const char *a = j->in_host;
    char *d = j->out_host;
    double t0 = hm__now();
    /* First row and rows of the last three tiles (i % 3): tile i-2's result is emptied at i. */
    int64_t first[3] = {0, 0, 0}, count[3] = {0, 0, 0}, r0 = 0;
    for (int i = 0; i < tiles + 2; i++) {
        /* 0. empty tile i-2's pinned buffer into the pageable output. Not tile i-1's: its copy
         * out waits for its copy in and its product, longer than the host takes to fill tile
         * i's buffer, and the host would sit waiting for it (docs/TUNING.md). Tile i's result
         * goes into this buffer next. */
        if (!d_pinned && i >= 2) {
            int p = i - 2;
            HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * p + 2]), "%s: waiting for a tile", j->op);
            hm__parallel_memcpy(ctx, d + (size_t)first[p % 3] * j->out_row_bytes, outbuf[p % 2],
                                (size_t)count[p % 3] * j->out_row_bytes, ctx->cpu_threads);
        }
        if (i < tiles) {
            cudaEvent_t *e = ev + 3 * i;
            int64_t rows = hm__tile_rows(j->tiles, i);
            first[i % 3] = r0;
            count[i % 3] = rows;
            size_t abytes = (size_t)rows * j->in_row_bytes;
            size_t dbytes = (size_t)rows * j->out_row_bytes;
            size_t aoff = (size_t)r0 * j->in_row_bytes;
            size_t doff = (size_t)r0 * j->out_row_bytes;
            /* 1. the input's tile in (through pinned buffer i%2 when it is pageable) */
            const void *src = a + aoff;
            if (!a_pinned) {
                if (i >= 2)
                    HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * (i - 2)]),
                                "%s: waiting for a tile copy", j->op);
                hm__parallel_memcpy(ctx, inbuf[i % 2], src, abytes, ctx->cpu_threads);
                src = inbuf[i % 2];
            }
            HM_MARK(0, dev->stream_in);
            HM_CUDA_TRY(ctx,
                        cudaMemcpyAsync((char *)j->in_dev + aoff, src, abytes,
                                        cudaMemcpyHostToDevice, dev->stream_in),
                        "%s: copying tile %d of %s in", j->op, i, j->in_name);
            HM_MARK(1, dev->stream_in);
            HM_CUDA_TRY(ctx, cudaEventRecord(e[0], dev->stream_in), "%s: recording", j->op);
            /* 2. its computation, once it has arrived */
            HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream, e[0], 0), "%s: ordering", j->op);
            HM_MARK(2, dev->stream);
            if ((st = j->compute(ctx, j->user, rows, (const char *)j->in_dev + aoff,
                                 (char *)j->out_dev + doff)) != HM_STATUS_SUCCESS)
                goto fail;
            HM_MARK(3, dev->stream);
            HM_CUDA_TRY(ctx, cudaEventRecord(e[1], dev->stream), "%s: recording", j->op);
            /* 3. the result's tile out, once computed (into pinned buffer i%2 when the output is
             * pageable; step 0 has just emptied it) */
            HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream_out, e[1], 0), "%s: ordering", j->op);
            HM_MARK(4, dev->stream_out);
            HM_CUDA_TRY(ctx,
                        cudaMemcpyAsync(d_pinned ? d + doff : outbuf[i % 2],
                                        (const char *)j->out_dev + doff, dbytes,
                                        cudaMemcpyDeviceToHost, dev->stream_out),
                        "%s: copying tile %d of %s out", j->op, i, j->out_name);
            HM_MARK(5, dev->stream_out);
            HM_CUDA_TRY(ctx, cudaEventRecord(e[2], dev->stream_out), "%s: recording", j->op);
            r0 += rows;
        }
    }
#undef HM_MARK
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(dev->stream_out), "%s: finishing", j->op);
    double wall = hm__now() - t0;
    /* Copy and compute times from the timing events; without them, the wall time stands in. */
    float in_ms = (float)(wall * 1e3), mm_ms = 0, out_ms = (float)(wall * 1e3), ms;
    if (per_tile) {
        in_ms = out_ms = 0;
        for (int i = 0; i < tiles; i++) {
            cudaEvent_t *e = tm + 6 * i;
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, e[0], e[1]), "%s: timing", j->op);
            in_ms += ms;
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, e[2], e[3]), "%s: timing", j->op);
            mm_ms += ms;
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, e[4], e[5]), "%s: timing", j->op);
            out_ms += ms;
        }
        for (int i = 0; i < tiles && hm__log_enabled(ctx, HM_LOG_DEBUG); i++) {
            float t[6];
            for (int k = 0; k < 6; k++)
                HM_CUDA_TRY(ctx, cudaEventElapsedTime(&t[k], tm[0], tm[6 * i + k]), "%s: timing",
                            j->op);
            hm__log(ctx, HM_LOG_DEBUG,
                    "%s: tile %d: in %.3f-%.3f, compute %.3f-%.3f, out %.3f-%.3f ms", j->op, i,
                    t[0], t[1], t[2], t[3], t[4], t[5]);
        }
    }
    hm_transfer_record r;
    memset(&r, 0, sizeof r);
    r.direction = HM_TRANSFER_H2D;
    r.src = j->in_space;
    r.dst = hm_device_cuda(id);
    r.src_pinned = a_pinned;
    r.bytes = (size_t)j->rows * j->in_row_bytes;
    r.seconds = in_ms / 1e3;
    r.path = a_pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
    r.chunks = tiles;
    r.implicit = 1;
    r.operation = j->op;
    r.operand = j->in_name;
    hm__ledger_add(ctx, &r);
    r.direction = HM_TRANSFER_D2H;
    r.src = hm_device_cuda(id);
    r.dst = j->out_space;
    r.src_pinned = 0;
    r.dst_pinned = d_pinned;
    r.bytes = (size_t)j->rows * j->out_row_bytes;
    r.seconds = out_ms / 1e3;
    r.path = d_pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
    r.operand = j->out_name;
    hm__ledger_add(ctx, &r);
    if (per_tile)
        hm__log(ctx, HM_LOG_INFO,
                "pipelined over %d tiles in %.3f ms wall; busy times: %s in %.3f ms, "
                "compute %.3f ms, %s out %.3f ms (overlap %.2fx)",
                tiles, wall * 1e3, j->in_name, in_ms, mm_ms, j->out_name, out_ms,
                wall > 0 ? (in_ms + mm_ms + out_ms) / 1e3 / wall : 0.0);
    else
        hm__log(ctx, HM_LOG_INFO,
                "pipelined over %d tiles in %.3f ms wall: %s in, compute and %s out "
                "overlapped (the ledger's times for %s and %s are this wall time)",
                tiles, wall * 1e3, j->in_name, j->out_name, j->in_name, j->out_name);
fail:
    if (st != HM_STATUS_SUCCESS) {
        (void)cudaStreamSynchronize(dev->stream_in);
        (void)cudaStreamSynchronize(dev->stream);
        (void)cudaStreamSynchronize(dev->stream_out);
    }
    for (int i = 0; i < made; i++)
        cudaEventDestroy(ev[i]);
    free(ev);
    return st;
}
