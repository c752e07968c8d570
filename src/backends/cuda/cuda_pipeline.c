/* The host-operand pipeline of the CUDA backend: rows of an input in host memory go to the
 * device tile by tile while the tiles already there are computed and the results of earlier ones
 * come back, on three streams (copy in, compute, copy out), through pinned buffers when the host
 * memory is pageable. The matmul (row tiles of A and D) and the FFT (batches) use it; over a
 * device set, each device runs its part's pipeline at once, one host thread serving them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "core/pool.h"

/* One job of a run: its device, staging buffers, events and the rows of its last three tiles. */
typedef struct pipe_run {
    const hm_pipeline_job *j;
    hm_cuda_device *dev;
    int id, tiles;
    int a_pinned, d_pinned;
    void *inbuf[2], *outbuf[2];
    cudaEvent_t *ev, *tm; /* 3 ordering events a tile; 6 timing events a tile when per_tile */
    int made;
    int64_t first[3], count[3], r0; /* first row and rows of tiles i % 3 */
} pipe_run;

/* Streams, staging buffers (slot `slot` of the pool) and events of job j. */
static hm_status run_open(hm_context *ctx, pipe_run *r, const hm_pipeline_job *j, int slot)
{
    hm_status st = HM_STATUS_SUCCESS;
    memset(r, 0, sizeof *r);
    r->j = j;
    r->id = j->device;
    r->tiles = (int)j->tiles->count;
    if ((st = hm__cuda_device_streams(ctx, r->id, &r->dev)) != HM_STATUS_SUCCESS)
        return st;
    hm_device where;
    (void)hm__cuda_locate(ctx, j->in_host, &where, &r->a_pinned);
    (void)hm__cuda_locate(ctx, j->out_host, &where, &r->d_pinned);
    if ((!r->a_pinned || !r->d_pinned) &&
        (st = hm__cuda_stage_buffers(ctx, r->dev, r->id, slot, r->inbuf, r->outbuf)) !=
            HM_STATUS_SUCCESS)
        return st;
    /* Per tile, three ordering events (the input's tile in, its computation, the result's tile
     * out), without timing: timing events recorded in these streams serialise copies and
     * computation (docs/TUNING.md). So the ledger gets the pipeline's wall time for both copies,
     * and only when the context asks (hm_debug_set_pipeline_timing) is every tile timed, for the
     * timeline at DEBUG. */
    int nd = 3 * r->tiles, nt = ctx->pipeline_tile_timing ? 6 * r->tiles : 0;
    if (!(r->ev = calloc((size_t)(nd + nt), sizeof *r->ev)))
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for events", j->op);
    r->tm = r->ev + nd;
    HM_CUDA_TRY(ctx, cudaSetDevice(r->id), "selecting cuda:%d", r->id);
    for (; r->made < nd + nt; r->made++)
        HM_CUDA_TRY(ctx,
                    cudaEventCreateWithFlags(&r->ev[r->made], r->made < nd ? cudaEventDisableTiming
                                                                           : cudaEventDefault),
                    "%s: creating pipeline events", j->op);
fail:
    return st;
}

static void run_close(pipe_run *r, bool failed)
{
    if (failed && r->dev) {
        (void)cudaSetDevice(r->id);
        (void)cudaStreamSynchronize(r->dev->stream_in);
        (void)cudaStreamSynchronize(r->dev->stream);
        (void)cudaStreamSynchronize(r->dev->stream_out);
    }
    for (int i = 0; i < r->made; i++)
        cudaEventDestroy(r->ev[i]);
    free(r->ev);
}

/* Step i of job r: empties tile i-2's result from its pinned buffer, then queues tile i's copy
 * in, computation and copy out. */
static hm_status run_step(hm_context *ctx, pipe_run *r, int i)
{
    const hm_pipeline_job *j = r->j;
    hm_cuda_device *dev = r->dev;
    hm_status st = HM_STATUS_SUCCESS;
    bool per_tile = ctx->pipeline_tile_timing;
    cudaEvent_t *ev = r->ev, *tm = r->tm;
    char *d = j->out_host;
    HM_CUDA_TRY(ctx, cudaSetDevice(r->id), "selecting cuda:%d", r->id);
    /* Timing event k of tile i (diagnosis only). */
#define HM_MARK(k, stream)                                                                         \
    do {                                                                                           \
        if (per_tile)                                                                              \
            HM_CUDA_TRY(ctx, cudaEventRecord(tm[6 * i + (k)], (stream)), "%s: recording", j->op);  \
    } while (0)
    /* 0. empty tile i-2's pinned buffer into the pageable output. Not tile i-1's: its copy out
     * waits for its copy in and its product, longer than the host takes to fill tile i's
     * buffer, and the host would sit waiting for it (docs/TUNING.md). Tile i's result goes into
     * this buffer next. */
    if (!r->d_pinned && i >= 2) {
        int p = i - 2;
        HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * p + 2]), "%s: waiting for a tile", j->op);
        hm__parallel_memcpy(ctx, d + (size_t)r->first[p % 3] * j->out_row_bytes, r->outbuf[p % 2],
                            (size_t)r->count[p % 3] * j->out_row_bytes, ctx->cpu_threads);
    }
    if (i >= r->tiles)
        return HM_STATUS_SUCCESS;
    for (int k = 0; i == 0 && k < j->npre; k++) /* whole operands first, in stream order */
        HM_CUDA_TRY(ctx,
                    cudaMemcpyAsync(j->pre[k].dst, j->pre[k].src, j->pre[k].bytes,
                                    cudaMemcpyHostToDevice, dev->stream_in),
                    "%s: copying %s in", j->op, j->pre[k].name);
    cudaEvent_t *e = ev + 3 * i;
    int64_t rows = hm__tile_rows(j->tiles, i);
    r->first[i % 3] = r->r0;
    r->count[i % 3] = rows;
    size_t abytes = (size_t)rows * j->in_row_bytes, dbytes = (size_t)rows * j->out_row_bytes;
    size_t aoff = (size_t)r->r0 * j->in_row_bytes, doff = (size_t)r->r0 * j->out_row_bytes;
    /* 1. the input's tile in (through pinned buffer i%2 when it is pageable) */
    const void *src = (const char *)j->in_host + aoff;
    if (!r->a_pinned) {
        if (i >= 2)
            HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * (i - 2)]), "%s: waiting for a tile copy",
                        j->op);
        hm__parallel_memcpy(ctx, r->inbuf[i % 2], src, abytes, ctx->cpu_threads);
        src = r->inbuf[i % 2];
    }
    HM_MARK(0, dev->stream_in);
    HM_CUDA_TRY(ctx,
                cudaMemcpyAsync((char *)j->in_dev + aoff, src, abytes, cudaMemcpyHostToDevice,
                                dev->stream_in),
                "%s: copying tile %d of %s in", j->op, i, j->in_name);
    HM_MARK(1, dev->stream_in);
    HM_CUDA_TRY(ctx, cudaEventRecord(e[0], dev->stream_in), "%s: recording", j->op);
    /* 2. its computation, once it has arrived */
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream, e[0], 0), "%s: ordering", j->op);
    HM_MARK(2, dev->stream);
    if ((st = j->compute(ctx, j->user, rows, (const char *)j->in_dev + aoff,
                         (char *)j->out_dev + doff)) != HM_STATUS_SUCCESS)
        return st;
    HM_MARK(3, dev->stream);
    HM_CUDA_TRY(ctx, cudaEventRecord(e[1], dev->stream), "%s: recording", j->op);
    /* 3. the result's tile out, once computed (into pinned buffer i%2 when the output is
     * pageable; step 0 has just emptied it) */
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream_out, e[1], 0), "%s: ordering", j->op);
    HM_MARK(4, dev->stream_out);
    HM_CUDA_TRY(ctx,
                cudaMemcpyAsync(r->d_pinned ? d + doff : r->outbuf[i % 2],
                                (const char *)j->out_dev + doff, dbytes, cudaMemcpyDeviceToHost,
                                dev->stream_out),
                "%s: copying tile %d of %s out", j->op, i, j->out_name);
    HM_MARK(5, dev->stream_out);
    HM_CUDA_TRY(ctx, cudaEventRecord(e[2], dev->stream_out), "%s: recording", j->op);
#undef HM_MARK
    r->r0 += rows;
fail:
    return st;
}

/* Job r's end: its last copy waited for, its copies in the ledger with the run's wall time (or,
 * timed per tile, their busy times), its line in the log. */
static hm_status run_finish(hm_context *ctx, pipe_run *r, double t0, int jobs)
{
    const hm_pipeline_job *j = r->j;
    hm_status st = HM_STATUS_SUCCESS;
    int tiles = r->tiles;
    HM_CUDA_TRY(ctx, cudaSetDevice(r->id), "selecting cuda:%d", r->id);
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(r->dev->stream_out), "%s: finishing", j->op);
    double wall = hm__now() - t0;
    /* Copy and compute times from the timing events; without them, the wall time stands in. */
    float in_ms = (float)(wall * 1e3), mm_ms = 0, out_ms = (float)(wall * 1e3), ms;
    if (ctx->pipeline_tile_timing) {
        cudaEvent_t *tm = r->tm;
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
                    "%s: cuda:%d tile %d: in %.3f-%.3f, compute %.3f-%.3f, out %.3f-%.3f ms", j->op,
                    r->id, i, t[0], t[1], t[2], t[3], t[4], t[5]);
        }
    }
    hm_transfer_record rec;
    for (int k = 0; k < j->npre; k++) {
        memset(&rec, 0, sizeof rec);
        rec.direction = HM_TRANSFER_H2D;
        rec.src = j->pre[k].src_space;
        rec.dst = hm_device_cuda(r->id);
        rec.src_pinned = 1;
        rec.bytes = j->pre[k].bytes;
        rec.seconds = wall;
        rec.path = HM_PATH_DIRECT;
        rec.chunks = 1;
        rec.implicit = 1;
        rec.operation = j->op;
        rec.operand = j->pre[k].name;
        hm__ledger_add(ctx, &rec);
    }
    memset(&rec, 0, sizeof rec);
    rec.direction = HM_TRANSFER_H2D;
    rec.src = j->in_space;
    rec.dst = hm_device_cuda(r->id);
    rec.src_pinned = r->a_pinned;
    rec.bytes = (size_t)j->rows * j->in_row_bytes;
    rec.seconds = in_ms / 1e3;
    rec.path = r->a_pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
    rec.chunks = tiles;
    rec.implicit = 1;
    rec.operation = j->op;
    rec.operand = j->in_name;
    hm__ledger_add(ctx, &rec);
    rec.direction = HM_TRANSFER_D2H;
    rec.src = hm_device_cuda(r->id);
    rec.dst = j->out_space;
    rec.src_pinned = 0;
    rec.dst_pinned = r->d_pinned;
    rec.bytes = (size_t)j->rows * j->out_row_bytes;
    rec.seconds = out_ms / 1e3;
    rec.path = r->d_pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
    rec.operand = j->out_name;
    hm__ledger_add(ctx, &rec);
    char on[32] = "";
    if (jobs > 1)
        snprintf(on, sizeof on, " on cuda:%d", r->id);
    if (ctx->pipeline_tile_timing)
        hm__log(ctx, HM_LOG_INFO,
                "pipelined%s over %d tiles in %.3f ms wall; busy times: %s in %.3f ms, "
                "compute %.3f ms, %s out %.3f ms (overlap %.2fx)",
                on, tiles, wall * 1e3, j->in_name, in_ms, mm_ms, j->out_name, out_ms,
                wall > 0 ? (in_ms + mm_ms + out_ms) / 1e3 / wall : 0.0);
    else
        hm__log(ctx, HM_LOG_INFO,
                "pipelined%s over %d tiles in %.3f ms wall: %s in, compute and %s out "
                "overlapped (the ledger's times for %s and %s are this wall time)",
                on, tiles, wall * 1e3, j->in_name, j->out_name, j->in_name, j->out_name);
fail:
    return st;
}

/* The jobs' steps taken in turns, one host thread for all: job k's step i, then job k+1's, so
 * that each device's copies and computations are queued while the others' run. */
hm_status hm__cuda_pipeline_run(hm_context *ctx, const hm_pipeline_job *jobs, int count)
{
    hm_status st = HM_STATUS_SUCCESS;
    pipe_run runs[HM_MAX_DEVICE_SET];
    int open = 0, steps = 0;
    if (count < 1 || count > HM_MAX_DEVICE_SET)
        return hm__fail(ctx, HM_STATUS_INTERNAL, "%s: %d pipelines at once", jobs[0].op, count);
    for (; open < count; open++) {
        st = run_open(ctx, &runs[open], &jobs[open], open);
        if (st != HM_STATUS_SUCCESS) {
            open++; /* closed below with the others */
            goto done;
        }
        steps = runs[open].tiles + 2 > steps ? runs[open].tiles + 2 : steps;
    }
    double t0 = hm__now();
    for (int i = 0; i < steps && st == HM_STATUS_SUCCESS; i++)
        for (int k = 0; k < count && st == HM_STATUS_SUCCESS; k++)
            if (i < runs[k].tiles + 2)
                st = run_step(ctx, &runs[k], i);
    for (int k = 0; k < count && st == HM_STATUS_SUCCESS; k++)
        st = run_finish(ctx, &runs[k], t0, count);
done:
    for (int k = 0; k < open; k++)
        run_close(&runs[k], st != HM_STATUS_SUCCESS);
    return st;
}
