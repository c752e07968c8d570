/* The auto execution space (HM_EXEC_AUTO; core/op.h): a specification's terms for the placement
 * model (core/placement.h), the calibration, the choice, its words in the spaces line and at
 * DEBUG, and an estimate's candidates. */
#include <stdio.h>
#include <string.h>

#include "core/calibrate.h"
#include "core/op.h"

static int family_of(const hm_op_plan *p)
{
    hm_dtype dt = p->t[0].dtype; /* x of an FFT, A of a product */
    bool dbl = dt == HM_DTYPE_F64 || dt == HM_DTYPE_C128;
    if (p->def->id == HM_OP_FFT)
        return dbl ? HM_CAL_FFT_C128 : HM_CAL_FFT_C64;
    if (p->def->id == HM_OP_MATMUL)
        return dbl ? HM_CAL_MATMUL_F64 : HM_CAL_MATMUL_F32;
    return -1;
}

/* The space a candidate stands for (-1: the CPU, its threads capped as the operation's), as the
 * specification would resolve it. */
static hm_execution candidate(const hm_context *ctx, const hm_op_plan *p, int device)
{
    if (device == HM_PLACE_SET) { /* every device the model knows */
        int ids[HM_CAL_DEVICES];
        hm_execution set = hm_execution_cuda(HM_AUTO);
        int n = ctx->device_count < HM_CAL_DEVICES ? ctx->device_count : HM_CAL_DEVICES;
        for (int i = 0; i < n; i++)
            ids[i] = i;
        (void)hm_execution_cuda_set(ids, n, &set);
        return set;
    }
    if (device >= 0)
        return hm_execution_cuda(device);
    int threads = ctx->cpu_threads;
    if (p->cpu_threads_cap > 0 && p->cpu_threads_cap < threads)
        threads = p->cpu_threads_cap;
    return hm_execution_cpu(threads);
}

/* A product's thin shape (placement.h), or -1: K small beside a large output, or a small output
 * beside a long K. */
static int shape_of(const hm_op_plan *p)
{
    const hm_tensor *A = &p->t[0], *B = &p->t[1];
    if (p->def->id != HM_OP_MATMUL || A->ndim < 2 || B->ndim < 2)
        return -1;
    double m = (double)A->shape[A->ndim - 2], k = (double)A->shape[A->ndim - 1],
           n = (double)B->shape[B->ndim - 1];
    if (k <= 128 && m * n >= 65536)
        return HM_CAL_MATMUL_THIN_K;
    if (m * n <= 16384 && k >= 1024)
        return HM_CAL_MATMUL_SMALL_OUT;
    return -1;
}

static int location(hm_device d)
{
    return d.type == HM_DEVICE_CUDA ? d.id : -1;
}

/* Whether the guard refuses a copy from `from` to `to` (-1: the host). */
static bool refused(const hm_context *ctx, int from, int to)
{
    hm_device s = from < 0 ? hm_device_host() : hm_device_cuda(from);
    hm_device d = to < 0 ? hm_device_host() : hm_device_cuda(to);
    return from != to && ctx->guard[hm__direction(s, d)] == HM_GUARD_ERROR;
}

/* The model's view of p: its work, its bytes by where they are, whether each candidate has its
 * plan, which the guard or the operation exclude. */
static void gather(hm_context *ctx, const hm_op_plan *p, int devices, int reuse, hm_place_call *c)
{
    const hm_op_def *def = p->def;
    memset(c, 0, sizeof *c);
    c->family = (hm_cal_family)family_of(p);
    c->shape = shape_of(p);
    c->work = p->flops;
    c->reuse = reuse;
    const hm_tensor *out = &p->t[def->out];
    c->out_bytes = hm_tensor_nbytes(out);
    c->out_device = location(out->device);
    bool from[1 + HM_CAL_DEVICES] = {false};
    for (int i = 0; i < def->count; i++) {
        if (!p->present[i] || !(def->roles[i].flags & HM_ROLE_IN) ||
            (i == def->out && p->alloc_out))
            continue;
        int at = location(p->t[i].device);
        if (at < HM_CAL_DEVICES) {
            c->in_bytes[at + 1] += hm_tensor_nbytes(&p->t[i]);
            from[at + 1] = true;
        }
    }
    /* a device would pipeline a large host input (the first operand is the tiled one), and
     * measure its schedule at planning */
    if (p->may_pipeline && location(p->t[0].device) < 0 &&
        hm_tensor_nbytes(&p->t[0]) >= HM_PIPELINE_MIN_BYTES) {
        c->pipeline = p->def->id == HM_OP_FFT ? HM_CAL_PIPE_FFT : HM_CAL_PIPE_MATMUL;
        c->tiled_bytes = hm_tensor_nbytes(&p->t[0]); /* the rows the devices of a set divide */
        /* a set copies the other operands from its first device to the others */
        c->set_allowed = ctx->guard[HM_TRANSFER_D2D] != HM_GUARD_ERROR;
    }
    c->excluded[0] = p->kind == HM_OP_SPECIALIZED;
    for (int d = -1; d < devices; d++) {
        hm_execution e = candidate(ctx, p, d);
        bool cached = p->cached && hm__op_plan_cached(p, &e);
        if (d < 0)
            c->cpu_planned = cached;
        else
            c->dev_planned[d] = cached;
        for (int at = -1; at < HM_CAL_DEVICES; at++)
            c->excluded[d + 1] |= from[at + 1] && refused(ctx, at, d);
        c->excluded[d + 1] |= refused(ctx, d, c->out_device);
    }
    if (c->set_allowed && devices >= 2 && p->cached) {
        hm_execution set = candidate(ctx, p, HM_PLACE_SET);
        c->set_planned = hm__op_plan_cached(p, &set);
    }
}

static const char *seconds(double s, char *buf, size_t size)
{
    if (s < 0)
        snprintf(buf, size, "unmeasured");
    else if (s < 1e-3)
        snprintf(buf, size, "%.3g us", s * 1e6);
    else if (s < 1)
        snprintf(buf, size, "%.3g ms", s * 1e3);
    else
        snprintf(buf, size, "%.3g s", s);
    return buf;
}

/* "auto: cpu 113 ms, cuda:0 6.6 ms with 224 MB of copies" into p->auto_why, and each
 * candidate's terms at DEBUG. */
static void explain(hm_context *ctx, hm_op_plan *p, const hm_place_call *call,
                    const hm_place_cost *cost, int n, int reuse)
{
    size_t used = (size_t)snprintf(p->auto_why, sizeof p->auto_why, "auto:");
    for (int i = 0; i < n; i++) {
        const hm_place_cost *c = &cost[i];
        char ex[48], t[5][24], moved[32];
        hm_execution e = candidate(ctx, p, c->device);
        hm__format_execution(&e, ex, sizeof ex);
        if (used < sizeof p->auto_why)
            used += (size_t)snprintf(
                p->auto_why + used, sizeof p->auto_why - used, "%s %s %s%s%s%s", i ? "," : "", ex,
                c->excluded ? "excluded, " : "", seconds(c->total_s, t[0], sizeof t[0]),
                c->moved && c->known ? " with " : "",
                c->moved && c->known ? hm__format_bytes(c->moved, moved, sizeof moved) : "");
        if (used < sizeof p->auto_why && c->moved && c->known)
            used += (size_t)snprintf(p->auto_why + used, sizeof p->auto_why - used, " of copies");
        hm__log(ctx, HM_LOG_DEBUG,
                "auto: %s: copies in %s, planning %s%s (shared by %d), computing %s, the "
                "result back %s: %s%s",
                ex, seconds(c->in_s, t[0], sizeof t[0]), seconds(c->plan_s, t[1], sizeof t[1]),
                c->plan_s == 0 && c->known ? " (cached)" : "", reuse,
                seconds(c->compute_s, t[2], sizeof t[2]), seconds(c->out_s, t[3], sizeof t[3]),
                seconds(c->total_s, t[4], sizeof t[4]),
                c->excluded ? (c->device < 0 && p->kind == HM_OP_SPECIALIZED
                                   ? " (CUDA only)"
                                   : " (the guard refuses its copies)")
                            : "");
    }
}

static void fill_estimate(hm_context *ctx, const hm_op_plan *p, const hm_place_cost *cost, int n,
                          int chosen, bool calibrated, hm_estimate *out)
{
    memset(out, 0, sizeof *out);
    out->count = n;
    out->chosen = chosen;
    out->calibrated = calibrated;
    for (int i = 0; i < n; i++) {
        hm_estimate_candidate *c = &out->candidate[i];
        c->execution = candidate(ctx, p, cost[i].device);
        c->copy_in_s = cost[i].in_s;
        c->plan_s = cost[i].plan_s;
        c->compute_s = cost[i].compute_s;
        c->copy_out_s = cost[i].out_s;
        c->total_s = cost[i].total_s;
        c->copy_bytes = cost[i].moved;
        c->excluded = cost[i].excluded;
    }
}

hm_status hm__op_auto(hm_context *ctx, hm_op_plan *p, hm_execution *req)
{
    hm_status st = req->kind == HM_EXEC_AUTO ? hm__check_auto(ctx, p->api, req) : HM_STATUS_SUCCESS;
    if (st != HM_STATUS_SUCCESS)
        return st;
    int reuse = req->kind == HM_EXEC_AUTO && req->reuse > 1 ? req->reuse : 1;
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
    int devices = cuda && cuda->op[p->def->id] ? ctx->device_count : 0;
    devices = devices < HM_CAL_DEVICES ? devices : HM_CAL_DEVICES;
    if (family_of(p) < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                        "%s: the auto execution space is for hm_matmul and hm_fft", p->api);

    const hm_calibration *cal = ctx->calibration;
    hm_calibration none;
    if (devices > 0 && !(cal = hm__calibration(ctx, p->api))) {
        if (p->estimate)
            return hm_context_last_status(ctx);
        /* A call goes on where its operands are, rather than fail for want of a model. */
        hm__log(ctx, HM_LOG_WARN, "auto: no calibration (%s): the default execution space",
                hm_context_last_error(ctx));
        hm__clear_error(ctx);
        snprintf(p->auto_why, sizeof p->auto_why, "auto: uncalibrated, the default");
        *req = hm_execution_default();
        return HM_STATUS_SUCCESS;
    }
    if (!cal) { /* no device, and never calibrated: the CPU, unmodelled */
        memset(&none, 0, sizeof none);
        cal = &none;
    }
    hm_place_call call;
    hm_place_cost cost[HM_PLACE_MAX];
    int n = 0;
    gather(ctx, p, devices, reuse, &call);
    int pick = hm__place_decide(cal, devices, &call, cost, &n);
    int device = cost[pick].device;
    if (devices == 0)
        snprintf(p->auto_why, sizeof p->auto_why, "auto: the only execution space here, %s",
                 cuda ? "no CUDA device" : "hetmath was built without CUDA");
    else if (hm__log_enabled(ctx, HM_LOG_INFO))
        explain(ctx, p, &call, cost, n, reuse);
    if (p->estimate)
        fill_estimate(ctx, p, cost, n, pick, cal != &none, p->estimate);
    /* A CUDA-only operation with no device known: the default (CUDA, or its failure). */
    *req = device == -1 && p->kind == HM_OP_SPECIALIZED ? hm_execution_default()
           : device == -1                               ? hm_execution_cpu(HM_AUTO)
                                                        : candidate(ctx, p, device);
    return HM_STATUS_SUCCESS;
}
