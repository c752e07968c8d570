/* Pipelines of host operands (core/op.h): the tiles chosen from a model measured on device
 * temporaries (core/tiles.h), a backend plan per tile size, and the jobs the backend runs, whose
 * every tile is computed by the operation's own execute. Over a device set, each part (one a
 * device) has its own tiles, plans, buffers and job, and the backend runs the jobs at once. One
 * code for every operation. */
#include <stdio.h>
#include <string.h>

#include "core/op.h"

/* Bytes of operand i's device buffer for a tile (or a part) of `rows` rows: the tiled input's and
 * the output's rows, the other operands whole. */
static size_t rows_bytes(const hm_op_plan *p, int i, int64_t rows)
{
    if (i == p->tiled)
        return (size_t)rows * p->in_row_bytes;
    if (i == p->def->out)
        return (size_t)rows * p->out_row_bytes;
    return hm_tensor_nbytes(&p->ex[i]);
}

size_t hm__op_exec_bytes(const hm_op_plan *p, int i)
{
    return p->pipelined ? rows_bytes(p, i, p->part[0].rows) : hm_tensor_nbytes(&p->ex[i]);
}

/* A tile's computation timed on one part's device. */
typedef struct tile_timing {
    hm_op_plan *p;
    int device;
} tile_timing;

/* One tile's computation of `rows` rows on device temporaries, for the pipeline's model: one
 * untimed call, then three timed back to back. */
static hm_status time_tile(hm_context *ctx, void *user, int64_t rows, double *seconds)
{
    const tile_timing *tt = user;
    hm_op_plan *p = tt->p;
    const hm_op_def *def = p->def;
    hm_device space = hm_device_cuda(tt->device);
    void *data[HM_OP_MAX_OPERANDS] = {NULL}, *plan = NULL, *timer = NULL;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
        if (p->present[i])
            st = hm__alloc(ctx, space, rows_bytes(p, i, rows), &data[i]);
    if (st == HM_STATUS_SUCCESS)
        st = def->plan(ctx, p, tt->device, rows, NULL, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = def->execute(ctx, p, plan, data);
    if (st == HM_STATUS_SUCCESS)
        st = hm__backend_timer(ctx, p->backend, tt->device, &timer, NULL);
    for (int r = 0; r < 3 && st == HM_STATUS_SUCCESS; r++)
        st = def->execute(ctx, p, plan, data);
    if (timer) {
        double sec = 0;
        hm_status ts = hm__backend_timer(ctx, p->backend, tt->device, &timer, &sec);
        st = st == HM_STATUS_SUCCESS ? ts : st;
        *seconds = sec / 3;
    }
    if (st != HM_STATUS_SUCCESS)
        hm__backend_drain(ctx);
    hm__backend_destroy(ctx, p->backend, def->id, plan);
    for (int i = 0; i < def->count; i++)
        hm__free(ctx, space, data[i]);
    return st;
}

/* Part k's tiles, from the model measured on its device, and a backend plan per tile size. */
static hm_status plan_part(hm_context *ctx, hm_op_plan *p, int k, int in_pinned, int out_pinned)
{
    const hm_op_def *def = p->def;
    hm_op_part *part = &p->part[k];
    const hm_pipe_shape shape = {.op = p->fn,
                                 .work = def->work,
                                 .backend = p->backend,
                                 .device = part->device,
                                 .rows = part->rows,
                                 .max_tile = p->tile_max,
                                 .min_tile = p->tile_min,
                                 .in_row_bytes = p->in_row_bytes,
                                 .out_row_bytes = p->out_row_bytes,
                                 .in_staged = !in_pinned,
                                 .out_staged = !out_pinned};
    tile_timing tt = {p, part->device};
    hm_status st = hm__tiles_measured(ctx, &shape, time_tile, &tt, &part->tiles);
    if (st != HM_STATUS_SUCCESS)
        return st;
    double t0 = hm__now();
    for (int s = 0; s < part->tiles.nsizes; s++)
        if ((st = def->plan(ctx, p, part->device, part->tiles.size[s], NULL,
                            &part->be_tile_plan[s])) != HM_STATUS_SUCCESS)
            return st; /* the plans made so far go with the plan */
    char sizes[128];
    hm__tiles_describe(&part->tiles, sizes, sizeof sizes);
    hm__log(ctx, HM_LOG_INFO,
            "planned on cuda:%d in %.3f ms: host operands pipelined over %lld tiles of %s %s%s",
            part->device, (hm__now() - t0) * 1e3, (long long)part->tiles.count, sizes,
            def->row_unit, p->nparts > 1 ? " (its part)" : "");
    return HM_STATUS_SUCCESS;
}

/* The log's line on how a device set's pipeline is divided. */
static void log_division(hm_context *ctx, const hm_op_plan *p)
{
    if (p->exec.device_set == 0 || !hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    char parts[256], ex[48];
    size_t n = 0;
    for (int k = 0; k < p->nparts && n < sizeof parts; k++) {
        const hm_op_part *part = &p->part[k];
        n += (size_t)snprintf(parts + n, sizeof parts - n, "%s%lld-%lld on cuda:%d", k ? ", " : "",
                              (long long)part->row0, (long long)(part->row0 + part->rows - 1),
                              part->device);
    }
    hm__format_execution(&p->exec, ex, sizeof ex);
    if (p->nparts == 1) {
        hm__log(ctx, HM_LOG_INFO, "device set %s: %s not divided, all on cuda:%d: %s", ex,
                p->def->row_unit, p->part[0].device, p->parts_why);
        return;
    }
    hm__log(ctx, HM_LOG_INFO,
            "device set %s: %s divided: %s%s%s%s; operands the parts share go to every device at "
            "once from pinned memory, else %s",
            ex, p->def->row_unit, parts, p->parts_why ? " (not more: " : "",
            p->parts_why ? p->parts_why : "", p->parts_why ? ")" : "",
            p->shared_from_part0 ? "to the first and on over the direct link"
                                 : "to each from the caller's memory (the devices cannot reach "
                                   "each other)");
}

hm_status hm__op_plan_pipeline(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    const hm_op_def *def = p->def;
    int in_pinned = 0, out_pinned = 0;
    hm_device where;
    if (in && in[p->tiled] && in[p->tiled]->data)
        (void)hm__backend_locate(ctx, in[p->tiled]->data, &where, &in_pinned);
    if (in && !p->alloc_out && in[def->out] && in[def->out]->data)
        (void)hm__backend_locate(ctx, in[def->out]->data, &where, &out_pinned);
    log_division(ctx, p);
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 0; k < p->nparts && st == HM_STATUS_SUCCESS; k++)
        st = plan_part(ctx, p, k, in_pinned, out_pinned);
    return st;
}

/* A tile's computation: the operation's execute with the tile's plan (of its part) and
 * pointers. */
typedef struct tile_call {
    const hm_op_plan *p;
    const hm_op_part *part;
    void *data[HM_OP_MAX_OPERANDS];
} tile_call;

static hm_status compute_tile(hm_context *ctx, void *user, int64_t rows, const void *in_tile,
                              void *out_tile)
{
    const tile_call *c = user;
    const hm_op_plan *p = c->p;
    void *data[HM_OP_MAX_OPERANDS];
    memcpy(data, c->data, sizeof data);
    data[p->tiled] = (void *)in_tile;
    data[p->def->out] = out_tile;
    void *plan = c->part->be_tile_plan[hm__tile_size_index(&c->part->tiles, rows)];
    return p->def->execute(ctx, p, plan, data);
}

bool hm__op_pipeline_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                            int i)
{
    if (!p->pipelined || i == p->tiled || i == p->def->out || !p->present[i] || !p->stage[i] ||
        p->copy_to[i] != i)
        return false;
    const hm_tensor *t = in[i];
    if (!hm__device_is_host(t->device) || !hm_tensor_is_contiguous(t) ||
        !hm_tensor_is_contiguous(&p->ex[i]))
        return false;
    int pinned = 0;
    hm_device where;
    (void)hm__backend_locate(ctx, t->data, &where, &pinned);
    return pinned;
}

/* Part k's (k ≥ 1) buffers on its device: its rows of the tiled input and of the output, and
 * the shared operands, copied from part 0's device or from the caller's memory (those the
 * pipeline copies itself excepted). */
static hm_status part_buffers(hm_context *ctx, const hm_op_plan *p, int k,
                              const hm_tensor *const in[], void *const data0[], void *data[])
{
    const hm_op_def *def = p->def;
    const hm_op_part *part = &p->part[k];
    hm_device space = hm_device_cuda(part->device);
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++) {
        if (!p->present[i])
            continue;
        if ((st = hm__alloc(ctx, space, rows_bytes(p, i, part->rows), &data[i])) !=
                HM_STATUS_SUCCESS ||
            i == p->tiled || i == def->out || hm__op_pipeline_copies(ctx, p, in, i))
            continue;
        hm_tensor to = p->ex[i], from = p->ex[i];
        to.data = data[i];
        to.device = space;
        from.data = data0[i];
        st = hm__transfer(ctx, p->shared_from_part0 ? &from : in[i], &to, p->fn, def->roles[i].name,
                          true);
    }
    return st;
}

hm_status hm__op_run_pipeline(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out, void *const data[])
{
    const hm_op_def *def = p->def;
    void *buf[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS];
    tile_call calls[HM_MAX_DEVICE_SET];
    hm_pipeline_job jobs[HM_MAX_DEVICE_SET];
    hm_pipeline_copy pre[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS];
    memset(buf, 0, sizeof buf);
    memcpy(buf[0], data, sizeof buf[0]);
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 1; k < p->nparts && st == HM_STATUS_SUCCESS; k++)
        st = part_buffers(ctx, p, k, in, data, buf[k]);
    for (int k = 0; k < p->nparts && st == HM_STATUS_SUCCESS; k++) {
        const hm_op_part *part = &p->part[k];
        calls[k].p = p;
        calls[k].part = part;
        memcpy(calls[k].data, buf[k], sizeof calls[k].data);
        int npre = 0;
        for (int i = 0; i < def->count; i++)
            if (hm__op_pipeline_copies(ctx, p, in, i))
                pre[k][npre++] =
                    (hm_pipeline_copy){in[i]->data, in[i]->device, buf[k][i],
                                       hm_tensor_nbytes(&p->ex[i]), def->roles[i].name};
        jobs[k] = (hm_pipeline_job){
            .device = part->device,
            .tiles = &part->tiles,
            .rows = part->rows,
            .in_row_bytes = p->in_row_bytes,
            .out_row_bytes = p->out_row_bytes,
            .in_host = (const char *)in[p->tiled]->data + part->row0 * (int64_t)p->in_row_bytes,
            .in_space = in[p->tiled]->device,
            .out_host = (char *)out->data + part->row0 * (int64_t)p->out_row_bytes,
            .out_space = out->device,
            .in_dev = buf[k][p->tiled],
            .out_dev = buf[k][def->out],
            .compute = compute_tile,
            .user = &calls[k],
            .op = p->fn,
            .in_name = def->roles[p->tiled].name,
            .out_name = def->roles[def->out].name,
            .pre = pre[k],
            .npre = npre};
    }
    if (st == HM_STATUS_SUCCESS)
        st = hm__backend_pipeline(ctx, p->backend, jobs, p->nparts);
    if (st != HM_STATUS_SUCCESS)
        hm__backend_drain(ctx);
    for (int k = 1; k < p->nparts; k++)
        for (int i = 0; i < def->count; i++)
            hm__free(ctx, hm_device_cuda(p->part[k].device), buf[k][i]);
    return st;
}
