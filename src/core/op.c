/* The lifecycle of every operation (core/op.h): the four calls the public entry points make,
 * the operand table's checks, the specification log, the guard, planning (through the plan
 * cache for stateless calls) and release. */
#include "core/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan_cache.h"

/* Releases what a plan holds (registrations, backend plans, the operation's own), not the plan's
 * memory. */
static void release(hm_op_plan *p)
{
    for (int i = 0; i < HM_OP_MAX_OPERANDS; i++)
        hm__host_pin_release(p->ctx, &p->pin[i]);
    if (p->backend) {
        hm__backend_destroy(p->ctx, p->backend, p->def->id, p->be_plan);
        for (int j = 0; j < p->nparts; j++)
            for (int w = 0; w < 2; w++)
                for (int k = 0; k < HM_TILE_SIZES; k++)
                    hm__backend_destroy(p->ctx, p->backend, p->def->id,
                                        p->part[j].be_tile_plan[w][k]);
    }
    for (int k = 0; k < p->npasses; k++)
        hm__op_plan_destroy(p->pass[k]);
    if (p->def->release)
        p->def->release(p);
}

void hm__op_plan_stream(hm_op_plan *p, void *stream)
{
    p->stream = stream;
    for (int k = 0; k < p->npasses; k++)
        hm__op_plan_stream(p->pass[k], stream);
}

void hm__op_plan_destroy(hm_op_plan *p)
{
    if (!p)
        return;
    release(p);
    free(p);
}

static void cache_destroy(void *p)
{
    hm__op_plan_destroy(p);
}

/* What a plan holds, for the plan cache's byte limit: itself, its operation's own allocations,
 * the work areas its backend plans need (whole, tiles, passes). */
static size_t plan_bytes(const hm_op_plan *p)
{
    const hm_op_def *def = p->def;
    size_t bytes = def->plan_size + (def->bytes ? def->bytes(p) : 0);
    bytes += hm__backend_work(p->backend, def->id, p->be_plan);
    for (int k = 0; k < p->nparts; k++)
        for (int w = 0; w < 2; w++)
            for (int s = 0; s < HM_TILE_SIZES; s++)
                bytes += hm__backend_work(p->backend, def->id, p->part[k].be_tile_plan[w][s]);
    for (int k = 0; k < p->npasses; k++)
        bytes += plan_bytes(p->pass[k]);
    return bytes;
}

/* The output may be the very view of an HM_ROLE_OUT_VIEW operand (then p->one_buffer), and
 * overlap nothing else: the index of an operand it overlaps otherwise, or -1. */
static int find_aliasing(hm_op_plan *p, const hm_tensor *const in[])
{
    const hm_op_def *def = p->def;
    const hm_tensor *out = in[def->out];
    for (int i = 0; i < def->count; i++) {
        if (i == def->out || !in[i] || !hm__tensors_overlap(in[i], out))
            continue;
        if ((def->roles[i].flags & HM_ROLE_OUT_VIEW) && hm__same_view(in[i], out)) {
            p->one_buffer = true;
            continue;
        }
        return i;
    }
    return -1;
}

static hm_status aliasing_failure(hm_context *ctx, const char *fn, const hm_op_def *def, int i)
{
    return hm__fail(ctx, HM_STATUS_ALIASING, "%s: operand %s overlaps %s", fn,
                    def->roles[def->out].name, def->roles[i].name);
}

/* The operand table: NULLs, each operand's validity (and pointer, where pointers count), the
 * output to allocate, and which operand the output overlaps (*overlap; -1: none, or a failure
 * reported after the operation's own checks, which come first). */
static hm_status check_operands(hm_context *ctx, const char *fn, hm_op_plan *p,
                                const hm_tensor *const in[], bool pointers, int *overlap)
{
    const hm_op_def *def = p->def;
    char why[160];
    for (int i = 0; i < def->count; i++) {
        const char *name = def->roles[i].name;
        const hm_tensor *t = in[i];
        hm_status st = HM_STATUS_SUCCESS;
        if (!t) {
            if (def->roles[i].flags & HM_ROLE_OPTIONAL)
                continue;
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn, name);
        }
        p->present[i] = true;
        if (i == def->out && !t->data && t->ndim == 0) {
            p->alloc_out = true;
            continue;
        }
        if (pointers)
            st = hm__check_operand(ctx, fn, name, t);
        else if ((st = hm__tensor_validate(t, why, sizeof why)) != HM_STATUS_SUCCESS)
            return hm__fail(ctx, st, "%s: operand %s is invalid: %s", fn, name, why);
        if (st != HM_STATUS_SUCCESS)
            return st;
        p->t[i] = *t;
        p->t[i].data = NULL;
    }
    if (!p->alloc_out && pointers) {
        *overlap = find_aliasing(p, in);
        return HM_STATUS_SUCCESS;
    }
    /* Plans see layouts only: one buffer when the caller gave the same pointer for both. */
    for (int i = 0; i < def->count && !p->alloc_out; i++)
        if (i != def->out && in[i] && (def->roles[i].flags & HM_ROLE_OUT_VIEW) && in[i]->data &&
            in[i]->data == in[def->out]->data)
            p->one_buffer = true;
    return HM_STATUS_SUCCESS;
}

/* Options, operands, the operation's own specification, into p (def->plan_size zeroed bytes):
 * a plan of def, not yet planned. On failure p holds nothing. */
static hm_status specify(hm_context *ctx, const hm_op_def *def, const char *fn, hm_op_class kind,
                         const hm_tensor *const in[], const void *opts, bool pointers,
                         hm_op_plan *p)
{
    p->def = def;
    p->ctx = ctx;
    p->kind = kind;
    p->fn = def->names[kind];
    p->api = fn;
    p->tiled = -1;
    p->seed = -1;
    for (int i = 0; i < HM_OP_MAX_OPERANDS; i++)
        p->copy_to[i] = -1;
    int overlap = -1;
    hm_status st = def->options(ctx, p, opts);
    if (st == HM_STATUS_SUCCESS)
        st = hm__host_pin_check(ctx, fn, p->register_host);
    if (st == HM_STATUS_SUCCESS)
        st = check_operands(ctx, fn, p, in, pointers, &overlap);
    if (st == HM_STATUS_SUCCESS)
        st = def->specify(ctx, p, in);
    if (st == HM_STATUS_SUCCESS && overlap >= 0)
        st = aliasing_failure(ctx, fn, def, overlap);
    if (st != HM_STATUS_SUCCESS)
        release(p);
    return st;
}

/* ---- the specification's log and the guard --------------------------------------------- */

static void log_specification(hm_context *ctx, const hm_op_plan *p)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    const hm_op_def *def = p->def;
    char space[32];
    hm__log_phase(ctx, HM_PHASE_SPECIFICATION);
    for (int i = 0; i < def->count; i++) {
        if (!p->present[i])
            continue;
        if (i == def->out && p->alloc_out)
            hm__log(ctx, HM_LOG_INFO, "operand %s: %s, allocated row-major in %s",
                    def->roles[i].name, hm_dtype_name(p->t[i].dtype),
                    hm_device_format(p->t[i].device, space, sizeof space));
        else
            hm__log_operand(ctx, def->roles[i].name, &p->t[i]);
    }
    def->describe(ctx, p);
    hm_planned_copy copies[HM_OP_MAX_OPERANDS + 1];
    int n = 0;
    for (int i = 0; i < def->count && !p->empty; i++) {
        if (!p->present[i] || p->copy_to[i] < 0)
            continue;
        copies[n++] = (hm_planned_copy){def->roles[i].name, hm_tensor_nbytes(&p->t[i]),
                                        p->t[i].device, p->exec_space, false};
    }
    if (p->copy_out && !p->empty) {
        const hm_tensor *o = &p->t[def->out];
        copies[n++] = (hm_planned_copy){def->roles[def->out].name, hm_tensor_nbytes(o),
                                        p->exec_space, o->device, true};
    }
    hm__log_spaces(ctx, p->t[0].device, &p->exec, p->auto_why, copies, n);
}

/* Every copy an execution will make, asked of the guard before any work. */
static hm_status guard_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[])
{
    const hm_op_def *def = p->def;
    hm_status st = HM_STATUS_SUCCESS;
    if (p->empty)
        return st;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
        if (p->present[i] && p->copy_to[i] >= 0)
            st = hm__transfer_guard(ctx, p->fn, def->roles[i].name, p->t[i].device, p->exec_space,
                                    hm_tensor_nbytes(&p->t[i]));
    if (st == HM_STATUS_SUCCESS && p->copy_out)
        st = hm__transfer_guard(ctx, p->fn, def->roles[def->out].name, p->exec_space,
                                p->t[def->out].device, hm_tensor_nbytes(&p->t[def->out]));
    /* The shared operands of a pipeline's other parts, from the first part's device (from the
     * caller's memory, pinned ones always, they move as the first part's did). */
    for (int k = 1; k < p->nparts && p->shared_from_part0 && st == HM_STATUS_SUCCESS; k++)
        for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
            if (p->present[i] && i != p->tiled && i != def->out &&
                !hm__op_pipeline_copies(ctx, p, in, i))
                st = hm__transfer_guard(ctx, p->fn, def->roles[i].name, p->exec_space,
                                        hm_device_cuda(p->part[k].device),
                                        hm_tensor_nbytes(&p->ex[i]));
    return st;
}

/* ---- planning --------------------------------------------------------------------------- */

/* The backend plans: none for an empty or trivial result, a pipeline's, or the whole's.
 * in: the operands at planning when their pointers may be used (autotuning), else NULL. */
static hm_status plan(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    hm__log_phase(ctx, HM_PHASE_PLANNING);
    if (p->empty || p->trivial) {
        hm__log(ctx, HM_LOG_INFO, "nothing to plan: %s",
                p->empty ? "the result is empty" : "the result needs no backend");
        return HM_STATUS_SUCCESS;
    }
    if (p->pipelined)
        return hm__op_plan_pipeline(ctx, p, in);
    if (p->npasses) {
        char budget[32];
        hm__log(ctx, HM_LOG_INFO,
                "the operands do not fit the device memory budget of %s whole: %d passes, each "
                "planned (and streamed) on its own",
                hm__format_bytes(p->budget, budget, sizeof budget), p->npasses);
        return p->def->passes(ctx, p, in);
    }
    if (p->exec.device_set != 0) {
        char ex[48];
        hm__log(ctx, HM_LOG_INFO,
                "device set %s: computed on cuda:%d alone: only host operands pipelined in rows "
                "are divided between devices, and these are not",
                hm__format_execution(&p->exec, ex, sizeof ex), p->exec.device_id);
    }
    /* Autotuning may run on the caller's operands when the computation uses them in place. */
    void *data[HM_OP_MAX_OPERANDS] = {NULL};
    bool usable = in != NULL;
    for (int i = 0; i < p->def->count && usable; i++) {
        usable = !p->present[i] ||
                 (!p->stage[i] && !(i == p->def->out && p->alloc_out) && in[i] && in[i]->data);
        if (usable && p->present[i])
            data[i] = in[i]->data;
    }
    double t0 = hm__now();
    hm_status st = p->def->plan(ctx, p, -1, 0, 0, usable ? data : NULL, &p->be_plan);
    if (st != HM_STATUS_SUCCESS)
        return st;
    char ex[48], staged[64] = "";
    size_t n = 0;
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->stage[i] && n < sizeof staged)
            n += (size_t)snprintf(staged + n, sizeof staged - n, "%s%s", n ? ", " : "",
                                  p->def->roles[i].name);
    hm__log(ctx, HM_LOG_INFO, "planned on %s in %.3f ms: %s%s",
            hm__format_execution(&p->exec, ex, sizeof ex), (hm__now() - t0) * 1e3,
            n ? "staged in the execution space: " : "every operand used in place", staged);
    return HM_STATUS_SUCCESS;
}

/* The plan cache's key of a stateless call: everything that makes two plans differ. */
typedef struct op_key {
    hm_op_class kind;
    hm_tensor t[HM_OP_MAX_OPERANDS];
    bool present[HM_OP_MAX_OPERANDS];
    bool alloc_out, one_buffer;
    hm_execution exec;
    unsigned char options[HM_OP_KEY_BYTES];
} op_key;

/* The plan cache key of a specification: member by member into zeroed memory, so that no
 * padding (hm_execution has a hole before device_set) and no extent beyond ndim reaches the
 * comparison, which is of bytes. */
static void make_key(const hm_op_plan *spec, const hm_execution *exec, op_key *key)
{
    memset(key, 0, sizeof *key);
    key->kind = spec->kind;
    for (int i = 0; i < HM_OP_MAX_OPERANDS; i++) {
        const hm_tensor *t = &spec->t[i];
        key->t[i].device = t->device;
        key->t[i].dtype = t->dtype;
        key->t[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim && d < HM_MAX_NDIM; d++) {
            key->t[i].shape[d] = t->shape[d];
            key->t[i].strides[d] = t->strides[d];
        }
    }
    memcpy(key->present, spec->present, sizeof key->present);
    key->alloc_out = spec->alloc_out;
    key->one_buffer = spec->one_buffer;
    key->exec.kind = exec->kind;
    key->exec.device_id = exec->device_id;
    key->exec.num_threads = exec->num_threads;
    key->exec.device_set = exec->device_set;
    spec->def->key(spec, key->options);
}

bool hm__op_plan_cached(const hm_op_plan *p, const hm_execution *exec)
{
    op_key key;
    make_key(p, exec, &key);
    return hm__plan_cache_holds(p->ctx, p->fn, &key, sizeof key);
}

/* ---- the four calls ------------------------------------------------------------------- */

/* A specification on the stack, of any operation's plan size. */
typedef union spec_buffer {
    hm_op_plan base;
    max_align_t align;
    unsigned char bytes[HM_OP_PLAN_MAX];
} spec_buffer;

/* Whether def's plan fits a spec_buffer (zeroing the part it uses), else the failure. */
static bool spec_fits(hm_context *ctx, const hm_op_def *def, const char *fn, spec_buffer *buf)
{
    if (def->plan_size > sizeof *buf) {
        hm__fail(ctx, HM_STATUS_INTERNAL, "%s: a plan of %zu bytes is over %zu", fn, def->plan_size,
                 sizeof *buf);
        return false;
    }
    memset(buf, 0, def->plan_size);
    return true;
}

/* A collective operation's specification across ranks: this rank's local one (st) agreed on,
 * then specify_all, agreed on, then the log. */
static hm_status collective_specify(hm_context *ctx, hm_op_plan *spec, hm_status st)
{
    const hm_op_def *def = spec->def;
    st = def->agree(ctx, spec, st);
    if (st == HM_STATUS_SUCCESS && def->specify_all)
        st = def->agree(ctx, spec, def->specify_all(ctx, spec));
    if (st == HM_STATUS_SUCCESS)
        log_specification(ctx, spec);
    return st;
}

/* A collective operation's call (hm_op_def.agree): each stage entered only when every rank
 * finished the one before, so every rank makes the same collective calls; planned afresh, in the
 * specification's own memory. */
static hm_status collective_call(hm_context *ctx, hm_op_plan *spec, hm_status st,
                                 const hm_tensor *const in[], hm_tensor *out)
{
    const hm_op_def *def = spec->def;
    bool specified = st == HM_STATUS_SUCCESS; /* else specify has released what it held */
    if (st == HM_STATUS_SUCCESS && spec->register_host)
        st = hm__host_pin_refuse_stateless(ctx, def->names[spec->kind], def->plan_create);
    st = collective_specify(ctx, spec, st);
    if (st == HM_STATUS_SUCCESS)
        st = def->agree(ctx, spec, guard_copies(ctx, spec, in));
    if (st == HM_STATUS_SUCCESS)
        st = def->agree(ctx, spec, plan(ctx, spec, in));
    if (st == HM_STATUS_SUCCESS)
        st = hm__op_run(ctx, spec, in, out);
    if (specified)
        release(spec);
    return st;
}

hm_status hm__op_call(hm_context *ctx, const hm_op_def *def, hm_op_class kind,
                      const hm_tensor *const in[], hm_tensor *out, const void *opts)
{
    const char *fn = def->names[kind];
    /* What the call spends, at DEBUG: specification (checks included), plan (from the cache or
     * made), execution. */
    bool timed = hm__log_enabled(ctx, HM_LOG_DEBUG);
    double t[4] = {timed ? hm__now() : 0, 0, 0, 0};
    /* The call's specification lives on the stack: a cache hit allocates nothing. */
    spec_buffer buf;
    if (!spec_fits(ctx, def, fn, &buf))
        return HM_STATUS_INTERNAL;
    hm_op_plan *spec = &buf.base, *p = NULL;
    spec->cached = !def->agree && ctx->plan_cache_max > 0;
    hm_status st = specify(ctx, def, fn, kind, in, opts, true, spec);
    if (def->agree)
        return collective_call(ctx, spec, st, in, out);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (spec->register_host) {
        st = hm__host_pin_refuse_stateless(ctx, fn, def->plan_create);
        goto done;
    }
    log_specification(ctx, spec);
    if ((st = guard_copies(ctx, spec, in)) != HM_STATUS_SUCCESS)
        goto done;
    t[1] = timed ? hm__now() : 0;
    op_key key;
    bool kept = true;
    make_key(spec, &spec->exec, &key);
    p = hm__plan_cache_get(ctx, fn, &key, sizeof key);
    if (!p) {
        if (!(p = malloc(def->plan_size))) {
            st = hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", fn);
            goto done;
        }
        memcpy(p, spec, def->plan_size); /* p owns what the specification holds */
        spec = NULL;
        if ((st = plan(ctx, p, in)) != HM_STATUS_SUCCESS) {
            hm__op_plan_destroy(p);
            return st;
        }
        /* On failure the cache has destroyed the plan; not kept, it is this call's alone. */
        if ((st = hm__plan_cache_put(ctx, fn, &key, sizeof key, p, plan_bytes(p), cache_destroy,
                                     &kept)) != HM_STATUS_SUCCESS)
            return st;
    } else {
        hm__log_phase(ctx, HM_PHASE_PLANNING);
        hm__log(ctx, HM_LOG_INFO, "plan reused from the context's cache");
        p->blocking = spec->blocking;
        hm__op_plan_stream(p, spec->stream);
        if (def->per_call)
            def->per_call(p, spec);
    }
    t[2] = timed ? hm__now() : 0;
    st = hm__op_run(ctx, p, in, out);
    if (timed) {
        t[3] = hm__now();
        hm__log(ctx, HM_LOG_DEBUG,
                "%s: the call spent %.1f us specifying (checks, log, guard), %.1f us on its plan "
                "(%s), %.1f us executing",
                fn, (t[1] - t[0]) * 1e6, (t[2] - t[1]) * 1e6, spec ? "from the cache" : "made",
                (t[3] - t[2]) * 1e6);
    }
    if (!kept)
        hm__op_plan_destroy(p);
done:
    if (spec)
        release(spec);
    return st;
}

hm_status hm__op_estimate(hm_context *ctx, const hm_op_def *def, const char *fn, hm_op_class kind,
                          const hm_tensor *const in[], const void *opts, hm_estimate *out)
{
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output pointer is NULL", fn);
    memset(out, 0, sizeof *out);
    if (def->agree)
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: a collective operation has no estimate",
                        fn);
    spec_buffer buf;
    if (!spec_fits(ctx, def, fn, &buf))
        return HM_STATUS_INTERNAL;
    hm_op_plan *spec = &buf.base;
    spec->estimate = out;
    spec->cached = ctx->plan_cache_max > 0;
    hm_status st = specify(ctx, def, fn, kind, in, opts, false, spec);
    if (st == HM_STATUS_SUCCESS)
        release(spec);
    return st;
}

/* A collective operation's plan: the stages of collective_call up to planning, each agreed on,
 * in a specification on the stack; the plan's memory taken (and agreed on) last. */
static hm_status collective_plan_create(hm_context *ctx, const hm_op_def *def, const char *fn,
                                        hm_op_class kind, const hm_tensor *const in[],
                                        const void *opts, hm_op_plan **out)
{
    spec_buffer buf;
    if (!spec_fits(ctx, def, fn, &buf))
        return HM_STATUS_INTERNAL;
    hm_op_plan *spec = &buf.base, *p = NULL;
    hm_status st = specify(ctx, def, fn, kind, in, opts, false, spec);
    bool specified = st == HM_STATUS_SUCCESS;
    st = collective_specify(ctx, spec, st);
    if (st == HM_STATUS_SUCCESS)
        st = def->agree(ctx, spec, plan(ctx, spec, NULL));
    if (st == HM_STATUS_SUCCESS) {
        p = malloc(def->plan_size);
        st = def->agree(
            ctx, spec,
            p ? HM_STATUS_SUCCESS
              : hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", fn));
    }
    if (st != HM_STATUS_SUCCESS) {
        if (specified)
            release(spec);
        free(p);
        return st;
    }
    memcpy(p, spec, def->plan_size); /* p owns what the specification holds */
    *out = p;
    return HM_STATUS_SUCCESS;
}

hm_status hm__op_plan_create(hm_context *ctx, const hm_op_def *def, const char *fn,
                             hm_op_class kind, const hm_tensor *const in[], const void *opts,
                             hm_op_plan **out)
{
    if (!out)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the output pointer is NULL", fn);
    *out = NULL;
    if (def->agree)
        return collective_plan_create(ctx, def, fn, kind, in, opts, out);
    hm_op_plan *p = calloc(1, def->plan_size);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a plan", fn);
    hm_status st = specify(ctx, def, fn, kind, in, opts, false, p);
    if (st != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    log_specification(ctx, p);
    bool pointers = true;
    for (int i = 0; i < def->count; i++)
        pointers &= !in[i] || in[i]->data || (i == def->out && p->alloc_out);
    if ((st = plan(ctx, p, pointers ? in : NULL)) != HM_STATUS_SUCCESS) {
        hm__op_plan_destroy(p);
        return st;
    }
    *out = p;
    return HM_STATUS_SUCCESS;
}

/* An operand given to a plan's execution against the plan's layout. */
static hm_status check_planned(hm_context *ctx, const char *fn, const hm_op_plan *p, int i,
                               const hm_tensor *t)
{
    const hm_op_def *def = p->def;
    const char *name = def->roles[i].name;
    if (i == def->out && p->alloc_out) {
        if (!t)
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn, name);
        if (t->data)
            return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                            "%s: the plan allocates %s, but operand %s has data", fn, name, name);
        return HM_STATUS_SUCCESS;
    }
    if (!t && !(def->roles[i].flags & HM_ROLE_OPTIONAL))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn, name);
    if ((t != NULL) != p->present[i])
        return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH, "%s: operand %s was %s when planned", fn,
                        name, p->present[i] ? "given" : "absent");
    if (!t)
        return HM_STATUS_SUCCESS;
    hm_status st = hm__check_operand(ctx, fn, name, t);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!hm__same_layout(t, &p->t[i]))
        return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                        "%s: operand %s differs from the planned layout (dtype, shape, strides "
                        "or memory space)",
                        fn, name);
    return HM_STATUS_SUCCESS;
}

/* The operands of a plan's execution against the plan: layouts, aliasing, in place or not. */
static hm_status check_execution(hm_context *ctx, const char *fn, const hm_op_plan *p,
                                 const hm_tensor *const in[])
{
    const hm_op_def *def = p->def;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
        st = check_planned(ctx, fn, p, i, in[i]);
    if (st != HM_STATUS_SUCCESS || p->alloc_out)
        return st;
    hm_op_plan seen = {.def = def};
    int overlap = find_aliasing(&seen, in);
    if (overlap >= 0)
        return aliasing_failure(ctx, fn, def, overlap);
    if (def->plan_in_place && seen.one_buffer != p->one_buffer)
        return hm__fail(ctx, HM_STATUS_PLAN_MISMATCH,
                        "%s: the plan was made %s, but the operands are %s", fn,
                        p->one_buffer ? "in place" : "out of place",
                        seen.one_buffer ? "one buffer" : "two buffers");
    return HM_STATUS_SUCCESS;
}

hm_status hm__op_execute_unchecked(hm_context *ctx, const hm_op_def *def, const char *fn,
                                   hm_op_plan *p, const hm_tensor *const in[], hm_tensor *out)
{
    if (!p)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan is NULL", fn);
    if (p->ctx != ctx || p->def != def || def->agree)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan belongs to %s", fn,
                        p->def != def ? "another operation"
                        : def->agree  ? "a collective operation (execute it checked)"
                                      : "another context");
    for (int i = 0; i < def->count; i++)
        if (!in[i] && (p->present[i] || i == def->out))
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: operand %s is NULL", fn,
                            def->roles[i].name);
    hm_status st = guard_copies(ctx, p, in);
    return st == HM_STATUS_SUCCESS ? hm__op_run(ctx, p, in, out) : st;
}

hm_status hm__op_execute(hm_context *ctx, const hm_op_def *def, const char *fn, hm_op_plan *p,
                         const hm_tensor *const in[], hm_tensor *out)
{
    if (!p)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan is NULL", fn);
    if (p->ctx != ctx || p->def != def)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: the plan belongs to %s", fn,
                        p->def != def ? "another operation" : "another context");
    hm_status st = check_execution(ctx, fn, p, in);
    if (def->agree) { /* every rank's operands checked, then every rank's guard */
        st = def->agree(ctx, p, st);
        if (st == HM_STATUS_SUCCESS)
            st = def->agree(ctx, p, guard_copies(ctx, p, in));
        return st == HM_STATUS_SUCCESS ? hm__op_run(ctx, p, in, out) : st;
    }
    if (st == HM_STATUS_SUCCESS)
        st = guard_copies(ctx, p, in);
    return st == HM_STATUS_SUCCESS ? hm__op_run(ctx, p, in, out) : st;
}
