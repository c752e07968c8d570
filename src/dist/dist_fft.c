/* The distributed FFT: x exchanged into the backend's own decomposition (its buffer), the
 * transform there (collective), normalised, and exchanged out into y's decomposition. Every step
 * that another rank could miss is agreed on first (core/op.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/dist_fft_backend.h"
#include "core/fft_check.h"
#include "dist/dist_op.h"

enum { DF_X = 0, DF_Y = 1, DF_OPERANDS = 2 };

static const hm_operand_role df_roles[DF_OPERANDS] = {
    [DF_X] = {"x", HM_ROLE_IN},
    [DF_Y] = {"y", HM_ROLE_OUT},
};

struct df_plan {
    hm_dist_op base; /* first: a plan of the lifecycle */
    hm_dist_fft_options opts;
    hm_dist_fft_desc desc;
    hm_dist_fft_layout native;    /* this rank's part of the backend's decomposition */
    hm_dist_layout buf_layout[2]; /* every rank's: the input's and the output's */
    void *buf;                    /* the in-place buffer the plan was made on */
    hm_tensor buf_in, buf_out;    /* this rank's views of it, as x's and as y's boxes */
};

void hm_dist_fft_options_init(hm_dist_fft_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->type = HM_FFT_C2C;
    opts->direction = HM_FFT_FORWARD;
    opts->norm = HM_FFT_NORM_BACKWARD;
    opts->effort = HM_FFT_ESTIMATE;
}

/* The options, checked alone: the serial FFT's checks, and transposed_out. */
static hm_status check_options(hm_context *ctx, const char *fn, const hm_dist_fft_options *o)
{
    hm_fft_options serial;
    hm_fft_options_init(&serial);
    serial.type = o->type;
    serial.direction = o->direction;
    serial.norm = o->norm;
    serial.effort = o->effort;
    hm_status st = hm__fft_check_options(ctx, fn, &serial);
    if (st == HM_STATUS_SUCCESS && o->transposed_out != 0 && o->transposed_out != 1)
        st = hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                      "%s: options: transposed_out %d is neither 0 nor 1", fn, o->transposed_out);
    return st;
}

static hm_status df_options(hm_context *ctx, hm_op_plan *p, const void *opts)
{
    struct df_plan *f = (struct df_plan *)p;
    const hm_dist_call *call = opts;
    hm_status st = hm__dist_op_options(ctx, p, opts); /* the communicator first */
    hm_dist_fft_options_init(&f->opts);
    if (st == HM_STATUS_SUCCESS)
        st = hm__op_copy_options(ctx, p->api, "hm_dist_fft_options", &f->opts, sizeof f->opts,
                                 call->opts);
    return st == HM_STATUS_SUCCESS ? check_options(ctx, p->api, &f->opts) : st;
}

/* The dtypes the transform takes: x's, and y's from it. */
static hm_status check_dtypes(hm_context *ctx, const char *fn, hm_fft_type type, hm_dtype x,
                              hm_dtype y)
{
    bool complex_x = x == HM_DTYPE_C64 || x == HM_DTYPE_C128;
    bool real_x = x == HM_DTYPE_F32 || x == HM_DTYPE_F64;
    bool ok_x = type == HM_FFT_R2C ? real_x : complex_x;
    hm_dtype want = type == HM_FFT_C2C   ? x
                    : type == HM_FFT_R2C ? (x == HM_DTYPE_F64 ? HM_DTYPE_C128 : HM_DTYPE_C64)
                                         : (x == HM_DTYPE_C128 ? HM_DTYPE_F64 : HM_DTYPE_F32);
    if (!ok_x)
        return hm__fail(ctx, HM_STATUS_INVALID_DTYPE,
                        "%s: operand x is %s, which a %s transform "
                        "does not take",
                        fn, hm_dtype_name(x),
                        type == HM_FFT_C2C   ? "c2c"
                        : type == HM_FFT_R2C ? "r2c"
                                             : "c2r");
    if (y != want)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH,
                        "%s: operand y is %s; the transform of %s x "
                        "is %s",
                        fn, hm_dtype_name(y), hm_dtype_name(x), hm_dtype_name(want));
    return HM_STATUS_SUCCESS;
}

static hm_status df_specify(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    (void)in;
    struct df_plan *f = (struct df_plan *)p;
    const hm_dist_fft_options *o = &f->opts;
    const hm_tensor *x = &p->t[DF_X], *y = &p->t[DF_Y];
    hm_status st = check_dtypes(ctx, p->api, o->type, x->dtype, y->dtype);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (x->ndim < 2 || x->ndim > 3 || y->ndim != x->ndim)
        return hm__fail(ctx, HM_STATUS_INVALID_SHAPE,
                        "%s: operands x and y are %d-D and %d-D; the distributed FFT transforms "
                        "2-D and 3-D tensors over all their axes",
                        p->api, x->ndim, y->ndim);
    if (o->transposed_out && o->type == HM_FFT_C2R)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "%s: transposed_out with c2r (a real output is left in order)", p->api);
    if ((st = hm__dist_op_space(ctx, p, true)) != HM_STATUS_SUCCESS)
        return st;
    /* The logical lengths: x's, or for c2r y's (the real side). */
    const int64_t *g =
        o->type == HM_FFT_C2R ? f->base.dist[DF_Y].global_shape : f->base.dist[DF_X].global_shape;
    hm_dist_fft_desc *d = &f->desc;
    d->type = o->type;
    d->direction = o->direction;
    d->double_precision = x->dtype == HM_DTYPE_F64 || x->dtype == HM_DTYPE_C128;
    d->rank = x->ndim;
    for (int i = 0; i < d->rank; i++) {
        if (g[i] < 1)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE,
                            "%s: the global length %lld of axis %d (at least 1)", p->api,
                            (long long)g[i], i);
        d->n[i] = g[i];
    }
    d->transposed_out = o->transposed_out;
    d->effort = o->effort;
    d->threads = p->exec.num_threads;
    d->comm = f->base.comm->mpi;
    d->device = f->base.device;
    if (!p->backend || !p->backend->op[HM_OP_DIST_FFT])
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                        "%s: hetmath was built without the distributed FFT of %s ranks (%s)",
                        p->api, d->device < 0 ? "CPU" : "GPU", d->device < 0 ? "FFTW-MPI" : "NCCL");
    return hm__backend_layout(ctx, p->backend, HM_OP_DIST_FFT, d, &f->native);
}

/* The global shape y must have. */
static void output_shape(const struct df_plan *f, int64_t *out)
{
    const hm_dist_fft_desc *d = &f->desc;
    for (int i = 0; i < d->rank; i++)
        out[i] = d->n[i];
    if (d->type == HM_FFT_R2C)
        out[d->rank - 1] = d->n[d->rank - 1] / 2 + 1;
    if (d->transposed_out) {
        int64_t t = out[0];
        out[0] = out[1];
        out[1] = t;
    }
}

/* This rank's view of the buffer as a box of `like`'s global shape (data set at planning), in
 * the memory the transform runs in. */
static hm_tensor buffer_view(const hm_tensor *like, hm_device space, const int64_t *n,
                             const int64_t *stride)
{
    hm_tensor v = *like;
    v.data = NULL;
    v.device = space;
    for (int i = 0; i < like->ndim; i++) {
        v.shape[i] = n[i];
        v.strides[i] = stride[i];
    }
    return v;
}

static hm_status df_specify_all(hm_context *ctx, hm_op_plan *p)
{
    struct df_plan *f = (struct df_plan *)p;
    hm_dist_op *d = &f->base;
    const int options[5] = {(int)f->opts.type, (int)f->opts.direction, (int)f->opts.norm,
                            (int)f->opts.effort, f->opts.transposed_out};
    hm_status st =
        hm__dist_op_same(ctx, d, "the options", options, sizeof options, HM_STATUS_SUCCESS);
    st = hm__dist_op_same_space(ctx, d, st);
    f->desc.group = st == HM_STATUS_SUCCESS && d->device >= 0 ? d->comm->group : NULL;
    st = hm__dist_op_gather(ctx, d, DF_X, st);
    st = hm__dist_op_gather(ctx, d, DF_Y, st);
    if (st != HM_STATUS_SUCCESS)
        return st;
    int64_t want[HM_MAX_NDIM];
    output_shape(f, want);
    if (memcmp(want, d->layout[DF_Y].global, sizeof(int64_t) * (size_t)f->desc.rank) != 0)
        return hm__fail(
            ctx, HM_STATUS_INVALID_SHAPE, "%s: operand y's global shape is not the transform's%s",
            p->api, f->opts.transposed_out ? " (its first two axes swapped: transposed_out)" : "");
    /* The backend's decomposition, as distributed tensors of x's and y's global shapes. */
    hm_dist_tensor native[2];
    native[0].local = buffer_view(&p->t[DF_X], p->exec_space, f->native.in_n, f->native.in_stride);
    native[1].local =
        buffer_view(&p->t[DF_Y], p->exec_space, f->native.out_n, f->native.out_stride);
    memcpy(native[0].global_shape, d->layout[DF_X].global, sizeof native[0].global_shape);
    memcpy(native[1].global_shape, d->layout[DF_Y].global, sizeof native[1].global_shape);
    memcpy(native[0].offset, f->native.in_lo, sizeof f->native.in_lo);
    memcpy(native[1].offset, f->native.out_lo, sizeof f->native.out_lo);
    st = hm__dist_layout_gather(ctx, d->comm, p->api, "x (the transform's decomposition)",
                                &native[0], HM_STATUS_SUCCESS, &f->buf_layout[0]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_layout_gather(ctx, d->comm, p->api, "y (the transform's decomposition)",
                                    &native[1], HM_STATUS_SUCCESS, &f->buf_layout[1]);
    f->buf_in = native[0].local;
    f->buf_out = native[1].local;
    p->flops = 5.0 * (double)hm__dist_volume(&d->layout[DF_X]) *
               log2((double)hm__dist_volume(&d->layout[DF_X]));
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_op_guard(ctx, d, "x", &d->layout[DF_X], &f->buf_layout[0]);
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_op_guard(ctx, d, "y", &f->buf_layout[1], &d->layout[DF_Y]);
    return st;
}

static void df_describe(hm_context *ctx, const hm_op_plan *p)
{
    const struct df_plan *f = (const struct df_plan *)p;
    static const char *const types[] = {"fft c2c", "fft r2c", "fft c2r"};
    hm__dist_op_describe(ctx, &f->base, types[f->opts.type], DF_X, DF_Y);
}

static hm_status agree_any(hm_context *ctx, const void *plan, hm_status local)
{
    return hm__dist_op_agree(ctx, plan, local);
}

/* The buffer (this rank's failure point, agreed on), then the backend's collective planning. */
static hm_status df_plan(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                         void *const data[], void **be_plan)
{
    (void)cols, (void)device, (void)rows, (void)data;
    struct df_plan *f = (struct df_plan *)p;
    hm_status st = hm__alloc(ctx, p->exec_space, f->native.bytes, &f->buf);
    if ((st = hm__dist_op_agree(ctx, p, st)) != HM_STATUS_SUCCESS)
        return st;
    f->buf_in.data = f->buf_out.data = f->buf;
    const hm_dist_fft_args args = {f->buf, f->buf};
    const hm_collective all = {agree_any, p};
    double t0 = hm__now();
    st = hm__backend_plan_collective(ctx, p->backend, HM_OP_DIST_FFT, p->fn, &f->desc, &args,
                                     be_plan, &all);
    if (st == HM_STATUS_SUCCESS)
        hm__log(ctx, HM_LOG_INFO, "%s planned in %.3f ms over %d ranks (%zu bytes a rank)",
                f->base.device < 0 ? "FFTW-MPI" : "cuFFT and NCCL", (hm__now() - t0) * 1e3,
                f->base.comm->size, f->native.bytes);
    return st;
}

/* The normalisation's factor: the serial FFT's rule over the whole transform. */
static double norm_scale(const struct df_plan *f)
{
    double n = 1;
    for (int i = 0; i < f->desc.rank; i++)
        n *= (double)f->desc.n[i];
    return hm__fft_norm_scale(f->opts.norm, f->opts.direction, n);
}

/* The bytes the transform's own exchanges moved (inside FFTW-MPI's transposes of the first two
 * axes of the complex side: once when the output is left transposed, else there and back),
 * ledgered per peer as the decompositions imply them, with the transform's time. */
static void ledger_transposes(hm_context *ctx, const struct df_plan *f, double seconds)
{
    const hm_dist_fft_desc *d = &f->desc;
    const hm_comm *c = f->base.comm;
    int64_t nc[HM_FFT_MAX_RANK], rest = 1;
    hm__dist_fft_complex_lengths(d, nc);
    for (int i = 2; i < d->rank; i++)
        rest *= nc[i];
    size_t es = 2 * (d->double_precision ? sizeof(double) : sizeof(float));
    int times = d->transposed_out ? 1 : 2;
    int64_t my0 = hm__slab_share(nc[0], c->rank, c->size),
            my1 = hm__slab_share(nc[1], c->rank, c->size);
    for (int q = 0; q < c->size; q++) {
        if (q == c->rank)
            continue;
        /* there: this rank's planes' rows of q out, q's planes' rows of this rank in; and back
         * into slabs (without transposed_out) the other way round */
        int64_t out = my0 * hm__slab_share(nc[1], q, c->size) * rest,
                in = hm__slab_share(nc[0], q, c->size) * my1 * rest;
        const int64_t moved[2] = {out + (times == 2 ? in : 0), in + (times == 2 ? out : 0)};
        for (int dir = 0; dir < 2; dir++) {
            if (moved[dir] == 0)
                continue;
            hm__comm_ledger(ctx, c, f->base.base.fn, "x (transposes)", q, dir == 0,
                            (size_t)moved[dir] * es, seconds, times, f->base.device);
        }
    }
}

/* Whether t is this rank's box `want` of the transform's decomposition laid out as `view` (the
 * buffer's layout), and spans at least `bytes`. */
static bool is_native(const hm_box *want, const hm_box *have, const hm_tensor *t,
                      const hm_tensor *view, size_t bytes)
{
    int64_t span = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (want->lo[i] != have->lo[i] || want->n[i] != have->n[i] ||
            t->shape[i] != view->shape[i] || (t->shape[i] > 1 && t->strides[i] != view->strides[i]))
            return false;
        span += (t->shape[i] - 1) * t->strides[i];
    }
    return hm_tensor_numel(t) > 0 && (size_t)span * hm_dtype_size(t->dtype) >= bytes;
}

/* Whether the backend may transform in y's own memory on this rank, saving the copy out of its
 * buffer: y is this rank's part of the transform's output decomposition laid out as in the
 * buffer, spans the buffer's bytes with the buffer's alignment (FFTW's rule for new arrays), and x
 * does not reach into them. Each rank decides for itself: its collective calls are the same
 * either way (the exchange into y then finds its own part already in place). */
static bool in_y(const struct df_plan *f, const hm_tensor *x, const hm_tensor *y)
{
    const hm_dist_op *d = &f->base;
    int me = d->comm->rank;
    if (!is_native(&f->buf_layout[1].box[me], &d->layout[DF_Y].box[me], y, &f->buf_out,
                   f->native.bytes) ||
        (uintptr_t)y->data % 64 != (uintptr_t)f->buf % 64)
        return false;
    size_t es = hm_dtype_size(y->dtype);
    hm_tensor region = *y; /* the buffer's bytes, at y */
    region.ndim = 1;
    region.shape[0] = (int64_t)(f->native.bytes / es);
    region.strides[0] = 1;
    return !hm__tensors_overlap(x, &region);
}

/* Whether a backend that reads its input apart may read x where it is on this rank: x is this
 * rank's part of the transform's input decomposition laid out as in the buffer. */
static bool from_x(const struct df_plan *f, const hm_tensor *x)
{
    const hm_dist_op *d = &f->base;
    int me = d->comm->rank;
    return f->native.reads_apart &&
           is_native(&f->buf_layout[0].box[me], &d->layout[DF_X].box[me], x, &f->buf_in, 0);
}

static hm_status df_execute(hm_context *ctx, const hm_op_plan *p, void *be_plan, void *const data[])
{
    const struct df_plan *f = (const struct df_plan *)p;
    const hm_dist_op *d = &f->base;
    hm_tensor x = p->t[DF_X], y = p->t[DF_Y];
    x.data = data[DF_X];
    y.data = data[DF_Y];
    hm_tensor buf_in = f->buf_in, buf_out = f->buf_out;
    const char *engine = d->device < 0 ? "FFTW-MPI" : "cuFFT";
    if (in_y(f, &x, &y)) {
        buf_in.data = buf_out.data = y.data;
        hm__log(ctx, HM_LOG_INFO, "%s transforms in y's own memory on this rank", engine);
    }
    if (from_x(f, &x)) { /* the exchange into the buffer then finds this rank's part in place */
        buf_in.data = x.data;
        hm__log(ctx, HM_LOG_INFO, "%s reads x where it is on this rank", engine);
    }
    hm_status st = hm__dist_exchange(ctx, d->comm, p->fn, "x", &d->layout[DF_X], &x,
                                     &f->buf_layout[0], &buf_in);
    st = hm__dist_op_agree(ctx, p, st);
    if (st == HM_STATUS_SUCCESS) {
        const hm_dist_fft_args args = {buf_in.data, buf_out.data};
        const hm_collective all = {agree_any, p};
        double t0 = hm__now();
        st = hm__backend_execute_collective(ctx, p->backend, HM_OP_DIST_FFT, p->fn, be_plan, &args,
                                            &all);
        if (st == HM_STATUS_SUCCESS)
            ledger_transposes(ctx, f, hm__now() - t0);
        double scale = norm_scale(f);
        if (st == HM_STATUS_SUCCESS && scale != 1.0)
            st = hm__backend_scale(ctx, &buf_out, scale);
        st = hm__dist_op_agree(ctx, p, st);
    }
    if (st == HM_STATUS_SUCCESS)
        st = hm__dist_exchange(ctx, d->comm, p->fn, "y", &f->buf_layout[1], &buf_out,
                               &d->layout[DF_Y], &y);
    return st;
}

static void df_release(hm_op_plan *p)
{
    struct df_plan *f = (struct df_plan *)p;
    hm__free(p->ctx, p->exec_space, f->buf, f->native.bytes);
    f->buf = NULL;
    hm__dist_layout_free(&f->buf_layout[0]);
    hm__dist_layout_free(&f->buf_layout[1]);
    hm__dist_op_release(p);
}

static const hm_op_def df_def = {
    .id = HM_OP_DIST_FFT,
    .names = {"hm_dist_fft", "hm_dist_fft"},
    .plan_create = "hm_dist_fft",
    .work = "transform",
    .row_unit = "planes",
    .count = DF_OPERANDS,
    .out = DF_Y,
    .roles = df_roles,
    .plan_size = sizeof(struct df_plan),
    .options = df_options,
    .specify = df_specify,
    .describe = df_describe,
    .plan = df_plan,
    .execute = df_execute,
    .release = df_release,
    .agree = hm__dist_op_agree,
    .specify_all = df_specify_all,
};

hm_status hm_dist_fft(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *x,
                      const hm_dist_tensor *y, const hm_dist_fft_options *opts)
{
    HM_ENTER(ctx, "hm_dist_fft");
    const hm_dist_tensor *dist[DF_OPERANDS] = {x, y};
    return hm__dist_op_call(ctx, &df_def, comm, dist, opts);
}

hm_status hm_dist_fft_plan_create(hm_context *ctx, hm_comm *comm, const hm_dist_tensor *x,
                                  const hm_dist_tensor *y, const hm_dist_fft_options *opts,
                                  hm_dist_fft_plan **out)
{
    static const char *const fn = "hm_dist_fft_plan_create";
    HM_ENTER(ctx, fn);
    if (out)
        *out = NULL;
    const hm_dist_tensor *dist[DF_OPERANDS] = {x, y};
    hm_op_plan *p = NULL;
    hm_status st = hm__dist_op_plan_create(ctx, &df_def, fn, comm, dist, opts, out ? &p : NULL);
    if (out)
        *out = (hm_dist_fft_plan *)p;
    return st;
}

hm_status hm_dist_fft_execute(hm_context *ctx, hm_comm *comm, hm_dist_fft_plan *plan,
                              const hm_dist_tensor *x, const hm_dist_tensor *y)
{
    static const char *const fn = "hm_dist_fft_execute";
    HM_ENTER(ctx, fn);
    const hm_dist_tensor *dist[DF_OPERANDS] = {x, y};
    return hm__dist_op_execute(ctx, &df_def, fn, comm, (hm_op_plan *)plan, dist);
}

void hm_dist_fft_plan_destroy(hm_dist_fft_plan *plan)
{
    hm__op_plan_destroy((hm_op_plan *)plan);
}

hm_status hm_dist_fft_boxes(hm_context *ctx, hm_comm *comm, int ndim, const int64_t *global,
                            const hm_dist_fft_options *opts, int64_t *in_offset, int64_t *in_extent,
                            int64_t *out_offset, int64_t *out_extent)
{
    static const char *const fn = "hm_dist_fft_boxes";
    HM_ENTER(ctx, fn);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    if (!comm || !global || !in_offset || !in_extent || !out_offset || !out_extent)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: a NULL argument", fn);
    hm_status st = hm__op_copy_options(ctx, fn, "hm_dist_fft_options", &o, sizeof o, opts);
    if (st == HM_STATUS_SUCCESS)
        st = check_options(ctx, fn, &o);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (ndim < 2 || ndim > 3)
        return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: %d axes (2 or 3)", fn, ndim);
    if (o.transposed_out && o.type == HM_FFT_C2R)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: transposed_out with c2r", fn);
    hm_dist_fft_desc d;
    memset(&d, 0, sizeof d);
    d.type = o.type;
    d.direction = o.direction;
    d.rank = ndim;
    d.transposed_out = o.transposed_out;
    d.comm = comm->mpi;
    for (int i = 0; i < ndim; i++) {
        if (global[i] < 1)
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: axis %d has length %lld", fn, i,
                            (long long)global[i]);
        d.n[i] = global[i];
    }
    hm_dist_fft_layout l;
    const hm_backend_ops *cpu = hm__backend_for_execution(HM_EXEC_CPU);
    if (!cpu || !cpu->op[HM_OP_DIST_FFT])
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: built without FFTW-MPI", fn);
    if ((st = hm__backend_layout(ctx, cpu, HM_OP_DIST_FFT, &d, &l)) != HM_STATUS_SUCCESS)
        return st;
    for (int i = 0; i < ndim; i++) {
        in_offset[i] = l.in_lo[i];
        in_extent[i] = l.in_n[i];
        out_offset[i] = l.out_lo[i];
        out_extent[i] = l.out_n[i];
    }
    return HM_STATUS_SUCCESS;
}
