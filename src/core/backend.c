/* The backend registry and the wrappers core code calls backends through: the defaults of empty
 * slots, the testing hooks and the count of live backend plans live here and nowhere else. */
#include "core/backend.h"

#include <stdio.h>

extern const hm_backend_ops hm__cpu_backend;
#ifdef HETMATH_HAVE_CUDA
extern const hm_backend_ops hm__cuda_backend;
#endif

/* Indexed by HM_BACKEND_*: the CPU first, then CUDA where it was built. */
static const hm_backend_ops *const registry[HM_BACKEND_SLOTS] = {
    [HM_BACKEND_CPU] = &hm__cpu_backend,
#ifdef HETMATH_HAVE_CUDA
    [HM_BACKEND_CUDA] = &hm__cuda_backend,
#endif
};

const hm_backend_ops *hm__backend(int slot)
{
    return (slot >= 0 && slot < HM_BACKEND_SLOTS) ? registry[slot] : NULL;
}

const hm_backend_ops *hm__backend_for_memory(hm_device device)
{
    switch (device.type) {
    case HM_DEVICE_HOST:
        return registry[HM_BACKEND_CPU];
    case HM_DEVICE_CUDA:
    case HM_DEVICE_CUDA_HOST:
        return registry[HM_BACKEND_CUDA];
    default:
        return NULL;
    }
}

const hm_backend_ops *hm__backend_for_execution(hm_execution_kind kind)
{
    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++)
        if (registry[slot] && registry[slot]->exec_kind == kind)
            return registry[slot];
    return NULL;
}

const hm_backend_ops *hm__backend_mover(void)
{
    return hm__backend_for_memory(hm_device_cuda(0));
}

hm_status hm__backend_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned)
{
    *space = hm_device_host();
    *pinned = 0;
    const hm_backend_ops *b = hm__backend_mover();
    if (!b || !b->locate || ctx->device_count == 0)
        return HM_STATUS_SUCCESS;
    return b->locate(ctx, ptr, space, pinned);
}

bool hm__backend_supports(const hm_backend_ops *b, hm_op_id op, const void *desc, char *why,
                          size_t why_size)
{
    const hm_op_backend *o = b ? b->op[op] : NULL;
    if (!o) {
        snprintf(why, why_size, "the %s backend has no such operation", b ? b->name : "requested");
        return false;
    }
    return !o->supports || o->supports(desc, why, why_size);
}

/* The failure point of a backend call, then (a collective call) every rank's agreement on it. */
static hm_status call_point(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, const char *fn,
                            const char *what, const hm_collective *all)
{
    hm_status st = HM_STATUS_SUCCESS;
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL))
        st = hm__fail(ctx, b->op[op]->error, "%s: %s on the %s backend failed (injected)", fn, what,
                      b->name);
    return all ? all->agree(ctx, all->plan, st) : st;
}

hm_status hm__backend_plan(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, const char *fn,
                           const void *desc, const void *args, void **plan)
{
    return hm__backend_plan_collective(ctx, b, op, fn, desc, args, plan, NULL);
}

hm_status hm__backend_plan_collective(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                                      const char *fn, const void *desc, const void *args,
                                      void **plan, const hm_collective *all)
{
    *plan = NULL;
    hm_status st = call_point(ctx, b, op, fn, "planning", all);
    if (st == HM_STATUS_SUCCESS)
        st = b->op[op]->plan(ctx, desc, args, plan);
    if (st == HM_STATUS_SUCCESS)
        ctx->live_plans++;
    return st;
}

hm_status hm__backend_execute(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, const char *fn,
                              void *plan, const void *args)
{
    return hm__backend_execute_collective(ctx, b, op, fn, plan, args, NULL);
}

hm_status hm__backend_execute_collective(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                                         const char *fn, void *plan, const void *args,
                                         const hm_collective *all)
{
    hm_status st = call_point(ctx, b, op, fn, "computing", all);
    return st == HM_STATUS_SUCCESS ? b->op[op]->execute(ctx, plan, args) : st;
}

hm_status hm__backend_layout(hm_context *ctx, const hm_backend_ops *b, hm_op_id op,
                             const void *desc, void *out)
{
    const hm_op_backend *o = b ? b->op[op] : NULL;
    if (!o || !o->layout)
        return hm__fail(ctx, HM_STATUS_INTERNAL, "the %s backend gives no layout for this",
                        b ? b->name : "requested");
    return o->layout(ctx, desc, out);
}

void hm__backend_destroy(hm_context *ctx, const hm_backend_ops *b, hm_op_id op, void *plan)
{
    if (!plan)
        return;
    b->op[op]->destroy(plan);
    ctx->live_plans--;
}

bool hm__backend_can_pipeline(const hm_backend_ops *b)
{
    return b && b->pipeline;
}

hm_status hm__backend_pipeline(hm_context *ctx, const hm_backend_ops *b,
                               const hm_pipeline_job *jobs, int count)
{
    if (!hm__backend_can_pipeline(b))
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: the %s backend has no pipeline",
                        jobs[0].op, b ? b->name : "requested");
    return b->pipeline(ctx, jobs, count);
}

size_t hm__backend_work(const hm_backend_ops *b, hm_op_id op, const void *plan)
{
    return b && b->op[op] && b->op[op]->work && plan ? b->op[op]->work(plan) : 0;
}

hm_status hm__backend_memory(hm_context *ctx, const hm_backend_ops *b, int id, size_t *available,
                             size_t *total)
{
    *available = *total = 0;
    if (!b || !b->memory)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "the %s backend has no device memory",
                        b ? b->name : "missing");
    return b->memory(ctx, id, available, total);
}

hm_status hm__backend_peer(hm_context *ctx, const hm_backend_ops *b, int a, int bdev, bool *direct)
{
    *direct = false;
    if (!b || !b->peer)
        return HM_STATUS_SUCCESS;
    return b->peer(ctx, a, bdev, direct);
}

hm_status hm__backend_wait(hm_context *ctx, const hm_execution *exec)
{
    const hm_backend_ops *b = hm__backend_for_execution(exec->kind);
    if (!b || !b->synchronize_device || exec->kind == HM_EXEC_CPU)
        return HM_STATUS_SUCCESS;
    return b->synchronize_device(ctx, exec->device_id);
}

bool hm__backend_has_direct(void)
{
    const hm_backend_ops *b = hm__backend_for_execution(HM_EXEC_CUDA);
    return b && b->direct;
}

hm_status hm__backend_direct(hm_context *ctx, int device, void *stream, bool after)
{
    return hm__backend_for_execution(HM_EXEC_CUDA)->direct(ctx, device, stream, after);
}

hm_status hm__backend_join(hm_context *ctx, int device, void *stream, bool after)
{
    const hm_backend_ops *b = hm__backend_for_execution(HM_EXEC_CUDA);
    if (!b || !b->join)
        return HM_STATUS_SUCCESS;
    return b->join(ctx, device, stream, after);
}

void hm__backend_drain(hm_context *ctx)
{
    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++)
        if (registry[slot] && registry[slot]->synchronize && ctx->backend_state[slot])
            (void)registry[slot]->synchronize(ctx);
}

hm_status hm__backend_timer(hm_context *ctx, const hm_backend_ops *b, int device, void **state,
                            double *seconds)
{
    if (!b || !b->timer)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "the %s backend has no device timer",
                        b ? b->name : "requested");
    return b->timer(ctx, device, state, seconds);
}

bool hm__backend_timer_read(const hm_backend_ops *b, void *state, bool drop, double *seconds)
{
    return b && b->timer_read ? b->timer_read(state, drop, seconds) : true;
}

bool hm__backend_has_link(const hm_backend_ops *b)
{
    return b && b->link;
}

hm_status hm__backend_link(hm_context *ctx, const hm_backend_ops *b, int device, hm_link *out)
{
    if (!hm__backend_has_link(b))
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "the %s backend cannot measure a link",
                        b ? b->name : "requested");
    return b->link(ctx, device, out);
}

hm_status hm__backend_copy_bytes(hm_context *ctx, const char *operand, void *dst,
                                 hm_device dst_space, const void *src, hm_device src_space,
                                 size_t bytes, hm_transfer_path *path, int *chunks)
{
    const hm_backend_ops *b = hm__backend_mover();
    if (!b || !b->copy_bytes)
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE,
                        "copying operand %s needs CUDA, which is not built in", operand);
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL))
        return hm__fail(ctx, HM_STATUS_CUDA_ERROR, "copying operand %s failed (injected)", operand);
    return b->copy_bytes(ctx, dst, dst_space, src, src_space, bytes, path, chunks);
}

/* The backend that computes on memory of `space` in place: pinned memory is host memory. */
static const hm_backend_ops *local_backend(hm_device space)
{
    return hm__backend_for_memory(space.type == HM_DEVICE_CUDA_HOST ? hm_device_host() : space);
}

hm_status hm__backend_copy_strided(hm_context *ctx, hm_device space, void *dst,
                                   const int64_t *dst_strides, const void *src,
                                   const int64_t *src_strides, const hm_tensor *shape_of)
{
    const hm_backend_ops *b = local_backend(space);
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL))
        return hm__fail(ctx,
                        space.type == HM_DEVICE_CUDA ? HM_STATUS_CUDA_ERROR : HM_STATUS_INTERNAL,
                        "a strided copy failed (injected)");
    return b->copy_strided(ctx, space, dst, dst_strides, src, src_strides, shape_of->shape,
                           shape_of->ndim, hm_dtype_size(shape_of->dtype));
}

hm_status hm__backend_scale(hm_context *ctx, const hm_tensor *t, double factor)
{
    const hm_backend_ops *b = local_backend(t->device);
    if (hm__fault(ctx, HM_FAULT_BACKEND_CALL))
        return hm__fail(
            ctx, t->device.type == HM_DEVICE_CUDA ? HM_STATUS_CUDA_ERROR : HM_STATUS_INTERNAL,
            "scaling a result failed (injected)");
    return b->scale(ctx, t, factor);
}

bool hm__backend_host_register(hm_context *ctx, void *ptr, size_t bytes, char *why, size_t why_size)
{
    const hm_backend_ops *b = hm__backend_for_memory(hm_device_pinned());
    if (!b || !b->host_register) {
        snprintf(why, why_size, "no backend page-locks host memory");
        return false;
    }
    return b->host_register(ctx, ptr, bytes, why, why_size);
}

void hm__backend_host_unregister(hm_context *ctx, void *ptr)
{
    const hm_backend_ops *b = hm__backend_for_memory(hm_device_pinned());
    if (b && b->host_unregister)
        b->host_unregister(ctx, ptr);
}
