/* The communicator: hetmath's own duplicate of the caller's MPI communicator, whose errors are
 * returned rather than fatal, and the agreement that makes every rank of a collective call fail
 * together when one fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

hm_status hm__mpi_fail(hm_context *ctx, int code, const char *fmt, ...)
{
    char what[512], words[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (MPI_Error_string(code, words, &len) != MPI_SUCCESS)
        snprintf(words, sizeof words, "MPI error %d", code);
    return hm__fail(ctx, HM_STATUS_MPI_ERROR, "%s: %s", what, words);
}

hm_status hm_comm_create_mpi(hm_context *ctx, MPI_Comm comm, hm_comm **out)
{
    static const char *const fn = "hm_comm_create_mpi";
    HM_ENTER(ctx, fn);
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!out || comm == MPI_COMM_NULL || !initialized || finalized)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: %s", fn,
                        !out                    ? "the output pointer is NULL"
                        : comm == MPI_COMM_NULL ? "the communicator is MPI_COMM_NULL"
                                                : "MPI is not initialised (or already finalised)");
    *out = NULL;
    /* Collective from here: every rank duplicates, then all learn whether all succeeded. */
    hm_comm *c = calloc(1, sizeof *c);
    MPI_Comm dup = MPI_COMM_NULL;
    int rc = MPI_Comm_dup(comm, &dup);
    int ok = c && rc == MPI_SUCCESS, all = 0;
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
    int rc2 = MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, comm);
    hm_status st = HM_STATUS_SUCCESS;
    if (!c)
        st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a communicator", fn);
    else if (rc != MPI_SUCCESS || rc2 != MPI_SUCCESS)
        st =
            hm__mpi_fail(ctx, rc != MPI_SUCCESS ? rc : rc2, "%s: duplicating the communicator", fn);
    else if (!all)
        st = hm__fail(ctx, HM_STATUS_REMOTE_FAILURE,
                      "%s: another rank could not make its communicator", fn);
    if (st != HM_STATUS_SUCCESS) {
        if (dup != MPI_COMM_NULL)
            MPI_Comm_free(&dup);
        free(c);
        return st;
    }
    c->mpi = dup;
    MPI_Comm_rank(dup, &c->rank);
    MPI_Comm_size(dup, &c->size);
    hm__log(ctx, HM_LOG_INFO, "communicator: rank %d of %d", c->rank, c->size);
    *out = c;
    return HM_STATUS_SUCCESS;
}

MPI_Comm hm_comm_mpi(const hm_comm *comm)
{
    return comm ? comm->mpi : MPI_COMM_NULL;
}

void hm_comm_destroy(hm_comm *comm)
{
    if (!comm)
        return;
    if (comm->group)
        comm->group_ops->leave(comm->group);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Comm_free(&comm->mpi);
    free(comm);
}

int hm_comm_rank(const hm_comm *comm)
{
    return comm ? comm->rank : -1;
}

int hm_comm_size(const hm_comm *comm)
{
    return comm ? comm->size : 0;
}

void hm__comm_ledger(hm_context *ctx, const hm_comm *comm, const char *op, const char *operand,
                     int peer, bool sending, size_t bytes, double seconds, int chunks, int device)
{
    hm_transfer_record r;
    memset(&r, 0, sizeof r);
    r.direction = HM_TRANSFER_REMOTE;
    r.src = r.dst = device >= 0 ? hm_device_cuda(device) : hm_device_host();
    r.src_rank = sending ? comm->rank : peer;
    r.dst_rank = sending ? peer : comm->rank;
    r.bytes = bytes;
    r.seconds = seconds;
    r.path = device >= 0 ? HM_PATH_NCCL : HM_PATH_MPI;
    r.chunks = chunks;
    r.implicit = 1;
    r.operation = op;
    r.operand = operand;
    hm__ledger_add(ctx, &r);
}

hm_status hm__comm_group(hm_context *ctx, hm_comm *comm, const char *fn, int device)
{
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
    const hm_group_ops *ops = cuda ? cuda->group : NULL;
    hm_status st = HM_STATUS_SUCCESS;
    if (!ops)
        st = hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                      "%s: device operands of distributed operations need NCCL (hetmath was built "
                      "without it)",
                      fn);
    else if (comm->group && comm->group_device != device)
        st = hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                      "%s: this rank's operands are on cuda:%d, but its communicator's device "
                      "group is on cuda:%d (one device a rank)",
                      fn, device, comm->group_device);
    /* Whether every rank has its group already (none is made then), else every rank's token
     * from rank 0, each joins, and all agree. */
    int have = st == HM_STATUS_SUCCESS && comm->group != NULL, all = 0;
    int rc = MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_LAND, comm->mpi);
    if (rc != MPI_SUCCESS && st == HM_STATUS_SUCCESS)
        st = hm__mpi_fail(ctx, rc, "%s: asking whether every rank has its device group", fn);
    if ((st = hm__comm_agree(ctx, comm, fn, st)) != HM_STATUS_SUCCESS || all)
        return st;
    if (comm->group) { /* another rank has none: all make a new one */
        ops->leave(comm->group);
        comm->group = NULL;
    }
    unsigned char token[HM_GROUP_TOKEN_MAX];
    memset(token, 0, sizeof token);
    st = ops->ready(ctx, device);
    if (st == HM_STATUS_SUCCESS && comm->rank == 0)
        st = ops->token(ctx, token);
    if ((st = hm__comm_agree(ctx, comm, fn, st)) != HM_STATUS_SUCCESS)
        return st;
    rc = MPI_Bcast(token, (int)ops->token_bytes, MPI_BYTE, 0, comm->mpi);
    void *group = NULL;
    st = rc == MPI_SUCCESS ? ops->join(ctx, token, comm->size, comm->rank, device, &group)
                           : hm__mpi_fail(ctx, rc, "%s: sending the device group's id", fn);
    if ((st = hm__comm_agree(ctx, comm, fn, st)) != HM_STATUS_SUCCESS) {
        if (group)
            ops->leave(group);
        return st;
    }
    comm->group = group;
    comm->group_device = device;
    comm->group_ops = ops;
    return HM_STATUS_SUCCESS;
}

hm_status hm__comm_allgather(hm_context *ctx, hm_comm *comm, const void *mine, size_t bytes,
                             void *all)
{
    int rc = MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, comm->mpi);
    return rc == MPI_SUCCESS ? HM_STATUS_SUCCESS
                             : hm__mpi_fail(ctx, rc, "gathering %zu bytes from every rank", bytes);
}

/* What the first failed rank says at an agreement. */
typedef struct agreement {
    int status;
    char message[252];
} agreement;

/* The lowest failed rank is found (a minimum over all), then its status and message are sent to
 * all: two small collectives, nothing allocated. */
hm_status hm__comm_agree(hm_context *ctx, hm_comm *comm, const char *fn, hm_status local)
{
    int me = local != HM_STATUS_SUCCESS ? comm->rank : comm->size, first = comm->size;
    int rc = MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, comm->mpi);
    if (rc != MPI_SUCCESS)
        return local != HM_STATUS_SUCCESS
                   ? local
                   : hm__mpi_fail(ctx, rc, "%s: agreeing on the call's outcome", fn);
    if (first == comm->size)
        return HM_STATUS_SUCCESS;
    agreement said = {.status = (int)local};
    if (first == comm->rank)
        snprintf(said.message, sizeof said.message, "%s", hm_context_last_error(ctx));
    rc = MPI_Bcast(&said, (int)sizeof said, MPI_BYTE, first, comm->mpi);
    if (local != HM_STATUS_SUCCESS)
        return local;
    if (rc != MPI_SUCCESS)
        return hm__mpi_fail(ctx, rc, "%s: hearing why rank %d failed", fn, first);
    return hm__fail(ctx, HM_STATUS_REMOTE_FAILURE, "%s: rank %d failed (%s): %.200s", fn, first,
                    hm_status_name((hm_status)said.status), said.message);
}
