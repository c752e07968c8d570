/* The CUDA backend's table: it probes the devices, releases the context's state, waits for
 * queued work, times on a device's stream, reports versions and devices, and names the parts
 * the other files of this folder implement (cuda.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"

static hm_status cuda_probe(hm_context *ctx, int *count)
{
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        /* No driver, no device, or a driver too old: a machine without a GPU, not a failure. */
        (void)cudaGetLastError();
        hm__log(ctx, HM_LOG_DEBUG, "CUDA probe: %s, so 0 devices", cudaGetErrorString(err));
        n = 0;
    }
    hm_status st = hm__cuda_state_create(ctx, n);
    *count = st == HM_STATUS_SUCCESS ? n : 0;
    return st;
}

static void cuda_release(hm_context *ctx)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    for (int i = 0; s && i < s->count; i++)
        if (s->dev[i].ready) {
            cudaSetDevice(i);
            cudaStreamSynchronize(s->dev[i].stream);
            hm__cuda_matmul_release_device(&s->dev[i]);
        }
    hm__cuda_state_destroy(ctx);
}

static hm_status cuda_synchronize_device(hm_context *ctx, int device)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, device, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(d->stream), "waiting for cuda:%d", device);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

/* The caller's stream and device's own, joined by an event: before a call, the device's
 * stream waits for what the caller queued; after, the caller's waits for the call. Neither
 * waits on the host. */
static hm_status cuda_join(hm_context *ctx, int device, void *stream, bool after)
{
    hm_cuda_device *d = NULL;
    hm_status st = hm__cuda_device(ctx, device, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!d->join_made) {
        HM_CUDA_TRY(ctx, cudaEventCreateWithFlags(&d->join[0], cudaEventDisableTiming),
                    "creating an event on cuda:%d", device);
        cudaError_t made = cudaEventCreateWithFlags(&d->join[1], cudaEventDisableTiming);
        if (made != cudaSuccess)
            cudaEventDestroy(d->join[0]);
        HM_CUDA_TRY(ctx, made, "creating an event on cuda:%d", device);
        d->join_made = true;
    }
    cudaStream_t caller = (cudaStream_t)stream;
    cudaStream_t from = after ? d->stream : caller, to = after ? caller : d->stream;
    HM_CUDA_TRY(ctx, cudaEventRecord(d->join[after], from),
                "recording an event on the %s stream of cuda:%d", after ? "context's" : "caller's",
                device);
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(to, d->join[after], 0),
                "ordering the %s stream of cuda:%d after the %s", after ? "caller's" : "context's",
                device, after ? "call" : "caller's work");
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_synchronize(hm_context *ctx)
{
    hm_cuda_state *s = hm__cuda_state(ctx);
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; s && i < s->count; i++) {
        hm_cuda_device *d = NULL;
        if (!s->dev[i].ready)
            continue;
        if ((st = hm__cuda_device(ctx, i, &d)) != HM_STATUS_SUCCESS) /* after a direct call too */
            return st;
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream), "synchronizing cuda:%d", i);
        if (s->dev[i].stream_in)
            HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream_in), "synchronizing cuda:%d",
                        i);
        if (s->dev[i].stream_out)
            HM_CUDA_TRY(ctx, cudaStreamSynchronize(s->dev[i].stream_out), "synchronizing cuda:%d",
                        i);
    }
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

static hm_status cuda_timer(hm_context *ctx, int device, void **state, double *seconds)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *d = NULL;
    cudaEvent_t *ev = *state;
    if ((st = hm__cuda_device(ctx, device, &d)) != HM_STATUS_SUCCESS)
        return st;
    if (!ev) {
        ev = calloc(2, sizeof *ev);
        if (!ev)
            return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a timer");
        if (cudaEventCreate(&ev[0]) != cudaSuccess || cudaEventCreate(&ev[1]) != cudaSuccess) {
            st =
                hm__cuda_fail(ctx, cudaGetLastError(), "creating timing events on cuda:%d", device);
            free(ev);
            return st;
        }
        *state = ev;
        HM_CUDA_TRY(ctx, cudaEventRecord(ev[0], d->stream), "timing on cuda:%d", device);
        return HM_STATUS_SUCCESS;
    }
    float ms = 0;
    HM_CUDA_TRY(ctx, cudaEventRecord(ev[1], d->stream), "timing on cuda:%d", device);
    if (!seconds)
        return HM_STATUS_SUCCESS; /* read when it is reached (cuda_timer_read) */
    HM_CUDA_TRY(ctx, cudaEventSynchronize(ev[1]), "timing on cuda:%d", device);
    HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, ev[0], ev[1]), "timing on cuda:%d", device);
    if (seconds)
        *seconds = ms / 1e3;
fail:
    if (*state && (seconds || st != HM_STATUS_SUCCESS)) {
        cudaEventDestroy(ev[0]);
        cudaEventDestroy(ev[1]);
        free(ev);
        *state = NULL;
    }
    return st;
}

static bool cuda_timer_read(void *state, bool drop, double *seconds)
{
    cudaEvent_t *ev = state;
    if (!drop) {
        cudaError_t reached = cudaEventQuery(ev[1]);
        if (reached == cudaErrorNotReady)
            return false;
        float ms = 0;
        if (reached != cudaSuccess || cudaEventElapsedTime(&ms, ev[0], ev[1]) != cudaSuccess)
            ms = 0;
        *seconds = ms / 1e3;
    }
    (void)cudaGetLastError();
    cudaEventDestroy(ev[0]);
    cudaEventDestroy(ev[1]);
    free(ev);
    return true;
}

static void cuda_versions(hm_context *ctx, hm_library_versions *out)
{
    if (cudaRuntimeGetVersion(&out->cuda_runtime) != cudaSuccess)
        out->cuda_runtime = 0;
    if (cudaDriverGetVersion(&out->cuda_driver) != cudaSuccess)
        out->cuda_driver = 0;
    (void)cudaGetLastError();
    out->cublaslt = hm__cuda_lt_version(ctx);
    out->cufft = hm__cuda_fft_version(ctx);
}

/* The PCIe link as Linux reports it in sysfs (0 where the file is missing, e.g. in some VMs). */
static void pcie_link(const struct cudaDeviceProp *p, int *gen, int *width)
{
    char path[128], buf[64];
    *gen = 0;
    *width = 0;
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%04x:%02x:%02x.0/current_link_speed",
             p->pciDomainID, p->pciBusID, p->pciDeviceID);
    FILE *f = fopen(path, "r");
    if (f) {
        double gts = 0;
        if (fgets(buf, sizeof buf, f) && sscanf(buf, "%lf", &gts) == 1)
            *gen = gts >= 60 ? 6 : gts >= 30 ? 5 : gts >= 15 ? 4 : gts >= 7 ? 3 : gts >= 4 ? 2 : 1;
        fclose(f);
    }
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%04x:%02x:%02x.0/current_link_width",
             p->pciDomainID, p->pciBusID, p->pciDeviceID);
    f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%d", width) != 1)
            *width = 0;
        fclose(f);
    }
}

static hm_status cuda_device_info(hm_context *ctx, int id, hm_device_info *out)
{
    hm_status st = HM_STATUS_SUCCESS;
    struct cudaDeviceProp p;
    HM_CUDA_TRY(ctx, cudaGetDeviceProperties(&p, id), "hm_context_device_info: cuda:%d", id);
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", p.name);
    out->total_memory = p.totalGlobalMem;
    out->compute_major = p.major;
    out->compute_minor = p.minor;
    out->multiprocessors = p.multiProcessorCount;
    out->pci_bus_id = p.pciBusID;
    pcie_link(&p, &out->pcie_generation, &out->pcie_width);
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

const hm_backend_ops hm__cuda_backend = {
    .name = "cuda",
    .exec_kind = HM_EXEC_CUDA,
    .probe = cuda_probe,
    .release = cuda_release,
    .alloc = hm__cuda_mem_get,
    .free = hm__cuda_mem_put,
    .locate = hm__cuda_locate,
    .host_register = hm__cuda_host_register,
    .host_unregister = hm__cuda_host_unregister,
    .copy_bytes = hm__cuda_copy_bytes,
    .copy_strided = hm__cuda_copy_strided,
    .scale = hm__cuda_scale,
    .synchronize = cuda_synchronize,
    .synchronize_device = cuda_synchronize_device,
    .join = cuda_join,
    .direct = hm__cuda_direct,
    .timer = cuda_timer,
    .timer_read = cuda_timer_read,
    .link = hm__cuda_link,
    .pipeline = hm__cuda_pipeline_run,
    .peer = hm__cuda_peer,
    .versions = cuda_versions,
    .device_info = cuda_device_info,
    .memory = hm__cuda_memory,
#ifdef HETMATH_HAVE_NCCL
    .group = &hm__cuda_group,
    .op = {[HM_OP_FFT] = &hm__cuda_fft,
           [HM_OP_MATMUL] = &hm__cuda_matmul,
           [HM_OP_DIST_FFT] = &hm__cuda_dist_fft,
           [HM_OP_DIST_MATMUL] = &hm__cuda_dist_matmul},
#else
    .op = {[HM_OP_FFT] = &hm__cuda_fft, [HM_OP_MATMUL] = &hm__cuda_matmul},
#endif
};
