/* NCCL groups: the collectives of GPU ranks (hm_backend_ops.group). A group is one NCCL
 * communicator, one device a rank, joined with the token (NCCL's unique id) rank 0 made; its
 * exchanges are grouped point-to-point sends and receives queued on the device's stream. Built
 * with MPI and NCCL only; NCCL itself is loaded on first use (cuda_libs.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/cuda_libs.h"

hm_status hm__nccl_fail(hm_context *ctx, int result, const char *what)
{
    ncclResult_t r = (ncclResult_t)result;
    return hm__fail(ctx, HM_STATUS_NCCL_ERROR, "NCCL, %s: %s (%d)", what,
                    HM_NCCL(ncclGetErrorString)(r), (int)r);
}

static hm_status nccl_ready(hm_context *ctx, int device)
{
    hm_cuda_device *d;
    hm_status st = hm__cuda_load_nccl(ctx);
    return st == HM_STATUS_SUCCESS ? hm__cuda_device_streams(ctx, device, &d) : st;
}

static hm_status nccl_token(hm_context *ctx, void *token)
{
    hm_status st = hm__cuda_load_nccl(ctx);
    if (st != HM_STATUS_SUCCESS)
        return st;
    ncclResult_t r = HM_NCCL(ncclGetUniqueId)((ncclUniqueId *)token);
    return r == ncclSuccess ? HM_STATUS_SUCCESS : hm__nccl_fail(ctx, r, "making the group's id");
}

static hm_status nccl_join(hm_context *ctx, const void *token, int size, int rank, int device,
                           void **out)
{
    hm_status st = nccl_ready(ctx, device); /* the device current */
    if (st != HM_STATUS_SUCCESS)
        return st;
    hm_nccl_group *g = calloc(1, sizeof *g);
    if (!g)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for an NCCL group");
    ncclUniqueId id;
    memcpy(&id, token, sizeof id);
    ncclResult_t r = HM_NCCL(ncclCommInitRank)(&g->comm, size, id, rank);
    if (r != ncclSuccess) {
        free(g);
        return hm__nccl_fail(ctx, r, "joining the group of the communicator's ranks");
    }
    g->device = device;
    g->size = size;
    g->rank = rank;
    int version = 0;
    HM_NCCL(ncclGetVersion)(&version);
    hm__log(ctx, HM_LOG_INFO, "NCCL %d: rank %d of %d on cuda:%d", version, rank, size, device);
    *out = g;
    return HM_STATUS_SUCCESS;
}

static void nccl_leave(void *group)
{
    hm_nccl_group *g = group;
    if (!g)
        return;
    int was = -1;
    cudaGetDevice(&was);
    cudaSetDevice(g->device);
    HM_NCCL(ncclCommDestroy)(g->comm);
    if (was >= 0)
        cudaSetDevice(was);
    free(g);
}

hm_status hm__nccl_wait(hm_context *ctx, hm_nccl_group *g, cudaStream_t stream, const char *what)
{
    hm_status st = HM_STATUS_SUCCESS;
    HM_CUDA_TRY(ctx, cudaStreamSynchronize(stream), "waiting for %s", what);
    ncclResult_t async = ncclSuccess;
    HM_NCCL(ncclCommGetAsyncError)(g->comm, &async);
    if (async != ncclSuccess)
        return hm__nccl_fail(ctx, async, what);
fail:
    return st;
}

hm_status hm__nccl_finish(hm_context *ctx, hm_nccl_group *g, cudaStream_t xs, cudaStream_t cs,
                          const char *what)
{
    hm_status st = hm__nccl_wait(ctx, g, xs, what);
    if (st == HM_STATUS_SUCCESS)
        HM_CUDA_TRY(ctx, cudaStreamSynchronize(cs), "waiting for %s", what);
fail:
    return st;
}

hm_status hm__nccl_follow(hm_context *ctx, cudaEvent_t ev, cudaStream_t from, cudaStream_t to)
{
    hm_status st = HM_STATUS_SUCCESS;
    HM_CUDA_TRY(ctx, cudaEventRecord(ev, from), "ordering two streams");
    HM_CUDA_TRY(ctx, cudaStreamWaitEvent(to, ev, 0), "ordering two streams");
fail:
    return st;
}

hm_status hm__nccl_message_stream(hm_context *ctx, int device, cudaStream_t *out)
{
    int least = 0, greatest = 0;
    hm_status st = HM_STATUS_SUCCESS;
    HM_CUDA_TRY(ctx, cudaDeviceGetStreamPriorityRange(&least, &greatest),
                "asking cuda:%d's stream priorities", device);
    HM_CUDA_TRY(ctx, cudaStreamCreateWithPriority(out, cudaStreamNonBlocking, greatest),
                "making a stream for messages on cuda:%d", device);
fail:
    return st;
}

static hm_status nccl_alltoallv(hm_context *ctx, void *group, const void *send,
                                const size_t *send_bytes, const size_t *send_at, void *recv,
                                const size_t *recv_bytes, const size_t *recv_at)
{
    hm_nccl_group *g = group;
    hm_cuda_device *d;
    hm_status st = hm__cuda_device(ctx, g->device, &d);
    if (st != HM_STATUS_SUCCESS)
        return st;
    cudaStream_t s = hm__cuda_stream(d);
    ncclResult_t r = HM_NCCL(ncclGroupStart)();
    for (int q = 0; q < g->size && r == ncclSuccess; q++) {
        if (q == g->rank)
            continue;
        if (send_bytes[q])
            r = HM_NCCL(ncclSend)((const char *)send + send_at[q], send_bytes[q], ncclChar, q,
                                  g->comm, s);
        if (r == ncclSuccess && recv_bytes[q])
            r = HM_NCCL(ncclRecv)((char *)recv + recv_at[q], recv_bytes[q], ncclChar, q, g->comm,
                                  s);
    }
    ncclResult_t end = HM_NCCL(ncclGroupEnd)();
    if (r != ncclSuccess || end != ncclSuccess)
        return hm__nccl_fail(ctx, r != ncclSuccess ? r : end, "exchanging between ranks");
    return hm__nccl_wait(ctx, g, s, "the exchange between ranks");
}

const hm_group_ops hm__cuda_group = {
    .token_bytes = sizeof(ncclUniqueId),
    .ready = nccl_ready,
    .token = nccl_token,
    .join = nccl_join,
    .leave = nccl_leave,
    .alltoallv = nccl_alltoallv,
};
