/* Matmul, generic and advanced: specification (shapes, broadcasting, dtypes, layouts, spaces),
 * planning (column-major mapping, staging of operands in other spaces or layouts, backend plan)
 * and execution (copies in, product, copy out), each phase logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/plan_cache.h"
#include "core/registration.h"

/* The fewest rows a pipelined row tile may have: thinner products waste the device. */
#define HM_MIN_TILE_ROWS 16

enum { OP_A, OP_B, OP_C, OP_D, OP_BIAS, OP_COUNT };
static const char *const OP_NAMES[OP_COUNT] = {"A", "B", "C", "D", "bias"};

struct hm_matmul_plan {
    hm_context *ctx;
    hm_op_class kind;
    const char *fn;
    hm_matmul_options opts;
    hm_tensor t[OP_COUNT];  /* caller-side layouts (data ignored) */
    bool present[OP_COUNT]; /* C and bias are optional */
    bool d_alloc;           /* D is allocated row-major in A's space at each execution */
    hm_execution exec;
    hm_device exec_space;
    bool stage[OP_COUNT];   /* operand goes through a compact temporary in the execution space */
    hm_tensor ex[OP_COUNT]; /* execution-side layouts */
    int64_t m, n, k, batch;
    bool uniform;     /* one backend call covers the batch */
    int64_t *offsets; /* 3 × batch element offsets of A, B, D when not uniform */
    hm_matmul_desc desc;
    const hm_matmul_backend *be;
    void *be_plan;                     /* the whole product (none when pipelined) */
    bool pipelined;                    /* host operands pipelined over row tiles of A and D */
    hm_tiles tiles;                    /* those row tiles */
    int64_t tile_max;                  /* rows of A and of D a staging buffer holds */
    void *be_tile_plan[HM_TILE_SIZES]; /* a plan for each tile size */
    hm_host_pin pin[OP_COUNT];         /* host operands registered (opts.register_host) */
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

static bool epilog_has_bias(hm_matmul_epilog e)
{
    return e == HM_EPILOG_BIAS || e == HM_EPILOG_RELU_BIAS || e == HM_EPILOG_GELU_BIAS;
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

/* Element offsets of the matrix of each flat batch entry of D's batch shape. */
static void batch_offsets(const hm_tensor *x, const int64_t *bshape, int nb, int64_t batch,
                          int64_t *out)
{
    int xb = x->ndim - 2;
    for (int64_t f = 0; f < batch; f++) {
        int64_t rem = f, off = 0;
        for (int d = nb - 1; d >= 0; d--) {
            int64_t i = rem % bshape[d];
            rem /= bshape[d];
            int xd = d - (nb - xb);
            if (xd >= 0 && x->shape[xd] != 1)
                off += i * x->strides[xd];
        }
        out[f] = off;
    }
}

static bool offsets_uniform(const int64_t *o, int64_t batch, int64_t *stride)
{
    *stride = batch > 1 ? o[1] - o[0] : 0;
    for (int64_t f = 0; f < batch; f++)
        if (o[f] != o[0] + f * *stride)
            return false;
    return o[0] == 0;
}

static void plan_release(hm_matmul_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < OP_COUNT; i++)
        hm__host_pin_release(p->ctx, &p->pin[i]);
    if (p->be && p->be_plan)
        p->be->destroy(p->be_plan);
    for (int i = 0; p->be && i < HM_TILE_SIZES; i++)
        if (p->be_tile_plan[i])
            p->be->destroy(p->be_tile_plan[i]);
    free(p->offsets);
    free(p);
}

static void plan_free(void *v)
{
    plan_release(v);
}

static void row_major(hm_tensor *t)
{
    hm__row_major_strides(t->ndim, t->shape, t->strides);
}

/* Everything about the call, except the backend plan. */
static hm_status specify(hm_context *ctx, const char *fn, hm_op_class kind,
                         const hm_tensor *const in[OP_COUNT], const hm_matmul_options *opts,
                         bool check_pointers, hm_matmul_plan *p)
{
    hm_status st;
    char why[160];
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->kind = kind;
    p->fn = fn;
    hm_matmul_options_init(&p->opts);
    if (opts) {
        if (opts->size < sizeof(size_t) || opts->size > sizeof p->opts)
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                            "%s: options size %zu is not that of an hm_matmul_options (%zu)", fn,
                            opts->size, sizeof p->opts);
        memcpy(&p->opts, opts, opts->size);
    }
    const hm_matmul_options *o = &p->opts;
    if ((int)o->epilog < HM_EPILOG_NONE || o->epilog > HM_EPILOG_GELU_BIAS)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: epilog %d is not an hm_matmul_epilog",
                        fn, (int)o->epilog);
    if (kind == HM_OP_GENERIC && (o->epilog || o->tf32 || o->autotune || in[OP_BIAS]))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: epilogs, bias, tf32 and autotuning belong to hm_matmul_advanced", fn);
    if (o->autotune < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: autotune %d is negative", fn,
                        o->autotune);
    if ((st = hm__host_pin_check(ctx, fn, o->register_host)) != HM_STATUS_SUCCESS)
        return st;

    for (int i = 0; i < OP_COUNT; i++) {
        const hm_tensor *t = in[i];
        if (!t) {
            if (i == OP_A || i == OP_B || i == OP_D)
                return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn,
                                OP_NAMES[i]);
            continue;
        }
        if (i == OP_D && !t->data && t->ndim == 0) {
            p->d_alloc = true;
            continue;
        }
        if (check_pointers) {
            if ((st = hm__check_operand(ctx, fn, OP_NAMES[i], t)) != HM_STATUS_SUCCESS)
                return st;
        } else if ((st = hm__tensor_validate(t, why, sizeof why)) != HM_STATUS_SUCCESS) {
            return hm__fail(ctx, st, "%s: operand %s is invalid: %s", fn, OP_NAMES[i], why);
        }
        p->present[i] = true;
        p->t[i] = *t;
        p->t[i].data = NULL;
        int min_nd = i == OP_BIAS ? 1 : 2;
        if (t->ndim < min_nd || (i == OP_BIAS && t->ndim != 1))
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: operand %s has %d dimension%s (%s)",
                            fn, OP_NAMES[i], t->ndim, t->ndim == 1 ? "" : "s",
                            i == OP_BIAS ? "a bias is 1-D" : "matrices need at least 2");
    }
    const hm_tensor *A = &p->t[OP_A], *B = &p->t[OP_B];
    p->present[OP_D] = true;

    /* Dtypes. */
    if (A->dtype != B->dtype)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH, "%s: operand A is %s but B is %s", fn,
                        hm_dtype_name(A->dtype), hm_dtype_name(B->dtype));
    for (int i = OP_C; i < OP_COUNT; i++)
        if (p->present[i] && !(i == OP_D && p->d_alloc) && p->t[i].dtype != A->dtype)
            return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH,
                            "%s: operand %s is %s but A and B are %s", fn, OP_NAMES[i],
                            hm_dtype_name(p->t[i].dtype), hm_dtype_name(A->dtype));
    if (o->tf32 && A->dtype != HM_DTYPE_F32)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: tf32 applies to f32 operands, not %s",
                        fn, hm_dtype_name(A->dtype));
    if (o->epilog && is_complex(A->dtype))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: epilogs apply to real dtypes, not %s",
                        fn, hm_dtype_name(A->dtype));

    /* Shapes and broadcasting. */
    p->m = A->shape[A->ndim - 2];
    p->k = A->shape[A->ndim - 1];
    p->n = B->shape[B->ndim - 1];
    if (B->shape[B->ndim - 2] != p->k)
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: inner dimensions differ: A is %lld x %lld but B is %lld x %lld", fn,
                        (long long)p->m, (long long)p->k, (long long)B->shape[B->ndim - 2],
                        (long long)p->n);
    int nb = (A->ndim > B->ndim ? A->ndim : B->ndim) - 2;
    hm_tensor out;
    memset(&out, 0, sizeof out);
    out.dtype = A->dtype;
    out.ndim = nb + 2;
    p->batch = 1;
    for (int d = 0; d < nb; d++) {
        int ad = d - (nb - (A->ndim - 2)), bd = d - (nb - (B->ndim - 2));
        int64_t a = ad >= 0 ? A->shape[ad] : 1, b = bd >= 0 ? B->shape[bd] : 1;
        if (a != b && a != 1 && b != 1)
            return hm__fail(ctx, HM_STATUS_BROADCAST_MISMATCH,
                            "%s: batch dimension %d is %lld in A but %lld in B", fn, d,
                            (long long)a, (long long)b);
        out.shape[d] = a > b ? a : b;
        p->batch *= out.shape[d];
    }
    out.shape[nb] = p->m;
    out.shape[nb + 1] = p->n;
    if (p->d_alloc) {
        out.device = in[OP_A]->device;
        row_major(&out);
        p->t[OP_D] = out;
    }
    for (int i = OP_C; i <= OP_D; i++) {
        if (!p->present[i] || (i == OP_D && p->d_alloc))
            continue;
        if (!hm__same_shape(&p->t[i], &out))
            return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                            "%s: operand %s does not have the result's shape (%d dimensions, "
                            "last two %lld x %lld)",
                            fn, OP_NAMES[i], out.ndim, (long long)p->m, (long long)p->n);
    }
    if (epilog_has_bias(o->epilog) != p->present[OP_BIAS])
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: %s", fn,
                        p->present[OP_BIAS] ? "a bias was given but the epilog adds none"
                                            : "the epilog adds a bias but none was given");
    if (p->present[OP_BIAS]) {
        hm_device bd = p->t[OP_BIAS].device, ad = A->device;
        if (hm__device_is_host(bd) != hm__device_is_host(ad) ||
            (bd.type == HM_DEVICE_CUDA && bd.id != ad.id)) {
            char x[32], y[32];
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand bias is in %s but A is in %s; the bias lives with the "
                            "operands",
                            fn, hm_device_format(bd, x, sizeof x),
                            hm_device_format(ad, y, sizeof y));
        }
    }
    if (p->present[OP_BIAS] && p->t[OP_BIAS].shape[0] != p->n)
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: operand bias has length %lld but D has %lld columns", fn,
                        (long long)p->t[OP_BIAS].shape[0], (long long)p->n);

    /* Aliasing: D may be C itself, nothing else. */
    if (check_pointers && !p->d_alloc) {
        for (int i = 0; i < OP_COUNT; i++) {
            if (i == OP_D || !in[i] || !hm__tensors_overlap(in[i], in[OP_D]))
                continue;
            bool same = i == OP_C && in[i]->data == in[OP_D]->data &&
                        memcmp(in[i]->strides, in[OP_D]->strides, sizeof in[i]->strides) == 0;
            if (!same)
                return hm__fail(ctx, HM_STATUS_ALIASING, "%s: operand D overlaps %s", fn,
                                OP_NAMES[i]);
        }
    }

    /* Where it runs. */
    const hm_tensor *ops[OP_COUNT];
    for (int i = 0; i < OP_COUNT; i++)
        ops[i] = (p->present[i] && !(i == OP_D && p->d_alloc)) ? in[i] : NULL;
    if ((st = hm__resolve_execution(ctx, fn, &o->execution, kind, ops, OP_NAMES, OP_COUNT,
                                    &p->exec)) != HM_STATUS_SUCCESS)
        return st;
    p->exec_space =
        p->exec.kind == HM_EXEC_CPU ? hm_device_host() : hm_device_cuda(p->exec.device_id);
    const hm_backend_ops *b = hm__backend_for_execution(p->exec.kind);
    p->be = b ? b->matmul : NULL;
    if (!p->be)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: the %s backend has no matmul", fn,
                        b ? b->name : "requested");

    /* Execution-side layouts: the caller's where they are in the execution space and in a
     * row- or column-major order, else compact row-major temporaries. */
    int64_t ld;
    for (int i = 0; i < OP_COUNT; i++) {
        if (!p->present[i])
            continue;
        const hm_tensor *t = &p->t[i];
        bool here = p->exec.kind == HM_EXEC_CPU ? hm__device_is_host(t->device)
                                                : hm__device_equal(t->device, p->exec_space);
        bool ok =
            i == OP_BIAS ? (t->strides[0] == 1 || t->shape[0] == 1) : matrix_order(t, &ld) != 0;
        /* cuBLASLt's bias runs along the column-major rows: D must be row-major. */
        if (i == OP_D && p->present[OP_BIAS] && matrix_order(t, &ld) != 'r')
            ok = false;
        p->stage[i] = (!here || !ok) && i != OP_C;
        p->ex[i] = *t;
        p->ex[i].device = p->exec_space;
        if (p->stage[i])
            row_major(&p->ex[i]);
    }
    /* C is copied into the execution-side D, so it is never staged on its own. */

    /* Host A and D, computed on a GPU: pipeline row tiles of A in and of D out around the
     * products, when the layout allows (2-D, compact row-major, no C) and it pays (A ≥ 8 MiB). */
    const hm_tensor *Dt = &p->t[OP_D];
    size_t es = hm_dtype_size(A->dtype);
    size_t a_bytes = hm_tensor_nbytes(A);
    if (p->exec.kind == HM_EXEC_CUDA && p->be->pipelined && p->batch == 1 && A->ndim == 2 &&
        Dt->ndim == 2 && hm__device_is_host(A->device) && hm__device_is_host(Dt->device) &&
        !p->present[OP_C] && o->beta == 0.0 && hm_tensor_is_contiguous(A) &&
        hm_tensor_is_contiguous(Dt) && a_bytes >= ((size_t)8 << 20) &&
        ctx->pinned_pool_bytes >= 4 * HM_STAGE_CHUNK) {
        int64_t max_rows_a = (int64_t)(HM_STAGE_CHUNK / (es * (size_t)p->k));
        int64_t max_rows_d = (int64_t)(HM_STAGE_CHUNK / (es * (size_t)p->n));
        p->tile_max = max_rows_a < max_rows_d ? max_rows_a : max_rows_d;
        hm__tiles_plan(p->m, p->tile_max, &p->tiles);
        p->pipelined = p->tiles.count > 1 && p->tiles.head[0] >= HM_MIN_TILE_ROWS;
    }
    return HM_STATUS_SUCCESS;
}

/* The column-major call and the batch mapping, from the execution-side layouts. */
static hm_status map_desc(hm_context *ctx, hm_matmul_plan *p)
{
    hm_matmul_desc *d = &p->desc;
    memset(d, 0, sizeof *d);
    int64_t lda, ldb, ldd;
    char oa = matrix_order(&p->ex[OP_A], &lda), ob = matrix_order(&p->ex[OP_B], &ldb),
         od = matrix_order(&p->ex[OP_D], &ldd);
    d->dtype = p->t[OP_A].dtype;
    d->swapped = od == 'r';
    if (d->swapped) { /* Dᵀ (n×m, column-major) = Bᵀ·Aᵀ */
        d->m = p->n;
        d->n = p->m;
        d->first = (hm_mm_matrix){ob == 'c', ldb, 0};
        d->second = (hm_mm_matrix){oa == 'c', lda, 0};
    } else { /* D (m×n, column-major) = A·B */
        d->m = p->m;
        d->n = p->n;
        d->first = (hm_mm_matrix){oa == 'r', lda, 0};
        d->second = (hm_mm_matrix){ob == 'r', ldb, 0};
    }
    d->out = (hm_mm_matrix){false, ldd, 0};
    d->k = p->k;
    d->alpha[0] = p->opts.alpha;
    d->beta[0] = p->opts.beta;
    d->epilog = p->opts.epilog;
    d->tf32 = p->opts.tf32;
    d->autotune = p->opts.autotune;
    d->exec = p->exec;

    /* Batch: one strided call when every operand's entries are evenly spaced. */
    const hm_tensor *D = &p->ex[OP_D];
    int nb = D->ndim - 2;
    free(p->offsets);
    p->offsets = malloc(sizeof(int64_t) * 3 * (size_t)(p->batch > 0 ? p->batch : 1));
    if (!p->offsets)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for batch offsets",
                        p->fn);
    int64_t *oa_ = p->offsets, *ob_ = oa_ + p->batch, *od_ = ob_ + p->batch;
    batch_offsets(&p->ex[OP_A], D->shape, nb, p->batch, oa_);
    batch_offsets(&p->ex[OP_B], D->shape, nb, p->batch, ob_);
    batch_offsets(D, D->shape, nb, p->batch, od_);
    int64_t sa, sb, sd;
    bool ua = offsets_uniform(oa_, p->batch, &sa), ub = offsets_uniform(ob_, p->batch, &sb),
         ud = offsets_uniform(od_, p->batch, &sd);
    p->uniform = ua && ub && ud;
    d->batch = p->uniform ? p->batch : 1;
    if (p->uniform) {
        hm_mm_matrix *ma = d->swapped ? &d->second : &d->first;
        hm_mm_matrix *mb = d->swapped ? &d->first : &d->second;
        ma->batch_stride = sa;
        mb->batch_stride = sb;
        d->out.batch_stride = sd;
    }
    char why[160] = "";
    if (!p->be->supports(d, why, sizeof why))
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: %s", p->fn, why);
    return HM_STATUS_SUCCESS;
}

static void log_specification(hm_context *ctx, const hm_matmul_plan *p)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    hm__log_phase(ctx, HM_PHASE_SPECIFICATION);
    for (int i = 0; i < OP_COUNT; i++) {
        if (!p->present[i])
            continue;
        if (i == OP_D && p->d_alloc)
            hm__log(ctx, HM_LOG_INFO, "operand D: %s, allocated row-major in A's space",
                    hm_dtype_name(p->t[OP_D].dtype));
        else
            hm__log_operand(ctx, OP_NAMES[i], &p->t[i]);
    }
    double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k * (double)p->batch *
                   (is_complex(p->t[OP_A].dtype) ? 4 : 1);
    static const char *const epilogs[] = {"none", "relu", "gelu", "bias", "relu+bias", "gelu+bias"};
    hm__log(ctx, HM_LOG_INFO,
            "%s: %s M=%lld N=%lld K=%lld batch %lld, alpha %g beta %g, %.3g GFLOP%s%s%s",
            p->kind == HM_OP_GENERIC ? "matmul" : "matmul (advanced)",
            hm_dtype_name(p->t[OP_A].dtype), (long long)p->m, (long long)p->n, (long long)p->k,
            (long long)p->batch, p->opts.alpha, p->opts.beta, flops / 1e9,
            p->opts.epilog ? ", epilog " : "", p->opts.epilog ? epilogs[p->opts.epilog] : "",
            p->opts.tf32 ? ", tf32" : "");
    /* What crosses between spaces: the spaces line. */
    char in_names[32] = "", out_names[8] = "";
    size_t in_bytes = 0, out_bytes = 0, n = 0;
    for (int i = 0; i < OP_COUNT; i++) {
        if (!p->present[i] || i == OP_D)
            continue;
        bool cross = hm__device_is_host(p->t[i].device) != (p->exec.kind == HM_EXEC_CPU) ||
                     (p->t[i].device.type == HM_DEVICE_CUDA && p->exec.kind == HM_EXEC_CUDA &&
                      p->t[i].device.id != p->exec.device_id);
        if (cross) {
            n += (size_t)snprintf(in_names + n, sizeof in_names - n, "%s%s", n ? ", " : "",
                                  OP_NAMES[i]);
            in_bytes += hm_tensor_nbytes(&p->t[i]);
        }
    }
    const hm_tensor *D = &p->t[OP_D];
    bool d_cross = hm__device_is_host(D->device) != (p->exec.kind == HM_EXEC_CPU) ||
                   (D->device.type == HM_DEVICE_CUDA && p->exec.kind == HM_EXEC_CUDA &&
                    D->device.id != p->exec.device_id);
    if (d_cross) {
        snprintf(out_names, sizeof out_names, "D");
        out_bytes = hm_tensor_nbytes(D);
    }
    hm__log_spaces(ctx, p->t[OP_A].device, &p->exec, in_names, in_bytes, out_names, out_bytes);
}

/* D's old values are needed when beta ≠ 0 and no separate C is given. */
static bool needs_d_in(const hm_matmul_plan *p)
{
    return p->opts.beta != 0.0 && !p->present[OP_C] && p->stage[OP_D];
}

static hm_status guard_copies(hm_context *ctx, const hm_matmul_plan *p)
{
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < OP_COUNT && st == HM_STATUS_SUCCESS; i++) {
        if (!p->present[i])
            continue;
        if (i == OP_C && p->opts.beta != 0.0)
            st = hm__transfer_guard(ctx, p->fn, "C", p->t[i].device, p->exec_space,
                                    hm_tensor_nbytes(&p->t[i]));
        else if (i != OP_D && p->stage[i])
            st = hm__transfer_guard(ctx, p->fn, OP_NAMES[i], p->t[i].device, p->exec_space,
                                    hm_tensor_nbytes(&p->t[i]));
    }
    if (st == HM_STATUS_SUCCESS && needs_d_in(p))
        st = hm__transfer_guard(ctx, p->fn, "D", p->t[OP_D].device, p->exec_space,
                                hm_tensor_nbytes(&p->t[OP_D]));
    if (st == HM_STATUS_SUCCESS && p->stage[OP_D])
        st = hm__transfer_guard(ctx, p->fn, "D", p->exec_space, p->t[OP_D].device,
                                hm_tensor_nbytes(&p->t[OP_D]));
    return st;
}

/* One row tile's product of `rows` rows on device temporaries, for the pipeline's model: one
 * untimed call, then three timed back to back. */
static hm_status time_tile(hm_context *ctx, void *user, int64_t rows, double *seconds)
{
    hm_matmul_plan *p = user;
    const hm_backend_ops *b = hm__backend_for_execution(p->exec.kind);
    hm_matmul_desc tile = p->desc;
    tile.n = rows;
    size_t es = hm_dtype_size(p->t[OP_A].dtype);
    /* the column-major call's B, A's tile, D's tile, bias */
    const size_t bytes[4] = {(size_t)p->k * (size_t)p->n * es, (size_t)rows * (size_t)p->k * es,
                             (size_t)rows * (size_t)p->n * es,
                             p->present[OP_BIAS] ? (size_t)p->n * es : 0};
    void *buf[4] = {NULL, NULL, NULL, NULL}, *plan = NULL, *timer = NULL;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < 4 && st == HM_STATUS_SUCCESS; i++)
        if (bytes[i])
            st = hm__alloc(ctx, p->exec_space, bytes[i], &buf[i]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__fault(ctx, HM_FAULT_BACKEND_CALL)
                 ? hm__fail(ctx, HM_STATUS_CUBLAS_ERROR, "%s: timing a tile failed (injected)",
                            p->fn)
                 : p->be->plan(ctx, &tile, NULL, NULL, NULL, NULL, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = p->be->execute(ctx, plan, buf[0], buf[1], buf[2], buf[3]);
    if (st == HM_STATUS_SUCCESS)
        st = b->timer(ctx, p->exec.device_id, &timer, NULL);
    for (int r = 0; r < 3 && st == HM_STATUS_SUCCESS; r++)
        st = p->be->execute(ctx, plan, buf[0], buf[1], buf[2], buf[3]);
    if (timer) {
        double sec = 0;
        hm_status ts = b->timer(ctx, p->exec.device_id, &timer, &sec);
        st = st == HM_STATUS_SUCCESS ? ts : st;
        *seconds = sec / 3;
    }
    if (plan)
        p->be->destroy(plan);
    for (int i = 0; i < 4; i++)
        hm__free(ctx, p->exec_space, buf[i]);
    return st;
}

static hm_status plan_backend(hm_context *ctx, hm_matmul_plan *p, const hm_tensor *const in[])
{
    hm__log_phase(ctx, HM_PHASE_PLANNING);
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL))
        return hm__fail(ctx,
                        p->exec.kind == HM_EXEC_CPU ? HM_STATUS_INTERNAL : HM_STATUS_CUBLAS_ERROR,
                        "%s: planning failed (injected)", p->fn);
    hm_status st = map_desc(ctx, p);
    if (st != HM_STATUS_SUCCESS)
        return st;
    /* Autotuning runs on the caller's operands when they can be used where the work runs. */
    const void *a = NULL, *b = NULL, *bias = NULL;
    void *d = NULL;
    if (in && p->uniform && !p->stage[OP_A] && !p->stage[OP_B] && !p->stage[OP_D] && !p->d_alloc &&
        (!p->present[OP_BIAS] || !p->stage[OP_BIAS])) {
        a = in[OP_A]->data;
        b = in[OP_B]->data;
        d = in[OP_D]->data;
        bias = p->present[OP_BIAS] ? in[OP_BIAS]->data : NULL;
    }
    double t0 = hm__now();
    const void *first = p->desc.swapped ? b : a, *second = p->desc.swapped ? a : b;
    if (p->pipelined) {
        /* Row tiles of a row-major D are column blocks of the column-major call's output. */
        hm_matmul_desc tile = p->desc;
        char sizes[128];
        size_t es = hm_dtype_size(p->t[OP_A].dtype);
        int a_pinned = 0, d_pinned = 0;
        hm_device where;
        if (in && in[OP_A]->data)
            (void)hm__backend_locate(ctx, in[OP_A]->data, &where, &a_pinned);
        if (in && !p->d_alloc && in[OP_D]->data)
            (void)hm__backend_locate(ctx, in[OP_D]->data, &where, &d_pinned);
        const hm_pipe_shape shape = {
            p->fn,       "product",        p->exec.device_id, p->m,
            p->tile_max, HM_MIN_TILE_ROWS, (size_t)p->k * es, (size_t)p->n * es,
            !a_pinned,   !d_pinned};
        if ((st = hm__tiles_measured(ctx, &shape, time_tile, p, &p->tiles)) != HM_STATUS_SUCCESS)
            return st;
        for (int i = 0; i < p->tiles.nsizes; i++) {
            tile.n = p->tiles.size[i];
            if ((st = p->be->plan(ctx, &tile, NULL, NULL, NULL, NULL, &p->be_tile_plan[i])) !=
                HM_STATUS_SUCCESS)
                return st;
        }
        hm__tiles_describe(&p->tiles, sizes, sizeof sizes);
        hm__log(ctx, HM_LOG_INFO, "host operands pipelined: %lld row tiles of %s rows",
                (long long)p->tiles.count, sizes);
    } else if ((st = p->be->plan(ctx, &p->desc, first, second, d, bias, &p->be_plan)) !=
               HM_STATUS_SUCCESS) {
        return st;
    }
    char ex[48], staged[64] = "";
    size_t n = 0;
    for (int i = 0; i < OP_COUNT; i++)
        if (p->present[i] && p->stage[i])
            n +=
                (size_t)snprintf(staged + n, sizeof staged - n, "%s%s", n ? ", " : "", OP_NAMES[i]);
    hm__log(ctx, HM_LOG_INFO, "planned on %s in %.3f ms: %s, %s%s",
            hm__format_execution(&p->exec, ex, sizeof ex), (hm__now() - t0) * 1e3,
            p->uniform ? (p->batch > 1 ? "one strided-batch call" : "one call")
                       : "one call per batch entry",
            n ? "staged: " : "no operand staged", staged);
    return HM_STATUS_SUCCESS;
}

static hm_status run(hm_context *ctx, hm_matmul_plan *p, const hm_tensor *const in[], hm_tensor *D)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm__log_phase(ctx, HM_PHASE_EXECUTION);
    hm_tensor ex[OP_COUNT], out = p->d_alloc ? p->t[OP_D] : *D;
    bool allocated_d = false;
    double t0 = hm__now();
    for (int i = 0; i < OP_COUNT; i++) {
        ex[i] = p->ex[i];
        ex[i].data = (p->present[i] && !p->stage[i] && i != OP_D) ? in[i]->data : NULL;
    }
    if (p->d_alloc) {
        if ((st = hm__alloc(ctx, out.device, hm_tensor_nbytes(&out), &out.data)) !=
            HM_STATUS_SUCCESS)
            return st;
        allocated_d = true;
    }
    if (!p->stage[OP_D])
        ex[OP_D].data = out.data;
    bool c_used = p->present[OP_C] && p->opts.beta != 0.0;
    /* Never a D the plan allocates: it is the caller's to free once returned, and a later
     * allocation at the same address would look like the same buffer. */
    if (p->opts.register_host && p->exec.kind == HM_EXEC_CUDA)
        for (int i = 0; i < OP_COUNT; i++) {
            const hm_tensor *t = i == OP_D ? &out : in[i];
            bool moved = i == OP_C ? c_used : p->present[i] && p->stage[i];
            if (moved && !(i == OP_D && p->d_alloc) && hm__device_is_host(t->device))
                hm__host_pin_update(ctx, p->fn, OP_NAMES[i], &p->pin[i], t);
        }
    for (int i = 0; i < OP_COUNT; i++) {
        if (!p->present[i] || !p->stage[i])
            continue;
        if ((st = hm__alloc(ctx, p->exec_space, hm_tensor_nbytes(&ex[i]), &ex[i].data)) !=
            HM_STATUS_SUCCESS)
            goto fail;
        bool pipelined_here = p->pipelined && i == OP_A;
        if (i != OP_D && !pipelined_here &&
            (st = hm__transfer(ctx, in[i], &ex[i], p->fn, OP_NAMES[i], true)) != HM_STATUS_SUCCESS)
            goto fail;
    }
    /* C goes into the execution-side D (unless it is D itself); or D's old values, for beta. */
    if (c_used && in[OP_C]->data != out.data) {
        if ((st = hm__transfer(ctx, in[OP_C], &ex[OP_D], p->fn, "C", true)) != HM_STATUS_SUCCESS)
            goto fail;
    } else if ((c_used || needs_d_in(p)) && p->stage[OP_D]) {
        if ((st = hm__transfer(ctx, &out, &ex[OP_D], p->fn, "D", true)) != HM_STATUS_SUCCESS)
            goto fail;
    }
    size_t es = hm_dtype_size(p->t[OP_A].dtype);
    const char *a = ex[OP_A].data, *b = ex[OP_B].data;
    char *d = ex[OP_D].data;
    const void *bias = p->present[OP_BIAS] ? ex[OP_BIAS].data : NULL;
    double tc = hm__now();
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL)) {
        st =
            hm__fail(ctx, p->exec.kind == HM_EXEC_CPU ? HM_STATUS_INTERNAL : HM_STATUS_CUBLAS_ERROR,
                     "%s: the product failed (injected)", p->fn);
        goto fail;
    }
    if (p->pipelined) {
        hm_mm_pipeline job = {p->be_tile_plan,
                              &p->tiles,
                              p->m,
                              p->k,
                              p->n,
                              es,
                              in[OP_A]->data,
                              in[OP_A]->device,
                              out.data,
                              out.device,
                              ex[OP_A].data,
                              ex[OP_D].data,
                              ex[OP_B].data,
                              bias,
                              p->fn};
        if ((st = p->be->pipelined(ctx, &job)) != HM_STATUS_SUCCESS)
            goto fail;
    }
    for (int64_t f = 0; !p->pipelined && f < (p->uniform ? 1 : p->batch); f++) {
        int64_t oa = p->uniform ? 0 : p->offsets[f], ob = p->uniform ? 0 : p->offsets[p->batch + f],
                od = p->uniform ? 0 : p->offsets[2 * p->batch + f];
        const void *pa = a + oa * (int64_t)es, *pb = b + ob * (int64_t)es;
        st = p->be->execute(ctx, p->be_plan, p->desc.swapped ? pb : pa, p->desc.swapped ? pa : pb,
                            d + od * (int64_t)es, bias);
        if (st != HM_STATUS_SUCCESS)
            goto fail;
    }
    bool device = p->exec.kind == HM_EXEC_CUDA;
    bool staged = false;
    for (int i = 0; i < OP_COUNT; i++)
        staged |= p->present[i] && p->stage[i];
    bool wait = !device || p->opts.blocking || staged;
    if (device && wait &&
        (st = hm__backend(HM_BACKEND_CUDA)->synchronize_device(ctx, p->exec.device_id)) !=
            HM_STATUS_SUCCESS)
        goto fail;
    double compute = hm__now() - tc;
    if (p->stage[OP_D] && !p->pipelined &&
        (st = hm__transfer(ctx, &ex[OP_D], &out, p->fn, "D", true)) != HM_STATUS_SUCCESS)
        goto fail;
    if (hm__log_enabled(ctx, HM_LOG_INFO)) {
        double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k * (double)p->batch *
                       (is_complex(p->t[OP_A].dtype) ? 4 : 1);
        if (wait)
            hm__log(ctx, HM_LOG_INFO, "product %.3f ms (%.2f TFLOP/s), call %.3f ms", compute * 1e3,
                    compute > 0 ? flops / compute / 1e12 : 0.0, (hm__now() - t0) * 1e3);
        else
            hm__log(ctx, HM_LOG_INFO, "product queued on the stream of cuda:%d", p->exec.device_id);
    }
fail:
    if (st != HM_STATUS_SUCCESS && p->exec.kind == HM_EXEC_CUDA)
        (void)hm__backend(HM_BACKEND_CUDA)->synchronize(ctx);
    for (int i = 0; i < OP_COUNT; i++)
        if (p->present[i] && p->stage[i])
            hm__free(ctx, p->exec_space, ex[i].data);
    if (st != HM_STATUS_SUCCESS) {
        if (allocated_d)
            hm__free(ctx, out.device, out.data);
        return st;
    }
    if (allocated_d)
        *D = out;
    return HM_STATUS_SUCCESS;
}

/* The cache key of a stateless call. */
typedef struct matmul_key {
    hm_op_class kind;
    hm_matmul_options opts;
    hm_tensor t[OP_COUNT];
    bool present[OP_COUNT];
    bool d_alloc;
    hm_execution exec;
} matmul_key;

static hm_status stateless(hm_context *ctx, const char *fn, hm_op_class kind,
                           const hm_tensor *const in[OP_COUNT], hm_tensor *D,
                           const hm_matmul_options *opts)
{
    hm_matmul_plan spec;
    hm_status st = specify(ctx, fn, kind, in, opts, true, &spec);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (spec.opts.register_host)
        return hm__host_pin_refuse_stateless(ctx, fn, "hm_matmul_plan_create");
    log_specification(ctx, &spec);
    if ((st = guard_copies(ctx, &spec)) != HM_STATUS_SUCCESS)
        return st;
    matmul_key key;
    memset(&key, 0, sizeof key);
    key.kind = kind;
    key.opts = spec.opts;
    key.opts.blocking = 0;
    key.opts.alpha = key.opts.beta = 0; /* scalars are execution arguments */
    memcpy(key.t, spec.t, sizeof key.t);
    memcpy(key.present, spec.present, sizeof key.present);
    key.d_alloc = spec.d_alloc;
    key.exec = spec.exec;
    hm_matmul_plan *p = hm__plan_cache_get(ctx, fn, &key, sizeof key);
    if (!p) {
        p = malloc(sizeof *p);
        if (!p)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", fn);
        *p = spec;
        if ((st = plan_backend(ctx, p, in)) != HM_STATUS_SUCCESS) {
            plan_release(p);
            return st;
        }
        if ((st = hm__plan_cache_put(ctx, fn, &key, sizeof key, p, plan_free)) != HM_STATUS_SUCCESS)
            return st;
    } else {
        hm__log_phase(ctx, HM_PHASE_PLANNING);
        hm__log(ctx, HM_LOG_INFO, "plan reused from the context's cache");
    }
    p->opts.alpha = spec.opts.alpha;
    p->opts.beta = spec.opts.beta;
    p->opts.blocking = spec.opts.blocking;
    p->desc.alpha[0] = spec.opts.alpha;
    p->desc.beta[0] = spec.opts.beta;
    return run(ctx, p, in, D);
}

hm_status hm_matmul(hm_context *ctx, const hm_tensor *A, const hm_tensor *B, const hm_tensor *C,
                    hm_tensor *D, const hm_matmul_options *opts)
{
    HM_ENTER(ctx, "hm_matmul");
    const hm_tensor *in[OP_COUNT] = {A, B, C, D, NULL};
    return stateless(ctx, "hm_matmul", HM_OP_GENERIC, in, D, opts);
}

hm_status hm_matmul_advanced(hm_context *ctx, const hm_tensor *A, const hm_tensor *B,
                             const hm_tensor *C, hm_tensor *D, const hm_tensor *bias,
                             const hm_matmul_options *opts)
{
    HM_ENTER(ctx, "hm_matmul_advanced");
    const hm_tensor *in[OP_COUNT] = {A, B, C, D, bias};
    return stateless(ctx, "hm_matmul_advanced", HM_OP_SPECIALIZED, in, D, opts);
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
    hm_matmul_plan *p = malloc(sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", fn);
    const hm_tensor *in[OP_COUNT] = {A, B, C, D, bias};
    hm_status st = specify(ctx, fn, kind, in, opts, false, p);
    if (st == HM_STATUS_SUCCESS) {
        p->fn = kind == HM_OP_GENERIC ? "hm_matmul" : "hm_matmul_advanced";
        log_specification(ctx, p);
        bool pointers = A->data && B->data && D->data && (!bias || bias->data);
        st = plan_backend(ctx, p, pointers ? in : NULL);
    }
    if (st != HM_STATUS_SUCCESS) {
        plan_release(p);
        return st;
    }
    *out = p;
    return HM_STATUS_SUCCESS;
}

hm_status hm_matmul_execute(hm_context *ctx, hm_matmul_plan *plan, const hm_tensor *A,
                            const hm_tensor *B, const hm_tensor *C, hm_tensor *D,
                            const hm_tensor *bias)
{
    static const char *const fn = "hm_matmul_execute";
    HM_ENTER(ctx, fn);
    if (!plan)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan is NULL", fn);
    if (plan->ctx != ctx)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan belongs to another context",
                        fn);
    const hm_tensor *in[OP_COUNT] = {A, B, C, D, bias};
    for (int i = 0; i < OP_COUNT; i++) {
        bool given = in[i] != NULL;
        if (i == OP_D) {
            if (!D)
                return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand D is NULL", fn);
            if (plan->d_alloc) {
                if (D->data)
                    return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                                    "%s: the plan allocates D, but operand D has data", fn);
                continue;
            }
        } else if (given != plan->present[i]) {
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH, "%s: operand %s was %s when planned", fn,
                            OP_NAMES[i], plan->present[i] ? "given" : "absent");
        }
        if (!given)
            continue;
        hm_status st = hm__check_operand(ctx, fn, OP_NAMES[i], in[i]);
        if (st != HM_STATUS_SUCCESS)
            return st;
        if (!hm__same_layout(in[i], &plan->t[i]))
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                            "%s: operand %s differs from the planned layout (dtype, shape, "
                            "strides or memory space)",
                            fn, OP_NAMES[i]);
    }
    if (!plan->d_alloc)
        for (int i = 0; i < OP_COUNT; i++)
            if (i != OP_D && in[i] && hm__tensors_overlap(in[i], D) &&
                !(i == OP_C && in[i]->data == D->data))
                return hm__fail(ctx, HM_STATUS_ALIASING, "%s: operand D overlaps %s", fn,
                                OP_NAMES[i]);
    hm_status st = guard_copies(ctx, plan);
    if (st != HM_STATUS_SUCCESS)
        return st;
    return run(ctx, plan, in, D);
}

void hm_matmul_plan_destroy(hm_matmul_plan *plan)
{
    plan_release(plan);
}
