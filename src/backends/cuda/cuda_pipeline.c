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
    int a_pinned, d_pinned, s_pinned; /* the input's, the output's and the seed's host memory */
    void *inbuf[2], *outbuf[2];
    cudaEvent_t *ev, *tm; /* 3 ordering events a tile; 6 timing events a tile when per_tile */
    cudaEvent_t *piece;   /* 2: a staged whole operand's pieces, one a pinned buffer */
    int made;
    int64_t first[3], count[3], r0; /* first row and rows of tiles i % 3 */
    int shared, slot;               /* its whole operands shared with the other jobs (below) */
    int peer_id[HM_MAX_DEVICE_SET]; /* the devices of the jobs, by slot, when shared */
} pipe_run;

/* Bytes of a whole-operand copy. */
static size_t pre_bytes(const hm_pipeline_copy *c)
{
    return c->rows * c->width;
}

/* A copy of `rows` rows of `width` bytes, `spitch` apart at src, `dpitch` apart at dst, queued on
 * stream: one contiguous copy when both are packed. */
static cudaError_t copy_rows(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                             size_t rows, enum cudaMemcpyKind kind, cudaStream_t stream)
{
    if ((dpitch == width && spitch == width) || rows == 1)
        return cudaMemcpyAsync(dst, src, width * rows, kind, stream);
    return cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, rows, kind, stream);
}

/* Tile rows [r0, r0 + rows) of one side (row_bytes a tile row, its host rows pitch apart) as a
 * host block: its offset, host rows and bytes a host row (hm_pipeline_job.outer says how). */
static void block_of(const hm_pipeline_job *j, size_t row_bytes, size_t pitch, int64_t r0,
                     int64_t rows, size_t *off, size_t *nrows, size_t *width)
{
    if (j->outer > 0) {
        size_t unit = row_bytes / (size_t)j->outer;
        *off = (size_t)r0 * unit;
        *nrows = (size_t)j->outer;
        *width = (size_t)rows * unit;
    } else {
        *off = (size_t)r0 * pitch;
        *nrows = (size_t)rows;
        *width = row_bytes;
    }
}

/* Slice k of `bytes` cut in `count`: offset and length (256-byte aligned cuts). */
static void slice_of(size_t bytes, int count, int k, size_t *off, size_t *len)
{
    size_t s = ((bytes + (size_t)count - 1) / (size_t)count + 255) & ~(size_t)255;
    *off = (size_t)k * s < bytes ? (size_t)k * s : bytes;
    *len = bytes - *off < s ? bytes - *off : s;
}

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
    r->s_pinned = 1;
    if (j->seed_host)
        (void)hm__cuda_locate(ctx, j->seed_host, &where, &r->s_pinned);
    bool pre_staged = false;
    for (int k = 0; k < j->npre; k++)
        pre_staged |= !j->pre[k].pinned;
    if ((!r->a_pinned || !r->d_pinned || !r->s_pinned || pre_staged) &&
        (st = hm__cuda_stage_buffers(ctx, r->dev, r->id, slot, r->inbuf, r->outbuf)) !=
            HM_STATUS_SUCCESS)
        return st;
    /* Per tile, three ordering events (the input's tile in, its computation, the result's tile
     * out), without timing: timing events recorded in these streams serialise copies and
     * computation (docs/TUNING.md). So the ledger gets the pipeline's wall time for both copies,
     * and only when the context asks (hm_debug_set_pipeline_timing) is every tile timed, for the
     * timeline at DEBUG. */
    int nd = 3 * r->tiles + 2, nt = ctx->pipeline_tile_timing ? 6 * r->tiles : 0;
    if (!(r->ev = calloc((size_t)(nd + nt), sizeof *r->ev)))
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for events", j->op);
    r->tm = r->ev + nd;
    r->piece = r->ev + 3 * r->tiles;
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

/* Copy c of job r from pageable memory: pieces of rows through the job's two pinned input
 * buffers (host threads fill one while the other's piece crosses), on the input stream; done
 * before the first tile's staging reuses the buffers. */
static hm_status staged_pre(hm_context *ctx, pipe_run *r, const hm_pipeline_copy *c)
{
    hm_status st = HM_STATUS_SUCCESS;
    cudaStream_t in = r->dev->stream_in;
    size_t chunk = hm__cuda_state(ctx)->stage_chunk;
    /* packed: pieces of bytes, as rows of one byte; else pieces of whole rows (a row of a
     * panel fits a buffer: the budget's tiles do) */
    bool packed = c->rows == 1 || c->pitch == c->width;
    size_t nrows = packed ? c->rows * c->width : c->rows, width = packed ? 1 : c->width,
           pitch = packed ? 1 : c->pitch, per = chunk / width;
    if (per == 0)
        return hm__fail(ctx, HM_STATUS_INTERNAL,
                        "%s: a row of %s (%zu bytes) over a staging buffer", r->j->op, c->name,
                        c->width);
    for (size_t row = 0, q = 0; row < nrows; row += per, q++) {
        size_t rows = nrows - row < per ? nrows - row : per;
        if (q >= 2) /* the piece that used this buffer has crossed */
            HM_CUDA_TRY(ctx, cudaEventSynchronize(r->piece[q % 2]), "%s: staging %s", r->j->op,
                        c->name);
        hm__parallel_copy_rows(ctx, r->inbuf[q % 2], width, (const char *)c->src + row * pitch,
                               pitch, width, rows, ctx->cpu_threads);
        HM_CUDA_TRY(ctx,
                    cudaMemcpyAsync((char *)c->dst + row * width, r->inbuf[q % 2], rows * width,
                                    cudaMemcpyHostToDevice, in),
                    "%s: copying %s in", r->j->op, c->name);
        HM_CUDA_TRY(ctx, cudaEventRecord(r->piece[q % 2], in), "%s: recording", r->j->op);
    }
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(in), "%s: copying %s in", r->j->op, c->name);
fail:
    return st;
}

/* Tile i's seed (`rows` rows) into its output slot d_dev on the input stream, once the tile
 * before in the slot (`before`'s events, NULL: none) has left it; from pageable memory through
 * pinned output buffer i%2, free at step i: its tile i-2 has crossed (and, the output pageable,
 * been emptied by step 0). */
static hm_status seed_tile(hm_context *ctx, pipe_run *r, int i, int64_t rows, void *d_dev,
                           const cudaEvent_t *before)
{
    const hm_pipeline_job *j = r->j;
    hm_status st = HM_STATUS_SUCCESS;
    if (!j->seed_host)
        return st;
    size_t off, nrows, width;
    block_of(j, j->out_row_bytes, j->out_pitch, r->r0, rows, &off, &nrows, &width);
    const void *src = (const char *)j->seed_host + off;
    size_t pitch = j->out_pitch;
    if (!r->s_pinned) {
        if (i >= 2)
            HM_CUDA_TRY(ctx, cudaEventSynchronize(r->ev[3 * (i - 2)]),
                        "%s: waiting for a tile copy", j->op);
        hm__parallel_copy_rows(ctx, r->outbuf[i % 2], width, src, pitch, width, nrows,
                               ctx->cpu_threads);
        src = r->outbuf[i % 2];
        pitch = width;
    }
    if (before)
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(r->dev->stream_in, before[2], 0), "%s: ordering",
                    j->op);
    HM_CUDA_TRY(ctx,
                copy_rows(d_dev, width, src, pitch, width, nrows, cudaMemcpyHostToDevice,
                          r->dev->stream_in),
                "%s: copying tile %d of %s in", j->op, i, j->seed_name);
fail:
    return st;
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
        size_t off, nrows, width;
        block_of(j, j->out_row_bytes, j->out_pitch, r->first[p % 3], r->count[p % 3], &off, &nrows,
                 &width);
        HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * p + 2]), "%s: waiting for a tile", j->op);
        hm__parallel_copy_rows(ctx, d + off, j->out_pitch, r->outbuf[p % 2], width, width, nrows,
                               ctx->cpu_threads);
    }
    if (i >= r->tiles)
        return HM_STATUS_SUCCESS;
    for (int k = 0; i == 0 && !r->shared && k < j->npre; k++) { /* whole operands first */
        const hm_pipeline_copy *c = &j->pre[k];
        if (!c->pinned && (st = staged_pre(ctx, r, c)) != HM_STATUS_SUCCESS)
            return st;
        if (c->pinned)
            HM_CUDA_TRY(ctx,
                        copy_rows(c->dst, c->width, c->src, c->pitch, c->width, c->rows,
                                  cudaMemcpyHostToDevice, dev->stream_in),
                        "%s: copying %s in", j->op, c->name);
    }
    cudaEvent_t *e = ev + 3 * i;
    int64_t rows = hm__tile_rows(j->tiles, i);
    r->first[i % 3] = r->r0;
    r->count[i % 3] = rows;
    size_t aoff, arows, awidth, doff, drows, dwidth;
    block_of(j, j->in_row_bytes, j->in_pitch, r->r0, rows, &aoff, &arows, &awidth);
    block_of(j, j->out_row_bytes, j->out_pitch, r->r0, rows, &doff, &drows, &dwidth);
    /* Tile i's slot of the rings; the tile three before had it. */
    int64_t slot = (i % HM_RING_SLOTS) * j->slot_rows;
    char *a_dev = (char *)j->in_dev + slot * (int64_t)j->in_row_bytes;
    char *d_dev = (char *)j->out_dev + slot * (int64_t)j->out_row_bytes;
    cudaEvent_t *before = i >= HM_RING_SLOTS ? ev + 3 * (i - HM_RING_SLOTS) : NULL;
    /* 1. the input's tile in (through pinned buffer i%2 when it is pageable), once the tile
     * before in its slot is computed */
    const void *src = (const char *)j->in_host + aoff;
    size_t spitch = j->in_pitch;
    if (!r->a_pinned) {
        if (i >= 2)
            HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[3 * (i - 2)]), "%s: waiting for a tile copy",
                        j->op);
        hm__parallel_copy_rows(ctx, r->inbuf[i % 2], awidth, src, j->in_pitch, awidth, arows,
                               ctx->cpu_threads);
        src = r->inbuf[i % 2];
        spitch = awidth;
    }
    if (before)
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream_in, before[1], 0), "%s: ordering", j->op);
    HM_MARK(0, dev->stream_in);
    HM_CUDA_TRY(ctx,
                copy_rows(a_dev, awidth, src, spitch, awidth, arows, cudaMemcpyHostToDevice,
                          dev->stream_in),
                "%s: copying tile %d of %s in", j->op, i, j->in_name);
    HM_MARK(1, dev->stream_in);
    if ((st = seed_tile(ctx, r, i, rows, d_dev, before)) != HM_STATUS_SUCCESS)
        return st;
    HM_CUDA_TRY(ctx, cudaEventRecord(e[0], dev->stream_in), "%s: recording", j->op);
    for (int k = 0; i == r->tiles - 1 && k < j->nnext; k++) { /* the next job's, pinned */
        const hm_pipeline_copy *c = &j->next[k];
        HM_CUDA_TRY(ctx,
                    copy_rows(c->dst, c->width, c->src, c->pitch, c->width, c->rows,
                              cudaMemcpyHostToDevice, dev->stream_in),
                    "%s: copying the next %s in", j->op, c->name);
    }
    /* 2. its computation, once it has arrived and the result of the tile before in its slot is
     * out */
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream, e[0], 0), "%s: ordering", j->op);
    if (before)
        HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream, before[2], 0), "%s: ordering", j->op);
    HM_MARK(2, dev->stream);
    if ((st = j->compute(ctx, j->user, rows, a_dev, d_dev)) != HM_STATUS_SUCCESS)
        return st;
    HM_MARK(3, dev->stream);
    HM_CUDA_TRY(ctx, cudaEventRecord(e[1], dev->stream), "%s: recording", j->op);
    /* 3. the result's tile out, once computed (into pinned buffer i%2 when the output is
     * pageable; step 0 has just emptied it) */
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(dev->stream_out, e[1], 0), "%s: ordering", j->op);
    HM_MARK(4, dev->stream_out);
    HM_CUDA_TRY(ctx,
                r->d_pinned ? copy_rows(d + doff, j->out_pitch, d_dev, dwidth, dwidth, drows,
                                        cudaMemcpyDeviceToHost, dev->stream_out)
                            : cudaMemcpyAsync(r->outbuf[i % 2], d_dev, drows * dwidth,
                                              cudaMemcpyDeviceToHost, dev->stream_out),
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
    for (int k = 0; k < j->npre + j->nnext; k++) {
        const hm_pipeline_copy *c = k < j->npre ? &j->pre[k] : &j->next[k - j->npre];
        bool shared = r->shared && k < j->npre; /* the next panel's are never shared */
        /* Whole, or (shared) this device's slice from the host and the others' from them. */
        for (int q = 0; q < (shared ? jobs : 1); q++) {
            size_t off = 0, len = pre_bytes(c);
            if (shared)
                slice_of(pre_bytes(c), jobs, q, &off, &len);
            bool from_host = !shared || q == r->slot;
            memset(&rec, 0, sizeof rec);
            rec.direction = from_host ? HM_TRANSFER_H2D : HM_TRANSFER_D2D;
            rec.src = from_host ? c->src_space : hm_device_cuda(r->peer_id[q]);
            rec.dst = hm_device_cuda(r->id);
            rec.src_pinned = from_host && c->pinned;
            rec.bytes = len;
            rec.seconds = wall;
            rec.path = !from_host ? HM_PATH_PEER : c->pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
            rec.chunks = 1;
            rec.implicit = 1;
            rec.operation = j->op;
            rec.operand = c->name;
            if (len > 0)
                hm__ledger_add(ctx, &rec);
        }
    }
    memset(&rec, 0, sizeof rec);
    if (j->seed_host) { /* the seed's tiles crossed with the input's */
        rec.direction = HM_TRANSFER_H2D;
        rec.src = j->seed_space;
        rec.dst = hm_device_cuda(r->id);
        rec.src_pinned = r->s_pinned;
        rec.bytes = (size_t)j->rows * j->out_row_bytes;
        rec.seconds = in_ms / 1e3;
        rec.path = r->s_pinned ? HM_PATH_DIRECT : HM_PATH_STAGED;
        rec.chunks = tiles;
        rec.implicit = 1;
        rec.operation = j->op;
        rec.operand = j->seed_name;
        hm__ledger_add(ctx, &rec);
        memset(&rec, 0, sizeof rec);
    }
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

/* Whether the jobs' whole operands can be shared: the same ones in every job, every device
 * reaching every other directly, and the d2d guard not set to error. */
static bool can_share(hm_context *ctx, pipe_run *runs, int count)
{
    /* A d2d guard set to error: the whole operands go whole over each host link instead. */
    if (count < 2 || runs[0].j->npre == 0 || ctx->guard[HM_TRANSFER_D2D] == HM_GUARD_ERROR)
        return false;
    for (int k = 1; k < count; k++) {
        const hm_pipeline_job *a = runs[0].j, *b = runs[k].j;
        if (b->npre != a->npre)
            return false;
        for (int m = 0; m < a->npre; m++)
            if (b->pre[m].src != a->pre[m].src || pre_bytes(&b->pre[m]) != pre_bytes(&a->pre[m]) ||
                a->pre[m].rows != 1 || b->pre[m].rows != 1 || !a->pre[m].pinned)
                return false; /* sliced by bytes: packed pinned operands only */
    }
    for (int k = 0; k < count; k++)
        for (int q = k + 1; q < count; q++) {
            bool direct = false;
            if (hm__cuda_peer(ctx, runs[k].id, runs[q].id, &direct) != HM_STATUS_SUCCESS) {
                hm__clear_error(ctx);
                return false;
            }
            if (!direct)
                return false;
        }
    return true;
}

/* The whole operands of jobs on several devices: each device takes one slice from the host over
 * its own link, all at once, then the other slices from the devices that took them, over the
 * direct link: a slice of the bytes a link, instead of all of them, crosses each host link. All
 * on the input streams, before the first tile's copy. */
static hm_status share_pre(hm_context *ctx, pipe_run *runs, int count)
{
    hm_status st = HM_STATUS_SUCCESS;
    cudaEvent_t landed[HM_MAX_DEVICE_SET] = {NULL};
    int made = 0;
    const hm_pipeline_job *j0 = runs[0].j;
    for (; made < count; made++) {
        HM_CUDA_TRY(ctx, cudaSetDevice(runs[made].id), "selecting cuda:%d", runs[made].id);
        HM_CUDA_TRY(ctx, cudaEventCreateWithFlags(&landed[made], cudaEventDisableTiming),
                    "%s: creating an event", j0->op);
    }
    for (int m = 0; m < j0->npre; m++) {
        for (int k = 0; k < count; k++) { /* each device's slice from the host */
            const hm_pipeline_copy *c = &runs[k].j->pre[m];
            size_t off, len;
            slice_of(pre_bytes(c), count, k, &off, &len);
            HM_CUDA_TRY(ctx, cudaSetDevice(runs[k].id), "selecting cuda:%d", runs[k].id);
            if (len > 0)
                HM_CUDA_TRY(ctx,
                            cudaMemcpyAsync((char *)c->dst + off, (const char *)c->src + off, len,
                                            cudaMemcpyHostToDevice, runs[k].dev->stream_in),
                            "%s: copying a slice of %s in", j0->op, c->name);
            HM_CUDA_TRY(ctx, cudaEventRecord(landed[k], runs[k].dev->stream_in), "%s: recording",
                        j0->op);
        }
        for (int k = 0; k < count; k++) /* the others' slices, from them */
            for (int q = 0; q < count; q++) {
                size_t off, len;
                slice_of(pre_bytes(&j0->pre[m]), count, q, &off, &len);
                if (q == k || len == 0)
                    continue;
                HM_CUDA_TRY(ctx, cudaSetDevice(runs[k].id), "selecting cuda:%d", runs[k].id);
                HM_CUDA_TRY(ctx, cudaStreamWaitEvent(runs[k].dev->stream_in, landed[q], 0),
                            "%s: ordering", j0->op);
                HM_CUDA_TRY(ctx,
                            cudaMemcpyPeerAsync((char *)runs[k].j->pre[m].dst + off, runs[k].id,
                                                (const char *)runs[q].j->pre[m].dst + off,
                                                runs[q].id, len, runs[k].dev->stream_in),
                            "%s: copying a slice of %s cuda:%d -> cuda:%d", j0->op, j0->pre[m].name,
                            runs[q].id, runs[k].id);
            }
    }
    for (int m = 0; m < j0->npre && ctx->guard[HM_TRANSFER_D2D] == HM_GUARD_LOG; m++)
        (void)hm__transfer_guard(ctx, j0->op, j0->pre[m].name, hm_device_cuda(runs[0].id),
                                 hm_device_cuda(runs[1].id), pre_bytes(&j0->pre[m]));
    for (int k = 0; k < count; k++) {
        runs[k].shared = 1;
        runs[k].slot = k;
        for (int q = 0; q < count; q++)
            runs[k].peer_id[q] = runs[q].id;
    }
fail:
    for (int k = 0; k < made; k++)
        cudaEventDestroy(landed[k]); /* released once the waits on them are done */
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
    if (can_share(ctx, runs, count))
        st = share_pre(ctx, runs, count);
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
