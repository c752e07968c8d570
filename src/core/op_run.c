/* The execution of a planned operation (core/op.h): the output allocated, host operands
 * registered, operands copied into the execution space, the computation (whole, pipelined or
 * trivial), the result copied back, the time and rate logged. */
#include <stdio.h>

#include "core/op.h"

/* A plan made with register_host page-locks the pageable host operands its executions copy
 * (core/registration.h has the rule); an output the plan allocates is never one of them. */
static void register_operands(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out)
{
    const hm_op_def *def = p->def;
    if (!p->register_host || p->exec.kind == HM_EXEC_CPU)
        return;
    for (int i = 0; i < def->count; i++) {
        bool is_out = i == def->out;
        const hm_tensor *t = is_out ? out : in[i];
        bool moved = p->copy_to[i] >= 0 || (is_out && p->copy_out);
        if (!p->present[i] || !moved || (is_out && (p->alloc_out || p->one_buffer)) ||
            !hm__device_is_host(t->device))
            continue;
        hm__host_pin_update(ctx, p->fn, def->roles[i].name, &p->pin[i], t);
    }
}

/* "12.3 GFLOP/s" or "47.10 TFLOP/s". */
static const char *format_rate(double flops, double seconds, char *buf, size_t size)
{
    double r = seconds > 0 ? flops / seconds : 0;
    if (r >= 1e12)
        snprintf(buf, size, "%.2f TFLOP/s", r / 1e12);
    else
        snprintf(buf, size, "%.1f GFLOP/s", r / 1e9);
    return buf;
}

/* Copies every operand whose values the computation needs into its execution-side buffer: a
 * staged input into its temporary, an input that starts the output (C) into the output's. */
static hm_status copy_in(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                         const hm_tensor *out, void *const data[])
{
    const hm_op_def *def = p->def;
    for (int i = 0; i < def->count; i++) {
        int j = p->copy_to[i];
        if (!p->present[i] || j < 0 || (p->pipelined && i == p->tiled) ||
            hm__op_pipeline_copies(ctx, p, in, i))
            continue;
        if (i != j && in[i]->data == out->data && !p->stage[j])
            continue; /* already where the computation reads it */
        hm_tensor dst = p->ex[j];
        dst.data = data[j];
        hm_status st = hm__transfer(ctx, in[i], &dst, p->fn, def->roles[i].name, true);
        if (st != HM_STATUS_SUCCESS)
            return st;
    }
    return HM_STATUS_SUCCESS;
}

static void free_staged(hm_context *ctx, const hm_op_plan *p, void *const data[])
{
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->stage[i])
            hm__free(ctx, p->exec_space, data[i], hm__op_exec_bytes(p, i));
}

/* The computation and, for a device, the wait a blocking call needs; logs its time. */
static hm_status compute(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                         const hm_tensor *out, void *const data[], double t0)
{
    const hm_op_def *def = p->def;
    bool staged = false;
    for (int i = 0; i < def->count; i++)
        staged |= p->present[i] && p->stage[i];
    bool device = p->exec.kind != HM_EXEC_CPU;
    bool wait = !device || p->blocking || staged || p->pipelined;
    double tc = hm__now();
    hm_status st = p->pipelined ? hm__op_run_pipeline(ctx, p, in, out, data)
                                : def->execute(ctx, p, p->be_plan, data);
    if (st == HM_STATUS_SUCCESS && device && wait)
        st = hm__backend_wait(ctx, &p->exec);
    if (st != HM_STATUS_SUCCESS || !hm__log_enabled(ctx, HM_LOG_INFO))
        return st;
    char rate[32], ex[48];
    if (wait)
        hm__log(ctx, HM_LOG_INFO, "%s %.3f ms (%s), call so far %.3f ms", def->work,
                (hm__now() - tc) * 1e3, format_rate(p->flops, hm__now() - tc, rate, sizeof rate),
                (hm__now() - t0) * 1e3);
    else
        hm__log(ctx, HM_LOG_INFO, "%s queued on the stream of %s", def->work,
                hm__format_execution(&p->exec, ex, sizeof ex));
    return HM_STATUS_SUCCESS;
}

/* Operands ready where the computation reads them: temporaries allocated, host operands
 * registered, inputs copied in. */
static hm_status prepare(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[],
                         const hm_tensor *result, void *data[])
{
    const hm_op_def *def = p->def;
    hm_status st = HM_STATUS_SUCCESS;
    register_operands(ctx, p, in, result);
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++) {
        if (!p->present[i])
            continue;
        if (p->stage[i])
            st = hm__alloc(ctx, p->exec_space, hm__op_exec_bytes(p, i), &data[i]);
        else
            data[i] = i == def->out ? result->data : in[i]->data;
    }
    return st == HM_STATUS_SUCCESS ? copy_in(ctx, p, in, result, data) : st;
}

/* An operation in passes: pass 0 from the operands into the output, each later pass on the
 * output in place, in the input that may be the output's view (def->passes planned them so), or
 * on the operands def->pass_operands gives. */
static hm_status run_passes(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[],
                            hm_tensor *result)
{
    const hm_op_def *def = p->def;
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 0; k < p->npasses && st == HM_STATUS_SUCCESS; k++) {
        const hm_tensor *pass_in[HM_OP_MAX_OPERANDS];
        hm_tensor views[HM_OP_MAX_OPERANDS];
        for (int i = 0; i < def->count; i++)
            pass_in[i] = i == def->out || (k > 0 && (def->roles[i].flags & HM_ROLE_OUT_VIEW))
                             ? result
                             : in[i];
        if (def->pass_operands)
            def->pass_operands(p, k, in, result, views, pass_in);
        hm__log(ctx, HM_LOG_INFO, "pass %d of %d", k + 1, p->npasses);
        st = hm__op_run(ctx, p->pass[k], pass_in, result);
    }
    return st;
}

/* The CUDA device whose stream a caller's stream is joined to: the execution's, else that of
 * the first device operand (-1: none, or no caller's stream). */
static int joined_device(const hm_op_plan *p)
{
    if (!p->stream)
        return -1;
    if (p->exec.kind == HM_EXEC_CUDA)
        return p->exec.device_id;
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->t[i].device.type == HM_DEVICE_CUDA)
            return p->t[i].device.id;
    return -1;
}

/* A call of device operands on the caller's stream that computes on that stream itself: the
 * execution device's operands used in place, nothing staged, allocated, copied, divided or
 * waited for. Its ordering costs one event a call in a loop on one stream, where a join costs
 * two events and two waits. */
static bool direct(const hm_op_plan *p)
{
    if (!p->stream || p->exec.kind != HM_EXEC_CUDA || p->exec.device_set || p->alloc_out ||
        p->empty || p->trivial || p->npasses || p->pipelined || p->copy_out || p->blocking ||
        p->def->agree || !hm__backend_has_direct())
        return false;
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->stage[i])
            return false;
    return true;
}

hm_status hm__op_run(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[], hm_tensor *out)
{
    const hm_op_def *def = p->def;
    int o = def->out;
    hm__log_phase(ctx, HM_PHASE_EXECUTION);
    hm_tensor result = p->alloc_out ? p->t[o] : *in[o];
    void *data[HM_OP_MAX_OPERANDS] = {NULL};
    double t0 = hm__now();
    bool work = !p->empty && !p->trivial;
    /* A caller's stream: what it queued before comes first, what it queues after comes after */
    int joined = joined_device(p);
    bool on_callers = joined >= 0 && direct(p);
    hm_status st = joined < 0   ? HM_STATUS_SUCCESS
                   : on_callers ? hm__backend_direct(ctx, joined, p->stream, false)
                                : hm__backend_join(ctx, joined, p->stream, false);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (p->alloc_out) {
        result.device = p->t[o].device;
        st = hm__alloc(ctx, result.device, hm_tensor_nbytes(&result), &result.data);
    }
    if (st == HM_STATUS_SUCCESS && p->empty)
        hm__log(ctx, HM_LOG_INFO, "nothing to compute: the result is empty");
    else if (st == HM_STATUS_SUCCESS && p->trivial)
        st = def->trivial(ctx, p, in, &result);
    else if (st == HM_STATUS_SUCCESS && p->npasses)
        st = run_passes(ctx, p, in, &result);
    else if (st == HM_STATUS_SUCCESS)
        st = prepare(ctx, p, in, &result, data);
    /* A collective operation agrees twice here, whatever happened above on this rank: every
     * rank ready to compute or none computes, then every rank's computation done or failed. */
    if (def->agree)
        st = def->agree(ctx, p, st);
    if (st == HM_STATUS_SUCCESS && work && !p->npasses)
        st = compute(ctx, p, in, &result, data, t0);
    if (def->agree)
        st = def->agree(ctx, p, st);
    if (st == HM_STATUS_SUCCESS && work && p->copy_out && !p->pipelined && !p->npasses) {
        hm_tensor from = p->ex[o];
        from.data = data[o];
        st = hm__transfer(ctx, &from, &result, p->fn, def->roles[o].name, true);
    }
    if (st != HM_STATUS_SUCCESS && p->exec.kind != HM_EXEC_CPU)
        hm__backend_drain(ctx); /* nothing queued may still use what is freed below */
    free_staged(ctx, p, data);
    if (joined >= 0) { /* after the temporaries' stream-ordered frees, failed or not */
        hm_status joined_st = on_callers ? hm__backend_direct(ctx, joined, p->stream, true)
                                         : hm__backend_join(ctx, joined, p->stream, true);
        st = st == HM_STATUS_SUCCESS ? joined_st : st;
    }
    if (st != HM_STATUS_SUCCESS) {
        if (p->alloc_out)
            hm__free(ctx, result.device, result.data, hm_tensor_nbytes(&result));
        return st;
    }
    if (p->alloc_out)
        *out = result;
    return HM_STATUS_SUCCESS;
}
