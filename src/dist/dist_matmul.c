/* The distributed matmul: A, B (and C, or D's own values when beta is not 0) exchanged into the
 * backend's block distribution over a process grid, the product there (collective: ScaLAPACK on
 * CPU ranks, SUMMA over NCCL on GPU ranks), D exchanged out. An operand already in its block,
 * row-major, is used where it is (no buffer, no copy). Every step another rank could miss is agreed
 * on first (core/op.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/dist_matmul_backend.h"
#include "dist/dist_op.h"

enum { DM_A = 0, DM_B = 1, DM_C = 2, DM_D = 3, DM_OPERANDS = 4 };

static const hm_operand_role dm_roles[DM_OPERANDS] = {
    [DM_A] = {"A", HM_ROLE_IN},
    [DM_B] = {"B", HM_ROLE_IN},
    [DM_C] = {"C", HM_ROLE_IN | HM_ROLE_OPTIONAL | HM_ROLE_OUT_VIEW},
    [DM_D] = {"D", HM_ROLE_OUT},
};

/* The backend's buffers, by the operand they hold: A, B, D. */
enum { BUF_A = 0, BUF_B = 1, BUF_D = 2, BUFS = 3 };

struct dm_plan {
    hm_dist_op base; /* first: a plan of the lifecycle */
    hm_dist_matmul_options opts;
    hm_dist_matmul_desc desc;
    hm_dist_matmul_layout native;    /* this rank's blocks */
    hm_dist_layout buf_layout[BUFS]; /* every rank's */
    void *buf[BUFS];
    hm_tensor view[BUFS]; /* this rank's buffers as boxes of A, B and D */
};

void hm_dist_matmul_options_init(hm_dist_matmul_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->alpha = 1.0;
}

static hm_status dm_options(hm_context *ctx, hm_op_plan *p, const void *opts)
{
    struct dm_plan *f = (struct dm_plan *)p;
    const hm_dist_call *call = opts;
    hm_status st = hm__dist_op_options(ctx, p, opts); /* the communicator first */
    hm_dist_matmul_options_init(&f->opts);
    return st == HM_STATUS_SUCCESS ? hm__op_copy_options(ctx, p->api, "hm_dist_matmul_options",
                                                         &f->opts, sizeof f->opts, call->opts)
                                   : st;
}

/* The process grid of `size` ranks: rows × cols, rows the largest divisor not above √size. */
static void grid_of(int size, int *rows, int *cols)
{
    *rows = 1;
    for (int r = 1; r * r <= size; r++)
        if (size % r == 0)
            *rows = r;
    *cols = size / *rows;
}

/* The description of the product, from the global shapes this rank was given. */
static hm_status describe_product(hm_context *ctx, const char *fn, hm_comm *comm, hm_dtype dtype,
                                  int64_t m, int64_t n, int64_t k, int device,
                                  hm_dist_matmul_desc *d)
{
    if (device < 0 && (m > INT_MAX || n > INT_MAX || k > INT_MAX))
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "%s: %lld x %lld x %lld is over ScaLAPACK's int sizes", fn, (long long)m,
                        (long long)n, (long long)k);
    memset(d, 0, sizeof *d);
    d->dtype = dtype;
    d->m = m;
    d->n = n;
    d->k = k;
    grid_of(comm->size, &d->grid_rows, &d->grid_cols);
    d->comm = comm->mpi;
    d->device = device;
    return HM_STATUS_SUCCESS;
}

static hm_status dm_specify(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    (void)in;
    struct dm_plan *f = (struct dm_plan *)p;
    hm_dtype dt = p->t[DM_A].dtype;
    for (int i = 0; i < DM_OPERANDS; i++) {
        if (!p->present[i])
            continue;
        if (p->t[i].ndim != 2)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: operand %s is %d-D (2-D matrices)",
                            p->api, dm_roles[i].name, p->t[i].ndim);
        if (p->t[i].dtype != dt)
            return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH, "%s: operand %s is %s but A is %s",
                            p->api, dm_roles[i].name, hm_dtype_name(p->t[i].dtype),
                            hm_dtype_name(dt));
    }
    if (dt == HM_DTYPE_F16 || dt == HM_DTYPE_BF16)
        return hm__fail(ctx, HM_STATUS_INVALID_DTYPE,
                        "%s: %s operands (the distributed matmul takes f32, f64, c64, c128)",
                        p->api, hm_dtype_name(dt));
    hm_status st = hm__dist_op_space(ctx, p, true);
    if (st == HM_STATUS_SUCCESS && (!p->backend || !p->backend->op[HM_OP_DIST_MATMUL]))
        st = hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                      "%s: hetmath was built without the distributed matmul of %s ranks (%s)",
                      p->api, f->base.device < 0 ? "CPU" : "GPU",
                      f->base.device < 0 ? "ScaLAPACK" : "NCCL");
    const hm_dist_tensor *a = &f->base.dist[DM_A], *b = &f->base.dist[DM_B];
    if (st == HM_STATUS_SUCCESS)
        st = describe_product(ctx, p->api, f->base.comm, dt, a->global_shape[0], b->global_shape[1],
                              a->global_shape[1], f->base.device, &f->desc);
    if (st == HM_STATUS_SUCCESS)
        st = hm__backend_layout(ctx, p->backend, HM_OP_DIST_MATMUL, &f->desc, &f->native);
    return st;
}

/* Operand `role`'s global shape against the product's. */
static hm_status check_global(hm_context *ctx, const struct dm_plan *f, int role, int64_t rows,
                              int64_t cols)
{
    const hm_dist_layout *l = &f->base.layout[role];
    if (l->global[0] == rows && l->global[1] == cols)
        return HM_STATUS_SUCCESS;
    return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                    "%s: operand %s is %lld x %lld; the product of A (%lld x %lld) and B needs "
                    "%lld x %lld",
                    f->base.base.api, dm_roles[role].name, (long long)l->global[0],
                    (long long)l->global[1], (long long)f->desc.m, (long long)f->desc.k,
                    (long long)rows, (long long)cols);
}

static hm_status dm_specify_all(hm_context *ctx, hm_op_plan *p)
{
    struct dm_plan *f = (struct dm_plan *)p;
    hm_dist_op *d = &f->base;
    const double scalars[2] = {f->opts.alpha, f->opts.beta};
    hm_status st = hm__dist_op_same_operands(ctx, d);
    st = hm__dist_op_same(ctx, d, "alpha and beta", scalars, sizeof scalars, st);
    st = hm__dist_op_same_space(ctx, d, st);
    f->desc.group = st == HM_STATUS_SUCCESS && d->device >= 0 ? d->comm->group : NULL;
    for (int i = 0; i < DM_OPERANDS; i++)
        if (p->present[i])
            st = hm__dist_op_gather(ctx, d, i, st);
    const hm_dist_matmul_desc *g = &f->desc;
    if (st == HM_STATUS_SUCCESS && d->layout[DM_B].global[0] != g->k)
        st = hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                      "%s: inner dimensions differ: A is %lld x %lld but B is %lld x %lld", p->api,
                      (long long)g->m, (long long)g->k, (long long)d->layout[DM_B].global[0],
                      (long long)d->layout[DM_B].global[1]);
    if (st == HM_STATUS_SUCCESS)
        st = check_global(ctx, f, DM_D, g->m, g->n);
    if (st == HM_STATUS_SUCCESS && p->present[DM_C])
        st = check_global(ctx, f, DM_C, g->m, g->n);
    /* The backend's blocks, as distributed tensors of A's, B's and D's global shapes. */
    static const int of[BUFS] = {DM_A, DM_B, DM_D};
    static const char *const names[BUFS] = {"A (the product's blocks)", "B (the product's blocks)",
                                            "D (the product's blocks)"};
    for (int i = 0; i < BUFS && st == HM_STATUS_SUCCESS; i++) {
        hm_dist_tensor t;
        memset(&t, 0, sizeof t);
        t.local = p->t[of[i]];
        t.local.device = p->exec_space;
        for (int a = 0; a < 2; a++) {
            t.local.shape[a] = f->native.n[i][a];
            t.offset[a] = f->native.lo[i][a];
            t.global_shape[a] = d->layout[of[i]].global[a];
        }
        t.local.strides[0] = f->native.ld[i]; /* row-major (both backends say why) */
        t.local.strides[1] = 1;
        f->view[i] = t.local;
        st = hm__dist_layout_gather(ctx, d->comm, p->api, names[i], &t, HM_STATUS_SUCCESS,
                                    &f->buf_layout[i]);
    }
    p->flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
    int from_d = p->present[DM_C] ? DM_C : DM_D;
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_op_guard(ctx, d, "A", &d->layout[DM_A], &f->buf_layout[BUF_A]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_op_guard(ctx, d, "B", &d->layout[DM_B], &f->buf_layout[BUF_B]);
    if (st == HM_STATUS_SUCCESS && f->opts.beta != 0.0)
        st = hm__dist_op_guard(ctx, d, dm_roles[from_d].name, &d->layout[from_d],
                               &f->buf_layout[BUF_D]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_op_guard(ctx, d, "D", &f->buf_layout[BUF_D], &d->layout[DM_D]);
    return st;
}

static void dm_describe(hm_context *ctx, const hm_op_plan *p)
{
    hm__dist_op_describe(ctx, (const hm_dist_op *)p, "matmul", DM_A, DM_D);
}

static hm_status agree_any(hm_context *ctx, const void *plan, hm_status local)
{
    return hm__dist_op_agree(ctx, plan, local);
}

/* The buffers (this rank's failure points, agreed on), then the backend's collective grid. */
static hm_status dm_plan(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                         void *const data[], void **be_plan)
{
    (void)cols, (void)device, (void)rows, (void)data;
    struct dm_plan *f = (struct dm_plan *)p;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < BUFS && st == HM_STATUS_SUCCESS; i++)
        st = hm__alloc(ctx, p->exec_space, f->native.bytes[i], &f->buf[i]);
    if ((st = hm__dist_op_agree(ctx, p, st)) != HM_STATUS_SUCCESS)
        return st;
    for (int i = 0; i < BUFS; i++)
        f->view[i].data = f->buf[i];
    const hm_collective all = {agree_any, p};
    st = hm__backend_plan_collective(ctx, p->backend, HM_OP_DIST_MATMUL, p->fn, &f->desc, NULL,
                                     be_plan, &all);
    if (st == HM_STATUS_SUCCESS)
        hm__log(ctx, HM_LOG_INFO,
                "%s: a %d x %d process grid, blocks of this rank %lld x "
                "%lld (A), %lld x %lld (B), %lld x %lld (D)",
                f->base.device < 0 ? "ScaLAPACK" : "SUMMA (cuBLASLt, NCCL)", f->desc.grid_rows,
                f->desc.grid_cols, (long long)f->native.n[0][0], (long long)f->native.n[0][1],
                (long long)f->native.n[1][0], (long long)f->native.n[1][1],
                (long long)f->native.n[2][0], (long long)f->native.n[2][1]);
    return st;
}

/* The blocks the product moves between ranks (p?gemm and SUMMA alike: each rank's A block to the
 * others of its grid row, its B block to the others of its grid column), ledgered per peer with
 * the product's time, by MPI or NCCL. */
static void ledger_panels(hm_context *ctx, const struct dm_plan *f, double seconds)
{
    const hm_comm *c = f->base.comm;
    const hm_dist_layout *l[2] = {&f->buf_layout[BUF_A], &f->buf_layout[BUF_B]};
    static const char *const names[2] = {"A (panels)", "B (panels)"};
    size_t es = hm_dtype_size(f->desc.dtype);
    int cols = f->desc.grid_cols, me = c->rank;
    for (int q = 0; q < c->size; q++) {
        if (q == me)
            continue;
        int which = q / cols == me / cols ? 0 : q % cols == me % cols ? 1 : -1;
        if (which < 0)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            const hm_box *b = &l[which]->box[dir == 0 ? me : q];
            size_t bytes = (size_t)(b->n[0] * b->n[1]) * es;
            if (bytes == 0)
                continue;
            hm__comm_ledger(ctx, c, f->base.base.fn, names[which], q, dir == 0, bytes, seconds, 1,
                            f->base.device);
        }
    }
}

/* Whether this rank's operand `role` is its block of buffer i as the buffer would hold it (the
 * same box, row-major with the block's leading dimension): then the product uses it in place. */
static bool is_block(const struct dm_plan *f, int role, const hm_tensor *t, int i)
{
    const hm_dist_op *d = &f->base;
    int me = d->comm->rank;
    const hm_box *want = &f->buf_layout[i].box[me], *have = &d->layout[role].box[me];
    if (hm_tensor_numel(t) == 0)
        return false;
    for (int a = 0; a < 2; a++)
        if (want->lo[a] != have->lo[a] || want->n[a] != have->n[a] ||
            (t->shape[a] > 1 && t->strides[a] != f->view[i].strides[a]))
            return false;
    return true;
}

static hm_status dm_execute(hm_context *ctx, const hm_op_plan *p, void *be_plan, void *const data[])
{
    const struct dm_plan *f = (const struct dm_plan *)p;
    const hm_dist_op *d = &f->base;
    hm_tensor t[DM_OPERANDS];
    for (int i = 0; i < DM_OPERANDS; i++) {
        t[i] = p->t[i];
        t[i].data = data[i];
    }
    /* In: A and B, and what beta scales (C, else D's own values). An operand already in its
     * block is the buffer (D only apart from A and B); the exchanges, collective, still run on
     * every rank, finding that rank's own part in place. */
    int from_d = p->present[DM_C] ? DM_C : DM_D;
    const int in_of[BUFS] = {DM_A, DM_B, from_d};
    hm_tensor view[BUFS];
    memcpy(view, f->view, sizeof view);
    int in_place = 0;
    for (int i = 0; i < BUFS; i++) {
        int role = i == BUF_D ? DM_D : in_of[i];
        if (is_block(f, role, &t[role], i) &&
            (i != BUF_D || (!hm__tensors_overlap(&t[DM_D], &t[DM_A]) &&
                            !hm__tensors_overlap(&t[DM_D], &t[DM_B]))))
            view[i].data = t[role].data, in_place++;
    }
    if (in_place)
        hm__log(ctx, HM_LOG_INFO, "%s works in %d of the operands' own blocks on this rank",
                d->device < 0 ? "ScaLAPACK" : "SUMMA", in_place);
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < BUFS && st == HM_STATUS_SUCCESS; i++) {
        if (i == BUF_D && f->opts.beta == 0.0)
            continue;
        st = hm__dist_exchange(ctx, d->comm, p->fn, dm_roles[in_of[i]].name, &d->layout[in_of[i]],
                               &t[in_of[i]], &f->buf_layout[i], &view[i]);
        st = hm__dist_op_agree(ctx, p, st);
    }
    if (st == HM_STATUS_SUCCESS) {
        const hm_dist_matmul_args args = {view[BUF_A].data, view[BUF_B].data, view[BUF_D].data,
                                          f->opts.alpha, f->opts.beta};
        const hm_collective all = {agree_any, p};
        double t0 = hm__now();
        st = hm__backend_execute_collective(ctx, p->backend, HM_OP_DIST_MATMUL, p->fn, be_plan,
                                            &args, &all);
        if (st == HM_STATUS_SUCCESS)
            ledger_panels(ctx, f, hm__now() - t0);
        st = hm__dist_op_agree(ctx, p, st);
    }
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_exchange(ctx, d->comm, p->fn, "D", &f->buf_layout[BUF_D], &view[BUF_D],
                               &d->layout[DM_D], &t[DM_D]);
    return st;
}

static void dm_release(hm_op_plan *p)
{
    struct dm_plan *f = (struct dm_plan *)p;
    for (int i = 0; i < BUFS; i++) {
        hm__free(p->ctx, p->exec_space, f->buf[i], f->native.bytes[i]);
        f->buf[i] = NULL;
        hm__dist_layout_free(&f->buf_layout[i]);
    }
    hm__dist_op_release(p);
}

static const hm_op_def dm_def = {
    .id = HM_OP_DIST_MATMUL,
    .names = {"hm_dist_matmul", "hm_dist_matmul"},
    .plan_create = "hm_dist_matmul",
    .work = "product",
    .row_unit = "rows",
    .count = DM_OPERANDS,
    .out = DM_D,
    .roles = dm_roles,
    .plan_size = sizeof(struct dm_plan),
    .options = dm_options,
    .specify = dm_specify,
    .describe = dm_describe,
    .plan = dm_plan,
    .execute = dm_execute,
    .release = dm_release,
    .agree = hm__dist_op_agree,
    .specify_all = dm_specify_all,
};

hm_status hm_dist_matmul(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *A,
                         const hm_dist_tensor *B, const hm_dist_tensor *C, const hm_dist_tensor *D,
                         const hm_dist_matmul_options *opts)
{
    HM_ENTER(ctx, "hm_dist_matmul");
    const hm_dist_tensor *dist[DM_OPERANDS] = {A, B, C, D};
    return hm__dist_op_call(ctx, &dm_def, comm, dist, opts);
}

hm_status hm_dist_matmul_plan_create(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *A,
                                     const hm_dist_tensor *B, const hm_dist_tensor *C,
                                     const hm_dist_tensor *D, const hm_dist_matmul_options *opts,
                                     hm_dist_matmul_plan **out)
{
    static const char *const fn = "hm_dist_matmul_plan_create";
    HM_ENTER(ctx, fn);
    if (out)
        *out = NULL;
    const hm_dist_tensor *dist[DM_OPERANDS] = {A, B, C, D};
    hm_op_plan *p = NULL;
    hm_status st = hm__dist_op_plan_create(ctx, &dm_def, fn, comm, dist, opts, out ? &p : NULL);
    if (out)
        *out = (hm_dist_matmul_plan *)p;
    return st;
}

hm_status hm_dist_matmul_execute(hm_context *ctx, hm_comm *comm, hm_dist_matmul_plan *plan,
                                 const hm_dist_tensor *A, const hm_dist_tensor *B,
                                 const hm_dist_tensor *C, const hm_dist_tensor *D)
{
    static const char *const fn = "hm_dist_matmul_execute";
    HM_ENTER(ctx, fn);
    const hm_dist_tensor *dist[DM_OPERANDS] = {A, B, C, D};
    return hm__dist_op_execute(ctx, &dm_def, fn, comm, (hm_op_plan *)plan, dist);
}

void hm_dist_matmul_plan_destroy(hm_dist_matmul_plan *plan)
{
    hm__op_plan_destroy((hm_op_plan *)plan);
}

hm_status hm_dist_matmul_boxes(hm_context *ctx, hm_comm *comm, int64_t m, int64_t n, int64_t k,
                               int64_t *a_offset, int64_t *a_extent, int64_t *b_offset,
                               int64_t *b_extent, int64_t *d_offset, int64_t *d_extent)
{
    static const char *const fn = "hm_dist_matmul_boxes";
    HM_ENTER(ctx, fn);
    if (!comm || !a_offset || !a_extent || !b_offset || !b_extent || !d_offset || !d_extent ||
        m < 0 || n < 0 || k < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: a NULL argument or negative size",
                        fn);
    const hm_backend_ops *cpu = hm__backend_for_execution(HM_EXEC_CPU);
    if (!cpu || !cpu->op[HM_OP_DIST_MATMUL])
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: built without ScaLAPACK", fn);
    hm_dist_matmul_desc d;
    hm_dist_matmul_layout l;
    hm_status st = describe_product(ctx, fn, comm, HM_DTYPE_F64, m, n, k, -1, &d);
    if (st == HM_STATUS_SUCCESS)
        st = hm__backend_layout(ctx, cpu, HM_OP_DIST_MATMUL, &d, &l);
    if (st != HM_STATUS_SUCCESS)
        return st;
    int64_t *off[3] = {a_offset, b_offset, d_offset}, *ext[3] = {a_extent, b_extent, d_extent};
    for (int i = 0; i < 3; i++)
        for (int a = 0; a < 2; a++) {
            off[i][a] = l.lo[i][a];
            ext[i][a] = l.n[i][a];
        }
    return HM_STATUS_SUCCESS;
}
