/* Boxes of a global shape: the grid decompositions, intersections, views of a box's part, and
 * the collective check that the ranks' boxes of a distributed tensor tile its global shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

hm_status hm_dist_box(int ndim, const int64_t *global, int naxes, const int *axes, const int *grid,
                      int rank, int64_t *offset, int64_t *extent)
{
    if (!global || !axes || !grid || !offset || !extent || rank < 0)
        return HM_STATUS_INVALID_ARGUMENT;
    if (ndim < 1 || ndim > HM_MAX_NDIM)
        return HM_STATUS_INVALID_SHAPE;
    if (naxes < 1 || naxes > 3 || naxes > ndim)
        return HM_STATUS_INVALID_ARGUMENT;
    int64_t ranks = 1;
    for (int k = 0; k < naxes; k++) {
        if (axes[k] < 0 || axes[k] >= ndim || grid[k] < 1)
            return HM_STATUS_INVALID_ARGUMENT;
        for (int j = 0; j < k; j++)
            if (axes[j] == axes[k])
                return HM_STATUS_INVALID_ARGUMENT;
        ranks *= grid[k];
    }
    for (int d = 0; d < ndim; d++) {
        if (global[d] < 0)
            return HM_STATUS_INVALID_SHAPE;
        offset[d] = 0;
        extent[d] = global[d];
    }
    if (rank >= ranks) { /* outside the grid: an empty box */
        extent[axes[0]] = 0;
        return HM_STATUS_SUCCESS;
    }
    int64_t r = rank;
    for (int k = naxes - 1; k >= 0; k--) {
        int64_t c = r % grid[k], p = grid[k], n = global[axes[k]];
        r /= grid[k];
        offset[axes[k]] = c * (n / p) + (c < n % p ? c : n % p);
        extent[axes[k]] = n / p + (c < n % p);
    }
    return HM_STATUS_SUCCESS;
}

bool hm__box_intersect(int ndim, const hm_box *a, const hm_box *b, hm_box *out)
{
    bool any = true;
    for (int d = 0; d < ndim; d++) {
        int64_t lo = a->lo[d] > b->lo[d] ? a->lo[d] : b->lo[d];
        int64_t ea = a->lo[d] + a->n[d], eb = b->lo[d] + b->n[d];
        int64_t hi = ea < eb ? ea : eb;
        out->lo[d] = lo;
        out->n[d] = hi > lo ? hi - lo : 0;
        any &= hi > lo;
    }
    return any;
}

hm_tensor hm__box_view(const hm_tensor *local, const hm_box *box, const hm_box *region)
{
    hm_tensor v = *local;
    int64_t off = 0;
    for (int d = 0; d < local->ndim; d++) {
        off += (region->lo[d] - box->lo[d]) * local->strides[d];
        v.shape[d] = region->n[d];
    }
    v.data = (char *)local->data + off * (int64_t)hm_dtype_size(local->dtype);
    return v;
}

/* What a rank says of its part of a distributed operand. */
typedef struct said {
    int status, ndim, dtype;
    int64_t global[HM_MAX_NDIM];
    hm_box box;
} said;

/* This rank's part, checked alone: an extent and offset inside the global shape. */
static hm_status check_part(hm_context *ctx, const char *fn, const char *name,
                            const hm_dist_tensor *t, said *me)
{
    const hm_tensor *l = &t->local;
    me->ndim = l->ndim;
    me->dtype = (int)l->dtype;
    if (l->ndim < 1 || l->ndim > HM_MAX_NDIM)
        return hm__fail(ctx, HM_STATUS_INVALID_SHAPE,
                        "%s: operand %s has %d dimensions (1 to %d for a distributed tensor)", fn,
                        name, l->ndim, HM_MAX_NDIM);
    for (int d = 0; d < l->ndim; d++) {
        me->global[d] = t->global_shape[d];
        me->box.lo[d] = t->offset[d];
        me->box.n[d] = l->shape[d];
        if (t->global_shape[d] < 0 || t->offset[d] < 0 ||
            t->offset[d] > t->global_shape[d] - l->shape[d])
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                            "%s: operand %s: the box along axis %d (offset %lld, extent %lld) is "
                            "not inside the global extent %lld",
                            fn, name, d, (long long)t->offset[d], (long long)l->shape[d],
                            (long long)t->global_shape[d]);
    }
    return HM_STATUS_SUCCESS;
}

static int64_t volume(int ndim, const int64_t *n)
{
    int64_t v = 1;
    for (int d = 0; d < ndim; d++)
        v = n[d] == 0 ? 0 : (v > INT64_MAX / n[d] ? INT64_MAX : v * n[d]);
    return v;
}

/* The gathered parts against each other: one global shape and dtype, boxes that tile it. Every
 * rank sees the same parts, so every rank reaches the same verdict. */
static hm_status check_tiling(hm_context *ctx, const char *fn, const char *name, int size,
                              const said *all)
{
    const said *s0 = &all[0];
    for (int r = 1; r < size; r++) {
        const said *s = &all[r];
        bool same = s->ndim == s0->ndim && s->dtype == s0->dtype &&
                    memcmp(s->global, s0->global, sizeof(int64_t) * (size_t)s0->ndim) == 0;
        if (!same)
            return hm__fail(ctx, HM_STATUS_INVALID_DISTRIBUTION,
                            "%s: operand %s: rank %d has another global shape, ndim or dtype "
                            "than rank 0 (%d-D %s against %d-D %s)",
                            fn, name, r, s->ndim, hm_dtype_name((hm_dtype)s->dtype), s0->ndim,
                            hm_dtype_name((hm_dtype)s0->dtype));
    }
    int nd = s0->ndim;
    int64_t total = volume(nd, s0->global), covered = 0;
    for (int r = 0; r < size; r++) {
        covered += volume(nd, all[r].box.n);
        for (int q = 0; q < r; q++) {
            hm_box common;
            if (hm__box_intersect(nd, &all[r].box, &all[q].box, &common))
                return hm__fail(ctx, HM_STATUS_INVALID_DISTRIBUTION,
                                "%s: operand %s: the boxes of ranks %d and %d overlap", fn, name, q,
                                r);
        }
    }
    if (covered != total)
        return hm__fail(ctx, HM_STATUS_INVALID_DISTRIBUTION,
                        "%s: operand %s: the boxes cover %lld of the %lld elements (holes)", fn,
                        name, (long long)covered, (long long)total);
    return HM_STATUS_SUCCESS;
}

hm_status hm__dist_layout_gather(hm_context *ctx, hm_comm *comm, const char *fn, const char *name,
                                 const hm_dist_tensor *t, hm_status local, hm_dist_layout *out)
{
    memset(out, 0, sizeof *out);
    said me;
    memset(&me, 0, sizeof me);
    /* Everything that can fail on one rank alone comes before the agreement: after it, every
     * rank takes the same steps and reaches the same verdict. */
    said *all = malloc((size_t)comm->size * sizeof *all);
    out->box = malloc((size_t)comm->size * sizeof *out->box);
    if (local == HM_STATUS_SUCCESS && (!all || !out->box))
        local = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for %d boxes", fn,
                         comm->size);
    if (local == HM_STATUS_SUCCESS)
        local = check_part(ctx, fn, name, t, &me);
    hm_status st = hm__comm_agree(ctx, comm, fn, local);
    if (st == HM_STATUS_SUCCESS)
        st = hm__comm_allgather(ctx, comm, &me, sizeof me, all);
    if (st == HM_STATUS_SUCCESS)
        st = check_tiling(ctx, fn, name, comm->size, all);
    if (st != HM_STATUS_SUCCESS)
        hm__dist_layout_free(out);
    if (st == HM_STATUS_SUCCESS) {
        out->ndim = all[0].ndim;
        out->dtype = (hm_dtype)all[0].dtype;
        memcpy(out->global, all[0].global, sizeof out->global);
        for (int r = 0; r < comm->size; r++)
            out->box[r] = all[r].box;
    }
    free(all);
    return st;
}

void hm__dist_layout_free(hm_dist_layout *l)
{
    free(l->box);
    l->box = NULL;
}
