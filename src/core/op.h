/* One lifecycle for every operation (FFTW's mkapiplan idea).
 *
 * A public entry point only gathers its operands into a table and calls one of hm__op_call
 * (stateless), hm__op_plan_create, hm__op_execute or hm__op_plan_destroy with its operation's
 * definition (hm_op_def). The lifecycle does the rest, the same way for every operation:
 *
 *   options        def->options: the options struct copied (its size checked) and checked
 *   specification  the operand table checked (NULLs, validity, pointers), the output allocated
 *                  or checked; def->specify: the operation's checks (its *_check.c file), the
 *                  output's layout, the execution space (hm__op_resolve), what is staged
 *                  (hm__op_stage), whether host operands are pipelined, within the device memory
 *                  budget (hm__op_fit_budget)
 *   guard          every copy the execution will make, asked of the transfer guard
 *   plan           a cache hit (stateless calls), or def->plan for the whole computation or for
 *                  each tile size of a pipeline (whose tiles op_pipeline.c chooses)
 *   execution      output allocated, operands copied in, computed (def->execute, or the
 *                  backend's pipeline with def->execute per tile), result copied back
 *   release        backend plans, registrations, def->release
 *
 * An operation supplies its operand roles, its options, its checks and its backend calls; see
 * docs/ARCHITECTURE.md for adding one. */
#ifndef HETMATH_CORE_OP_H
#define HETMATH_CORE_OP_H

#include "core/backend.h"
#include "core/registration.h"

#define HM_OP_MAX_OPERANDS 5
#define HM_OP_MAX_PASSES   64   /* a matmul's K in at most this many passes */
#define HM_OP_KEY_BYTES    128  /* the options part of a plan cache key */
#define HM_OP_PLAN_MAX     8192 /* the largest plan of an operation (a stateless call's spec) */

/* What an operand is to its operation. */
enum {
    HM_ROLE_IN = 1u << 0,       /* read */
    HM_ROLE_OUT = 1u << 1,      /* the result (one per operation); hetmath allocates it when its
                                   data is NULL and its ndim 0 */
    HM_ROLE_OPTIONAL = 1u << 2, /* may be NULL */
    HM_ROLE_OUT_VIEW = 1u << 3, /* may be the output's very view (in place; C = D) */
    HM_ROLE_TILED = 1u << 4,    /* streamed in row tiles when the operation is pipelined */
    HM_ROLE_COLS = 1u << 5,     /* its last axis runs along the output's columns: cut with them
                                   into panels when the device memory budget asks */
    HM_ROLE_DEPTH = 1u << 6,    /* its first axis runs along the tiled input's rows (a matmul's
                                   B: K): cut with them into passes (hm_pipe_request.depth) */
};

typedef struct hm_operand_role {
    const char *name; /* in messages and the ledger: "A", "x" */
    unsigned flags;
} hm_operand_role;

typedef struct hm_op_plan hm_op_plan;

/* One device's share of a pipeline: the only one on one device, one a device over a set. */
typedef struct hm_op_part {
    int device;
    int64_t row0, rows; /* its rows of the tiled input and of the output */
    hm_tiles tiles;
    int64_t slot_rows; /* its largest tile: the rows of a ring slot (core/budget.h) */
    /* a backend plan per tile size, for panels of the wider width ([0]) and the narrower ([1]) */
    void *be_tile_plan[2][HM_TILE_SIZES];
} hm_op_part;

typedef struct hm_op_def {
    hm_op_id id;             /* the backends' slot for it */
    const char *names[2];    /* the operation by hm_op_class: messages, ledger, plan cache */
    const char *plan_create; /* its plan function, named when a stateless call refuses an option */
    const char *work;        /* one computation, in the log: "transform", "product" */
    const char *row_unit;    /* what a pipeline's row is, in the log: "transforms", "rows" */
    int count;               /* operands */
    int out;                 /* the output's index */
    const hm_operand_role *roles;
    size_t plan_size;   /* of the operation's plan, which starts with an hm_op_plan */
    bool plan_in_place; /* a plan made with the output in an input's view runs only so */

    /* Copies and checks the options (NULL: the defaults) into p. Sets p->blocking,
     * p->register_host and p->budget_request. */
    hm_status (*options)(hm_context *ctx, hm_op_plan *p, const void *opts);
    /* The operation's checks and layouts, the operand table already checked (see above). */
    hm_status (*specify)(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[]);
    /* The operation's line in the specification phase. */
    void (*describe)(hm_context *ctx, const hm_op_plan *p);
    /* The options that shape a plan, written into a zeroed key; per-call values left out. */
    void (*key)(const hm_op_plan *p, unsigned char key[HM_OP_KEY_BYTES]);
    /* Copies a call's per-call values (those key leaves out) into a cached plan. Optional. */
    void (*per_call)(hm_op_plan *cached, const hm_op_plan *call);
    /* The backend plan of the whole computation (rows 0), or of one pipeline tile of `rows`
     * rows and, the output's columns cut in panels, `cols` columns (0: all), on `device` (a part
     * of a device set; -1: p->exec's). data: the operands' execution-side pointers at planning
     * (autotuning may run on them), or NULL. */
    hm_status (*plan)(hm_context *ctx, hm_op_plan *p, int device, int64_t rows, int64_t cols,
                      void *const data[], void **be_plan);
    /* Computes with be_plan on execution-side pointers (for a tile: the tiled input's and the
     * output's tiles, the other operands whole). */
    hm_status (*execute)(hm_context *ctx, const hm_op_plan *p, void *be_plan, void *const data[]);
    /* What p->trivial calls need instead of a backend (the result from the inputs alone).
     * Optional. */
    hm_status (*trivial)(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                         const hm_tensor *out);
    /* Frees what the operation allocated in its part of the plan. Optional. */
    void (*release)(hm_op_plan *p);
    /* The bytes of those allocations (the plan cache's byte limit). Optional: none. */
    size_t (*bytes)(const hm_op_plan *p);
    /* Plans the p->npasses passes specification chose (hm__op_fit_budget) into p->pass[],
     * plans of this operation on the same operands' layouts (in: the operands at planning, or
     * NULL); pass k reads pass k-1's output. Optional: operations without passes. */
    hm_status (*passes)(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[]);
    /* Pass k's operands from the call's (in[], out): views of them in views[], pointed to by
     * ops[]. Optional: pass 0 reads the inputs, each later one the output in place of an input
     * that may be its view (HM_ROLE_OUT_VIEW). */
    void (*pass_operands)(const hm_op_plan *p, int k, const hm_tensor *const in[],
                          const hm_tensor *out, hm_tensor views[], const hm_tensor *ops[]);
    /* A collective operation (every rank of a communicator makes the call: hetmath/dist.h):
     * combines this rank's status with every other rank's and returns a failure on every rank
     * if one failed (the others' HM_STATUS_REMOTE_FAILURE names it). The lifecycle calls it at
     * the end of the local specification (whatever failed: options sets the communicator
     * first), after specify_all, after planning, before computing and after, so every rank makes
     * the same collective calls in the same order. Such calls plan afresh, with no plan cache (a
     * hit on one rank and a miss on another would part them at a collective planning step).
     * NULL for an operation of one process. */
    hm_status (*agree)(hm_context *ctx, const hm_op_plan *p, hm_status local);
    /* A collective operation's specification across ranks (gathering every rank's operand
     * boxes and checking them together), run once every rank's local specification succeeded.
     * It makes the same collective calls on every rank whatever it finds. */
    hm_status (*specify_all)(hm_context *ctx, hm_op_plan *p);
} hm_op_def;

/* The part of a plan every operation has: what the lifecycle reads and writes. */
struct hm_op_plan {
    const hm_op_def *def;
    hm_context *ctx;
    const char *fn;  /* def->names[kind]: the operation, in the log and the ledger */
    const char *api; /* the public function that specified it, in the specification's messages */
    hm_op_class kind;

    /* Specification */
    hm_tensor t[HM_OP_MAX_OPERANDS]; /* the caller's layouts (data NULL) */
    bool present[HM_OP_MAX_OPERANDS];
    bool alloc_out;  /* the output is allocated in the operands' space at each execution */
    bool one_buffer; /* planned with the output in an input's view (HM_ROLE_OUT_VIEW) */
    bool empty;      /* the result has no element: nothing is computed or copied */
    bool trivial;    /* def->trivial computes the result, no backend */
    hm_execution exec;
    hm_device exec_space;
    const hm_backend_ops *backend;
    double flops;        /* for the auto space's model and the rate in the log: def->specify sets it
                            before hm__op_resolve */
    int cpu_threads_cap; /* > 0: a CPU space of HM_AUTO threads uses at most this many (set, as
                            flops, before hm__op_resolve) */
    bool may_pipeline;   /* its host operands could be pipelined on a device (set as flops) */
    bool cached;         /* a stateless call's: its plans are the plan cache's */
    hm_estimate *estimate; /* hm__op_estimate's: the auto space's candidates go here */
    char auto_why[224];    /* the auto space's choice, for the spaces line ("": not auto) */

    /* What moves: operand i is used through a compact temporary in the execution space
     * (stage[i], layout ex[i]); before computing, its values are copied into the execution
     * buffer of operand copy_to[i] (-1: not copied); after, the output comes back from its
     * temporary when copy_out. */
    bool stage[HM_OP_MAX_OPERANDS];
    hm_tensor ex[HM_OP_MAX_OPERANDS];
    int copy_to[HM_OP_MAX_OPERANDS];
    bool copy_out;

    /* Per call */
    bool blocking;
    void *stream; /* the caller's (a cudaStream_t), or NULL: the context's */
    int register_host;
    size_t budget_request; /* the options' device memory limit (0: the context's) */
    hm_host_pin pin[HM_OP_MAX_OPERANDS];

    /* A pipeline of host operands: the tiled input's and the output's rows, in tiles, divided
     * into parts, one a device (part 0 on exec.device_id); why a device set has fewer parts than
     * devices (NULL: it has them all), for the log. */
    bool pipelined;
    int tiled;
    int64_t rows, tile_max, tile_min;
    size_t in_row_bytes, out_row_bytes;
    size_t
        in_pitch; /* bytes between the tiled input's rows in host memory (rows: ≥ in_row_bytes) */
    int nparts;
    hm_op_part part[HM_MAX_DEVICE_SET];
    const char *parts_why;
    /* Operands the parts share, to part k ≥ 1: from part 0's device (it copies to the others
     * directly), else from the caller's memory again. */
    bool shared_from_part0;
    /* The device memory budget (core/budget.h): the bytes allowed on a device (0: not resolved,
     * no limit checked); the output's `cols` columns (and the
     * last axis of the HM_ROLE_COLS operands) in npanels panels of panel_width columns, the
     * first panel_plus of them one wider (1 panel: not cut); a column of an output row is
     * out_col_bytes. */
    size_t budget;
    size_t workspace; /* the backend workspace its plans may use: the backend's, at most an
                         HM_BUDGET_WORKSPACE_DIV-th of the budget (0: the backend's own bound) */
    int64_t cols, npanels, panel_width, panel_plus;
    size_t out_col_bytes;
    int64_t outer; /* > 0: the pipeline's tiles are blocks of columns (hm_pipe_request) */
    bool prefetch; /* two buffers of each cut operand: panel j+1's copied in during panel j */
    /* The operand whose values start the output's tiles (copy_to[seed] == out: a matmul's C,
     * or the output's own old values), streamed into the output's ring tile by tile, so that
     * it takes no device memory of its own; -1: none. */
    int seed;
    /* An operation run in passes (the budget held no schedule of it whole): each pass a plan of
     * the same operation, made by def->passes at planning, run in order. */
    int npasses;
    hm_op_plan *pass[HM_OP_MAX_PASSES];

    /* Backend plans */
    void *be_plan;
};

/* ---- the public entry points' four calls (op.c) ------------------------------------------ */

/* A stateless call: specification, guard, a cached or new plan, execution. in[] holds the
 * operands by role (NULL for absent optional ones); *out receives an allocated output. */
hm_status hm__op_call(hm_context *ctx, const hm_op_def *def, hm_op_class kind,
                      const hm_tensor *const in[], hm_tensor *out, const void *opts);

/* Specifies and plans for operands laid out like in[] (data pointers may be NULL; they are
 * used for autotuning where all are given). fn names the public function in messages. */
hm_status hm__op_plan_create(hm_context *ctx, const hm_op_def *def, const char *fn,
                             hm_op_class kind, const hm_tensor *const in[], const void *opts,
                             hm_op_plan **out);

/* Executes a plan of def on operands of its layouts. */
hm_status hm__op_execute(hm_context *ctx, const hm_op_def *def, const char *fn, hm_op_plan *p,
                         const hm_tensor *const in[], hm_tensor *out);

/* The same without the checks of the operands the caller vouches for (their pointers' spaces,
 * their layouts against the plan's, their overlaps): only the plan, the context and NULLs. */
hm_status hm__op_execute_unchecked(hm_context *ctx, const hm_op_def *def, const char *fn,
                                   hm_op_plan *p, const hm_tensor *const in[], hm_tensor *out);

/* Releases a plan (NULL: nothing). */
void hm__op_plan_destroy(hm_op_plan *p);

/* The caller's stream the plan's executions are ordered on, its passes' too. */
void hm__op_plan_stream(hm_op_plan *p, void *stream);

/* ---- helpers for an operation's specification (op_spec.c) ------------------------------- */

/* Copies a caller's options struct of its own size into dst (dst_size bytes, defaults set),
 * refusing a size that is not one of this struct's. */
hm_status hm__op_copy_options(hm_context *ctx, const char *fn, const char *type, void *dst,
                              size_t dst_size, const void *src);

/* Resolves the execution space from the operands present (an allocated output excepted) and
 * the requested one (HM_EXEC_AUTO: the modelled fastest, hm__op_auto; also for an estimate),
 * caps a CPU space's threads at p->cpu_threads_cap, and finds its backend
 * (HM_STATUS_NOT_SUPPORTED without the operation). */
hm_status hm__op_resolve(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[],
                         const hm_execution *requested);

/* ---- the auto execution space (auto.c) ------------------------------------------------- */

/* Replaces *req (an auto space, or any space of an estimate) with the space the machine's
 * calibration models fastest for p, whose layouts, flops and thread cap are set; writes
 * p->auto_why and p->estimate. */
hm_status hm__op_auto(hm_context *ctx, hm_op_plan *p, hm_execution *req);

/* Whether the plan cache holds a plan of specification p on exec (op.c). */
bool hm__op_plan_cached(const hm_op_plan *p, const hm_execution *exec);

/* Specifies (never plans) for operands laid out like in[] and fills *out with what the auto
 * space would choose (op.c). */
hm_status hm__op_estimate(hm_context *ctx, const hm_op_def *def, const char *fn, hm_op_class kind,
                          const hm_tensor *const in[], const void *opts, hm_estimate *out);

/* The execution space of a backend plan on `device` (-1: p's own): one device, never a set. */
void hm__op_plan_device(const hm_op_plan *p, int device, hm_execution *exec);

/* Whether memory of `device` is usable where p computes without a copy. */
bool hm__op_in_exec_space(const hm_op_plan *p, hm_device device);

/* Where the computation finds operand i: with staged NULL, in the caller's memory (ex[i] =
 * t[i]); else in a temporary of the execution space laid out as *staged (its data and device
 * ignored), which an input is copied into and the output copied back from. */
void hm__op_place(hm_op_plan *p, int i, const hm_tensor *staged);

/* How an operation's host operands could be pipelined: rows of the tiled input (in_row_bytes
 * each) and of the output (cols columns of out_col_bytes) in tiles of at least min_tile rows;
 * cuttable: the output's columns may be cut into panels (with the HM_ROLE_COLS operands' last
 * axis). outer > 0: the tiled "rows" are the columns of both operands seen as 2-D views of
 * `outer` rows (a tile is a block of columns, in_row_bytes a column; never cut). pipelinable
 * false: the operation cannot pipeline these operands; then passes > 1: when they do not fit the
 * budget whole, the operation runs in that many passes, each planned by def->passes. */
typedef struct hm_pipe_request {
    bool pipelinable;
    int tiled;
    int64_t rows, cols, min_tile, outer;
    size_t in_row_bytes, out_col_bytes;
    size_t in_pitch; /* bytes between the tiled input's rows in host memory (0: in_row_bytes) */
    bool cuttable;
    int passes;
    /* > 0: the tiled input's rows and the HM_ROLE_DEPTH operands' first axis run along an axis
     * of this length (a matmul's K) that def->passes may cut into passes, each adding into the
     * output: taken when no schedule of the whole fits the budget, or when passes whose
     * operands fit whole move a tenth fewer bytes over the link than panels of the output's
     * columns (the tiled input once in all and the output once a pass, against the tiled input
     * once a panel). */
    int64_t depth;
    const char *depth_name; /* in messages: "K" */
    /* The flops a column of the output costs per byte of the tiled input (a matmul: 2 per
     * element of A, 8 complex): the panels of pinned operands are double-buffered (the next
     * panel's copied in while this one computes) when as many panels fit with two buffers as
     * with one, and they are wide enough for their products to outlast their copies of A
     * (HM_PREFETCH_INTENSITY). 0: never. */
    double col_intensity;
} hm_pipe_request;

/* The end of an operation's specification on a device: the schedule within the device memory
 * budget (core/budget.h). The budget is the options' device_memory_limit, else the context's,
 * else what the device has free less a margin (asked only when a pipeline is considered: a call
 * on device operands with no limit set asks nothing). Host operands are pipelined when they are
 * in host memory, computed on a device that can, the pinned pool holds four chunks and the tiled
 * input is at least HM_PIPELINE_MIN_BYTES or the operands whole do not fit the budget; the
 * pipeline's ring of tiles, and its panels when the whole operands do not fit beside it, sized
 * to the budget. Over a device set, the rows are divided between as many devices as the pinned
 * pool can stage for (four chunks each) while each part still makes a pipeline. Fails with
 * HM_STATUS_DEVICE_MEMORY_LIMIT, naming the budget and the need, when no schedule fits. */
#define HM_PIPELINE_MIN_BYTES   ((size_t)8 << 20)
#define HM_BUDGET_MARGIN_MIN    ((size_t)256 << 20) /* the default budget's margin: the larger of */
#define HM_BUDGET_MARGIN_DIV    32                  /* this and a 32nd of the device's memory */
#define HM_BUDGET_WORKSPACE_DIV 8      /* a backend's workspace: at most an 8th of the budget */
#define HM_PREFETCH_INTENSITY   2048.0 /* flops a byte of A crossing must buy (docs/TUNING.md) */
hm_status hm__op_fit_budget(hm_context *ctx, hm_op_plan *p, const hm_pipe_request *req);

/* ---- execution (op_run.c) and pipelines (op_pipeline.c) ---------------------------------- */

hm_status hm__op_run(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[], hm_tensor *out);

/* Plans a pipeline: chooses its tiles (core/tiles.h) from the model measured on device
 * temporaries, then a backend plan per tile size. data: the operands at planning, or NULL. */
hm_status hm__op_plan_pipeline(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[]);

/* Whether a planned pipeline copies operand i in itself: an operand cut in panels of the
 * output's columns (each panel before its tiles), one the computation reads whole, staged, in
 * contiguous pinned (or registered) memory (before the first tile, on every part's device at
 * once), or the seed (tile by tile into the output's ring). Execution then leaves it out of its
 * copies in. */
bool hm__op_pipeline_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                            int i);

/* Bytes of operand i's execution-side buffer: for a pipeline, part 0's rings of tiles of the
 * tiled input and the output (core/budget.h) and the widest panel of an operand cut with the
 * output's columns; else the operand's. */
size_t hm__op_exec_bytes(const hm_op_plan *p, int i);

/* Runs a planned pipeline on execution-side buffers data[] (part 0's, hm__op_exec_bytes); the
 * other parts' buffers are made here, the shared operands copied to them; panel by panel when
 * the output's columns are cut. */
hm_status hm__op_run_pipeline(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out, void *const data[]);

#endif
