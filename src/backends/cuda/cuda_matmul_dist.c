/* The distributed matmul of GPU ranks (HM_OP_DIST_MATMUL): SUMMA on the block distribution both
 * backends take (hm__grid_blocks: one block a rank over a grid_rows × grid_cols grid, row-major).
 * K is cut into panels, each within one grid column's block of A's columns and one grid row's
 * block of B's rows, at most panel_width(K) wide. For each panel, in each grid row the rank owning
 * its columns of A packs them and NCCL sends them to the others of the row; in each grid column
 * the rank owning its rows of B sends them (contiguous already) to the others of the column; then
 * every rank adds the panel's product to its block of D with cuBLASLt (beta on the first panel, 1
 * after). Two buffers of each: the next panel's messages go on a stream of the device's highest
 * priority while this panel multiplies, so the broadcasts hide behind the products when the
 * link is fast enough. Ranks holding no rows or no columns of D still send what they own.
 *
 * Row-major blocks are column-major transposes: the panel's D(mb×nb) += A(mb×w)·B(w×nb) is the
 * column-major Dᵀ(nb×mb) += Bᵀ(nb×w)·Aᵀ(w×mb), with B's panel (ld nb) first. Built with MPI and
 * NCCL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/cuda_libs.h"
#include "core/dist_matmul_backend.h"
#include "core/matmul_backend.h"

/* The widest panel of K: a quarter of K within [1024, 8192] (a build may fix one, to measure).
 * Every panel after the first adds to D, reading and writing it whole: at 2048 that traffic and
 * the shorter products cost 6% of a 16384^3 or 32768^3 f32 product on one H200 (2026-12-01),
 * while four panels still leave three of four broadcasts to hide behind a product, and the four
 * buffers stay within a quarter of A's and B's blocks. */
static int64_t panel_width(int64_t k)
{
#ifdef HM_SUMMA_PANEL
    (void)k;
    return HM_SUMMA_PANEL;
#else
    int64_t w = (k + 3) / 4;
    return w < 1024 ? 1024 : w > 8192 ? 8192 : w;
#endif
}

typedef struct panel {
    int64_t k0, w;  /* its columns of A (rows of B): [k0, k0 + w) */
    int acol, brow; /* the grid column owning them in A, the grid row owning them in B */
    int plan;       /* its product's plan (by width) */
} panel;

typedef struct summa_plan {
    hm_context *ctx; /* whose memory the buffers are */
    hm_dist_matmul_desc d;
    hm_dist_matmul_layout l; /* this rank's blocks */
    hm_nccl_group *group;
    int prow, pcol;
    int64_t kbc, kbr; /* the blocks of K: A's columns a grid column, B's rows a grid row */
    size_t es;
    panel *panels;
    int npanels;
    void **mm; /* the products' plans, one a distinct panel width (NULL: no block of D here) */
    int nmm;
    void *abuf[2], *bbuf[2];
    size_t abytes, bbytes;
    cudaStream_t xs;             /* the messages' stream */
    cudaEvent_t got[2], used[2]; /* buffer s: its panel arrived; its product done */
    int events;
} summa_plan;

static void summa_destroy(void *plan)
{
    summa_plan *p = plan;
    if (!p)
        return;
    for (int i = 0; i < p->nmm; i++)
        hm__cuda_matmul.destroy(p->mm[i]);
    cudaSetDevice(p->d.device);
    for (int i = 0; i < p->events; i++)
        cudaEventDestroy(i < 2 ? p->got[i] : p->used[i - 2]);
    if (p->xs)
        cudaStreamDestroy(p->xs);
    hm_device dev = hm_device_cuda(p->d.device);
    for (int s = 0; s < 2; s++) {
        hm__cuda_mem_put(p->ctx, dev, p->abuf[s], p->abytes);
        hm__cuda_mem_put(p->ctx, dev, p->bbuf[s], p->bbytes);
    }
    free(p->mm);
    free(p->panels);
    free(p);
}

static hm_status summa_layout(hm_context *ctx, const void *desc, void *out)
{
    const hm_dist_matmul_desc *d = desc;
    int rank = 0;
    if (MPI_Comm_rank(d->comm, &rank) != MPI_SUCCESS)
        return hm__fail(ctx, HM_STATUS_MPI_ERROR, "the communicator's rank");
    hm__grid_blocks(d, rank, out);
    return HM_STATUS_SUCCESS;
}

/* The panels: K cut where either block of K ends, then into pieces of at most panel_width(K),
 * as even as they go. */
static hm_status cut_panels(hm_context *ctx, summa_plan *p)
{
    const int64_t k = p->d.k, widest = panel_width(k);
    int64_t most = k / widest + k / p->kbc + k / p->kbr + 3;
    if (!(p->panels = calloc((size_t)most, sizeof *p->panels)))
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for the panels");
    for (int64_t k0 = 0; k0 < k;) {
        int64_t end = (k0 / p->kbc + 1) * p->kbc, bend = (k0 / p->kbr + 1) * p->kbr;
        end = bend < end ? bend : end;
        end = end < k ? end : k;
        int64_t pieces = (end - k0 + widest - 1) / widest;
        for (int64_t i = 0; i < pieces && p->npanels < most; i++) {
            int64_t a = k0 + (end - k0) * i / pieces, b = k0 + (end - k0) * (i + 1) / pieces;
            p->panels[p->npanels++] = (panel){.k0 = a,
                                              .w = b - a,
                                              .acol = (int)(a / p->kbc),
                                              .brow = (int)(a / p->kbr),
                                              .plan = -1};
        }
        k0 = end;
    }
    return HM_STATUS_SUCCESS;
}

/* A product's plan for every distinct panel width (none when this rank has no block of D). */
static hm_status plan_products(hm_context *ctx, summa_plan *p)
{
    int64_t mb = p->l.n[2][0], nb = p->l.n[2][1];
    if (!(p->mm = calloc((size_t)p->npanels + 1, sizeof *p->mm)))
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for the products' plans");
    int64_t *widths = calloc((size_t)p->npanels + 1, sizeof *widths);
    if (!widths)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for the products' plans");
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < p->npanels && mb > 0 && nb > 0 && st == HM_STATUS_SUCCESS; i++) {
        panel *q = &p->panels[i];
        int j = 0;
        while (j < p->nmm && widths[j] != q->w)
            j++;
        q->plan = j;
        if (j < p->nmm)
            continue;
        hm_matmul_desc md = {.dtype = p->d.dtype,
                             .m = nb,
                             .n = mb,
                             .k = q->w,
                             .batch = 1,
                             .swapped = true,
                             .first = {.ld = p->l.ld[1]},
                             .second = {.ld = q->w},
                             .out = {.ld = p->l.ld[2]},
                             .exec = hm_execution_cuda(p->d.device)};
        widths[j] = q->w;
        if ((st = hm__cuda_matmul.plan(ctx, &md, NULL, &p->mm[j])) == HM_STATUS_SUCCESS)
            p->nmm++;
    }
    free(widths);
    return st;
}

static hm_status summa_plan_make(hm_context *ctx, const void *desc, const void *args, void **out)
{
    (void)args;
    const hm_dist_matmul_desc *d = desc;
    summa_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a distributed plan");
    p->ctx = ctx;
    p->d = *d;
    p->group = d->group;
    p->es = hm_dtype_size(d->dtype);
    hm_status st = summa_layout(ctx, d, &p->l);
    if (st != HM_STATUS_SUCCESS)
        goto fail;
    p->prow = p->group->rank / d->grid_cols;
    p->pcol = p->group->rank % d->grid_cols;
    p->kbc = hm__grid_block(d->k, d->grid_cols);
    p->kbr = hm__grid_block(d->k, d->grid_rows);
    if ((st = cut_panels(ctx, p)) != HM_STATUS_SUCCESS ||
        (st = plan_products(ctx, p)) != HM_STATUS_SUCCESS)
        goto fail;
    int64_t widest = 0;
    for (int i = 0; i < p->npanels; i++)
        widest = p->panels[i].w > widest ? p->panels[i].w : widest;
    p->abytes = (size_t)(p->l.n[2][0] * widest) * p->es;
    p->bbytes = (size_t)(widest * p->l.n[2][1]) * p->es;
    hm_device dev = hm_device_cuda(d->device);
    for (int s = 0; s < 2; s++)
        if ((p->abytes && (st = hm__cuda_mem_get(ctx, dev, p->abytes, &p->abuf[s]))) ||
            (p->bbytes && (st = hm__cuda_mem_get(ctx, dev, p->bbytes, &p->bbuf[s]))))
            goto fail;
    hm_cuda_device *dv;
    if ((st = hm__cuda_device(ctx, d->device, &dv)) != HM_STATUS_SUCCESS || /* the current one */
        (st = hm__nccl_message_stream(ctx, d->device, &p->xs)) != HM_STATUS_SUCCESS)
        goto fail;
    for (; p->events < 4; p->events++)
        HM_CUDA_TRY(
            ctx,
            cudaEventCreateWithFlags(p->events < 2 ? &p->got[p->events] : &p->used[p->events - 2],
                                     cudaEventDisableTiming),
            "making the panels' events on cuda:%d", d->device);
    hm__log(ctx, HM_LOG_INFO,
            "distributed matmul on cuda:%d: SUMMA over a %d x %d grid, K in %d panel%s of at most "
            "%lld, each sent by NCCL while the one before multiplies (%d product plan%s)",
            d->device, d->grid_rows, d->grid_cols, p->npanels, p->npanels == 1 ? "" : "s",
            (long long)widest, p->nmm, p->nmm == 1 ? "" : "s");
    *out = p;
    return HM_STATUS_SUCCESS;
fail:
    summa_destroy(p);
    return st;
}

/* Queues on xs panel i's messages into buffers s: this grid row's piece of A from the rank owning
 * it (packed there first), this grid column's piece of B likewise. *a and *b: where the product
 * reads them (the block itself for this rank's own B). */
static hm_status send_panel(hm_context *ctx, summa_plan *p, int i, int s, const char *A,
                            const char *B, const void **a, const void **b)
{
    const panel *q = &p->panels[i];
    const hm_dist_matmul_desc *d = &p->d;
    int64_t mb = p->l.n[2][0], nb = p->l.n[2][1];
    size_t abytes = (size_t)(mb * q->w) * p->es, bbytes = (size_t)(q->w * nb) * p->es;
    ncclComm_t comm = p->group->comm;
    hm_status st = HM_STATUS_SUCCESS;
    *a = p->abuf[s];
    *b = p->bbuf[s];
    if (p->pcol == q->acol && abytes) /* pack this rank's columns of A */
        HM_CUDA_TRY(ctx,
                    hm__cuda_copy_rows_on_device(p->abuf[s], (size_t)q->w * p->es,
                                                 A + (size_t)(q->k0 - q->acol * p->kbc) * p->es,
                                                 (size_t)p->l.ld[0] * p->es, (size_t)q->w * p->es,
                                                 (size_t)mb, p->es, p->xs),
                    "packing a panel of A on cuda:%d", d->device);
    if (p->prow == q->brow)
        *b = B + (size_t)(q->k0 - q->brow * p->kbr) * (size_t)p->l.ld[1] * p->es;
    HM_NCCL_TRY(ctx, HM_NCCL(ncclGroupStart)(), "starting a panel's messages");
    ncclResult_t r = ncclSuccess;
    for (int c = 0; c < d->grid_cols && abytes && r == ncclSuccess; c++) {
        int peer = p->prow * d->grid_cols + c;
        if (p->pcol == q->acol && c != p->pcol)
            r = HM_NCCL(ncclSend)(*a, abytes, ncclChar, peer, comm, p->xs);
        else if (p->pcol != q->acol && c == q->acol)
            r = HM_NCCL(ncclRecv)(p->abuf[s], abytes, ncclChar, peer, comm, p->xs);
    }
    for (int row = 0; row < d->grid_rows && bbytes && r == ncclSuccess; row++) {
        int peer = row * d->grid_cols + p->pcol;
        if (p->prow == q->brow && row != p->prow)
            r = HM_NCCL(ncclSend)(*b, bbytes, ncclChar, peer, comm, p->xs);
        else if (p->prow != q->brow && row == q->brow)
            r = HM_NCCL(ncclRecv)(p->bbuf[s], bbytes, ncclChar, peer, comm, p->xs);
    }
    ncclResult_t end = HM_NCCL(ncclGroupEnd)();
    HM_NCCL_TRY(ctx, r != ncclSuccess ? r : end, "sending a panel of A and B");
fail:
    return st;
}

/* D = beta·D when K is 0 (no panel). */
static hm_status scale_only(hm_context *ctx, summa_plan *p, void *D, double beta, cudaStream_t cs)
{
    hm_status st = HM_STATUS_SUCCESS;
    if (beta == 1.0 || p->l.n[2][0] == 0 || p->l.n[2][1] == 0)
        return st;
    if (beta == 0.0) {
        HM_CUDA_TRY(ctx, cudaMemsetAsync(D, 0, p->l.bytes[2], cs), "zeroing D on cuda:%d",
                    p->d.device);
        return st;
    }
    hm_tensor t;
    const int64_t shape[2] = {p->l.n[2][0], p->l.n[2][1]}, strides[2] = {p->l.ld[2], 1};
    if ((st = hm_tensor_init(&t, D, hm_device_cuda(p->d.device), p->d.dtype, 2, shape, strides)) ==
        HM_STATUS_SUCCESS)
        st = hm__cuda_scale(ctx, &t, beta);
fail:
    return st;
}

static hm_status summa_execute(hm_context *ctx, void *plan, const void *args)
{
    summa_plan *p = plan;
    const hm_dist_matmul_args *x = args;
    hm_cuda_device *dev;
    hm_status st = hm__cuda_device_streams(ctx, p->d.device, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    cudaStream_t cs = hm__cuda_stream(dev), xs = p->xs;
    if (p->npanels == 0 && (st = scale_only(ctx, p, x->d, x->beta, cs)) != HM_STATUS_SUCCESS)
        return st;
    /* the messages wait for what the device's stream had queued (the operands' exchanges) */
    if ((st = hm__nccl_follow(ctx, p->got[0], cs, xs)) != HM_STATUS_SUCCESS)
        return st;
    for (int i = 0; i < p->npanels; i++) {
        int s = i % 2;
        const void *a, *b;
        if (i >= 2) /* buffer s free: the product two panels back is done */
            HM_CUDA_TRY(ctx, cudaStreamWaitEvent(xs, p->used[s], 0),
                        "ordering the panels on cuda:%d", p->d.device);
        if ((st = send_panel(ctx, p, i, s, x->a, x->b, &a, &b)) != HM_STATUS_SUCCESS)
            return st;
        if ((st = hm__nccl_follow(ctx, p->got[s], xs, cs)) != HM_STATUS_SUCCESS)
            return st;
        if (p->panels[i].plan >= 0) {
            double beta = i == 0 ? x->beta : 1.0;
            const hm_mm_args mm = {
                .first = b, .second = a, .out = x->d, .alpha = {x->alpha, 0}, .beta = {beta, 0}};
            if ((st = hm__cuda_matmul.execute(ctx, p->mm[p->panels[i].plan], &mm)) !=
                HM_STATUS_SUCCESS)
                return st;
        }
        HM_CUDA_TRY(ctx, cudaEventRecord(p->used[s], cs), "ordering the panels on cuda:%d",
                    p->d.device);
    }
    return hm__nccl_finish(ctx, p->group, xs, cs, "the distributed matmul");
fail:
    return st;
}

const hm_op_backend hm__cuda_dist_matmul = {
    .error = HM_STATUS_NCCL_ERROR,
    .plan = summa_plan_make,
    .execute = summa_execute,
    .destroy = summa_destroy,
    .layout = summa_layout,
};
