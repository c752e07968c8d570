/* What every distributed operation shares (dist/dist_op.h). */
#include <stdio.h>
#include <string.h>

#include "dist/dist_op.h"

/* The operand table the lifecycle takes: each distributed operand's local part, by role. */
static void local_parts(const hm_op_def *def, const hm_dist_tensor *const dist[],
                        const hm_tensor *in[HM_OP_MAX_OPERANDS])
{
    for (int i = 0; i < HM_OP_MAX_OPERANDS; i++)
        in[i] = i < def->count && dist[i] ? &dist[i]->local : NULL;
}

hm_status hm__dist_op_call(hm_context *ctx, const hm_op_def *def, hm_comm *comm,
                           const hm_dist_tensor *const dist[], const void *opts)
{
    if (!comm) /* no other rank can be told: the one bad input the others wait on */
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the communicator is NULL",
                        def->names[0]);
    const hm_tensor *in[HM_OP_MAX_OPERANDS];
    local_parts(def, dist, in);
    const hm_dist_call call = {comm, dist, opts};
    hm_tensor unused; /* distributed outputs are never allocated */
    return hm__op_call(ctx, def, HM_OP_GENERIC, in, &unused, &call);
}

hm_status hm__dist_op_plan_create(hm_context *ctx, const hm_op_def *def, const char *fn,
                                  hm_comm *comm, const hm_dist_tensor *const dist[],
                                  const void *opts, hm_op_plan **out)
{
    if (!comm)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the communicator is NULL", fn);
    if (!out) /* the others are told, or they would wait at the planning's agreements */
        return hm__comm_agree(
            ctx, comm, fn,
            hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output pointer is NULL", fn));
    const hm_tensor *in[HM_OP_MAX_OPERANDS];
    local_parts(def, dist, in);
    const hm_dist_call call = {comm, dist, opts};
    return hm__op_plan_create(ctx, def, fn, HM_OP_GENERIC, in, &call, out);
}

/* This rank's operands against its plan: the same communicator, the same operands given, and
 * the same boxes (so the ranks' boxes still tile as they did at planning). */
static hm_status check_boxes(hm_context *ctx, const char *fn, const hm_op_def *def, hm_comm *comm,
                             const hm_op_plan *p, const hm_dist_tensor *const dist[])
{
    if (!p)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan is NULL", fn);
    const hm_dist_op *d = (const hm_dist_op *)p;
    if (p->ctx != ctx || p->def != def || d->comm != comm)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan belongs to %s", fn,
                        p->def != def   ? "another operation"
                        : p->ctx != ctx ? "another context"
                                        : "another communicator");
    for (int i = 0; i < def->count; i++) {
        if (!dist[i])
            continue; /* the lifecycle's check names an absent operand */
        size_t n = sizeof(int64_t) * (size_t)(dist[i]->local.ndim > 0 ? dist[i]->local.ndim : 0);
        if (dist[i]->local.ndim != d->dist[i].local.ndim ||
            memcmp(dist[i]->offset, d->dist[i].offset, n) != 0 ||
            memcmp(dist[i]->global_shape, d->dist[i].global_shape, n) != 0)
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                            "%s: operand %s's box or global shape differs from the planned one", fn,
                            def->roles[i].name);
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm__dist_op_execute(hm_context *ctx, const hm_op_def *def, const char *fn, hm_comm *comm,
                              hm_op_plan *p, const hm_dist_tensor *const dist[])
{
    if (!comm)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the communicator is NULL", fn);
    hm_status st = hm__comm_agree(ctx, comm, fn, check_boxes(ctx, fn, def, comm, p, dist));
    if (st != HM_STATUS_SUCCESS)
        return st;
    const hm_tensor *in[HM_OP_MAX_OPERANDS];
    local_parts(def, dist, in);
    hm_tensor unused;
    return hm__op_execute(ctx, def, fn, p, in, &unused);
}

hm_status hm__dist_op_options(hm_context *ctx, hm_op_plan *p, const void *opts)
{
    (void)ctx;
    const hm_dist_call *call = opts;
    hm_dist_op *d = (hm_dist_op *)p;
    d->comm = call->comm;
    for (int i = 0; i < p->def->count; i++)
        if (call->dist[i])
            d->dist[i] = *call->dist[i];
    p->blocking = 1;
    return HM_STATUS_SUCCESS;
}

hm_status hm__dist_op_space(hm_context *ctx, hm_op_plan *p, bool device_ok)
{
    const hm_op_def *def = p->def;
    hm_dist_op *d = (hm_dist_op *)p;
    if (p->alloc_out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: operand %s must be given (a distributed output is not allocated)",
                        p->api, def->roles[def->out].name);
    hm_device at = hm_device_host();
    int first = -1;
    for (int i = 0; i < def->count; i++) {
        if (!p->present[i])
            continue;
        hm_device here = p->t[i].device;
        bool same = hm__device_is_host(here) ? hm__device_is_host(at) : hm__device_equal(here, at);
        if (first >= 0 && !same)
            return hm__fail(ctx, HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES,
                            "%s: operand %s is in another memory space than operand %s; a rank's "
                            "operands of a distributed operation share one",
                            p->api, def->roles[i].name, def->roles[first].name);
        if (first < 0)
            first = i;
        at = here;
    }
    if (!hm__device_is_host(at) && !device_ok)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "%s: the operands are in device memory; this distributed operation takes "
                        "host memory for now",
                        p->api);
    d->device = hm__device_is_host(at) ? -1 : at.id;
    p->exec = d->device < 0 ? hm_execution_cpu(ctx->cpu_threads) : hm_execution_cuda(d->device);
    p->exec_space = at;
    p->backend = hm__backend_for_execution(d->device < 0 ? HM_EXEC_CPU : HM_EXEC_CUDA);
    return HM_STATUS_SUCCESS;
}

hm_status hm__dist_op_same_space(hm_context *ctx, hm_dist_op *d, hm_status st)
{
    int on_device = d->device >= 0;
    st = hm__dist_op_same(ctx, d,
                          "the memory of the operands (host on every rank, or a device on "
                          "every rank)",
                          &on_device, sizeof on_device, st);
    if (st == HM_STATUS_SUCCESS && on_device)
        st = hm__comm_group(ctx, d->comm, d->base.api, d->device);
    return st;
}

hm_status hm__dist_op_gather(hm_context *ctx, hm_dist_op *d, int role, hm_status st)
{
    if (st != HM_STATUS_SUCCESS)
        return st;
    hm_op_plan *p = &d->base;
    return hm__dist_layout_gather(ctx, d->comm, p->api, p->def->roles[role].name, &d->dist[role],
                                  HM_STATUS_SUCCESS, &d->layout[role]);
}

int64_t hm__dist_volume(const hm_dist_layout *l)
{
    int64_t v = 1;
    for (int i = 0; i < l->ndim; i++)
        v *= l->global[i];
    return v;
}

hm_status hm__dist_op_guard(hm_context *ctx, hm_dist_op *d, const char *name,
                            const hm_dist_layout *a, const hm_dist_layout *b)
{
    int me = d->comm->rank;
    size_t es = hm_dtype_size(a->dtype);
    hm_status st = HM_STATUS_SUCCESS;
    for (int q = 0; q < d->comm->size && st == HM_STATUS_SUCCESS; q++) {
        hm_box part;
        if (q == me || !hm__box_intersect(a->ndim, &a->box[me], &b->box[q], &part))
            continue;
        int64_t n = 1;
        for (int i = 0; i < a->ndim; i++)
            n *= part.n[i];
        st = hm__transfer_guard_remote(ctx, d->base.fn, name, me, q, (size_t)n * es);
    }
    return st;
}

/* "[4, 6]" */
static const char *format_dims(int ndim, const int64_t *v, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

void hm__dist_op_describe(hm_context *ctx, const hm_dist_op *d, const char *what, int a, int b)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    const hm_dist_layout *la = &d->layout[a], *lb = &d->layout[b];
    const hm_box *ba = &la->box[d->comm->rank], *bb = &lb->box[d->comm->rank];
    char g[96], ga[96], o1[96], e1[96], o2[96], e2[96];
    hm__log(ctx, HM_LOG_INFO,
            "%s: %s %s -> %s over %d ranks; rank %d holds offset %s extent %s of %s, offset %s "
            "extent %s of %s",
            what, hm_dtype_name(la->dtype), format_dims(la->ndim, la->global, g, sizeof g),
            format_dims(lb->ndim, lb->global, ga, sizeof ga), d->comm->size, d->comm->rank,
            format_dims(la->ndim, ba->lo, o1, sizeof o1),
            format_dims(la->ndim, ba->n, e1, sizeof e1), d->base.def->roles[a].name,
            format_dims(lb->ndim, bb->lo, o2, sizeof o2),
            format_dims(lb->ndim, bb->n, e2, sizeof e2), d->base.def->roles[b].name);
}

hm_status hm__dist_op_agree(hm_context *ctx, const hm_op_plan *p, hm_status local)
{
    return hm__comm_agree(ctx, ((const hm_dist_op *)p)->comm, p->api, local);
}

void hm__dist_op_release(hm_op_plan *p)
{
    hm_dist_op *d = (hm_dist_op *)p;
    for (int i = 0; i < HM_OP_MAX_OPERANDS; i++)
        hm__dist_layout_free(&d->layout[i]);
}

/* FNV-1a over the bytes. */
static uint64_t fingerprint(const void *bytes, size_t size)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ ((const unsigned char *)bytes)[i]) * 1099511628211ULL;
    return h;
}

hm_status hm__dist_op_same(hm_context *ctx, hm_dist_op *d, const char *what, const void *bytes,
                           size_t size, hm_status st)
{
    if (st != HM_STATUS_SUCCESS)
        return st;
    uint64_t mine = fingerprint(bytes, size), lo = 0, hi = 0;
    int rc = MPI_Allreduce(&mine, &lo, 1, MPI_UINT64_T, MPI_MIN, d->comm->mpi);
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(&mine, &hi, 1, MPI_UINT64_T, MPI_MAX, d->comm->mpi);
    if (rc != MPI_SUCCESS)
        return hm__mpi_fail(ctx, rc, "%s: comparing %s across ranks", d->base.api, what);
    if (lo != hi)
        return hm__fail(ctx, HM_STATUS_INVALID_DISTRIBUTION, "%s: the ranks disagree on %s",
                        d->base.api, what);
    return HM_STATUS_SUCCESS;
}

hm_status hm__dist_op_same_operands(hm_context *ctx, hm_dist_op *d)
{
    return hm__dist_op_same(ctx, d, "which operands are given", d->base.present,
                            sizeof d->base.present, HM_STATUS_SUCCESS);
}
