/* The generic FFT on the one lifecycle (core/op.h): its options, its specification (the checks
 * are in fft_check.c), where x and y are transformed (in place in memory, or through compact
 * canonical temporaries where the backend cannot run a layout or the operand is in another
 * space), the pipeline of batched host operands on a device, and its backend calls. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fft_backend.h"
#include "core/fft_check.h"

static const hm_operand_role fft_roles[FFT_OPERANDS] = {
    [FFT_X] = {"x", HM_ROLE_IN | HM_ROLE_OUT_VIEW | HM_ROLE_TILED},
    [FFT_Y] = {"y", HM_ROLE_OUT},
};

void hm_fft_options_init(hm_fft_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->type = HM_FFT_C2C;
    opts->direction = HM_FFT_FORWARD;
    opts->norm = HM_FFT_NORM_BACKWARD;
    opts->execution = hm_execution_default();
    opts->effort = HM_FFT_ESTIMATE;
}

static const char *norm_name(hm_fft_norm n)
{
    static const char *const names[] = {"backward", "none", "ortho", "forward"};
    return names[n];
}

/* Strides that lay t out compactly with the batch axes first and the transform axes last, in
 * the order the axes were given: the layout every backend can run. */
static void canonical_layout(const hm_tensor *t, const int *axes, int rank, hm_tensor *out)
{
    *out = *t;
    out->data = NULL;
    int order[HM_MAX_NDIM], n = 0;
    for (int d = 0; d < t->ndim; d++) {
        bool is_axis = false;
        for (int i = 0; i < rank; i++)
            is_axis |= axes[i] == d;
        if (!is_axis)
            order[n++] = d;
    }
    for (int i = 0; i < rank; i++)
        order[n++] = axes[i];
    int64_t running = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        out->strides[order[i]] = running;
        running *= t->shape[order[i]];
    }
}

/* The backend's description of the transform of the execution-side layouts; with rows > 0, of a
 * pipeline tile of `rows` batch entries (the batch folded into one dimension). */
static void build_desc(const struct hm_fft_plan *f, int64_t rows, hm_fft_desc *d)
{
    const hm_op_plan *p = &f->base;
    const hm_fft_options *o = &f->opts;
    const hm_tensor *in = &p->ex[FFT_X], *out = &p->ex[FFT_Y], *x = &p->t[FFT_X];
    memset(d, 0, sizeof *d);
    d->type = o->type;
    d->direction = o->direction;
    d->double_precision = x->dtype == HM_DTYPE_F64 || x->dtype == HM_DTYPE_C128;
    d->rank = o->num_axes;
    for (int i = 0; i < d->rank; i++) {
        int a = o->axes[i];
        d->n[i] = (o->type == HM_FFT_C2R && i == d->rank - 1) ? p->t[FFT_Y].shape[a] : x->shape[a];
        d->in_stride[i] = in->strides[a];
        d->out_stride[i] = out->strides[a];
    }
    for (int dim = 0; dim < x->ndim; dim++) {
        bool is_axis = false;
        for (int i = 0; i < d->rank; i++)
            is_axis |= o->axes[i] == dim;
        if (is_axis || x->shape[dim] == 1)
            continue;
        d->batch_n[d->batch_rank] = x->shape[dim];
        d->batch_in_stride[d->batch_rank] = in->strides[dim];
        d->batch_out_stride[d->batch_rank] = out->strides[dim];
        d->batch_rank++;
    }
    int64_t lo;
    hm__tensor_extent(in, &lo, &d->in_span);
    hm__tensor_extent(out, &lo, &d->out_span);
    d->in_place = p->one_buffer && !p->stage[FFT_X] && !p->stage[FFT_Y];
    d->may_overwrite_input = p->stage[FFT_X] || o->overwrite_input;
    d->scale = hm__fft_norm_scale(f->opts.norm, f->opts.direction, (double)f->n_total);
    d->exec = p->exec;
    d->effort = o->effort;
    if (rows > 0 && p->outer > 0) { /* a block of columns: transform axes leading, packed */
        int64_t stride = rows;
        for (int i = d->rank - 1; i >= 0; i--) {
            d->in_stride[i] = d->out_stride[i] = stride;
            stride *= d->n[i];
        }
        d->batch_rank = 1;
        d->batch_n[0] = rows;
        d->batch_in_stride[0] = d->batch_out_stride[0] = 1;
        d->in_span = d->out_span = stride;
    } else if (rows > 0) {
        int64_t all = 1;
        for (int i = 0; i < d->batch_rank; i++)
            all *= d->batch_n[i];
        int64_t in_row = d->in_span / all, out_row = d->out_span / all;
        d->batch_rank = 1;
        d->batch_n[0] = rows;
        d->batch_in_stride[0] = in_row;
        d->batch_out_stride[0] = out_row;
        d->in_span = rows * in_row;
        d->out_span = rows * out_row;
    }
}

static hm_status fft_options(hm_context *ctx, hm_op_plan *p, const void *opts)
{
    struct hm_fft_plan *f = (struct hm_fft_plan *)p;
    hm_fft_options_init(&f->opts);
    hm_status st =
        hm__op_copy_options(ctx, p->api, "hm_fft_options", &f->opts, sizeof f->opts, opts);
    if (st == HM_STATUS_SUCCESS)
        st = hm__fft_check_options(ctx, p->api, &f->opts);
    p->blocking = f->opts.blocking != 0;
    p->register_host = f->opts.register_host;
    p->budget_request = f->opts.device_memory_limit;
    p->stream = f->opts.stream;
    return st;
}

/* Where x and y are transformed: the caller's own memory where the backend can run their
 * layouts there, else compact canonical temporaries in the execution space. A c2r backend
 * overwrites its input, so x then gets a private copy unless the caller allows it
 * (overwrite_input). */
static void place_operands(struct hm_fft_plan *f)
{
    hm_op_plan *p = &f->base;
    const hm_fft_options *o = &f->opts;
    char why[160];
    hm_fft_desc d;
    hm__op_place(p, FFT_X, NULL);
    hm__op_place(p, FFT_Y, NULL);
    build_desc(f, 0, &d);
    bool x_here = hm__op_in_exec_space(p, p->t[FFT_X].device);
    if (x_here && (o->type != HM_FFT_C2R || o->overwrite_input) &&
        hm__backend_supports(p->backend, HM_OP_FFT, &d, why, sizeof why))
        return;
    hm_tensor staged;
    canonical_layout(&p->t[FFT_X], o->axes, o->num_axes, &staged);
    hm__op_place(p, FFT_X, &staged);
    build_desc(f, 0, &d);
    if (x_here && hm__backend_supports(p->backend, HM_OP_FFT, &d, why, sizeof why))
        return;
    canonical_layout(&p->t[FFT_Y], o->axes, o->num_axes, &staged);
    hm__op_place(p, FFT_Y, &staged);
}

/* Host operands transformed on a device, both compact, pipelined when their batch can be cut:
 * chunks of the batch when the transform axes trail (tiles of rows), or blocks of the batch's
 * columns when they lead (axes 0..a-1 of a c2c transform: tiles of columns, each a strided
 * batch on the device). A c2c or r2c transform over every axis has no batch: when it does not fit
 * the budget whole it runs in two passes (fft_passes). Then the schedule within the budget. */
static hm_status fit_budget(hm_context *ctx, struct hm_fft_plan *f)
{
    hm_op_plan *p = &f->base;
    const hm_fft_options *o = &f->opts;
    const hm_tensor *x = &p->t[FFT_X], *y = &p->t[FFT_Y];
    int lead = x->ndim - o->num_axes;
    bool trailing = lead > 0, leading = lead > 0 && o->type == HM_FFT_C2C;
    for (int i = 0; i < o->num_axes; i++) {
        trailing &= o->axes[i] == lead + i;
        leading &= o->axes[i] == i;
    }
    int64_t batch = 1, n = 1;
    for (int i = 0; i < x->ndim; i++) {
        bool axis = trailing ? i >= lead : i < o->num_axes;
        n *= axis ? x->shape[i] : 1;
        batch *= axis ? 1 : x->shape[i];
    }
    bool compact = p->stage[FFT_X] && p->stage[FFT_Y] && hm_tensor_is_contiguous(x) &&
                   hm_tensor_is_contiguous(y);
    hm_pipe_request req = {.pipelinable = (trailing || leading) && batch >= 8 && compact,
                           .tiled = FFT_X,
                           .rows = batch,
                           .cols = 1,
                           .min_tile = 1,
                           .outer = trailing ? 0 : n,
                           .passes = !trailing && !leading && lead == 0 && x->ndim >= 2 &&
                                             o->type != HM_FFT_C2R && compact
                                         ? 2
                                         : 0};
    if (req.pipelinable) {
        req.in_row_bytes = hm_tensor_nbytes(x) / (size_t)batch;
        req.out_col_bytes = hm_tensor_nbytes(y) / (size_t)batch;
    }
    return hm__op_fit_budget(ctx, p, &req);
}

/* The two passes of a c2c or r2c transform over every axis of host operands larger than the
 * budget: the inner axes of every slab of the first (x into y: chunks of the first axis; r2c
 * there), then the first axis of every pencil of the others (y in place, c2c: blocks of
 * columns), each streamed within the budget. Each pass normalises for its own axes: together,
 * for all of them. (c2r would need the complex side's first axis transformed before the halved
 * one, where x may not be written and y is too small: not streamed.) */
static hm_status fft_passes(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    const struct hm_fft_plan *f = (const struct hm_fft_plan *)p;
    hm_fft_options o[2] = {f->opts, f->opts};
    int nd = p->t[FFT_X].ndim;
    o[0].num_axes = nd - 1;
    for (int i = 0; i < nd - 1; i++)
        o[0].axes[i] = i + 1;
    o[1].num_axes = 1;
    o[1].axes[0] = 0;
    o[1].type = HM_FFT_C2C; /* after an r2c of the inner axes: the first axis of complex y */
    hm_tensor x = p->t[FFT_X], y = p->t[FFT_Y];
    if (in && in[FFT_X])
        x.data = in[FFT_X]->data;
    if (in && !p->alloc_out && in[FFT_Y])
        y.data = in[FFT_Y]->data;
    const hm_tensor *first[FFT_OPERANDS] = {p->one_buffer ? &y : &x, &y},
                    *second[FFT_OPERANDS] = {&y, &y};
    const hm_tensor *const *ops[2] = {first, second};
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 0; k < 2 && st == HM_STATUS_SUCCESS; k++) {
        o[k].device_memory_limit = p->budget; /* the budget resolved for the whole */
        hm__log(ctx, HM_LOG_INFO, "pass %d of 2: the %s (%s), planned:", k + 1,
                k ? "first axis of every pencil of the others, y in place"
                  : "inner axes of every slab of the first axis",
                k ? "blocks of columns" : "chunks of slabs");
        st = hm__op_plan_create(ctx, p->def, p->api, HM_OP_GENERIC, ops[k], &o[k], &p->pass[k]);
    }
    return st;
}

static hm_status fft_specify(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    struct hm_fft_plan *f = (struct hm_fft_plan *)p;
    hm_fft_options *o = &f->opts;
    const hm_tensor *x = &p->t[FFT_X];
    hm_tensor expect;
    hm_status st = hm__fft_check_axes(ctx, p->api, o, x->ndim);
    if (st == HM_STATUS_SUCCESS && o->num_axes == 0 && o->type != HM_FFT_C2C)
        st = hm__fail(ctx, HM_STATUS_INVALID_AXES,
                      "%s: operand x has no axis, and a %s transform needs one", p->api,
                      hm__fft_type_name(o->type));
    if (st == HM_STATUS_SUCCESS)
        st = hm__fft_check_input(ctx, p->api, f, x, &expect);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (p->alloc_out)
        p->t[FFT_Y] = expect;
    else if ((st = hm__fft_check_output(ctx, p->api, f, &p->t[FFT_Y], &expect)) !=
             HM_STATUS_SUCCESS)
        return st;
    p->flops =
        f->n_total > 1 ? 5.0 * (double)f->n_total * log2((double)f->n_total) * (double)f->batch : 0;
    if (o->type != HM_FFT_C2C)
        p->flops /= 2;
    if (o->effort != HM_FFT_MEASURE) {
        /* Threads cost more than they give below ~32k elements each, unless the planner
         * measures: then the CPU backend times its plans on one thread, on fewer and on all. */
        int64_t useful = hm_tensor_numel(x) / 32768;
        p->cpu_threads_cap = useful < 1                ? 1
                             : useful > HM_MAX_THREADS ? HM_MAX_THREADS
                                                       : (int)useful;
    }
    p->may_pipeline = f->batch >= 8; /* fit_budget has the whole rule, with the staging */
    if ((st = hm__op_resolve(ctx, p, in, &o->execution)) != HM_STATUS_SUCCESS)
        return st;
    p->empty = hm_tensor_numel(x) == 0;
    /* A transform over no axis (of a 0-d x) is the identity. */
    p->trivial = o->num_axes == 0;
    if (p->empty || p->trivial)
        return HM_STATUS_SUCCESS;
    place_operands(f);
    return fit_budget(ctx, f);
}

static void fft_describe(hm_context *ctx, const hm_op_plan *p)
{
    const struct hm_fft_plan *f = (const struct hm_fft_plan *)p;
    const hm_fft_options *o = &f->opts;
    char axes[48] = "";
    size_t n = 0;
    for (int i = 0; i < o->num_axes; i++)
        n += (size_t)snprintf(axes + n, sizeof axes - n, "%s%d", i ? ", " : "", o->axes[i]);
    hm__log(ctx, HM_LOG_INFO,
            "fft: %s %s, rank %d over axes [%s], batch %lld, n %lld, norm %s, %.3g GFLOP (5 N "
            "log2 N a transform)",
            hm__fft_type_name(o->type), o->direction == HM_FFT_FORWARD ? "forward" : "inverse",
            o->num_axes, axes, (long long)f->batch, (long long)f->n_total, norm_name(o->norm),
            p->flops / 1e9);
}

static void fft_key(const hm_op_plan *p, unsigned char key[HM_OP_KEY_BYTES])
{
    const hm_fft_options *o = &((const struct hm_fft_plan *)p)->opts;
    struct {
        int type, direction, num_axes, axes[HM_FFT_MAX_RANK], norm, effort, overwrite_input;
        int64_t last_length;
        size_t device_memory_limit;
    } k;
    _Static_assert(sizeof k <= HM_OP_KEY_BYTES, "the FFT's key fits");
    memset(&k, 0, sizeof k);
    k.type = o->type;
    k.direction = o->direction;
    k.num_axes = o->num_axes;
    memcpy(k.axes, o->axes, sizeof k.axes);
    k.norm = o->norm;
    k.effort = o->effort;
    k.overwrite_input = o->overwrite_input && o->type == HM_FFT_C2R;
    k.last_length = o->last_length;
    k.device_memory_limit = o->device_memory_limit;
    memcpy(key, &k, sizeof k);
}

static hm_status fft_plan(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                          void *const data[], void **be_plan)
{
    (void)cols, (void)data;
    hm_fft_desc d;
    build_desc((const struct hm_fft_plan *)p, rows, &d);
    hm__op_plan_device(p, device, &d.exec);
    return hm__backend_plan(ctx, p->backend, HM_OP_FFT, p->fn, &d, NULL, be_plan);
}

static hm_status fft_execute(hm_context *ctx, const hm_op_plan *p, void *be_plan,
                             void *const data[])
{
    const hm_fft_args args = {.in = data[FFT_X], .out = data[FFT_Y]};
    return hm__backend_execute(ctx, p->backend, HM_OP_FFT, p->fn, be_plan, &args);
}

/* The identity of a 0-d x: y = x. */
static hm_status fft_identity(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out)
{
    if (in[FFT_X]->data == out->data)
        return HM_STATUS_SUCCESS;
    return hm__transfer(ctx, in[FFT_X], out, p->fn, "x", true);
}

static const hm_op_def fft_def = {
    .id = HM_OP_FFT,
    .names = {"hm_fft", "hm_fft"},
    .plan_create = "hm_fft_plan_create",
    .work = "transform",
    .row_unit = "transforms",
    .count = FFT_OPERANDS,
    .out = FFT_Y,
    .roles = fft_roles,
    .plan_size = sizeof(struct hm_fft_plan),
    .plan_in_place = true,
    .options = fft_options,
    .specify = fft_specify,
    .describe = fft_describe,
    .key = fft_key,
    .plan = fft_plan,
    .execute = fft_execute,
    .trivial = fft_identity,
    .passes = fft_passes,
};

hm_status hm_fft(hm_context *ctx, const hm_tensor *x, hm_tensor *y, const hm_fft_options *opts)
{
    HM_ENTER(ctx, "hm_fft");
    const hm_tensor *in[FFT_OPERANDS] = {x, y};
    return hm__op_call(ctx, &fft_def, HM_OP_GENERIC, in, y, opts);
}

hm_status hm_fft_plan_create(hm_context *ctx, const hm_tensor *x, const hm_tensor *y,
                             const hm_fft_options *opts, hm_fft_plan **out)
{
    static const char *const fn = "hm_fft_plan_create";
    HM_ENTER(ctx, fn);
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output pointer is NULL", fn);
    const hm_tensor *in[FFT_OPERANDS] = {x, y};
    hm_op_plan *p = NULL;
    hm_status st = hm__op_plan_create(ctx, &fft_def, fn, HM_OP_GENERIC, in, opts, &p);
    *out = (hm_fft_plan *)p;
    return st;
}

hm_status hm_fft_execute(hm_context *ctx, hm_fft_plan *plan, const hm_tensor *x, hm_tensor *y)
{
    static const char *const fn = "hm_fft_execute";
    HM_ENTER(ctx, fn);
    const hm_tensor *in[FFT_OPERANDS] = {x, y};
    return hm__op_execute(ctx, &fft_def, fn, (hm_op_plan *)plan, in, y);
}

hm_status hm_fft_execute_unchecked(hm_context *ctx, hm_fft_plan *plan, const hm_tensor *x,
                                   hm_tensor *y)
{
    static const char *const fn = "hm_fft_execute_unchecked";
    HM_ENTER(ctx, fn);
    const hm_tensor *in[FFT_OPERANDS] = {x, y};
    return hm__op_execute_unchecked(ctx, &fft_def, fn, (hm_op_plan *)plan, in, y);
}

hm_status hm_fft_estimate(hm_context *ctx, const hm_tensor *x, const hm_tensor *y,
                          const hm_fft_options *opts, hm_estimate *out)
{
    static const char *const fn = "hm_fft_estimate";
    HM_ENTER(ctx, fn);
    const hm_tensor *in[FFT_OPERANDS] = {x, y};
    return hm__op_estimate(ctx, &fft_def, fn, HM_OP_GENERIC, in, opts, out);
}

hm_status hm_fft_plan_set_stream(hm_fft_plan *plan, void *stream)
{
    if (!plan)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__op_plan_stream((hm_op_plan *)plan, stream);
    return HM_STATUS_SUCCESS;
}

void hm_fft_plan_destroy(hm_fft_plan *plan)
{
    hm__op_plan_destroy((hm_op_plan *)plan);
}
