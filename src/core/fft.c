/* The generic FFT: specification (checks, axes, output layout, execution space), planning
 * (backend plan, canonical staging where the backend cannot express a layout or the operand is in
 * another space), execution (copies in, transform, copies out), each phase logged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/plan_cache.h"
#include "core/registration.h"

static const char *const FFT_OP = "hm_fft";

struct hm_fft_plan {
    hm_context *ctx;
    hm_fft_options opts; /* axes resolved to 0..ndim-1, num_axes ≥ 1 */
    hm_tensor x, y;      /* the caller-side layouts (data ignored) */
    bool y_alloc;        /* y is allocated row-major at each execution */
    hm_execution exec;
    hm_device exec_space; /* host or cuda:N */
    bool stage_in;        /* x goes through a compact temporary in the execution space */
    bool stage_out;       /* the result is made in a temporary, then copied into y */
    hm_tensor xin, yout;  /* the layouts the backend sees */
    const hm_fft_backend *be;
    void *be_plan;
    bool one_buffer;  /* planned with x and y the same buffer (the caller's in place) */
    bool in_place;    /* the backend plan transforms in place (one buffer, nothing staged) */
    bool pipelined;   /* host operands pipelined over chunks of the batch */
    hm_tiles tiles;   /* those chunks */
    int64_t tile_max; /* batch entries of x and of y a staging buffer holds */
    void *be_tile_plan[HM_TILE_SIZES]; /* a plan for each chunk size */
    int64_t n_total;                   /* product of the transform lengths */
    int64_t batch;
    hm_host_pin pin_x, pin_y; /* host operands registered (opts.register_host) */
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

static const char *type_name(hm_fft_type t)
{
    static const char *const names[] = {"c2c", "r2c", "c2r"};
    return names[t];
}

static const char *norm_name(hm_fft_norm n)
{
    static const char *const names[] = {"backward", "none", "ortho", "forward"};
    return names[n];
}

static bool is_complex(hm_dtype d)
{
    return d == HM_DTYPE_C64 || d == HM_DTYPE_C128;
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

static void build_desc(const hm_fft_plan *p, const hm_tensor *in, const hm_tensor *out,
                       hm_fft_desc *d)
{
    memset(d, 0, sizeof *d);
    const hm_fft_options *o = &p->opts;
    d->type = o->type;
    d->direction = o->direction;
    d->double_precision = p->x.dtype == HM_DTYPE_F64 || p->x.dtype == HM_DTYPE_C128;
    d->rank = o->num_axes;
    for (int i = 0; i < d->rank; i++) {
        int a = o->axes[i];
        d->n[i] = (o->type == HM_FFT_C2R && i == d->rank - 1) ? p->y.shape[a] : p->x.shape[a];
        d->in_stride[i] = in->strides[a];
        d->out_stride[i] = out->strides[a];
    }
    for (int dim = 0; dim < p->x.ndim; dim++) {
        bool is_axis = false;
        for (int i = 0; i < d->rank; i++)
            is_axis |= o->axes[i] == dim;
        if (is_axis || p->x.shape[dim] == 1)
            continue;
        d->batch_n[d->batch_rank] = p->x.shape[dim];
        d->batch_in_stride[d->batch_rank] = in->strides[dim];
        d->batch_out_stride[d->batch_rank] = out->strides[dim];
        d->batch_rank++;
    }
    int64_t lo;
    hm__tensor_extent(in, &lo, &d->in_span);
    hm__tensor_extent(out, &lo, &d->out_span);
    d->in_place = p->in_place;
    double n = (double)p->n_total;
    bool fwd = o->direction == HM_FFT_FORWARD;
    switch (o->norm) {
    case HM_FFT_NORM_BACKWARD:
        d->scale = fwd ? 1.0 : 1.0 / n;
        break;
    case HM_FFT_NORM_FORWARD:
        d->scale = fwd ? 1.0 / n : 1.0;
        break;
    case HM_FFT_NORM_ORTHO:
        d->scale = 1.0 / sqrt(n);
        break;
    default:
        d->scale = 1.0;
        break;
    }
    d->exec = p->exec;
    d->effort = o->effort;
}

/* Checks everything about the call and fills p's specification (not the backend plan). With
 * check_pointers false (plan creation) the data pointers are not looked at. */
static hm_status specify(hm_context *ctx, const char *fn, const hm_tensor *x, const hm_tensor *y,
                         const hm_fft_options *opts, bool check_pointers, hm_fft_plan *p)
{
    hm_status st;
    char why[160];
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    hm_fft_options_init(&p->opts);
    if (opts) {
        if (opts->size < sizeof(size_t) || opts->size > sizeof p->opts)
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                            "%s: options size %zu is not that "
                            "of an hm_fft_options (%zu)",
                            fn, opts->size, sizeof p->opts);
        memcpy(&p->opts, opts, opts->size);
    }
    hm_fft_options *o = &p->opts;
    if ((int)o->type < HM_FFT_C2C || o->type > HM_FFT_C2R)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: type %d is not an hm_fft_type", fn,
                        (int)o->type);
    if (o->direction != HM_FFT_FORWARD && o->direction != HM_FFT_INVERSE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: direction %d is neither forward (-1) nor inverse (1)", fn,
                        (int)o->direction);
    if ((int)o->norm < HM_FFT_NORM_BACKWARD || o->norm > HM_FFT_NORM_FORWARD)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: norm %d is not an hm_fft_norm", fn,
                        (int)o->norm);
    if ((int)o->effort < HM_FFT_ESTIMATE || o->effort > HM_FFT_MEASURE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: effort %d is not an hm_fft_effort",
                        fn, (int)o->effort);
    if ((st = hm__host_pin_check(ctx, fn, o->register_host)) != HM_STATUS_SUCCESS)
        return st;
    if (o->type == HM_FFT_R2C && o->direction != HM_FFT_FORWARD)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: a real-to-complex transform is forward; use c2r for the inverse", fn);
    if (o->type == HM_FFT_C2R && o->direction != HM_FFT_INVERSE)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: a complex-to-real transform is inverse; use r2c for the forward", fn);

    if (check_pointers) {
        if ((st = hm__check_operand(ctx, fn, "x", x)) != HM_STATUS_SUCCESS)
            return st;
    } else {
        if (!x)
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand x is NULL", fn);
        if ((st = hm__tensor_validate(x, why, sizeof why)) != HM_STATUS_SUCCESS)
            return hm__fail(ctx, st, "%s: operand x is invalid: %s", fn, why);
    }
    if (!y)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand y is NULL", fn);
    p->x = *x;
    p->x.data = NULL;

    /* Axes. */
    if (o->num_axes < 0 || o->num_axes > HM_FFT_MAX_RANK)
        return hm__fail(ctx, HM_STATUS_INVALID_AXES, "%s: %d transform axes (1 to %d allowed)", fn,
                        o->num_axes, HM_FFT_MAX_RANK);
    if (o->num_axes == 0) {
        if (x->ndim == 0 || x->ndim > HM_FFT_MAX_RANK)
            return hm__fail(ctx, HM_STATUS_INVALID_AXES,
                            "%s: operand x has %d dimensions; name the (at most %d) axes to "
                            "transform",
                            fn, x->ndim, HM_FFT_MAX_RANK);
        o->num_axes = x->ndim;
        for (int i = 0; i < x->ndim; i++)
            o->axes[i] = i;
    }
    for (int i = 0; i < o->num_axes; i++) {
        int a = o->axes[i] < 0 ? o->axes[i] + x->ndim : o->axes[i];
        if (a < 0 || a >= x->ndim)
            return hm__fail(ctx, HM_STATUS_INVALID_AXES,
                            "%s: axis %d is out of range for operand x of %d dimensions", fn,
                            o->axes[i], x->ndim);
        for (int j = 0; j < i; j++)
            if (o->axes[j] == a)
                return hm__fail(ctx, HM_STATUS_INVALID_AXES, "%s: axis %d is repeated", fn, a);
        o->axes[i] = a;
    }

    /* Dtypes and lengths. */
    bool want_complex = o->type != HM_FFT_R2C;
    if (is_complex(x->dtype) != want_complex ||
        !(x->dtype == HM_DTYPE_F32 || x->dtype == HM_DTYPE_F64 || is_complex(x->dtype)))
        return hm__fail(ctx, HM_STATUS_INVALID_DTYPE,
                        "%s: operand x is %s, but a %s transform takes %s", fn,
                        hm_dtype_name(x->dtype), type_name(o->type),
                        want_complex ? "c64 or c128" : "f32 or f64");
    for (int d = 0; d < x->ndim; d++)
        if (x->shape[d] == 0)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: operand x has a zero-length axis %d",
                            fn, d);
    hm_tensor expect = p->x;
    int last = o->axes[o->num_axes - 1];
    bool dbl = x->dtype == HM_DTYPE_F64 || x->dtype == HM_DTYPE_C128;
    if (o->type == HM_FFT_R2C) {
        expect.shape[last] = x->shape[last] / 2 + 1;
        expect.dtype = dbl ? HM_DTYPE_C128 : HM_DTYPE_C64;
    } else if (o->type == HM_FFT_C2R) {
        int64_t m = x->shape[last];
        int64_t len = o->last_length ? o->last_length : 2 * (m - 1);
        if (len <= 0 || len / 2 + 1 != m)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE,
                            "%s: a c2r output of length %lld along axis %d needs %lld input "
                            "elements there, but operand x has %lld",
                            fn, (long long)len, last, (long long)(len > 0 ? len / 2 + 1 : 0),
                            (long long)m);
        expect.shape[last] = len;
        expect.dtype = dbl ? HM_DTYPE_F64 : HM_DTYPE_F32;
    }
    p->n_total = 1;
    for (int i = 0; i < o->num_axes; i++)
        p->n_total *= (o->type == HM_FFT_C2R && i == o->num_axes - 1) ? expect.shape[last]
                                                                      : x->shape[o->axes[i]];
    p->batch =
        hm_tensor_numel(&p->x) /
        (o->type == HM_FFT_C2R ? p->n_total / expect.shape[last] * x->shape[last] : p->n_total);

    /* The output. */
    if (!y->data && y->ndim == 0) {
        p->y_alloc = true;
        p->y = expect;
        hm__row_major_strides(expect.ndim, expect.shape, p->y.strides);
    } else {
        if (check_pointers) {
            if ((st = hm__check_operand(ctx, fn, "y", y)) != HM_STATUS_SUCCESS)
                return st;
        } else if ((st = hm__tensor_validate(y, why, sizeof why)) != HM_STATUS_SUCCESS) {
            return hm__fail(ctx, st, "%s: operand y is invalid: %s", fn, why);
        }
        if (y->dtype != expect.dtype)
            return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH,
                            "%s: operand y is %s but this %s transform of %s produces %s", fn,
                            hm_dtype_name(y->dtype), type_name(o->type), hm_dtype_name(x->dtype),
                            hm_dtype_name(expect.dtype));
        if (!hm__same_shape(y, &expect))
            return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                            "%s: operand y does not have the output shape (axis %d should be "
                            "%lld long)",
                            fn, last, (long long)expect.shape[last]);
        if (!hm__device_equal(y->device, x->device)) {
            char a[32], b[32];
            return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                            "%s: operand y is in %s but x is in %s; the result is returned in "
                            "the operand's memory space",
                            fn, hm_device_format(y->device, a, sizeof a),
                            hm_device_format(x->device, b, sizeof b));
        }
        p->y = *y;
        p->y.data = NULL;
        if (check_pointers && hm__tensors_overlap(x, y)) {
            bool same =
                x->data == y->data && memcmp(x->strides, y->strides, sizeof x->strides) == 0;
            if (!same || o->type != HM_FFT_C2C)
                return hm__fail(ctx, HM_STATUS_ALIASING,
                                "%s: operand y overlaps x (in place is allowed only for c2c on "
                                "the same view)",
                                fn);
        }
    }

    /* Where it runs. */
    const hm_tensor *ops[2] = {x, p->y_alloc ? NULL : y};
    static const char *const names[2] = {"x", "y"};
    if ((st = hm__resolve_execution(ctx, fn, &o->execution, HM_OP_GENERIC, ops, names, 2,
                                    &p->exec)) != HM_STATUS_SUCCESS)
        return st;
    p->exec_space =
        p->exec.kind == HM_EXEC_CPU ? hm_device_host() : hm_device_cuda(p->exec.device_id);
    if (p->exec.kind == HM_EXEC_CPU && o->execution.num_threads == HM_AUTO &&
        o->effort != HM_FFT_MEASURE) {
        /* Threads cost more than they give below ~32k elements each, unless the planner
         * measures: then the CPU backend times its plans on one thread, on fewer and on all. */
        int64_t useful = hm_tensor_numel(&p->x) / 32768;
        if (useful < p->exec.num_threads)
            p->exec.num_threads = useful < 1 ? 1 : (int)useful;
    }
    const hm_backend_ops *b = hm__backend_for_execution(p->exec.kind);
    p->be = b ? b->fft : NULL;
    if (!p->be)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: the %s backend has no FFT", fn,
                        b ? b->name : "requested");

    /* The layouts the backend sees: the caller's own where it can run them in place in memory,
     * else compact canonical temporaries in the execution space. */
    bool in_exec_space = p->exec.kind == HM_EXEC_CPU ? hm__device_is_host(x->device)
                                                     : hm__device_equal(x->device, p->exec_space);
    p->xin = p->x;
    p->yout = p->y;
    hm_fft_desc d;
    build_desc(p, &p->xin, &p->yout, &d);
    if (!in_exec_space || o->type == HM_FFT_C2R || !p->be->expressible(&d)) {
        /* c2r backends overwrite their input, so it always gets a private copy. */
        p->stage_in = true;
        canonical_layout(&p->x, o->axes, o->num_axes, &p->xin);
        build_desc(p, &p->xin, &p->yout, &d);
        if (!in_exec_space || !p->be->expressible(&d)) {
            p->stage_out = true;
            canonical_layout(&p->y, o->axes, o->num_axes, &p->yout);
        }
    }

    /* Host operands transformed on a GPU, batched over leading dimensions, compact: pipeline
     * chunks of the batch in and out around the transforms, when it pays (x ≥ 8 MiB). */
    int lead = x->ndim - o->num_axes;
    bool trailing = lead > 0;
    for (int i = 0; i < o->num_axes; i++)
        trailing &= o->axes[i] == lead + i;
    int64_t rows = 1;
    for (int i = 0; i < lead; i++)
        rows *= x->shape[i];
    size_t xb = hm_tensor_nbytes(&p->x), yb = hm_tensor_nbytes(&p->y);
    if (p->exec.kind == HM_EXEC_CUDA && p->be->pipelined && trailing && rows >= 8 && p->stage_in &&
        p->stage_out && hm__device_is_host(x->device) && hm__device_is_host(p->y.device) &&
        hm_tensor_is_contiguous(&p->x) && hm_tensor_is_contiguous(&p->y) &&
        xb >= ((size_t)8 << 20) && ctx->pinned_pool_bytes >= 4 * HM_STAGE_CHUNK) {
        int64_t max_in = (int64_t)(HM_STAGE_CHUNK / (xb / (size_t)rows)),
                max_out = (int64_t)(HM_STAGE_CHUNK / (yb / (size_t)rows));
        if (max_in >= 1 && max_out >= 1) {
            p->tile_max = max_in < max_out ? max_in : max_out;
            hm__tiles_plan(rows, p->tile_max, &p->tiles);
            p->pipelined = p->tiles.count > 1;
        }
    }
    return HM_STATUS_SUCCESS;
}

static void log_specification(hm_context *ctx, const hm_fft_plan *p)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    const hm_fft_options *o = &p->opts;
    hm__log_phase(ctx, HM_PHASE_SPECIFICATION);
    hm__log_operand(ctx, "x", &p->x);
    if (p->y_alloc)
        hm__log(ctx, HM_LOG_INFO, "operand y: %s, allocated row-major in the operand's space",
                hm_dtype_name(p->y.dtype));
    else
        hm__log_operand(ctx, "y", &p->y);
    char axes[48];
    size_t n = 0;
    for (int i = 0; i < o->num_axes; i++)
        n += (size_t)snprintf(axes + n, sizeof axes - n, "%s%d", i ? ", " : "", o->axes[i]);
    hm__log(ctx, HM_LOG_INFO, "fft: %s %s, rank %d over axes [%s], batch %lld, n %lld, norm %s",
            type_name(o->type), o->direction == HM_FFT_FORWARD ? "forward" : "inverse", o->num_axes,
            axes, (long long)p->batch, (long long)p->n_total, norm_name(o->norm));
    bool cross_in = !hm__device_equal(p->exec_space, p->x.device) &&
                    !(p->exec.kind == HM_EXEC_CPU && hm__device_is_host(p->x.device));
    hm__log_spaces(ctx, p->x.device, &p->exec, cross_in ? "x" : "",
                   cross_in ? hm_tensor_nbytes(&p->x) : 0, cross_in ? "y" : "",
                   cross_in ? hm_tensor_nbytes(&p->y) : 0);
}

/* Every copy an execution will make, asked of the guard before any work. */
static hm_status guard_copies(hm_context *ctx, const hm_fft_plan *p)
{
    hm_status st = HM_STATUS_SUCCESS;
    if (p->stage_in)
        st = hm__transfer_guard(ctx, FFT_OP, "x", p->x.device, p->exec_space,
                                hm_tensor_nbytes(&p->x));
    if (st == HM_STATUS_SUCCESS && p->stage_out)
        st = hm__transfer_guard(ctx, FFT_OP, "y", p->exec_space, p->y.device,
                                hm_tensor_nbytes(&p->y));
    return st;
}

/* What a pipeline chunk's transform is timed with. */
typedef struct chunk_probe {
    hm_fft_plan *p;
    hm_fft_desc d; /* the transform, with the batch folded into one dimension */
    int64_t in_row, out_row;
} chunk_probe;

/* The transform of a chunk of `rows` batch entries on device temporaries, for the pipeline's
 * model: one untimed call, then three timed back to back. */
static hm_status time_chunk(hm_context *ctx, void *user, int64_t rows, double *seconds)
{
    chunk_probe *c = user;
    const hm_backend_ops *b = hm__backend_for_execution(c->p->exec.kind);
    hm_fft_desc d = c->d;
    d.batch_n[0] = rows;
    d.in_span = rows * c->in_row;
    d.out_span = rows * c->out_row;
    const size_t bytes[2] = {(size_t)d.in_span * hm_dtype_size(c->p->xin.dtype),
                             (size_t)d.out_span * hm_dtype_size(c->p->yout.dtype)};
    void *buf[2] = {NULL, NULL}, *plan = NULL, *timer = NULL;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < 2 && st == HM_STATUS_SUCCESS; i++)
        st = hm__alloc(ctx, c->p->exec_space, bytes[i], &buf[i]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__fault(ctx, HM_FAULT_BACKEND_CALL)
                 ? hm__fail(ctx, HM_STATUS_CUFFT_ERROR, "hm_fft: timing a chunk failed (injected)")
                 : c->p->be->plan(ctx, &d, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = c->p->be->execute(ctx, plan, buf[0], buf[1]);
    if (st == HM_STATUS_SUCCESS)
        st = b->timer(ctx, c->p->exec.device_id, &timer, NULL);
    for (int r = 0; r < 3 && st == HM_STATUS_SUCCESS; r++)
        st = c->p->be->execute(ctx, plan, buf[0], buf[1]);
    if (timer) {
        double sec = 0;
        hm_status ts = b->timer(ctx, c->p->exec.device_id, &timer, &sec);
        st = st == HM_STATUS_SUCCESS ? ts : st;
        *seconds = sec / 3;
    }
    if (plan)
        c->p->be->destroy(plan);
    for (int i = 0; i < 2; i++)
        hm__free(ctx, c->p->exec_space, buf[i]);
    return st;
}

/* The pipeline's plans: d (the whole transform, canonical layouts) with the batch folded into one
 * dimension, for each chunk of the schedule chosen (x_data, y_data: the operands at planning, or
 * NULL; pinned ones go direct). */
static hm_status plan_pipeline(hm_context *ctx, hm_fft_plan *p, hm_fft_desc *d, const void *x_data,
                               const void *y_data)
{
    int64_t rows = 1;
    for (int i = 0; i < d->batch_rank; i++)
        rows *= d->batch_n[i];
    int64_t in_row = d->in_span / rows, out_row = d->out_span / rows;
    d->batch_rank = 1;
    d->batch_in_stride[0] = in_row;
    d->batch_out_stride[0] = out_row;
    int x_pinned = 0, y_pinned = 0;
    hm_device where;
    if (x_data)
        (void)hm__backend_locate(ctx, x_data, &where, &x_pinned);
    if (y_data)
        (void)hm__backend_locate(ctx, y_data, &where, &y_pinned);
    chunk_probe probe = {p, *d, in_row, out_row};
    const hm_pipe_shape shape = {FFT_OP,
                                 "transform",
                                 p->exec.device_id,
                                 rows,
                                 p->tile_max,
                                 1,
                                 (size_t)in_row * hm_dtype_size(p->xin.dtype),
                                 (size_t)out_row * hm_dtype_size(p->yout.dtype),
                                 !x_pinned,
                                 !y_pinned};
    hm_status st = hm__tiles_measured(ctx, &shape, time_chunk, &probe, &p->tiles);
    if (st != HM_STATUS_SUCCESS)
        return st;
    double t0 = hm__now();
    for (int k = 0; k < p->tiles.nsizes; k++) {
        int64_t n = p->tiles.size[k];
        d->batch_n[0] = n;
        d->in_span = n * in_row;
        d->out_span = n * out_row;
        st = hm__fault(ctx, HM_FAULT_BACKEND_CALL)
                 ? hm__fail(ctx, HM_STATUS_CUFFT_ERROR, "hm_fft: planning failed (injected)")
                 : p->be->plan(ctx, d, &p->be_tile_plan[k]);
        if (st != HM_STATUS_SUCCESS)
            return st;
    }
    char sizes[128];
    hm__tiles_describe(&p->tiles, sizes, sizeof sizes);
    hm__log(ctx, HM_LOG_INFO,
            "planned on cuda:%d in %.3f ms: host operands pipelined over %lld chunks of %s "
            "transforms",
            p->exec.device_id, (hm__now() - t0) * 1e3, (long long)p->tiles.count, sizes);
    return HM_STATUS_SUCCESS;
}

/* Plans the backend's transform; in_place: x and y will be one buffer (honoured where neither is
 * staged); x_data, y_data: the operands at planning, or NULL. */
static hm_status plan_backend(hm_context *ctx, hm_fft_plan *p, bool in_place, const void *x_data,
                              const void *y_data)
{
    hm__log_phase(ctx, HM_PHASE_PLANNING);
    p->one_buffer = in_place;
    p->in_place = in_place && !p->stage_in && !p->stage_out;
    hm_fft_desc d;
    build_desc(p, &p->xin, &p->yout, &d);
    if (p->pipelined)
        return plan_pipeline(ctx, p, &d, x_data, y_data);
    double t0 = hm__now();
    hm_status st =
        hm__fault(ctx, HM_FAULT_BACKEND_CALL)
            ? hm__fail(ctx,
                       p->exec.kind == HM_EXEC_CPU ? HM_STATUS_FFTW_ERROR : HM_STATUS_CUFFT_ERROR,
                       "hm_fft: planning failed (injected)")
            : p->be->plan(ctx, &d, &p->be_plan);
    if (st != HM_STATUS_SUCCESS)
        return st;
    char ex[48];
    hm__log(ctx, HM_LOG_INFO, "planned on %s in %.3f ms (%s input, %s output)",
            hm__format_execution(&p->exec, ex, sizeof ex), (hm__now() - t0) * 1e3,
            p->stage_in ? "staged canonical" : "caller's",
            p->stage_out ? "staged canonical" : "caller's");
    return HM_STATUS_SUCCESS;
}

static void plan_free(void *v)
{
    hm_fft_plan *p = v;
    if (p) {
        hm__host_pin_release(p->ctx, &p->pin_x);
        hm__host_pin_release(p->ctx, &p->pin_y);
    }
    if (p && p->be && p->be_plan)
        p->be->destroy(p->be_plan);
    for (int i = 0; p && p->be && i < HM_TILE_SIZES; i++)
        if (p->be_tile_plan[i])
            p->be->destroy(p->be_tile_plan[i]);
    free(p);
}

/* Copies in, transforms, copies out. x and y were checked against p. */
static hm_status run(hm_context *ctx, hm_fft_plan *p, const hm_tensor *x, hm_tensor *y)
{
    hm_status st;
    hm__log_phase(ctx, HM_PHASE_EXECUTION);
    hm_tensor out = *y, xin = p->xin, yout = p->yout;
    xin.data = NULL;
    yout.data = NULL;
    xin.device = yout.device = p->exec_space;
    bool allocated_y = false;
    double t0 = hm__now();
    if (p->y_alloc) {
        out = p->y;
        out.device = x->device;
        if ((st = hm__alloc(ctx, out.device, hm_tensor_nbytes(&out), &out.data)) !=
            HM_STATUS_SUCCESS)
            return st;
        allocated_y = true;
    }
    if (p->opts.register_host && p->exec.kind == HM_EXEC_CUDA) {
        if (p->stage_in && hm__device_is_host(x->device))
            hm__host_pin_update(ctx, FFT_OP, "x", &p->pin_x, x);
        /* Never a y the plan allocates: the caller frees it (see matmul.c). */
        if (p->stage_out && !p->y_alloc && hm__device_is_host(out.device) && out.data != x->data)
            hm__host_pin_update(ctx, FFT_OP, "y", &p->pin_y, &out);
    }
    if (p->stage_in) {
        if ((st = hm__alloc(ctx, p->exec_space, hm_tensor_nbytes(&xin), &xin.data)) !=
            HM_STATUS_SUCCESS)
            goto fail;
        if (!p->pipelined &&
            (st = hm__transfer(ctx, x, &xin, FFT_OP, "x", true)) != HM_STATUS_SUCCESS)
            goto fail;
    } else {
        xin.data = x->data;
    }
    if (p->stage_out) {
        if ((st = hm__alloc(ctx, p->exec_space, hm_tensor_nbytes(&yout), &yout.data)) !=
            HM_STATUS_SUCCESS)
            goto fail;
    } else {
        yout.data = out.data;
    }
    double tc = hm__now();
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL)) {
        st = hm__fail(ctx,
                      p->exec.kind == HM_EXEC_CPU ? HM_STATUS_FFTW_ERROR : HM_STATUS_CUFFT_ERROR,
                      "hm_fft: the transform failed (injected)");
        goto fail;
    }
    if (p->pipelined) {
        int64_t rows = 1;
        for (int i = 0; i < p->x.ndim - p->opts.num_axes; i++)
            rows *= p->x.shape[i];
        hm_fft_pipeline job = {p->be_tile_plan,
                               &p->tiles,
                               rows,
                               hm_tensor_nbytes(&p->x) / (size_t)rows,
                               hm_tensor_nbytes(&p->y) / (size_t)rows,
                               x->data,
                               x->device,
                               out.data,
                               out.device,
                               xin.data,
                               yout.data,
                               p->exec.device_id};
        if ((st = p->be->pipelined(ctx, &job)) != HM_STATUS_SUCCESS)
            goto fail;
    } else if ((st = p->be->execute(ctx, p->be_plan, xin.data, yout.data)) != HM_STATUS_SUCCESS) {
        goto fail;
    }
    bool device = p->exec.kind == HM_EXEC_CUDA;
    bool wait = !device || p->opts.blocking || p->stage_in || p->stage_out;
    if (device && wait &&
        (st = hm__backend(HM_BACKEND_CUDA)->synchronize_device(ctx, p->exec.device_id)) !=
            HM_STATUS_SUCCESS)
        goto fail;
    double compute = hm__now() - tc;
    if (p->stage_out && !p->pipelined) {
        yout.device = p->exec_space;
        if ((st = hm__transfer(ctx, &yout, &out, FFT_OP, "y", true)) != HM_STATUS_SUCCESS)
            goto fail;
    }
    if (hm__log_enabled(ctx, HM_LOG_INFO)) {
        double flops = 5.0 * (double)p->n_total * log2((double)p->n_total) * (double)p->batch;
        if (p->opts.type != HM_FFT_C2C)
            flops /= 2;
        if (wait)
            hm__log(ctx, HM_LOG_INFO,
                    "transform %.3f ms (%.1f GFLOP/s by 5 N log2 N), call %.3f ms", compute * 1e3,
                    compute > 0 ? flops / compute / 1e9 : 0.0, (hm__now() - t0) * 1e3);
        else
            hm__log(ctx, HM_LOG_INFO, "transform queued on the stream of cuda:%d",
                    p->exec.device_id);
    }
    hm__free(ctx, p->exec_space, p->stage_in ? xin.data : NULL);
    hm__free(ctx, p->exec_space, p->stage_out ? yout.data : NULL);
    if (allocated_y)
        *y = out;
    return HM_STATUS_SUCCESS;
fail:
    if (p->exec.kind == HM_EXEC_CUDA)
        (void)hm__backend(HM_BACKEND_CUDA)->synchronize(ctx);
    hm__free(ctx, p->exec_space, p->stage_in ? xin.data : NULL);
    hm__free(ctx, p->exec_space, p->stage_out ? yout.data : NULL);
    if (allocated_y)
        hm__free(ctx, out.device, out.data);
    return st;
}

/* The cache key of a stateless call: everything that makes two plans differ. */
typedef struct fft_key {
    hm_fft_options opts;
    hm_tensor x, y;
    bool y_alloc, in_place;
    hm_execution exec;
} fft_key;

hm_status hm_fft(hm_context *ctx, const hm_tensor *x, hm_tensor *y, const hm_fft_options *opts)
{
    HM_ENTER(ctx, FFT_OP);
    hm_fft_plan spec;
    hm_status st = specify(ctx, FFT_OP, x, y, opts, true, &spec);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (spec.opts.register_host)
        return hm__host_pin_refuse_stateless(ctx, FFT_OP, "hm_fft_plan_create");
    log_specification(ctx, &spec);
    if ((st = guard_copies(ctx, &spec)) != HM_STATUS_SUCCESS)
        return st;
    fft_key key;
    memset(&key, 0, sizeof key);
    key.opts = spec.opts;
    key.opts.blocking = 0;
    key.x = spec.x;
    key.y = spec.y;
    key.y_alloc = spec.y_alloc;
    key.in_place = !spec.y_alloc && x->data == y->data;
    key.exec = spec.exec;
    hm_fft_plan *p = hm__plan_cache_get(ctx, FFT_OP, &key, sizeof key);
    if (!p) {
        p = malloc(sizeof *p);
        if (!p)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", FFT_OP);
        *p = spec;
        st = plan_backend(ctx, p, key.in_place, x->data, spec.y_alloc ? NULL : y->data);
        if (st != HM_STATUS_SUCCESS) {
            free(p);
            return st;
        }
        if ((st = hm__plan_cache_put(ctx, FFT_OP, &key, sizeof key, p, plan_free)) !=
            HM_STATUS_SUCCESS)
            return st;
    } else {
        hm__log_phase(ctx, HM_PHASE_PLANNING);
        hm__log(ctx, HM_LOG_INFO, "plan reused from the context's cache");
    }
    p->opts.blocking = spec.opts.blocking;
    return run(ctx, p, x, y);
}

hm_status hm_fft_plan_create(hm_context *ctx, const hm_tensor *x, const hm_tensor *y,
                             const hm_fft_options *opts, hm_fft_plan **out)
{
    HM_ENTER(ctx, "hm_fft_plan_create");
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_fft_plan_create: the output pointer is NULL");
    *out = NULL;
    hm_fft_plan *p = malloc(sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "hm_fft_plan_create: no memory");
    hm_status st = specify(ctx, "hm_fft_plan_create", x, y, opts, false, p);
    if (st == HM_STATUS_SUCCESS) {
        log_specification(ctx, p);
        st = plan_backend(ctx, p, y && x && !p->y_alloc && x->data && x->data == y->data,
                          x ? x->data : NULL, y && !p->y_alloc ? y->data : NULL);
    }
    if (st != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    *out = p;
    return HM_STATUS_SUCCESS;
}

hm_status hm_fft_execute(hm_context *ctx, hm_fft_plan *plan, const hm_tensor *x, hm_tensor *y)
{
    static const char *const fn = "hm_fft_execute";
    HM_ENTER(ctx, fn);
    if (!plan || !y)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                        plan ? "operand y" : "the plan");
    if (plan->ctx != ctx)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan belongs to another context",
                        fn);
    hm_status st = hm__check_operand(ctx, fn, "x", x);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!hm__same_layout(x, &plan->x))
        return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                        "%s: operand x differs from the planned layout (dtype, shape, strides or "
                        "memory space)",
                        fn);
    if (!plan->y_alloc) {
        if ((st = hm__check_operand(ctx, fn, "y", y)) != HM_STATUS_SUCCESS)
            return st;
        if (!hm__same_layout(y, &plan->y))
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                            "%s: operand y differs from the planned layout", fn);
        if (hm__tensors_overlap(x, y) && x->data != y->data)
            return hm__fail(ctx, HM_STATUS_ALIASING, "%s: operand y overlaps x", fn);
        if (plan->one_buffer != (x->data == y->data))
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                            "%s: the plan was made %s, but the "
                            "operands are %s",
                            fn, plan->one_buffer ? "in place" : "out of place",
                            x->data == y->data ? "one buffer" : "two buffers");
    } else if (y->data) {
        return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                        "%s: the plan allocates its output, but operand y has data", fn);
    }
    if ((st = guard_copies(ctx, plan)) != HM_STATUS_SUCCESS)
        return st;
    return run(ctx, plan, x, y);
}

void hm_fft_plan_destroy(hm_fft_plan *plan)
{
    plan_free(plan);
}
