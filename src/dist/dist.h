/* The distributed layer's internal interface: the communicator over MPI and the agreement of
 * every rank on a call's outcome (comm.c), boxes and the collective checks of distributed tensors
 * (box.c), and the exchange every distributed operation moves its data with (reshape.c).
 * Compiled only when hetmath is built with MPI. */
#ifndef HETMATH_DIST_DIST_H
#define HETMATH_DIST_DIST_H

#include <mpi.h>

#include "core/backend.h"
#include "core/op.h"
#include "hetmath/mpi.h"

struct hm_comm {
    MPI_Comm mpi; /* hetmath's duplicate, errors returned */
    int rank, size;
    /* The device collectives' group (NCCL), made by the first call on device operands, on
     * this rank's device then; left at hm_comm_destroy. */
    void *group;
    int group_device;
    const struct hm_group_ops *group_ops;
};

/* ---- the communicator (comm.c) ------------------------------------------------------------ */

/* Combines this rank's status with every rank's: SUCCESS when all succeeded; this rank's own
 * failure as it is; else HM_STATUS_REMOTE_FAILURE naming the lowest failed rank and its message.
 * fn names the call. Every rank must call it at the same point. */
hm_status hm__comm_agree(hm_context *ctx, hm_comm *comm, const char *fn, hm_status local);

/* Translates an MPI error code into HM_STATUS_MPI_ERROR with MPI's own words. */
hm_status hm__mpi_fail(hm_context *ctx, int code, const char *fmt, ...) HM_PRINTF(3, 4);

/* Records a copy between this rank and `peer` (sending: this rank to the peer, else back) of
 * operand of operation op, in `chunks` messages, in the ledger (remote, implicit): host data by
 * MPI (device -1, path mpi), or data on this rank's `device` by its group (path nccl; the record's
 * two device fields name this rank's device: the peer's is its own). */
void hm__comm_ledger(hm_context *ctx, const hm_comm *comm, const char *op, const char *operand,
                     int peer, bool sending, size_t bytes, double seconds, int chunks, int device);

/* The communicator's device group on `device`, made on first use (collective: every rank calls
 * it at the same point, each with its own device; fn names the call). A group already made on
 * another device of this rank: HM_STATUS_NOT_SUPPORTED. Without a backend of device collectives
 * (built without NCCL): HM_STATUS_NOT_SUPPORTED. */
hm_status hm__comm_group(hm_context *ctx, hm_comm *comm, const char *fn, int device);

/* Every rank's `bytes` bytes at `mine`, into all (size × bytes, rank order). */
hm_status hm__comm_allgather(hm_context *ctx, hm_comm *comm, const void *mine, size_t bytes,
                             void *all);

/* ---- boxes (box.c) -------------------------------------------------------------------------- */

/* A box of a global shape: the first index and the extent along each axis. */
typedef struct hm_box {
    int64_t lo[HM_MAX_NDIM], n[HM_MAX_NDIM];
} hm_box;

/* The intersection of a and b (ndim axes) into out; false when it is empty. */
bool hm__box_intersect(int ndim, const hm_box *a, const hm_box *b, hm_box *out);

/* What every rank said of one distributed operand: its global shape and dtype, and each rank's
 * box (size entries). */
typedef struct hm_dist_layout {
    int ndim;
    hm_dtype dtype;
    int64_t global[HM_MAX_NDIM];
    hm_box *box; /* comm->size boxes, rank order (malloc'd: hm__dist_layout_free) */
} hm_dist_layout;

/* Collective: t's box gathered from every rank and checked: each inside the global shape (with
 * the local tensor's extent), every rank of the same global shape, ndim and dtype, and the boxes
 * tiling the global shape (no overlap, no hole). `local` is this rank's check of t so far: a
 * failure is still gathered, so every rank fails together. */
hm_status hm__dist_layout_gather(hm_context *ctx, hm_comm *comm, const char *fn, const char *name,
                                 const hm_dist_tensor *t, hm_status local, hm_dist_layout *out);
void hm__dist_layout_free(hm_dist_layout *l);

/* The view of the part `region` of a rank's local tensor whose box is `box`. */
hm_tensor hm__box_view(const hm_tensor *local, const hm_box *box, const hm_box *region);

/* ---- the exchange (reshape.c) ------------------------------------------------------------- */

/* Moves the data of `from` (this rank's local tensor of layout `src`) into `to` (of layout
 * `dst`): the parts of this rank's box that other ranks' boxes of dst hold are packed, exchanged
 * in one all-to-all (ledgered per peer as remote copies named `operand`), and unpacked; the part
 * this rank keeps is copied directly. Collective. Host memory. */
hm_status hm__dist_exchange(hm_context *ctx, hm_comm *comm, const char *fn, const char *operand,
                            const hm_dist_layout *src, const hm_tensor *from,
                            const hm_dist_layout *dst, const hm_tensor *to);

#endif
