/* Helpers an operation's specification calls (core/op.h): options, the execution space, where
 * each operand is computed on, and whether host operands are pipelined. */
#include <stdio.h>
#include <string.h>

#include "core/op.h"

hm_status hm__op_copy_options(hm_context *ctx, const char *fn, const char *type, void *dst,
                              size_t dst_size, const void *src)
{
    if (!src)
        return HM_STATUS_SUCCESS;
    size_t size;
    memcpy(&size, src, sizeof size);
    if (size < sizeof(size_t) || size > dst_size)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: options size %zu is not that of an %s (%zu)", fn, size, type,
                        dst_size);
    memcpy(dst, src, size);
    return HM_STATUS_SUCCESS;
}

hm_status hm__op_resolve(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[],
                         const hm_execution *requested)
{
    const hm_op_def *def = p->def;
    const hm_tensor *ops[HM_OP_MAX_OPERANDS];
    const char *names[HM_OP_MAX_OPERANDS];
    for (int i = 0; i < def->count; i++) {
        ops[i] = p->present[i] && !(i == def->out && p->alloc_out) ? in[i] : NULL;
        names[i] = def->roles[i].name;
    }
    hm_execution req = requested ? *requested : hm_execution_default();
    hm_status st = HM_STATUS_SUCCESS;
    if (req.kind == HM_EXEC_AUTO || p->estimate)
        st = hm__op_auto(ctx, p, &req);
    if (st == HM_STATUS_SUCCESS)
        st = hm__resolve_execution(ctx, p->api, &req, p->kind, ops, names, def->count, &p->exec);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (p->exec.kind == HM_EXEC_CPU && req.num_threads == HM_AUTO && p->cpu_threads_cap > 0 &&
        p->cpu_threads_cap < p->exec.num_threads)
        p->exec.num_threads = p->cpu_threads_cap;
    p->exec_space =
        p->exec.kind == HM_EXEC_CPU ? hm_device_host() : hm_device_cuda(p->exec.device_id);
    /* An output hetmath allocates goes where the operands are; with operands on two devices,
     * where it is computed. */
    int first = -1;
    for (int i = 0; i < def->count && p->alloc_out; i++) {
        if (!ops[i] || ops[i]->device.type != HM_DEVICE_CUDA)
            continue;
        if (first >= 0 && ops[i]->device.id != first && p->exec.kind == HM_EXEC_CUDA)
            p->t[def->out].device = p->exec_space;
        first = first < 0 ? ops[i]->device.id : first;
    }
    p->backend = hm__backend_for_execution(p->exec.kind);
    if (!p->backend || !p->backend->op[def->id])
        return hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "%s: the %s backend cannot compute %s",
                        p->api, p->backend ? p->backend->name : "requested", def->names[0]);
    return HM_STATUS_SUCCESS;
}

void hm__op_plan_device(const hm_op_plan *p, int device, hm_execution *exec)
{
    *exec = p->exec;
    exec->device_set = 0;
    if (device >= 0)
        exec->device_id = device;
}

bool hm__op_in_exec_space(const hm_op_plan *p, hm_device device)
{
    return p->exec.kind == HM_EXEC_CPU ? hm__device_is_host(device)
                                       : hm__device_equal(device, p->exec_space);
}

void hm__op_place(hm_op_plan *p, int i, const hm_tensor *staged)
{
    unsigned flags = p->def->roles[i].flags;
    p->stage[i] = staged != NULL;
    p->ex[i] = staged ? *staged : p->t[i];
    p->ex[i].data = NULL;
    if (staged)
        p->ex[i].device = p->exec_space;
    p->copy_to[i] = staged && (flags & HM_ROLE_IN) ? i : -1;
    if (flags & HM_ROLE_OUT)
        p->copy_out = staged != NULL;
}

/* The parts of a pipeline: the execution device's, then one for each other device of the set
 * in ascending order, as many as the pinned pool stages for and as keep a pipeline each (two
 * tiles of at least tile_min rows); rows divided evenly, the first parts one more. */
static void divide(hm_context *ctx, hm_op_plan *p)
{
    int devices[HM_MAX_DEVICE_SET], n = 0;
    devices[n++] = p->exec.device_id;
    for (int i = 0; i < 64 && n < HM_MAX_DEVICE_SET; i++)
        if ((p->exec.device_set >> i & 1) && i != p->exec.device_id)
            devices[n++] = i;
    int want = n;
    int64_t fit = (int64_t)(ctx->pinned_pool_bytes / (HM_STAGE_BUFFERS * HM_STAGE_CHUNK));
    if (n > fit) {
        n = (int)fit;
        p->parts_why = "the pinned pool (hm_context_options.pinned_pool_bytes) stages for fewer";
    }
    for (; n > 1; n--) {
        hm_tiles t;
        hm__tiles_plan(p->rows / n, p->tile_max, &t);
        if (t.count >= 2 && t.head[0] >= p->tile_min)
            break;
        p->parts_why = "more parts would be too few rows to pipeline";
    }
    if (n == want)
        p->parts_why = NULL;
    p->nparts = n;
    int64_t row0 = 0;
    for (int k = 0; k < n; k++) {
        hm_op_part *part = &p->part[k];
        part->device = devices[k];
        part->row0 = row0;
        part->rows = p->rows / n + (k < p->rows % n);
        hm__tiles_plan(part->rows, p->tile_max, &part->tiles);
        row0 += part->rows;
    }
    bool all = n > 1;
    for (int k = 1; k < n && all; k++) {
        bool direct = false;
        if (hm__backend_peer(ctx, p->backend, devices[0], devices[k], &direct) != HM_STATUS_SUCCESS)
            hm__clear_error(ctx); /* then the shared operands come from the caller's memory */
        all = direct;
    }
    p->shared_from_part0 = all;
}

/* Bytes operand i takes on the device as a whole: a staged operand's temporary, or an output
 * hetmath allocates on a device. */
static size_t whole_bytes(const hm_op_plan *p, int i)
{
    if (!p->present[i])
        return 0;
    if (p->stage[i])
        return hm_tensor_nbytes(&p->ex[i]);
    if (i == p->def->out && p->alloc_out && p->t[i].device.type == HM_DEVICE_CUDA)
        return hm_tensor_nbytes(&p->t[i]);
    return 0;
}

/* p->budget: the options' limit, else the context's, else (when `needed`: a pipeline is being
 * sized) what the execution device has free less the margin; 0 (unchecked) otherwise. */
static hm_status resolve_budget(hm_context *ctx, hm_op_plan *p, bool needed)
{
    p->budget = p->budget_request ? p->budget_request : ctx->device_memory_limit;
    if (p->budget || !needed)
        return HM_STATUS_SUCCESS;
    size_t available = 0, total = 0;
    hm_status st = hm__backend_memory(ctx, p->backend, p->exec.device_id, &available, &total);
    if (st != HM_STATUS_SUCCESS)
        return st;
    size_t margin = total / HM_BUDGET_MARGIN_DIV > HM_BUDGET_MARGIN_MIN
                        ? total / HM_BUDGET_MARGIN_DIV
                        : HM_BUDGET_MARGIN_MIN;
    p->budget = available > margin ? available - margin : 1;
    return HM_STATUS_SUCCESS;
}

static hm_status over_budget(hm_context *ctx, const hm_op_plan *p, size_t need, const char *what)
{
    char b[32], n[32];
    return hm__fail(ctx, HM_STATUS_DEVICE_MEMORY_LIMIT,
                    "%s: the device memory budget of %s on cuda:%d is too small: %s needs %s",
                    p->api, hm__format_bytes(p->budget, b, sizeof b), p->exec.device_id, what,
                    hm__format_bytes(need, n, sizeof n));
}

/* The operand whose values start the output (copy_to[i] == out: the pipeline's seed), or -1. */
static int seed_of(const hm_op_plan *p)
{
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->copy_to[i] == p->def->out)
            return i;
    return -1;
}

/* Whether the operands can be pipelined at all: host memory (the seed's too, compact), a device
 * that can, the pinned pool. */
static bool can_pipeline(hm_context *ctx, const hm_op_plan *p, const hm_pipe_request *req)
{
    if (!req || !req->pipelinable)
        return false;
    const hm_tensor *in = &p->t[req->tiled], *out = &p->t[p->def->out];
    int seed = seed_of(p);
    if (seed >= 0 &&
        (!hm__device_is_host(p->t[seed].device) || !hm_tensor_is_contiguous(&p->t[seed])))
        return false;
    return hm__backend_can_pipeline(p->backend) && req->rows >= 1 &&
           hm__device_is_host(in->device) && hm__device_is_host(out->device) &&
           ctx->pinned_pool_bytes >= HM_STAGE_BUFFERS * HM_STAGE_CHUNK && req->in_row_bytes > 0 &&
           req->out_col_bytes > 0 && req->cols > 0;
}

/* Bytes of operand i's share of `part` of the depth (req->depth; 0: all of it). */
static size_t depth_share(const hm_op_plan *p, const hm_pipe_request *req, int i, size_t bytes,
                          int64_t part)
{
    bool along = i == req->tiled || (p->def->roles[i].flags & HM_ROLE_DEPTH);
    if (!part || !along || req->depth <= 0)
        return bytes;
    return (size_t)((double)bytes / (double)req->depth * (double)part + 0.5);
}

/* What the pipeline of req keeps on a device, for `part` of the depth (0: all): the operands cut
 * with the output's columns apart from those kept whole. */
static void pipeline_need(const hm_op_plan *p, const hm_pipe_request *req, int64_t part,
                          hm_budget_need *n)
{
    const hm_op_backend *ob = p->backend->op[p->def->id];
    /* Tiles of pageable operands (the seed's among them) go through the pinned staging
     * buffers, so no larger than one; those of operands declared pinned (checked against their
     * pointers) go direct. */
    int seed = seed_of(p);
    bool staged = p->t[req->tiled].device.type != HM_DEVICE_CUDA_HOST ||
                  p->t[p->def->out].device.type != HM_DEVICE_CUDA_HOST ||
                  (seed >= 0 && p->t[seed].device.type != HM_DEVICE_CUDA_HOST);
    *n = (hm_budget_need){.cols = req->cols,
                          .cuttable = req->cuttable && req->outer == 0,
                          .rows = req->rows,
                          .in_row = depth_share(p, req, req->tiled, req->in_row_bytes, part),
                          .out_col = req->out_col_bytes,
                          .tile_min = req->min_tile,
                          .chunk = staged ? HM_STAGE_CHUNK : SIZE_MAX,
                          .workspace = p->workspace,
                          .ws_tiles = ob->work_per_output};
    for (int i = 0; i < p->def->count; i++) {
        if (i == req->tiled || i == p->def->out)
            continue;
        size_t bytes = depth_share(p, req, i, whole_bytes(p, i), part);
        if (req->cuttable && (p->def->roles[i].flags & HM_ROLE_COLS))
            n->per_col += bytes / (size_t)req->cols;
        else
            n->whole += bytes;
    }
}

/* Bytes over the link, the larger direction, of a schedule with `panels` panels of the output's
 * columns (passes 0), or of `passes` passes over the depth: the tiled input once a panel, or once
 * in all and the output in again for every pass after the first and out every pass. */
static double link_bytes(const hm_op_plan *p, const hm_pipe_request *req, int64_t panels,
                         int passes)
{
    int outs = passes ? passes : 1; /* the output out this many times, back in one fewer */
    double in = (double)req->rows * (double)req->in_row_bytes * (double)(passes ? 1 : panels),
           out = (double)req->rows * (double)req->cols * (double)req->out_col_bytes;
    if (seed_of(p) >= 0)
        in += out; /* C (or the output's own values) once */
    for (int i = 0; i < p->def->count; i++)
        if (i != req->tiled && i != p->def->out)
            in += (double)whole_bytes(p, i);
    in += (double)(outs - 1) * out;
    return in > out * outs ? in : out * outs;
}

/* The passes over req->depth to take (0: none, the schedule f or no schedule): the fewest whose
 * every pass's operands fit the budget whole beside their rings (no panels), when f is NULL
 * (nothing fits) or they move a tenth fewer bytes over the link than f; else, when f is NULL,
 * the fewest that fit at all. */
static int depth_passes(const hm_op_plan *p, const hm_pipe_request *req, const hm_budget_fit *f)
{
    if (req->depth < 2 || !p->def->passes)
        return 0;
    int any = 0;
    for (int passes = 2; passes <= HM_OP_MAX_PASSES && passes <= req->depth; passes++) {
        hm_budget_need n;
        hm_budget_fit g;
        pipeline_need(p, req, (req->depth + passes - 1) / passes, &n);
        if (!hm__budget_fit(&n, p->budget, &g))
            continue;
        if (g.panels == 1)
            return !f || link_bytes(p, req, 0, passes) < 0.9 * link_bytes(p, req, f->panels, 0)
                       ? passes
                       : 0;
        any = any ? any : passes;
    }
    return f ? 0 : any;
}

/* Whether every operand cut with the output's columns is declared pinned and compact: their
 * panels go in by the copy engine alone, on the pipeline's input stream, at any time. */
static bool cut_pinned(const hm_op_plan *p)
{
    bool any = false;
    for (int i = 0; i < p->def->count; i++) {
        if (!p->present[i] || !(p->def->roles[i].flags & HM_ROLE_COLS))
            continue;
        if (p->t[i].device.type != HM_DEVICE_CUDA_HOST || !hm_tensor_is_contiguous(&p->t[i]))
            return false;
        any = true;
    }
    return any;
}

hm_status hm__op_fit_budget(hm_context *ctx, hm_op_plan *p, const hm_pipe_request *req)
{
    const hm_op_def *def = p->def;
    if (p->exec.kind != HM_EXEC_CUDA)
        return HM_STATUS_SUCCESS; /* the budget is of device memory */
    const hm_op_backend *ob = p->backend->op[def->id];
    bool pipe = can_pipeline(ctx, p, req);
    bool big = pipe && hm_tensor_nbytes(&p->t[req->tiled]) >= HM_PIPELINE_MIN_BYTES;
    hm_status st = resolve_budget(ctx, p, big);
    if (st != HM_STATUS_SUCCESS)
        return st;
    p->workspace = ob->workspace;
    if (p->budget && p->workspace > p->budget / HM_BUDGET_WORKSPACE_DIV)
        p->workspace = p->budget / HM_BUDGET_WORKSPACE_DIV;
    size_t whole = p->workspace;
    for (int i = 0; i < def->count; i++)
        whole += whole_bytes(p, i);
    whole += (size_t)(ob->work_per_output * (double)hm_tensor_nbytes(&p->ex[def->out]));
    bool forced = p->budget && whole > p->budget;
    if (!big && !forced)
        return HM_STATUS_SUCCESS;
    if (!pipe && req && req->passes > 1 && def->passes) {
        p->npasses = req->passes; /* each pass fits its own schedule, or its planning fails */
        return HM_STATUS_SUCCESS;
    }
    if (!pipe)
        return over_budget(ctx, p, whole, "the computation on its operands whole");
    hm_budget_need n;
    hm_budget_fit f;
    pipeline_need(p, req, 0, &n);
    bool fits = hm__budget_fit(&n, p->budget, &f);
    int passes = forced ? depth_passes(p, req, fits ? &f : NULL) : 0;
    if (passes > 1) {
        p->npasses = passes; /* each pass plans its own schedule, within the same budget */
        return HM_STATUS_SUCCESS;
    }
    if (!fits) {
        char what[128], in_passes[48] = "";
        if (req->depth >= 2 && def->passes) { /* the smallest: the most passes */
            int most = req->depth < HM_OP_MAX_PASSES ? (int)req->depth : HM_OP_MAX_PASSES;
            pipeline_need(p, req, (req->depth + most - 1) / most, &n);
            (void)hm__budget_fit(&n, p->budget, &f);
            snprintf(in_passes, sizeof in_passes, ", %s in %d passes",
                     req->depth_name ? req->depth_name : "depth", most);
        }
        snprintf(what, sizeof what, "its smallest schedule (tiles of %lld rows%s%s)",
                 (long long)f.tile_max, req->cuttable ? ", panels of one column" : "", in_passes);
        return over_budget(ctx, p, f.bytes, what);
    }
    hm_budget_fit f2;
    if (f.panels > 1 && cut_pinned(p) && req->col_intensity > 0) {
        /* The panels of a schedule that fetches the next one during this one: taken when they
         * are as many (A crosses no more often; only the tiles shrink) and wide enough. */
        n.per_col *= 2;
        if (hm__budget_fit(&n, p->budget, &f2) && f2.panels == f.panels &&
            (double)f2.width * req->col_intensity >= HM_PREFETCH_INTENSITY) {
            f = f2;
            p->prefetch = true;
        }
    }
    if (!forced) { /* worth a pipeline only with two tiles of min_tile rows at least */
        hm_tiles t;
        hm__tiles_plan(req->rows, f.tile_max, &t);
        if (t.count < 2 || t.head[0] < req->min_tile || f.panels > 1)
            return HM_STATUS_SUCCESS;
    }
    p->pipelined = true;
    p->tiled = req->tiled;
    p->seed = seed_of(p);
    p->rows = req->rows;
    p->tile_max = f.tile_max;
    p->tile_min = req->min_tile;
    p->in_row_bytes = req->in_row_bytes;
    p->in_pitch = req->in_pitch ? req->in_pitch : req->in_row_bytes;
    p->cols = req->cols;
    p->npanels = f.panels;
    p->panel_width = f.width;
    p->panel_plus = f.plus;
    p->out_col_bytes = req->out_col_bytes;
    p->out_row_bytes = (size_t)(f.width + (f.plus > 0)) * req->out_col_bytes;
    p->outer = req->outer;
    divide(ctx, p);
    return HM_STATUS_SUCCESS;
}
