/* Resolution of execution spaces (docs/ARCHITECTURE.md): generic operations follow their operands,
 * specialized ones run on CUDA, explicit requests are honoured or refused with a reason. */
#include <stdio.h>

#include "core/backend.h"

static int count_bits(uint64_t set)
{
    int n = 0;
    for (; set; set &= set - 1)
        n++;
    return n;
}

/* A device set: every device exists; the operands' device leads when the set holds it, else the
 * lowest; a set of one is that device. */
static hm_status resolve_set(hm_context *ctx, const char *fn, hm_execution *req, int cuda_dev,
                             hm_execution *resolved)
{
    int n = count_bits(req->device_set), lowest = -1;
    if (n > HM_MAX_DEVICE_SET)
        return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                        "%s: a device set of %d devices (at most %d)", fn, n, HM_MAX_DEVICE_SET);
    for (int i = 0; i < 64; i++) {
        if (!(req->device_set >> i & 1))
            continue;
        if (i >= ctx->device_count)
            return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND,
                            "%s: execution device cuda:%d of the set does not exist (%d device%s)",
                            fn, i, ctx->device_count, ctx->device_count == 1 ? "" : "s");
        lowest = lowest < 0 ? i : lowest;
    }
    bool holds = cuda_dev >= 0 && cuda_dev < 64 && (req->device_set >> cuda_dev & 1);
    req->device_id = holds ? cuda_dev : lowest;
    if (n == 1)
        req->device_set = 0;
    *resolved = *req;
    return HM_STATUS_SUCCESS;
}

hm_status hm_execution_cuda_set(const int *ids, int count, hm_execution *out)
{
    if (!ids || !out)
        return HM_STATUS_INVALID_ARGUMENT;
    if (count < 1 || count > HM_MAX_DEVICE_SET)
        return HM_STATUS_INVALID_EXECUTION;
    uint64_t set = 0;
    for (int i = 0; i < count; i++) {
        if (ids[i] < 0 || ids[i] > 63 || (set >> ids[i] & 1))
            return HM_STATUS_INVALID_EXECUTION;
        set |= (uint64_t)1 << ids[i];
    }
    *out = hm_execution_cuda(HM_AUTO);
    out->device_set = set;
    return HM_STATUS_SUCCESS;
}

hm_status hm__check_auto(hm_context *ctx, const char *fn, const hm_execution *req)
{
    if (req->device_id != HM_AUTO || req->num_threads != HM_AUTO || req->device_set != 0 ||
        req->reuse < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                        "%s: the auto execution space takes no device id (%d), thread count (%d) "
                        "or device set, and a reuse hint of 0 or more (%d)",
                        fn, req->device_id, req->num_threads, req->reuse);
    return HM_STATUS_SUCCESS;
}

hm_status hm__resolve_execution(hm_context *ctx, const char *fn, const hm_execution *requested,
                                hm_op_class op_class, const hm_tensor *const *operands,
                                const char *const *names, int n, hm_execution *resolved)
{
    hm_execution req = requested ? *requested : hm_execution_default();
    char a[32];

    /* Where the operands are: the first cuda device seen, and whether host operands exist. */
    int cuda_dev = -1, cuda_index = -1, host_index = -1;
    for (int i = 0; i < n; i++) {
        const hm_tensor *t = operands[i];
        if (!t)
            continue;
        if (t->device.type == HM_DEVICE_CUDA) {
            if (cuda_dev < 0) {
                cuda_dev = t->device.id;
                cuda_index = i;
            } else if (t->device.id != cuda_dev &&
                       !(req.kind == HM_EXEC_CUDA &&
                         (req.device_id != HM_AUTO || req.device_set != 0))) {
                return hm__fail(ctx, HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES,
                                "%s: operand %s is on cuda:%d but %s is on cuda:%d; name an "
                                "execution device to copy them to",
                                fn, names[i], t->device.id, names[cuda_index], cuda_dev);
            }
        } else if (host_index < 0) {
            host_index = i;
        }
    }

    if (req.device_set != 0 && (req.kind != HM_EXEC_CUDA || req.device_id != HM_AUTO))
        return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                        "%s: a device set is a cuda execution space with device_id HM_AUTO (got "
                        "kind %d, device_id %d)",
                        fn, (int)req.kind, req.device_id);
    if (req.kind == HM_EXEC_AUTO) { /* here, the default (the choice needs the operation) */
        hm_status st = hm__check_auto(ctx, fn, &req);
        if (st != HM_STATUS_SUCCESS)
            return st;
        req = hm_execution_default();
    }
    switch (req.kind) {
    case HM_EXEC_DEFAULT:
        if (req.device_id != HM_AUTO || req.num_threads != HM_AUTO)
            return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                            "%s: the default execution space takes no device id (%d) or thread "
                            "count (%d); use a cpu or cuda execution space",
                            fn, req.device_id, req.num_threads);
        if (op_class == HM_OP_GENERIC && cuda_dev >= 0 && host_index >= 0)
            return hm__fail(ctx, HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES,
                            "%s: operand %s is in %s but %s is on cuda:%d; name an execution "
                            "space to say where to compute",
                            fn, names[host_index],
                            hm_device_format(operands[host_index]->device, a, sizeof a),
                            names[cuda_index], cuda_dev);
        if (op_class == HM_OP_GENERIC && cuda_dev < 0) {
            *resolved = hm_execution_cpu(ctx->cpu_threads);
            return HM_STATUS_SUCCESS;
        }
        req = hm_execution_cuda(cuda_dev >= 0 ? cuda_dev : HM_AUTO);
        break;
    case HM_EXEC_CPU:
        if (op_class == HM_OP_SPECIALIZED)
            return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                            "%s: this operation runs on CUDA only; cpu execution was asked for",
                            fn);
        if (req.device_id != HM_AUTO)
            return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                            "%s: cpu execution takes no device id (got %d)", fn, req.device_id);
        if (req.num_threads == HM_AUTO) {
            req.num_threads = ctx->cpu_threads;
        } else if (req.num_threads <= 0 || req.num_threads > HM_MAX_THREADS) {
            return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                            "%s: cpu execution with %d threads (must be 1 to %d, or HM_AUTO)", fn,
                            req.num_threads, HM_MAX_THREADS);
        }
        *resolved = req;
        return HM_STATUS_SUCCESS;
    case HM_EXEC_CUDA:
        if (req.num_threads != HM_AUTO)
            return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                            "%s: cuda execution takes no thread count (got %d)", fn,
                            req.num_threads);
        break;
    default:
        return hm__fail(ctx, HM_STATUS_INVALID_EXECUTION,
                        "%s: execution kind %d is not an hm_execution_kind", fn, (int)req.kind);
    }

    /* CUDA execution. */
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
    if (!cuda || ctx->device_count == 0)
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                        "%s: %s needs a CUDA execution space, but %s", fn,
                        op_class == HM_OP_SPECIALIZED ? "this operation" : "the request",
                        cuda ? "no CUDA device was found" : "hetmath was built without CUDA");
    if (req.device_set != 0)
        return resolve_set(ctx, fn, &req, cuda_dev, resolved);
    if (req.device_id == HM_AUTO)
        req.device_id = cuda_dev >= 0 ? cuda_dev : 0;
    if (req.device_id < 0 || req.device_id >= ctx->device_count)
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND,
                        "%s: execution device cuda:%d does not exist (%d device%s)", fn,
                        req.device_id, ctx->device_count, ctx->device_count == 1 ? "" : "s");
    *resolved = req;
    return HM_STATUS_SUCCESS;
}

hm_status hm_execution_resolve(hm_context *ctx, const hm_execution *requested, hm_op_class op_class,
                               const hm_tensor *const *operands, int num_operands,
                               hm_execution *resolved)
{
    HM_ENTER(ctx, "hm_execution_resolve");
    if (!resolved || num_operands < 0 || (num_operands > 0 && !operands))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_execution_resolve: resolved or operands is NULL");
    static const char *const names[] = {"0", "1", "2", "3", "4", "5", "6", "7"};
    if (num_operands > (int)HM_ARRAY_LEN(names))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_execution_resolve: at most %d operands", (int)HM_ARRAY_LEN(names));
    return hm__resolve_execution(ctx, "hm_execution_resolve", requested, op_class, operands, names,
                                 num_operands, resolved);
}
