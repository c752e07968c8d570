/* The backend registry and the wrappers core code calls backends through. */
#include "core/backend.h"

extern const hm_backend_ops hm__cpu_backend;
#ifdef HETMATH_HAVE_CUDA
extern const hm_backend_ops hm__cuda_backend;
#endif

/* Indexed by HM_BACKEND_*: the CPU first, then CUDA where it was built. */
static const hm_backend_ops *const registry[HM_BACKEND_SLOTS] = {
    &hm__cpu_backend,
#ifdef HETMATH_HAVE_CUDA
    &hm__cuda_backend,
#else
    NULL,
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
    switch (kind) {
    case HM_EXEC_CPU:
        return registry[HM_BACKEND_CPU];
    case HM_EXEC_CUDA:
        return registry[HM_BACKEND_CUDA];
    default:
        return NULL;
    }
}

hm_status hm__backend_locate(hm_context *ctx, const void *ptr, hm_device *space, int *pinned)
{
    *space = hm_device_host();
    *pinned = 0;
    const hm_backend_ops *cuda = registry[HM_BACKEND_CUDA];
    if (!cuda || !cuda->locate || ctx->device_count == 0)
        return HM_STATUS_SUCCESS;
    return cuda->locate(ctx, ptr, space, pinned);
}
