/* Matmul, generic and advanced, on the one lifecycle (core/op.h): its options, its
 * specification (the checks are in matmul_check.c), the mapping of row-major operands to the
 * column-major call backends see, where each operand is multiplied (in place in memory, or
 * through a compact row-major temporary), the pipeline of host operands on a device, the
 * trivial products (K = 0: D = beta·C) and its backend calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/matmul_check.h"

/* The fewest rows a pipelined row tile may have: thinner products waste the device. */
#define HM_MIN_TILE_ROWS 16

static const hm_operand_role mm_roles[MM_OPERANDS] = {
    [MM_A] = {"A", HM_ROLE_IN | HM_ROLE_TILED},
    [MM_B] = {"B", HM_ROLE_IN | HM_ROLE_COLS | HM_ROLE_DEPTH},
    [MM_C] = {"C", HM_ROLE_IN | HM_ROLE_OPTIONAL | HM_ROLE_OUT_VIEW},
    [MM_D] = {"D", HM_ROLE_OUT},
    [MM_BIAS] = {"bias", HM_ROLE_IN | HM_ROLE_OPTIONAL | HM_ROLE_COLS},
};

void hm_matmul_options_init(hm_matmul_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->alpha = 1.0;
    opts->beta = 0.0;
    opts->execution = hm_execution_default();
}

static bool is_complex(hm_dtype d)
{
    return d == HM_DTYPE_C64 || d == HM_DTYPE_C128;
}

/* Storage order of the last two dimensions: 'r' row-major, 'c' column-major, 0 neither. */
static char matrix_order(const hm_tensor *t, int64_t *ld)
{
    int nd = t->ndim;
    int64_t r = t->shape[nd - 2], c = t->shape[nd - 1], rs = t->strides[nd - 2],
            cs = t->strides[nd - 1];
    if ((c == 1 || cs == 1) && (r == 1 || rs >= c)) {
        *ld = (r == 1 || rs < 1) ? (c > 1 ? c : 1) : rs;
        return 'r';
    }
    if ((r == 1 || rs == 1) && (c == 1 || cs >= r)) {
        *ld = (c == 1 || cs < 1) ? (r > 1 ? r : 1) : cs;
        return 'c';
    }
    return 0;
}

/* Element offset of the matrix of flat batch entry f of D's batch shape, in x. */
static int64_t batch_offset(const hm_tensor *x, const int64_t *bshape, int nb, int64_t f)
{
    int xb = x->ndim - 2;
    int64_t rem = f, off = 0;
    for (int d = nb - 1; d >= 0; d--) {
        int64_t i = rem % bshape[d];
        rem /= bshape[d];
        int xd = d - (nb - xb);
        if (xd >= 0 && x->shape[xd] != 1)
            off += i * x->strides[xd];
    }
    return off;
}

/* Whether x's batch entries are evenly spaced from 0 (then *stride, 0 for one entry or a
 * broadcast operand). */
static bool offsets_uniform(const hm_tensor *x, const int64_t *bshape, int nb, int64_t batch,
                            int64_t *stride)
{
    *stride = batch > 1 ? batch_offset(x, bshape, nb, 1) : 0;
    for (int64_t f = 0; f < batch; f++)
        if (batch_offset(x, bshape, nb, f) != f * *stride)
            return false;
    return true;
}

static hm_status mm_options(hm_context *ctx, hm_op_plan *p, const void *opts)
{
    struct hm_matmul_plan *mp = (struct hm_matmul_plan *)p;
    hm_matmul_options_init(&mp->opts);
    hm_status st =
        hm__op_copy_options(ctx, p->api, "hm_matmul_options", &mp->opts, sizeof mp->opts, opts);
    if (st == HM_STATUS_SUCCESS)
        st = hm__mm_check_options(ctx, p->api, p->kind, &mp->opts);
    p->blocking = mp->opts.blocking != 0;
    p->register_host = mp->opts.register_host;
    p->budget_request = mp->opts.device_memory_limit;
    p->stream = mp->opts.stream;
    return st;
}

/* The column-major call and the batch mapping, from the execution-side layouts. */
static hm_status map_to_column_major(hm_context *ctx, struct hm_matmul_plan *mp)
{
    hm_op_plan *p = &mp->base;
    hm_matmul_desc *d = &mp->desc;
    memset(d, 0, sizeof *d);
    int64_t lda, ldb, ldd;
    char oa = matrix_order(&p->ex[MM_A], &lda), ob = matrix_order(&p->ex[MM_B], &ldb),
         od = matrix_order(&p->ex[MM_D], &ldd);
    d->dtype = p->t[MM_A].dtype;
    d->swapped = od == 'r';
    if (d->swapped) { /* Dᵀ (n×m, column-major) = Bᵀ·Aᵀ */
        d->m = mp->n;
        d->n = mp->m;
        d->first = (hm_mm_matrix){ob == 'c', ldb, 0};
        d->second = (hm_mm_matrix){oa == 'c', lda, 0};
    } else { /* D (m×n, column-major) = A·B */
        d->m = mp->m;
        d->n = mp->n;
        d->first = (hm_mm_matrix){oa == 'r', lda, 0};
        d->second = (hm_mm_matrix){ob == 'r', ldb, 0};
    }
    d->out = (hm_mm_matrix){false, ldd, 0};
    d->k = mp->k;
    d->epilog = mp->opts.epilog;
    d->tf32 = mp->opts.tf32;
    d->autotune = mp->opts.autotune;
    d->exec = p->exec;

    /* Batch: one strided call when every operand's entries are evenly spaced; else a call per
     * entry, at offsets kept in the plan. */
    const hm_tensor *D = &p->ex[MM_D];
    int nb = D->ndim - 2;
    int64_t sa, sb, sd;
    mp->uniform = offsets_uniform(&p->ex[MM_A], D->shape, nb, mp->batch, &sa) &&
                  offsets_uniform(&p->ex[MM_B], D->shape, nb, mp->batch, &sb) &&
                  offsets_uniform(D, D->shape, nb, mp->batch, &sd);
    d->batch = mp->uniform ? mp->batch : 1;
    if (mp->uniform) {
        (d->swapped ? &d->second : &d->first)->batch_stride = sa;
        (d->swapped ? &d->first : &d->second)->batch_stride = sb;
        d->out.batch_stride = sd;
    } else {
        mp->offsets = malloc(sizeof(int64_t) * 3 * (size_t)mp->batch);
        if (!mp->offsets)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for batch offsets",
                            p->api);
        const hm_tensor *ops[3] = {&p->ex[MM_A], &p->ex[MM_B], D};
        for (int k = 0; k < 3; k++)
            for (int64_t f = 0; f < mp->batch; f++)
                mp->offsets[k * mp->batch + f] = batch_offset(ops[k], D->shape, nb, f);
    }
    char why[160] = "";
    if (!hm__backend_supports(p->backend, HM_OP_MATMUL, d, why, sizeof why))
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: %s", p->api, why);
    return HM_STATUS_SUCCESS;
}

/* Where each operand is multiplied: the caller's memory where it is in the execution space and
 * stored row- or column-major, else a compact row-major temporary. C is copied into D's buffer
 * when beta is not 0, and D's own old values are read when there is no C. */
static void place_operands(struct hm_matmul_plan *mp)
{
    hm_op_plan *p = &mp->base;
    int64_t ld;
    for (int i = 0; i < MM_OPERANDS; i++) {
        if (!p->present[i] || i == MM_C)
            continue;
        const hm_tensor *t = &p->t[i];
        bool ok =
            i == MM_BIAS ? (t->strides[0] == 1 || t->shape[0] == 1) : matrix_order(t, &ld) != 0;
        /* cuBLASLt's bias runs along the column-major rows: D must be row-major. */
        if (i == MM_D && p->present[MM_BIAS] && matrix_order(t, &ld) != 'r')
            ok = false;
        hm_tensor staged = *t;
        hm__row_major_strides(staged.ndim, staged.shape, staged.strides);
        hm__op_place(p, i, hm__op_in_exec_space(p, t->device) && ok ? NULL : &staged);
    }
    bool beta = mp->opts.beta != 0.0;
    if (p->present[MM_C])
        p->copy_to[MM_C] = beta ? MM_D : -1;
    else if (beta && p->stage[MM_D])
        p->copy_to[MM_D] = MM_D;
}

/* Host A and D computed on a device, 2-D, D compact and A row-major (its rows maybe apart): row
 * tiles of A (and of C, or of D's old values, when beta is not 0) in and of D out, pipelined
 * around the products; D's columns (and B's, and the bias) cut into panels when the device memory
 * budget asks, B and the bias then staged. Then the schedule within the budget. */
static hm_status fit_budget(hm_context *ctx, struct hm_matmul_plan *mp)
{
    hm_op_plan *p = &mp->base;
    const hm_tensor *A = &p->t[MM_A];
    size_t es = hm_dtype_size(A->dtype);
    int64_t lda = 0;
    (void)matrix_order(A, &lda);
    hm_pipe_request req = {.pipelinable = p->may_pipeline,
                           .tiled = MM_A,
                           .rows = mp->m,
                           .cols = mp->n,
                           .min_tile = HM_MIN_TILE_ROWS,
                           .in_row_bytes = (size_t)mp->k * es,
                           .in_pitch = (size_t)lda * es,
                           .out_col_bytes = es,
                           .cuttable =
                               p->stage[MM_B] && (!p->present[MM_BIAS] || p->stage[MM_BIAS]),
                           .depth = p->t[MM_B].ndim == 2 ? mp->k : 0,
                           .depth_name = "K",
                           .col_intensity = (is_complex(A->dtype) ? 8.0 : 2.0) / (double)es};
    return hm__op_fit_budget(ctx, p, &req);
}

static hm_status mm_specify(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    struct hm_matmul_plan *mp = (struct hm_matmul_plan *)p;
    hm_tensor result;
    hm_status st = hm__mm_check_operands(ctx, p->api, mp, &result);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (p->alloc_out)
        p->t[MM_D] = result;
    p->flops = 2.0 * (double)mp->m * (double)mp->n * (double)mp->k * (double)mp->batch *
               (is_complex(p->t[MM_A].dtype) ? 4 : 1);
    const hm_tensor *A = &p->t[MM_A], *D = &p->t[MM_D];
    /* C (or D's old values), read when beta is not 0, is the pipeline's seed (core/op.h) */
    int64_t lda = 0; /* A's rows may lie apart (a block of a wider matrix): tiles of them */
    p->may_pipeline = mp->batch == 1 && A->ndim == 2 && D->ndim == 2 &&
                      matrix_order(A, &lda) == 'r' && hm_tensor_is_contiguous(D);
    if ((st = hm__op_resolve(ctx, p, in, &mp->opts.execution)) != HM_STATUS_SUCCESS)
        return st;
    p->empty = mp->m == 0 || mp->n == 0 || mp->batch == 0;
    if (!p->empty && mp->k == 0) {
        /* D = beta·C: computed where D is, no backend involved. */
        if (mp->opts.epilog)
            return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                            "%s: K = 0 with an epilog (the epilog of beta·C alone) is not "
                            "supported",
                            p->api);
        p->trivial = true;
        p->exec_space = p->t[MM_D].device;
        if (p->present[MM_C] && mp->opts.beta != 0.0)
            p->copy_to[MM_C] = MM_D;
        return HM_STATUS_SUCCESS;
    }
    if (p->empty)
        return HM_STATUS_SUCCESS;
    place_operands(mp);
    if ((st = map_to_column_major(ctx, mp)) != HM_STATUS_SUCCESS)
        return st;
    return fit_budget(ctx, mp);
}

static void mm_describe(hm_context *ctx, const hm_op_plan *p)
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    const hm_matmul_options *o = &mp->opts;
    static const char *const epilogs[] = {"none", "relu", "gelu", "bias", "relu+bias", "gelu+bias"};
    hm__log(ctx, HM_LOG_INFO,
            "%s: %s M=%lld N=%lld K=%lld batch %lld, alpha %g beta %g, %.3g GFLOP%s%s%s",
            p->kind == HM_OP_GENERIC ? "matmul" : "matmul (advanced)",
            hm_dtype_name(p->t[MM_A].dtype), (long long)mp->m, (long long)mp->n, (long long)mp->k,
            (long long)mp->batch, o->alpha, o->beta, p->flops / 1e9, o->epilog ? ", epilog " : "",
            o->epilog ? epilogs[o->epilog] : "", o->tf32 ? ", tf32" : "");
}

static void mm_key(const hm_op_plan *p, unsigned char key[HM_OP_KEY_BYTES])
{
    const hm_matmul_options *o = &((const struct hm_matmul_plan *)p)->opts;
    /* alpha and beta reach the backend at every execution; whether beta is 0 shapes the plan
     * (C read or not, the pipeline or not). */
    struct {
        int epilog, tf32, autotune, register_host;
        bool beta_nonzero;
        size_t device_memory_limit;
    } k;
    _Static_assert(sizeof k <= HM_OP_KEY_BYTES, "the matmul's key fits");
    memset(&k, 0, sizeof k);
    k.epilog = o->epilog;
    k.tf32 = o->tf32;
    k.autotune = o->autotune;
    k.register_host = o->register_host;
    k.beta_nonzero = o->beta != 0.0;
    k.device_memory_limit = o->device_memory_limit;
    memcpy(key, &k, sizeof k);
}

static void mm_per_call(hm_op_plan *cached, const hm_op_plan *call)
{
    hm_matmul_options *to = &((struct hm_matmul_plan *)cached)->opts;
    const hm_matmul_options *from = &((const struct hm_matmul_plan *)call)->opts;
    to->alpha = from->alpha;
    to->beta = from->beta;
}

/* The backend's operands and this call's scalars for batch entry f. */
static hm_mm_args entry_args(const struct hm_matmul_plan *mp, void *const data[], int64_t f)
{
    size_t es = hm_dtype_size(mp->base.t[MM_A].dtype);
    int64_t oa = 0, ob = 0, od = 0;
    if (!mp->uniform) {
        oa = mp->offsets[f];
        ob = mp->offsets[mp->batch + f];
        od = mp->offsets[2 * mp->batch + f];
    }
    const char *a = (const char *)data[MM_A] + oa * (int64_t)es,
               *b = (const char *)data[MM_B] + ob * (int64_t)es;
    return (hm_mm_args){.first = mp->desc.swapped ? b : a,
                        .second = mp->desc.swapped ? a : b,
                        .out = (char *)data[MM_D] + od * (int64_t)es,
                        .bias = mp->base.present[MM_BIAS] ? data[MM_BIAS] : NULL,
                        .alpha = {mp->opts.alpha, 0},
                        .beta = {mp->opts.beta, 0}};
}

static hm_status mm_plan(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                         void *const data[], void **be_plan)
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    hm_matmul_desc d = mp->desc;
    hm__op_plan_device(p, device, &d.exec);
    d.workspace = p->workspace;
    if (rows > 0) /* row tiles of a row-major D are column blocks of the column-major call's */
        d.n = rows;
    if (cols > 0) { /* a panel of D's columns: its rows of B's panel and D's tile, packed */
        d.m = cols;
        d.first.ld = cols;
        d.out.ld = cols;
    }
    hm_mm_args args;
    if (data && mp->uniform)
        args = entry_args(mp, data, 0);
    return hm__backend_plan(ctx, p->backend, HM_OP_MATMUL, p->fn, &d,
                            data && mp->uniform ? &args : NULL, be_plan);
}

static hm_status mm_execute(hm_context *ctx, const hm_op_plan *p, void *be_plan, void *const data[])
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    hm_status st = HM_STATUS_SUCCESS;
    for (int64_t f = 0; f < (mp->uniform ? 1 : mp->batch) && st == HM_STATUS_SUCCESS; f++) {
        hm_mm_args args = entry_args(mp, data, f);
        st = hm__backend_execute(ctx, p->backend, HM_OP_MATMUL, p->fn, be_plan, &args);
    }
    return st;
}

/* K = 0: alpha·A·B adds nothing, so D = beta·C (C being D itself when absent), computed in D's
 * own memory space; beta 0 writes zeros whatever D held. */
static hm_status mm_trivial(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                            const hm_tensor *out)
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    double beta = mp->opts.beta;
    hm_status st = HM_STATUS_SUCCESS;
    if (beta != 0.0 && p->copy_to[MM_C] == MM_D && in[MM_C]->data != out->data)
        st = hm__transfer(ctx, in[MM_C], out, p->fn, "C", true);
    if (st == HM_STATUS_SUCCESS && beta != 1.0)
        st = hm__backend_scale(ctx, out, beta);
    hm__log(ctx, HM_LOG_INFO, "K = 0: D = beta·%s computed in D's memory, no product",
            p->present[MM_C] ? "C" : "D");
    return st;
}

/* Pass k's part of K, [*k0, *k1), of p->npasses as even as they go. */
static void pass_depth(const struct hm_matmul_plan *mp, int k, int64_t *k0, int64_t *k1)
{
    int passes = mp->base.npasses;
    *k0 = mp->k * k / passes;
    *k1 = mp->k * (k + 1) / passes;
}

/* Pass k's operands: A's columns and B's rows of its part of K (views of in[]), C in the first
 * pass only, the bias (and the epilog) in the last only; D the call's. */
static void mm_pass_operands(const hm_op_plan *p, int k, const hm_tensor *const in[],
                             const hm_tensor *out, hm_tensor views[], const hm_tensor *ops[])
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    int64_t k0, k1;
    pass_depth(mp, k, &k0, &k1);
    size_t es = hm_dtype_size(in[MM_A]->dtype);
    views[MM_A] = *in[MM_A];
    views[MM_A].shape[1] = k1 - k0;
    views[MM_B] = *in[MM_B];
    views[MM_B].shape[0] = k1 - k0;
    if (views[MM_A].data)
        views[MM_A].data = (char *)views[MM_A].data + k0 * in[MM_A]->strides[1] * (int64_t)es;
    if (views[MM_B].data)
        views[MM_B].data = (char *)views[MM_B].data + k0 * in[MM_B]->strides[0] * (int64_t)es;
    ops[MM_A] = &views[MM_A];
    ops[MM_B] = &views[MM_B];
    ops[MM_C] = k == 0 ? in[MM_C] : NULL;
    ops[MM_D] = out;
    ops[MM_BIAS] = k == p->npasses - 1 ? in[MM_BIAS] : NULL;
}

/* The passes over K hm__op_fit_budget chose: pass k adds alpha·A(:, its K)·B(its K, :) into D
 * (beta and C in the first pass, D's own values after), each a plan of its own, streamed within
 * the whole call's budget on its device; the epilog and the bias in the last. */
static hm_status mm_passes(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    const hm_tensor *whole[MM_OPERANDS];
    hm_tensor given[MM_OPERANDS], views[MM_OPERANDS];
    for (int i = 0; i < MM_OPERANDS; i++) {
        given[i] = p->t[i];
        given[i].data = in && in[i] ? in[i]->data : NULL; /* the layouts, at planning */
        whole[i] = p->present[i] ? &given[i] : NULL;
    }
    hm__log(ctx, HM_LOG_INFO,
            "K (%lld) in %d passes of at most %lld: A and B cross the link once, D %d times out "
            "and %d back in",
            (long long)mp->k, p->npasses, (long long)((mp->k + p->npasses - 1) / p->npasses),
            p->npasses, p->npasses - 1);
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 0; k < p->npasses && st == HM_STATUS_SUCCESS; k++) {
        const hm_tensor *ops[MM_OPERANDS];
        mm_pass_operands(p, k, whole, whole[MM_D], views, ops);
        hm_matmul_options o = mp->opts;
        o.beta = k == 0 ? mp->opts.beta : 1.0; /* later passes add into D */
        if (k < p->npasses - 1)
            o.epilog = HM_EPILOG_NONE;
        o.execution = p->exec;
        o.device_memory_limit = p->budget;
        hm__log(ctx, HM_LOG_INFO, "pass %d of %d over K, planned:", k + 1, p->npasses);
        st = hm__op_plan_create(ctx, p->def, p->api, p->kind, ops, &o, &p->pass[k]);
    }
    return st;
}

static void mm_release(hm_op_plan *p)
{
    free(((struct hm_matmul_plan *)p)->offsets);
}

static size_t mm_bytes(const hm_op_plan *p)
{
    const struct hm_matmul_plan *mp = (const struct hm_matmul_plan *)p;
    return mp->offsets ? sizeof(int64_t) * 3 * (size_t)mp->batch : 0;
}

static const hm_op_def mm_def = {
    .id = HM_OP_MATMUL,
    .names = {"hm_matmul", "hm_matmul_advanced"},
    .plan_create = "hm_matmul_plan_create",
    .work = "product",
    .row_unit = "rows",
    .count = MM_OPERANDS,
    .out = MM_D,
    .roles = mm_roles,
    .plan_size = sizeof(struct hm_matmul_plan),
    .options = mm_options,
    .specify = mm_specify,
    .describe = mm_describe,
    .key = mm_key,
    .per_call = mm_per_call,
    .plan = mm_plan,
    .execute = mm_execute,
    .trivial = mm_trivial,
    .release = mm_release,
    .bytes = mm_bytes,
    .passes = mm_passes,
    .pass_operands = mm_pass_operands,
};

hm_status hm_matmul(hm_context *ctx, const hm_tensor *A, const hm_tensor *B, const hm_tensor *C,
                    hm_tensor *D, const hm_matmul_options *opts)
{
    HM_ENTER(ctx, "hm_matmul");
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, NULL};
    return hm__op_call(ctx, &mm_def, HM_OP_GENERIC, in, D, opts);
}

hm_status hm_matmul_advanced(hm_context *ctx, const hm_tensor *A, const hm_tensor *B,
                             const hm_tensor *C, hm_tensor *D, const hm_tensor *bias,
                             const hm_matmul_options *opts)
{
    HM_ENTER(ctx, "hm_matmul_advanced");
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, bias};
    return hm__op_call(ctx, &mm_def, HM_OP_SPECIALIZED, in, D, opts);
}

hm_status hm_matmul_plan_create(hm_context *ctx, hm_op_class kind, const hm_tensor *A,
                                const hm_tensor *B, const hm_tensor *C, const hm_tensor *D,
                                const hm_tensor *bias, const hm_matmul_options *opts,
                                hm_matmul_plan **out)
{
    static const char *const fn = "hm_matmul_plan_create";
    HM_ENTER(ctx, fn);
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output pointer is NULL", fn);
    *out = NULL;
    if (kind != HM_OP_GENERIC && kind != HM_OP_SPECIALIZED)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: kind %d is not an hm_op_class", fn,
                        (int)kind);
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, bias};
    hm_op_plan *p = NULL;
    hm_status st = hm__op_plan_create(ctx, &mm_def, fn, kind, in, opts, &p);
    *out = (hm_matmul_plan *)p;
    return st;
}

hm_status hm_matmul_estimate(hm_context *ctx, hm_op_class kind, const hm_tensor *A,
                             const hm_tensor *B, const hm_tensor *C, const hm_tensor *D,
                             const hm_tensor *bias, const hm_matmul_options *opts, hm_estimate *out)
{
    static const char *const fn = "hm_matmul_estimate";
    HM_ENTER(ctx, fn);
    if (kind != HM_OP_GENERIC && kind != HM_OP_SPECIALIZED)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: kind %d is not an hm_op_class", fn,
                        (int)kind);
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, bias};
    return hm__op_estimate(ctx, &mm_def, fn, kind, in, opts, out);
}

hm_status hm_matmul_execute(hm_context *ctx, hm_matmul_plan *plan, const hm_tensor *A,
                            const hm_tensor *B, const hm_tensor *C, hm_tensor *D,
                            const hm_tensor *bias)
{
    static const char *const fn = "hm_matmul_execute";
    HM_ENTER(ctx, fn);
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, bias};
    return hm__op_execute(ctx, &mm_def, fn, (hm_op_plan *)plan, in, D);
}

hm_status hm_matmul_execute_unchecked(hm_context *ctx, hm_matmul_plan *plan, const hm_tensor *A,
                                      const hm_tensor *B, const hm_tensor *C, hm_tensor *D,
                                      const hm_tensor *bias)
{
    static const char *const fn = "hm_matmul_execute_unchecked";
    HM_ENTER(ctx, fn);
    const hm_tensor *in[MM_OPERANDS] = {A, B, C, D, bias};
    return hm__op_execute_unchecked(ctx, &mm_def, fn, (hm_op_plan *)plan, in, D);
}

hm_status hm_matmul_plan_set_stream(hm_matmul_plan *plan, void *stream)
{
    if (!plan)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__op_plan_stream((hm_op_plan *)plan, stream);
    return HM_STATUS_SUCCESS;
}

void hm_matmul_plan_destroy(hm_matmul_plan *plan)
{
    hm__op_plan_destroy((hm_op_plan *)plan);
}
