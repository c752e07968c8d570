/* The distributed FFT of GPU ranks (HM_OP_DIST_FFT), c2c, r2c and c2r, 2-D and 3-D, on the slabs
 * FFTW-MPI uses (hm__slab_share, of the complex side's lengths: the last axis halved for r2c and
 * c2r): each rank holds planes of the first axis (n0) and transforms them over the other axes
 * with cuFFT in chunks of planes (r2c: real planes into complex ones); as each chunk is done,
 * NCCL sends every peer its rows of the second axis (n1) of those planes, so the exchange of one
 * chunk runs while the next transforms; then the first axis is transformed where the rows
 * arrived. The output is left "transposed" (slabs of n1), laid out plane-major: element (j, i, k)
 * of a rank's box at (i·n1l + j)·rest + k, which is how the rows arrive; or, without
 * transposed_out, exchanged back into slabs of n0. c2r runs the other way round: the complex
 * planes exchanged as they are, the first axis transformed, the rows exchanged back, and the
 * planes transformed last into real ones (never left transposed: the core refuses it).
 *
 * The exchange's messages: a chunk's rows for a peer packed first (a copy on the device, cheap
 * beside the link: one large message moves at NCCL's full rate, a plane's rows a message did
 * not), received in place; back, one message a peer, unpacked. The input is read where it is
 * (x itself when it is in the input's slab layout) and never written; when the core hands the
 * buffer as the input (x was exchanged into it), the transforms of the planes all finish before the
 * exchange starts, since the exchange writes over them. Built with MPI and NCCL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/cuda_libs.h"
#include "core/dist_fft_backend.h"
#include "core/fft_backend.h"

/* Chunks of planes a rank's slab is cut into (a build may set another count, to measure). */
#ifndef HM_DIST_FFT_CHUNKS
#define HM_DIST_FFT_CHUNKS 8
#endif
enum { CHUNKS = HM_DIST_FFT_CHUNKS };

typedef struct geometry {
    int size, rank;
    int64_t n0, n1, rest;         /* the complex side's first two lengths, and the product of
                                     the others */
    int64_t *lo0, *c0, *lo1, *c1; /* every rank's slab of n0 and of n1 (size each) */
    size_t es;                    /* a complex element's bytes */
    int64_t real_plane;           /* the real side's elements a plane (r2c, c2r) */
} geometry;

typedef struct dist_plan {
    hm_context *ctx; /* whose memory the buffers are */
    hm_dist_fft_desc d;
    geometry g;
    hm_nccl_group *group;
    int64_t chunk;            /* planes a chunk */
    int chunks;               /* chunks of the largest slab */
    void *slab, *tbuf, *pack; /* the planes transformed; the rows gathered (without
                                 transposed_out); the packed chunk */
    size_t slab_bytes, tbuf_bytes, pack_bytes;
    void *s1_full, *s1_last, *s2; /* cuFFT plans: a chunk, the last short chunk, the first axis */
    cudaEvent_t ev[CHUNKS + 1];
    int events;
    cudaStream_t xs; /* the exchanges' stream (hm__nccl_message_stream) */
} dist_plan;

/* Row-major element strides of lengths n; returns the elements. */
static size_t row_major(int rank, const int64_t *n, int64_t *stride)
{
    stride[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; i--)
        stride[i] = stride[i + 1] * n[i + 1];
    return (size_t)(stride[0] * n[0]);
}

static hm_status geometry_of(hm_context *ctx, const hm_dist_fft_desc *d, geometry *g)
{
    int rc = MPI_Comm_size(d->comm, &g->size);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_rank(d->comm, &g->rank);
    if (rc != MPI_SUCCESS)
        return hm__fail(ctx, HM_STATUS_MPI_ERROR, "the communicator's size and rank");
    int64_t nc[HM_FFT_MAX_RANK];
    hm__dist_fft_complex_lengths(d, nc);
    g->n0 = nc[0];
    g->n1 = nc[1];
    g->rest = 1;
    g->real_plane = 1;
    for (int i = 2; i < d->rank; i++)
        g->rest *= nc[i];
    for (int i = 1; i < d->rank; i++)
        g->real_plane *= d->n[i];
    g->es = 2 * (d->double_precision ? sizeof(double) : sizeof(float));
    g->lo0 = calloc((size_t)g->size * 4, sizeof(int64_t));
    if (!g->lo0)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for the slabs' table");
    g->c0 = g->lo0 + g->size;
    g->lo1 = g->c0 + g->size;
    g->c1 = g->lo1 + g->size;
    for (int64_t q = 0, a = 0, b = 0; q < g->size; q++) {
        g->lo0[q] = a;
        g->c0[q] = hm__slab_share(g->n0, q, g->size);
        a += g->c0[q];
        g->lo1[q] = b;
        g->c1[q] = hm__slab_share(g->n1, q, g->size);
        b += g->c1[q];
    }
    return HM_STATUS_SUCCESS;
}

static hm_status dist_layout(hm_context *ctx, const void *desc, void *out)
{
    const hm_dist_fft_desc *d = desc;
    hm_dist_fft_layout *l = out;
    if (d->rank < 2 || d->rank > 3) /* the core's check: 2-D and 3-D only */
        return hm__fail(ctx, HM_STATUS_INTERNAL, "a distributed FFT of %d axes", d->rank);
    geometry g;
    hm_status st = geometry_of(ctx, d, &g);
    if (st != HM_STATUS_SUCCESS)
        return st;
    int r = d->rank, me = g.rank;
    int64_t nc[HM_FFT_MAX_RANK];
    hm__dist_fft_complex_lengths(d, nc);
    memset(l, 0, sizeof *l);
    /* the input: the real lengths for r2c, the complex ones otherwise; the output the other */
    for (int i = 0; i < r; i++) {
        l->in_n[i] = d->type == HM_FFT_R2C ? d->n[i] : nc[i];
        l->out_n[i] = d->type == HM_FFT_C2R ? d->n[i] : nc[i];
    }
    l->in_lo[0] = g.lo0[me];
    l->in_n[0] = g.c0[me];
    size_t in = row_major(r, l->in_n, l->in_stride) * (d->type == HM_FFT_R2C ? g.es / 2 : g.es);
    int64_t ignored[HM_FFT_MAX_RANK];
    if (d->transposed_out) { /* box (n1l, n0, rest…), plane-major: (i·n1l + j)·rest + k */
        l->out_lo[0] = g.lo1[me];
        l->out_n[0] = g.c1[me];
        l->out_n[1] = g.n0;
        l->out_stride[r - 1] = 1; /* (a third axis) */
        l->out_stride[0] = g.rest;
        l->out_stride[1] = g.c1[me] * g.rest;
    } else {
        l->out_lo[0] = g.lo0[me];
        l->out_n[0] = g.c0[me];
        row_major(r, l->out_n, l->out_stride);
    }
    /* the buffer holds the input, the output, and the rows gathered when left transposed */
    size_t outb = row_major(r, l->out_n, ignored) * (d->type == HM_FFT_C2R ? g.es / 2 : g.es),
           tr = (size_t)(g.n0 * g.c1[me] * g.rest) * g.es;
    l->bytes = in > outb ? in : outb;
    if (d->transposed_out && tr > l->bytes)
        l->bytes = tr;
    if (l->bytes == 0)
        l->bytes = g.es;
    l->reads_apart = true;
    free(g.lo0);
    return HM_STATUS_SUCCESS;
}

/* A cuFFT plan of `planes` planes' transform over the axes after the first (first false: c2c,
 * r2c or c2r as the whole transform), or of the first axis over the rows gathered here (first
 * true: c2c), through the serial FFT backend. */
static hm_status sub_plan(hm_context *ctx, const dist_plan *p, bool first, int64_t planes,
                          void **out)
{
    const hm_dist_fft_desc *d = &p->d;
    const geometry *g = &p->g;
    hm_fft_desc f;
    memset(&f, 0, sizeof f);
    f.type = first ? HM_FFT_C2C : d->type;
    f.direction = d->direction;
    f.double_precision = d->double_precision;
    f.scale = 1.0;
    f.exec = hm_execution_cuda(d->device);
    f.effort = d->effort;
    f.batch_rank = 1;
    if (first) {
        int64_t cols = g->c1[g->rank] * g->rest;
        f.rank = 1;
        f.n[0] = g->n0;
        f.in_stride[0] = f.out_stride[0] = cols;
        f.batch_n[0] = cols;
        f.batch_in_stride[0] = f.batch_out_stride[0] = 1;
        f.in_span = f.out_span = g->n0 * cols;
        f.in_place = true;
        return hm__cuda_fft.plan(ctx, &f, NULL, out);
    }
    /* a plane, row-major: n1 (2-D), or n1 × n2 (3-D); the real side's lengths logical, each side
     * stored at its own lengths (the complex side's last halved for r2c and c2r) */
    int64_t nc[HM_FFT_MAX_RANK], in_n[HM_FFT_MAX_RANK], out_n[HM_FFT_MAX_RANK];
    hm__dist_fft_complex_lengths(d, nc);
    f.rank = d->rank - 1;
    for (int i = 0; i < f.rank; i++) {
        f.n[i] = d->n[i + 1];
        in_n[i] = d->type == HM_FFT_R2C ? d->n[i + 1] : nc[i + 1];
        out_n[i] = d->type == HM_FFT_C2R ? d->n[i + 1] : nc[i + 1];
    }
    int64_t in_plane = (int64_t)row_major(f.rank, in_n, f.in_stride),
            out_plane = (int64_t)row_major(f.rank, out_n, f.out_stride);
    f.batch_n[0] = planes;
    f.batch_in_stride[0] = in_plane;
    f.batch_out_stride[0] = out_plane;
    f.in_span = planes * in_plane;
    f.out_span = planes * out_plane;
    f.may_overwrite_input = d->type == HM_FFT_C2R; /* the plan's own slab */
    return hm__cuda_fft.plan(ctx, &f, NULL, out);
}

static void dist_destroy(void *plan)
{
    dist_plan *p = plan;
    if (!p)
        return;
    hm__cuda_fft.destroy(p->s1_full);
    hm__cuda_fft.destroy(p->s1_last);
    hm__cuda_fft.destroy(p->s2);
    cudaSetDevice(p->d.device);
    for (int i = 0; i < p->events; i++)
        cudaEventDestroy(p->ev[i]);
    if (p->xs)
        cudaStreamDestroy(p->xs);
    hm_context *ctx = p->ctx;
    hm__cuda_mem_put(ctx, hm_device_cuda(p->d.device), p->slab, p->slab_bytes);
    hm__cuda_mem_put(ctx, hm_device_cuda(p->d.device), p->tbuf, p->tbuf_bytes);
    hm__cuda_mem_put(ctx, hm_device_cuda(p->d.device), p->pack, p->pack_bytes);
    free(p->g.lo0);
    free(p);
}

static hm_status dist_plan_make(hm_context *ctx, const void *desc, const void *args, void **out)
{
    (void)args;
    const hm_dist_fft_desc *d = desc;
    hm_status st = HM_STATUS_SUCCESS;
    dist_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a distributed plan");
    p->ctx = ctx;
    p->d = *d;
    p->group = d->group;
    if ((st = geometry_of(ctx, d, &p->g)) != HM_STATUS_SUCCESS)
        goto fail;
    const geometry *g = &p->g;
    int me = g->rank;
    int64_t block0 = (g->n0 + g->size - 1) / g->size;
    p->chunk = (block0 + CHUNKS - 1) / CHUNKS;
    if (p->chunk < 1)
        p->chunk = 1;
    p->chunks = (int)((block0 + p->chunk - 1) / p->chunk);
    hm_device dev = hm_device_cuda(d->device);
    bool c2r = d->type == HM_FFT_C2R;
    p->slab_bytes = (size_t)(g->c0[me] * g->n1 * g->rest) * g->es;
    if (!d->transposed_out)
        p->tbuf_bytes = (size_t)(g->n0 * g->c1[me] * g->rest) * g->es;
    /* a chunk's rows packed; for c2r also the rows coming back, staged before their unpacking */
    p->pack_bytes = (size_t)(p->chunk * g->n1 * g->rest) * g->es;
    if (c2r && p->slab_bytes > p->pack_bytes)
        p->pack_bytes = p->slab_bytes;
    if ((p->slab_bytes && (st = hm__cuda_mem_get(ctx, dev, p->slab_bytes, &p->slab))) ||
        (p->tbuf_bytes && (st = hm__cuda_mem_get(ctx, dev, p->tbuf_bytes, &p->tbuf))) ||
        (p->pack_bytes && (st = hm__cuda_mem_get(ctx, dev, p->pack_bytes, &p->pack))))
        goto fail;
    int64_t mine = g->c0[me];
    /* the planes' transforms: a chunk at a time, or for c2r all at once at the end */
    int64_t full = c2r || mine < p->chunk ? mine : p->chunk;
    if (mine > 0 && (st = sub_plan(ctx, p, false, full, &p->s1_full)) != HM_STATUS_SUCCESS)
        goto fail;
    if (!c2r && mine > p->chunk && mine % p->chunk &&
        (st = sub_plan(ctx, p, false, mine % p->chunk, &p->s1_last)) != HM_STATUS_SUCCESS)
        goto fail;
    if (g->c1[me] > 0 && (st = sub_plan(ctx, p, true, 0, &p->s2)) != HM_STATUS_SUCCESS)
        goto fail;
    hm_cuda_device *dv;
    if ((st = hm__cuda_device(ctx, d->device, &dv)) != HM_STATUS_SUCCESS || /* the current one */
        (st = hm__nccl_message_stream(ctx, d->device, &p->xs)) != HM_STATUS_SUCCESS)
        goto fail;
    for (; p->events < p->chunks + 1; p->events++)
        HM_CUDA_TRY(ctx, cudaEventCreateWithFlags(&p->ev[p->events], cudaEventDisableTiming),
                    "making the exchange's events on cuda:%d", d->device);
    if (c2r)
        hm__log(ctx, HM_LOG_INFO,
                "distributed FFT on cuda:%d: c2r, %lld planes here exchanged by NCCL in %d "
                "chunks of %lld, the first axis transformed, the rows exchanged back, then the "
                "planes transformed into real ones",
                d->device, (long long)mine, p->chunks, (long long)p->chunk);
    else
        hm__log(ctx, HM_LOG_INFO,
                "distributed FFT on cuda:%d: %s%lld planes here in %d chunks of %lld, each "
                "exchanged by NCCL while the next transforms",
                d->device, d->type == HM_FFT_R2C ? "r2c, " : "", (long long)mine, p->chunks,
                (long long)p->chunk);
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    dist_destroy(p);
    return st;
}

/* Rank q's planes of chunk c: [*a, *b) of its slab. */
static void chunk_of(const dist_plan *p, int q, int c, int64_t *a, int64_t *b)
{
    int64_t n = p->g.c0[q];
    *a = (int64_t)c * p->chunk < n ? (int64_t)c * p->chunk : n;
    *b = *a + p->chunk < n ? *a + p->chunk : n;
}

/* Queues on s the exchange of chunk c: this rank's planes of it in `slab` to every peer (the
 * peer's rows), the peers' planes of it into t (plane-major, this rank's rows), and this rank's
 * own rows copied across. */
static hm_status exchange_chunk(hm_context *ctx, dist_plan *p, int c, const char *slab, char *t,
                                cudaStream_t s)
{
    const geometry *g = &p->g;
    int me = g->rank;
    size_t row = (size_t)g->rest * g->es, s_plane = (size_t)g->n1 * row,
           t_plane = (size_t)g->c1[me] * row;
    int64_t a, b;
    chunk_of(p, me, c, &a, &b);
    hm_status st = HM_STATUS_SUCCESS;
    size_t off = 0;
    for (int q = 0; q < g->size && b > a; q++) {
        if (q == me || g->c1[q] == 0)
            continue;
        size_t w = (size_t)g->c1[q] * row;
        HM_CUDA_TRY(
            ctx,
            hm__cuda_copy_rows_on_device((char *)p->pack + off, w,
                                         slab + (size_t)a * s_plane + (size_t)g->lo1[q] * row,
                                         s_plane, w, (size_t)(b - a), g->es, s),
            "packing rows for rank %d on cuda:%d", q, p->d.device);
        off += w * (size_t)(b - a);
    }
    if (b > a && t_plane > 0)
        HM_CUDA_TRY(
            ctx,
            hm__cuda_copy_rows_on_device(t + (size_t)(g->lo0[me] + a) * t_plane, t_plane,
                                         slab + (size_t)a * s_plane + (size_t)g->lo1[me] * row,
                                         s_plane, t_plane, (size_t)(b - a), g->es, s),
            "moving this rank's own rows on cuda:%d", p->d.device);
    ncclComm_t comm = p->group->comm;
    HM_NCCL_TRY(ctx, HM_NCCL(ncclGroupStart)(), "starting an exchange");
    off = 0;
    ncclResult_t r = ncclSuccess;
    for (int q = 0; q < g->size && r == ncclSuccess; q++) {
        if (q == me)
            continue;
        size_t w = (size_t)g->c1[q] * row;
        if (b > a && w > 0) {
            r = HM_NCCL(ncclSend)((char *)p->pack + off, w * (size_t)(b - a), ncclChar, q, comm, s);
            off += w * (size_t)(b - a);
        }
        int64_t qa, qb;
        chunk_of(p, q, c, &qa, &qb);
        if (qb <= qa || t_plane == 0 || r != ncclSuccess)
            continue;
        r = HM_NCCL(ncclRecv)(t + (size_t)(g->lo0[q] + qa) * t_plane, t_plane * (size_t)(qb - qa),
                              ncclChar, q, comm, s);
    }
    ncclResult_t end = HM_NCCL(ncclGroupEnd)();
    HM_NCCL_TRY(ctx, r != ncclSuccess ? r : end, "exchanging a chunk of planes");
fail:
    return st;
}

/* Queues on s the exchange back into slabs of n0 (without transposed_out): every peer's planes
 * of t (this rank's rows) to it in one message, this rank's planes' rows of every peer received
 * into `stage` (the slab, free by then) and unpacked into out. */
static hm_status exchange_back(hm_context *ctx, dist_plan *p, const char *t, char *out, char *stage,
                               cudaStream_t s)
{
    const geometry *g = &p->g;
    int me = g->rank;
    size_t row = (size_t)g->rest * g->es, s_plane = (size_t)g->n1 * row,
           t_plane = (size_t)g->c1[me] * row;
    int64_t mine = g->c0[me];
    hm_status st = HM_STATUS_SUCCESS;
    if (mine > 0 && t_plane > 0)
        HM_CUDA_TRY(ctx,
                    hm__cuda_copy_rows_on_device(out + (size_t)g->lo1[me] * row, s_plane,
                                                 t + (size_t)g->lo0[me] * t_plane, t_plane, t_plane,
                                                 (size_t)mine, g->es, s),
                    "moving this rank's own rows back on cuda:%d", p->d.device);
    ncclComm_t comm = p->group->comm;
    HM_NCCL_TRY(ctx, HM_NCCL(ncclGroupStart)(), "starting an exchange");
    ncclResult_t r = ncclSuccess;
    size_t off = 0;
    for (int q = 0; q < g->size && r == ncclSuccess; q++) {
        if (q == me)
            continue;
        const char *from = t + (size_t)g->lo0[q] * t_plane;
        if (t_plane > 0 && g->c0[q] > 0)
            r = HM_NCCL(ncclSend)(from, t_plane * (size_t)g->c0[q], ncclChar, q, comm, s);
        size_t w = (size_t)g->c1[q] * row;
        if (w == 0 || mine == 0 || r != ncclSuccess)
            continue;
        r = HM_NCCL(ncclRecv)(stage + off, w * (size_t)mine, ncclChar, q, comm, s);
        off += w * (size_t)mine;
    }
    ncclResult_t end = HM_NCCL(ncclGroupEnd)();
    HM_NCCL_TRY(ctx, r != ncclSuccess ? r : end, "exchanging the rows back");
    off = 0;
    for (int q = 0; q < g->size && mine > 0; q++) {
        size_t w = (size_t)g->c1[q] * row;
        if (q == me || w == 0)
            continue;
        HM_CUDA_TRY(ctx,
                    hm__cuda_copy_rows_on_device(out + (size_t)g->lo1[q] * row, s_plane,
                                                 stage + off, w, w, (size_t)mine, g->es, s),
                    "unpacking rank %d's rows on cuda:%d", q, p->d.device);
        off += w * (size_t)mine;
    }
fail:
    return st;
}

/* c2c and r2c: the planes transformed a chunk at a time on cs, each chunk exchanged on xs as it
 * is done, then the first axis, then (without transposed_out) the rows exchanged back. */
static hm_status forward_order(hm_context *ctx, dist_plan *p, const char *in, char *buf,
                               cudaStream_t cs, cudaStream_t xs)
{
    const geometry *g = &p->g;
    char *slab = p->slab, *t = p->d.transposed_out ? buf : p->tbuf;
    /* the input read apart from where the exchange writes (else all planes first) */
    bool apart = (const void *)in != (const void *)buf || !p->d.transposed_out;
    size_t s_plane = (size_t)(g->n1 * g->rest) * g->es,
           in_plane = p->d.type == HM_FFT_R2C ? (size_t)g->real_plane * (g->es / 2) : s_plane;
    cudaEvent_t ready = p->ev[p->chunks];
    hm_status st = hm__nccl_follow(ctx, ready, cs, xs);
    for (int c = 0; c < p->chunks && st == HM_STATUS_SUCCESS; c++) {
        int64_t lo, hi;
        chunk_of(p, g->rank, c, &lo, &hi);
        if (hi > lo) {
            const hm_fft_args fa = {in + (size_t)lo * in_plane, slab + (size_t)lo * s_plane};
            void *sub = hi - lo == p->chunk || !p->s1_last ? p->s1_full : p->s1_last;
            if ((st = hm__cuda_fft.execute(ctx, sub, &fa)) != HM_STATUS_SUCCESS)
                return st;
        }
        if (apart && (st = hm__nccl_follow(ctx, p->ev[c], cs, xs)) == HM_STATUS_SUCCESS)
            st = exchange_chunk(ctx, p, c, slab, t, xs);
    }
    if (!apart && st == HM_STATUS_SUCCESS) {
        st = hm__nccl_follow(ctx, p->ev[p->chunks - 1], cs, xs);
        for (int c = 0; c < p->chunks && st == HM_STATUS_SUCCESS; c++)
            st = exchange_chunk(ctx, p, c, slab, t, xs);
    }
    if (st == HM_STATUS_SUCCESS)
        st = hm__nccl_follow(ctx, ready, xs, cs);
    if (st == HM_STATUS_SUCCESS && p->s2) {
        const hm_fft_args fa = {t, t};
        st = hm__cuda_fft.execute(ctx, p->s2, &fa);
    }
    if (st == HM_STATUS_SUCCESS && !p->d.transposed_out &&
        (st = hm__nccl_follow(ctx, p->ev[0], cs, xs)) == HM_STATUS_SUCCESS)
        st = exchange_back(ctx, p, t, buf, slab, xs);
    return st;
}

/* c2r: the complex planes exchanged as they are on xs, the first axis on cs, the rows exchanged
 * back into the slab (staged in the pack buffer), then the planes into real ones in buf. */
static hm_status inverse_order(hm_context *ctx, dist_plan *p, const char *in, char *buf,
                               cudaStream_t cs, cudaStream_t xs)
{
    cudaEvent_t ready = p->ev[p->chunks];
    hm_status st = hm__nccl_follow(ctx, ready, cs, xs);
    for (int c = 0; c < p->chunks && st == HM_STATUS_SUCCESS; c++)
        st = exchange_chunk(ctx, p, c, in, p->tbuf, xs);
    if (st == HM_STATUS_SUCCESS)
        st = hm__nccl_follow(ctx, ready, xs, cs);
    if (st == HM_STATUS_SUCCESS && p->s2) {
        const hm_fft_args fa = {p->tbuf, p->tbuf};
        st = hm__cuda_fft.execute(ctx, p->s2, &fa);
    }
    if (st == HM_STATUS_SUCCESS &&
        (st = hm__nccl_follow(ctx, p->ev[0], cs, xs)) == HM_STATUS_SUCCESS)
        st = exchange_back(ctx, p, p->tbuf, p->slab, p->pack, xs);
    if (st == HM_STATUS_SUCCESS)
        st = hm__nccl_follow(ctx, ready, xs, cs);
    if (st == HM_STATUS_SUCCESS && p->s1_full) {
        const hm_fft_args fa = {p->slab, buf};
        st = hm__cuda_fft.execute(ctx, p->s1_full, &fa);
    }
    return st;
}

static hm_status dist_execute(hm_context *ctx, void *plan, const void *args)
{
    dist_plan *p = plan;
    const hm_dist_fft_args *a = args;
    hm_cuda_device *dev;
    hm_status st = hm__cuda_device_streams(ctx, p->d.device, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    cudaStream_t cs = hm__cuda_stream(dev), xs = p->xs;
    st = p->d.type == HM_FFT_C2R ? inverse_order(ctx, p, a->in, a->buf, cs, xs)
                                 : forward_order(ctx, p, a->in, a->buf, cs, xs);
    if (st != HM_STATUS_SUCCESS)
        return st;
    return hm__nccl_finish(ctx, p->group, xs, cs, "the distributed FFT");
}

const hm_op_backend hm__cuda_dist_fft = {
    .error = HM_STATUS_NCCL_ERROR,
    .plan = dist_plan_make,
    .execute = dist_execute,
    .destroy = dist_destroy,
    .layout = dist_layout,
};
