/* The exchange between two distributions of one global tensor (packed, one all-to-all, unpacked),
 * ledgered per peer, and hm_dist_reshape, the operation that is only that exchange. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "dist/dist_op.h"

static int64_t box_volume(int ndim, const hm_box *b)
{
    int64_t v = 1;
    for (int d = 0; d < ndim; d++)
        v *= b->n[d];
    return v;
}

/* The compact row-major view of `region` at `at` (a packed part of the exchange). */
static hm_tensor packed_view(const hm_tensor *like, const hm_box *region, void *at)
{
    hm_tensor v = *like;
    v.data = at; /* in like's memory space */
    for (int d = 0; d < like->ndim; d++)
        v.shape[d] = region->n[d];
    hm__row_major_strides(v.ndim, v.shape, v.strides);
    return v;
}

/* Element counts and displacements of each peer's part, as MPI takes them (int). */
typedef struct plan_counts {
    int *send, *sdispl, *recv, *rdispl;
    size_t send_total, recv_total; /* elements */
} plan_counts;

static hm_status count_parts(hm_context *ctx, hm_comm *comm, const char *fn,
                             const hm_dist_layout *src, const hm_dist_layout *dst, plan_counts *c)
{
    int me = comm->rank, nd = src->ndim;
    int64_t sent = 0, received = 0;
    for (int q = 0; q < comm->size; q++) {
        hm_box part;
        int64_t s = q != me && hm__box_intersect(nd, &src->box[me], &dst->box[q], &part)
                        ? box_volume(nd, &part)
                        : 0;
        int64_t r = q != me && hm__box_intersect(nd, &src->box[q], &dst->box[me], &part)
                        ? box_volume(nd, &part)
                        : 0;
        if (s > INT_MAX || r > INT_MAX || sent + s > INT_MAX || received + r > INT_MAX)
            return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                            "%s: this rank would exchange more than 2^31 - 1 elements (MPI's int "
                            "counts); use more ranks",
                            fn);
        c->send[q] = (int)s;
        c->recv[q] = (int)r;
        c->sdispl[q] = (int)sent;
        c->rdispl[q] = (int)received;
        sent += s;
        received += r;
    }
    c->send_total = (size_t)sent;
    c->recv_total = (size_t)received;
    return HM_STATUS_SUCCESS;
}

/* Packs (unpack false) the parts of `local` (whose box is `box`) that go to each peer into buf,
 * or unpacks (true) what came from each peer out of it. */
static hm_status pack(hm_context *ctx, hm_comm *comm, const hm_dist_layout *peers,
                      const hm_box *box, const hm_tensor *local, char *buf, const int *counts,
                      const int *displs, bool unpack)
{
    size_t es = hm_dtype_size(local->dtype);
    hm_status st = HM_STATUS_SUCCESS;
    for (int q = 0; q < comm->size && st == HM_STATUS_SUCCESS; q++) {
        hm_box part;
        if (counts[q] == 0 || !hm__box_intersect(local->ndim, box, &peers->box[q], &part))
            continue;
        hm_tensor mine = hm__box_view(local, box, &part);
        hm_tensor packed = packed_view(local, &part, buf + (size_t)displs[q] * es);
        st = unpack ? hm__backend_copy_strided(ctx, mine.device, mine.data, mine.strides,
                                               packed.data, packed.strides, &mine)
                    : hm__backend_copy_strided(ctx, mine.device, packed.data, packed.strides,
                                               mine.data, mine.strides, &mine);
    }
    return st;
}

/* One remote record per peer and direction, with the all-to-all's wall time (device: the data's
 * device, -1 for host data). */
static void ledger(hm_context *ctx, hm_comm *comm, const char *fn, const char *operand,
                   const plan_counts *c, size_t es, double seconds, int device)
{
    for (int q = 0; q < comm->size; q++)
        for (int dir = 0; dir < 2; dir++) {
            int n = dir == 0 ? c->send[q] : c->recv[q];
            if (n == 0)
                continue;
            hm__comm_ledger(ctx, comm, fn, operand, q, dir == 0, (size_t)n * es, seconds, 1,
                            device);
        }
}

/* The all-to-all of device memory: the parts by the communicator's device group, in bytes. */
static hm_status device_alltoallv(hm_context *ctx, hm_comm *comm, const plan_counts *c, size_t es,
                                  const void *send, void *recv)
{
    size_t *v = malloc(sizeof(size_t) * 4 * (size_t)comm->size);
    if (!v)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for the exchange's counts");
    size_t *sb = v, *sa = v + comm->size, *rb = v + 2 * comm->size, *ra = v + 3 * comm->size;
    for (int q = 0; q < comm->size; q++) {
        sb[q] = (size_t)c->send[q] * es;
        sa[q] = (size_t)c->sdispl[q] * es;
        rb[q] = (size_t)c->recv[q] * es;
        ra[q] = (size_t)c->rdispl[q] * es;
    }
    hm_status st = comm->group_ops->alltoallv(ctx, comm->group, send, sb, sa, recv, rb, ra);
    free(v);
    return st;
}

hm_status hm__dist_exchange(hm_context *ctx, hm_comm *comm, const char *fn, const char *operand,
                            const hm_dist_layout *src, const hm_tensor *from,
                            const hm_dist_layout *dst, const hm_tensor *to)
{
    int me = comm->rank, p = comm->size;
    size_t es = hm_dtype_size(from->dtype);
    /* Device data stays on its device: packed there, exchanged by the device group. */
    bool device = !hm__device_is_host(from->device);
    hm_device space = device ? from->device : hm_device_host();
    plan_counts c = {0};
    int *ints = calloc((size_t)p * 4, sizeof(int));
    char *sendbuf = NULL, *recvbuf = NULL;
    MPI_Datatype elem = MPI_DATATYPE_NULL;
    hm_status st = HM_STATUS_SUCCESS;
    if (!ints) {
        st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for the exchange", fn);
        goto done;
    }
    c.send = ints;
    c.sdispl = ints + p;
    c.recv = ints + 2 * p;
    c.rdispl = ints + 3 * p;
    if ((st = count_parts(ctx, comm, fn, src, dst, &c)) != HM_STATUS_SUCCESS)
        goto done;
    if ((st = hm__alloc(ctx, space, c.send_total * es + 1, (void **)&sendbuf)) !=
            HM_STATUS_SUCCESS ||
        (st = hm__alloc(ctx, space, c.recv_total * es + 1, (void **)&recvbuf)) != HM_STATUS_SUCCESS)
        goto done;
    /* This rank's own part moves directly (unless it is there already: the same view). */
    hm_box own;
    if (hm__box_intersect(from->ndim, &src->box[me], &dst->box[me], &own)) {
        hm_tensor a = hm__box_view(from, &src->box[me], &own);
        hm_tensor b = hm__box_view(to, &dst->box[me], &own);
        if (!hm__same_view(&a, &b) &&
            (st = hm__backend_copy_strided(ctx, b.device, b.data, b.strides, a.data, a.strides,
                                           &a)) != HM_STATUS_SUCCESS)
            goto done;
    }
    st = pack(ctx, comm, dst, &src->box[me], from, sendbuf, c.send, c.sdispl, false);
done:
    /* Every rank ready to exchange, or none exchanges. */
    if ((st = hm__comm_agree(ctx, comm, fn, st)) != HM_STATUS_SUCCESS)
        goto out;
    double t0 = hm__now();
    if (device) {
        if ((st = device_alltoallv(ctx, comm, &c, es, sendbuf, recvbuf)) != HM_STATUS_SUCCESS)
            goto out;
        ledger(ctx, comm, fn, operand, &c, es, hm__now() - t0, space.id);
        st = pack(ctx, comm, src, &dst->box[me], to, recvbuf, c.recv, c.rdispl, true);
        goto out;
    }
    int rc = MPI_Type_contiguous((int)es, MPI_BYTE, &elem);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(&elem);
    if (rc == MPI_SUCCESS)
        rc = MPI_Alltoallv(sendbuf, c.send, c.sdispl, elem, recvbuf, c.recv, c.rdispl, elem,
                           comm->mpi);
    if (rc != MPI_SUCCESS) {
        st = hm__mpi_fail(ctx, rc, "%s: exchanging operand %s", fn, operand);
        goto out;
    }
    ledger(ctx, comm, fn, operand, &c, es, hm__now() - t0, -1);
    st = pack(ctx, comm, src, &dst->box[me], to, recvbuf, c.recv, c.rdispl, true);
out:
    if (elem != MPI_DATATYPE_NULL)
        MPI_Type_free(&elem);
    hm__free(ctx, space, sendbuf, c.send_total * es + 1);
    hm__free(ctx, space, recvbuf, c.recv_total * es + 1);
    free(ints);
    return st;
}

/* ---- hm_dist_reshape ---------------------------------------------------------------------- */

enum { RS_IN = 0, RS_OUT = 1, RS_OPERANDS = 2 };

static const hm_operand_role rs_roles[RS_OPERANDS] = {
    [RS_IN] = {"in", HM_ROLE_IN},
    [RS_OUT] = {"out", HM_ROLE_OUT},
};

struct rs_plan {
    hm_dist_op base; /* first: a plan of the lifecycle */
};

static hm_status rs_specify(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    (void)in;
    if (p->t[RS_IN].dtype != p->t[RS_OUT].dtype)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH, "%s: operand out is %s but in is %s", p->api,
                        hm_dtype_name(p->t[RS_OUT].dtype), hm_dtype_name(p->t[RS_IN].dtype));
    return hm__dist_op_space(ctx, p, true);
}

static hm_status rs_specify_all(hm_context *ctx, hm_op_plan *p)
{
    hm_dist_op *d = (hm_dist_op *)p;
    hm_status st = hm__dist_op_same_space(ctx, d, HM_STATUS_SUCCESS);
    st = hm__dist_op_gather(ctx, d, RS_IN, st);
    st = hm__dist_op_gather(ctx, d, RS_OUT, st);
    if (st != HM_STATUS_SUCCESS)
        return st;
    const hm_dist_layout *a = &d->layout[RS_IN], *b = &d->layout[RS_OUT];
    if (a->ndim != b->ndim || memcmp(a->global, b->global, sizeof(int64_t) * (size_t)a->ndim))
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: operand out's global shape differs from in's", p->api);
    p->empty = hm__dist_volume(a) == 0;
    return hm__dist_op_guard(ctx, d, "in", a, b);
}

static void rs_describe(hm_context *ctx, const hm_op_plan *p)
{
    hm__dist_op_describe(ctx, (const hm_dist_op *)p, "reshape", RS_IN, RS_OUT);
}

static hm_status rs_plan(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                         void *const data[], void **be_plan)
{
    (void)cols, (void)ctx, (void)p, (void)device, (void)rows, (void)data;
    *be_plan = NULL; /* the exchange needs no plan */
    return HM_STATUS_SUCCESS;
}

static hm_status rs_execute(hm_context *ctx, const hm_op_plan *p, void *be_plan, void *const data[])
{
    (void)be_plan;
    const hm_dist_op *d = (const hm_dist_op *)p;
    hm_tensor from = p->t[RS_IN], to = p->t[RS_OUT];
    from.data = data[RS_IN];
    to.data = data[RS_OUT];
    return hm__dist_exchange(ctx, d->comm, p->fn, "in", &d->layout[RS_IN], &from,
                             &d->layout[RS_OUT], &to);
}

static const hm_op_def rs_def = {
    .id = HM_OP_MATMUL, /* unused: the exchange calls no backend operation */
    .names = {"hm_dist_reshape", "hm_dist_reshape"},
    .plan_create = "hm_dist_reshape",
    .work = "exchange",
    .row_unit = "rows",
    .count = RS_OPERANDS,
    .out = RS_OUT,
    .roles = rs_roles,
    .plan_size = sizeof(struct rs_plan),
    .options = hm__dist_op_options,
    .specify = rs_specify,
    .describe = rs_describe,
    .plan = rs_plan,
    .execute = rs_execute,
    .release = hm__dist_op_release,
    .agree = hm__dist_op_agree,
    .specify_all = rs_specify_all,
};

hm_status hm_dist_reshape(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *in,
                          const hm_dist_tensor *out)
{
    HM_ENTER(ctx, "hm_dist_reshape");
    const hm_dist_tensor *dist[RS_OPERANDS] = {in, out};
    return hm__dist_op_call(ctx, &rs_def, comm, dist, NULL);
}
