/* What the distributed operations share (dist_op.c): the start of their plans, the public
 * functions' way into the lifecycle (core/op.h) with a communicator, the options, the checks of
 * where operands live, the gathering of every rank's boxes, the remote guard, the log line, the
 * agreement. */
#ifndef HETMATH_DIST_DIST_OP_H
#define HETMATH_DIST_DIST_OP_H

#include "dist/dist.h"

/* The start of every distributed operation's plan. */
typedef struct hm_dist_op {
    hm_op_plan base; /* first: a plan of the lifecycle */
    hm_comm *comm;
    hm_dist_tensor dist[HM_OP_MAX_OPERANDS];   /* global shapes and offsets, by role */
    hm_dist_layout layout[HM_OP_MAX_OPERANDS]; /* every rank's boxes (specify_all) */
    int device; /* the CUDA device this rank's operands are on; -1: host memory */
} hm_dist_op;

/* What a distributed operation's public function hands the lifecycle as its options. */
typedef struct hm_dist_call {
    hm_comm *comm;
    const hm_dist_tensor *const *dist; /* by role, NULL for absent ones */
    const void *opts;                  /* the caller's options struct, or NULL */
} hm_dist_call;

/* A stateless call of def over comm; dist holds the operands by role. */
hm_status hm__dist_op_call(hm_context *ctx, const hm_op_def *def, hm_comm *comm,
                           const hm_dist_tensor *const dist[], const void *opts);

/* A plan of def over comm (collective), and its execution on operands of the planned boxes
 * (collective; the plan, communicator and boxes checked and agreed on first). */
hm_status hm__dist_op_plan_create(hm_context *ctx, const hm_op_def *def, const char *fn,
                                  hm_comm *comm, const hm_dist_tensor *const dist[],
                                  const void *opts, hm_op_plan **out);
hm_status hm__dist_op_execute(hm_context *ctx, const hm_op_def *def, const char *fn, hm_comm *comm,
                              hm_op_plan *p, const hm_dist_tensor *const dist[]);

/* The options step of every distributed operation (the communicator first, so that whatever
 * fails next is agreed on); an operation with options of its own calls it first. */
hm_status hm__dist_op_options(hm_context *ctx, hm_op_plan *p, const void *call);

/* Where this rank computes, the output given: operands in host memory on the CPU; operands all
 * on one CUDA device (when the operation takes device memory: `device_ok`) on that device. */
hm_status hm__dist_op_space(hm_context *ctx, hm_op_plan *p, bool device_ok);

/* Collective (specify_all): every rank's operands in the same kind of memory, host or device,
 * and for device memory the communicator's device group on this rank's device. */
hm_status hm__dist_op_same_space(hm_context *ctx, hm_dist_op *d, hm_status st);

/* Every rank's box of operand `role` gathered and checked (specify_all); a failed `st` (from an
 * earlier gathering, which failed on every rank) is returned as it is. */
hm_status hm__dist_op_gather(hm_context *ctx, hm_dist_op *d, int role, hm_status st);

/* The elements of a layout's global shape. */
int64_t hm__dist_volume(const hm_dist_layout *l);

/* The remote guard asked about every peer this rank sends a part of operand `name` to, when it
 * goes from distribution a to distribution b. */
hm_status hm__dist_op_guard(hm_context *ctx, hm_dist_op *d, const char *name,
                            const hm_dist_layout *a, const hm_dist_layout *b);

/* The operation's line in the specification: `what`, the global shape, the ranks, this rank's
 * boxes of operands a and b. */
void hm__dist_op_describe(hm_context *ctx, const hm_dist_op *d, const char *what, int a, int b);

/* Collective: every rank holds the same `size` bytes at `bytes` (the global arguments: options,
 * which optional operands are given), else HM_STATUS_INVALID_DISTRIBUTION on every rank naming
 * `what`. A failed st is returned as it is (it failed on every rank). */
hm_status hm__dist_op_same(hm_context *ctx, hm_dist_op *d, const char *what, const void *bytes,
                           size_t size, hm_status st);

/* The same for which operands are given. */
hm_status hm__dist_op_same_operands(hm_context *ctx, hm_dist_op *d);

hm_status hm__dist_op_agree(hm_context *ctx, const hm_op_plan *p, hm_status local);
void hm__dist_op_release(hm_op_plan *p);

#endif
