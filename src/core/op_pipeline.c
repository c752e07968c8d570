/* Pipelines of host operands (core/op.h): the tiles chosen from a model measured on device
 * temporaries (core/tiles.h), a backend plan per tile size, and the job the backend runs, whose
 * every tile is computed by the operation's own execute. One code for every operation. */
#include <stdio.h>
#include <string.h>

#include "core/op.h"

/* Bytes of operand i's device buffer for a tile of `rows` rows: the tiled input's and the
 * output's rows, the other operands whole. */
static size_t tile_bytes(const hm_op_plan *p, int i, int64_t rows)
{
    if (i == p->tiled)
        return (size_t)rows * p->in_row_bytes;
    if (i == p->def->out)
        return (size_t)rows * p->out_row_bytes;
    return hm_tensor_nbytes(&p->ex[i]);
}

/* One tile's computation of `rows` rows on device temporaries, for the pipeline's model: one
 * untimed call, then three timed back to back. */
static hm_status time_tile(hm_context *ctx, void *user, int64_t rows, double *seconds)
{
    hm_op_plan *p = user;
    const hm_op_def *def = p->def;
    void *data[HM_OP_MAX_OPERANDS] = {NULL}, *plan = NULL, *timer = NULL;
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
        if (p->present[i])
            st = hm__alloc(ctx, p->exec_space, tile_bytes(p, i, rows), &data[i]);
    if (st == HM_STATUS_SUCCESS)
        st = def->plan(ctx, p, rows, NULL, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = def->execute(ctx, p, plan, data);
    if (st == HM_STATUS_SUCCESS)
        st = hm__backend_timer(ctx, p->backend, p->exec.device_id, &timer, NULL);
    for (int r = 0; r < 3 && st == HM_STATUS_SUCCESS; r++)
        st = def->execute(ctx, p, plan, data);
    if (timer) {
        double sec = 0;
        hm_status ts = hm__backend_timer(ctx, p->backend, p->exec.device_id, &timer, &sec);
        st = st == HM_STATUS_SUCCESS ? ts : st;
        *seconds = sec / 3;
    }
    if (st != HM_STATUS_SUCCESS)
        hm__backend_drain(ctx);
    hm__backend_destroy(ctx, p->backend, def->id, plan);
    for (int i = 0; i < def->count; i++)
        hm__free(ctx, p->exec_space, data[i]);
    return st;
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
    const hm_pipe_shape shape = {.op = p->fn,
                                 .work = def->work,
                                 .backend = p->backend,
                                 .device = p->exec.device_id,
                                 .rows = p->rows,
                                 .max_tile = p->tile_max,
                                 .min_tile = p->tile_min,
                                 .in_row_bytes = p->in_row_bytes,
                                 .out_row_bytes = p->out_row_bytes,
                                 .in_staged = !in_pinned,
                                 .out_staged = !out_pinned};
    hm_status st = hm__tiles_measured(ctx, &shape, time_tile, p, &p->tiles);
    if (st != HM_STATUS_SUCCESS)
        return st;
    double t0 = hm__now();
    for (int k = 0; k < p->tiles.nsizes; k++)
        if ((st = def->plan(ctx, p, p->tiles.size[k], NULL, &p->be_tile_plan[k])) !=
            HM_STATUS_SUCCESS)
            return st; /* the plans made so far go with the plan */
    char sizes[128], ex[48];
    hm__tiles_describe(&p->tiles, sizes, sizeof sizes);
    hm__log(ctx, HM_LOG_INFO,
            "planned on %s in %.3f ms: host operands pipelined over %lld tiles of %s %s",
            hm__format_execution(&p->exec, ex, sizeof ex), (hm__now() - t0) * 1e3,
            (long long)p->tiles.count, sizes, def->row_unit);
    return HM_STATUS_SUCCESS;
}

/* A tile's computation: the operation's execute with the tile's plan and pointers. */
typedef struct tile_call {
    const hm_op_plan *p;
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
    return p->def->execute(ctx, p, p->be_tile_plan[hm__tile_size_index(&p->tiles, rows)], data);
}

hm_status hm__op_run_pipeline(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out, void *const data[])
{
    const hm_op_def *def = p->def;
    tile_call c = {.p = p};
    memcpy(c.data, data, sizeof c.data);
    const hm_pipeline_job job = {.device = p->exec.device_id,
                                 .tiles = &p->tiles,
                                 .rows = p->rows,
                                 .in_row_bytes = p->in_row_bytes,
                                 .out_row_bytes = p->out_row_bytes,
                                 .in_host = in[p->tiled]->data,
                                 .in_space = in[p->tiled]->device,
                                 .out_host = out->data,
                                 .out_space = out->device,
                                 .in_dev = data[p->tiled],
                                 .out_dev = data[def->out],
                                 .compute = compute_tile,
                                 .user = &c,
                                 .op = p->fn,
                                 .in_name = def->roles[p->tiled].name,
                                 .out_name = def->roles[def->out].name};
    return hm__backend_pipeline(ctx, p->backend, &job);
}
