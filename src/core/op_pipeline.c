/* Pipelines of host operands (core/op.h): the tiles chosen from a model measured on device
 * temporaries (core/tiles.h), a backend plan per tile size, and the jobs the backend runs, whose
 * every tile is computed by the operation's own execute. Over a device set, each part (one a
 * device) has its own tiles, plans, buffers and job, and the backend runs the jobs at once. One
 * code for every operation. */
#include <stdio.h>
#include <string.h>

#include "core/op.h"

/* Panels of the output's columns (core/budget.h): panel j's first column, its width, and which
 * of the two widths' tile plans it uses (0: the wider, or the only one). */
static int64_t panel_col0(const hm_op_plan *p, int64_t j)
{
    return j * p->panel_width + (j < p->panel_plus ? j : p->panel_plus);
}

static int64_t panel_cols(const hm_op_plan *p, int64_t j)
{
    return p->panel_width + (j < p->panel_plus);
}

static int panel_plans(const hm_op_plan *p, int64_t j)
{
    return p->panel_plus > 0 && j >= p->panel_plus;
}

/* The widest panel: the columns of a tile plan of width index w (0 for all columns when the
 * output is not cut). */
static int64_t plan_cols(const hm_op_plan *p, int w)
{
    return p->npanels <= 1 ? 0 : w == 0 ? panel_cols(p, 0) : p->panel_width;
}

/* Whether operand i is cut with the output's columns. */
static bool cut(const hm_op_plan *p, int i)
{
    return p->npanels > 1 && (p->def->roles[i].flags & HM_ROLE_COLS);
}

/* Bytes of operand i's device buffer for `rows` rows of the tiled input and of the output, in
 * panels of `cols` columns (0: all): their rows, an operand cut with the columns its panel, the
 * others whole. */
static size_t rows_bytes(const hm_op_plan *p, int i, int64_t rows, int64_t cols)
{
    if (i == p->tiled)
        return (size_t)rows * p->in_row_bytes;
    if (i == p->def->out)
        return cols ? (size_t)rows * (size_t)cols * p->out_col_bytes
                    : (size_t)rows * p->out_row_bytes;
    if (cut(p, i) && cols)
        return hm_tensor_nbytes(&p->ex[i]) / (size_t)p->cols * (size_t)cols;
    return hm_tensor_nbytes(&p->ex[i]);
}

/* Part k's buffer of operand i: rings of HM_RING_SLOTS tiles for the tiled input and the output,
 * the widest panel of a cut operand, the others whole. */
static size_t part_bytes(const hm_op_plan *p, int k, int i)
{
    int64_t slots = i == p->tiled || i == p->def->out ? HM_RING_SLOTS * p->part[k].slot_rows : 0;
    return rows_bytes(p, i, slots, plan_cols(p, 0)) * (p->prefetch && cut(p, i) ? 2 : 1);
}

/* Where panel j of a cut operand lies in its buffer buf: the first half, or with prefetch the
 * half of j's parity. */
static void *panel_half(const hm_op_plan *p, int i, int64_t j, void *buf)
{
    if (!buf || !p->prefetch || !cut(p, i) || j % 2 == 0)
        return buf;
    return (char *)buf + rows_bytes(p, i, 0, plan_cols(p, 0));
}

size_t hm__op_exec_bytes(const hm_op_plan *p, int i)
{
    return p->pipelined ? part_bytes(p, 0, i) : hm_tensor_nbytes(&p->ex[i]);
}

/* A tile's computation timed on one part's device. */
typedef struct tile_timing {
    hm_op_plan *p;
    int device;
    int64_t cols; /* the widest panel's columns (0: all) */
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
            st = hm__alloc(ctx, space, rows_bytes(p, i, rows, tt->cols), &data[i]);
    if (st == HM_STATUS_SUCCESS)
        st = def->plan(ctx, p, tt->device, rows, tt->cols, NULL, &plan);
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
        hm__free(ctx, space, data[i], rows_bytes(p, i, rows, tt->cols));
    return st;
}

/* Part k's tiles, from the model measured on its device, and a backend plan per tile size. */
static hm_status plan_part(hm_context *ctx, hm_op_plan *p, int k, int in_pinned, int out_pinned,
                           int seed_pinned)
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
                                 /* the seed's tiles go in with the input's */
                                 .in_row_bytes =
                                     p->in_row_bytes + (p->seed >= 0 ? p->out_row_bytes : 0),
                                 .out_row_bytes = p->out_row_bytes,
                                 .in_staged = !in_pinned || (p->seed >= 0 && !seed_pinned),
                                 .out_staged = !out_pinned};
    tile_timing tt = {p, part->device, plan_cols(p, 0)};
    hm_status st = hm__tiles_measured(ctx, &shape, time_tile, &tt, &part->tiles);
    if (st != HM_STATUS_SUCCESS)
        return st;
    double t0 = hm__now();
    part->slot_rows = 0;
    for (int s = 0; s < part->tiles.nsizes; s++)
        part->slot_rows =
            part->tiles.size[s] > part->slot_rows ? part->tiles.size[s] : part->slot_rows;
    int widths = p->npanels > 1 && p->panel_plus > 0 ? 2 : 1;
    for (int w = 0; w < widths; w++)
        for (int s = 0; s < part->tiles.nsizes; s++)
            if ((st = def->plan(ctx, p, part->device, part->tiles.size[s], plan_cols(p, w), NULL,
                                &part->be_tile_plan[w][s])) != HM_STATUS_SUCCESS)
                return st; /* the plans made so far go with the plan */
    char sizes[128], seed[64] = "";
    hm__tiles_describe(&part->tiles, sizes, sizeof sizes);
    if (p->seed >= 0)
        snprintf(seed, sizeof seed, ", %s's tiles going into %s's", def->roles[p->seed].name,
                 def->roles[def->out].name);
    hm__log(ctx, HM_LOG_INFO,
            "planned on cuda:%d in %.3f ms: host operands pipelined over %lld tiles of %s %s%s%s",
            part->device, (hm__now() - t0) * 1e3, (long long)part->tiles.count, sizes,
            def->row_unit, seed, p->nparts > 1 ? " (its part)" : "");
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

/* What part k keeps on its device once planned: its buffers, the backend's workspace and the
 * largest work area of its plans. */
static size_t part_device_bytes(const hm_op_plan *p, int k)
{
    const hm_op_part *part = &p->part[k];
    size_t bytes = p->workspace, work = 0;
    for (int i = 0; i < p->def->count; i++)
        if (p->present[i] && p->stage[i])
            bytes += part_bytes(p, k, i);
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < HM_TILE_SIZES; s++) {
            size_t need = hm__backend_work(p->backend, p->def->id, part->be_tile_plan[w][s]);
            work = need > work ? need : work;
        }
    return bytes + work;
}

/* The schedule within the device memory budget, in the log; HM_STATUS_DEVICE_MEMORY_LIMIT when
 * the plans' work areas took it over. */
static hm_status check_budget(hm_context *ctx, const hm_op_plan *p)
{
    const hm_op_def *def = p->def;
    size_t most = 0;
    for (int k = 0; k < p->nparts; k++) {
        size_t b = part_device_bytes(p, k);
        most = b > most ? b : most;
    }
    char budget[32], keeps[32], ring[32], panel[32] = "";
    hm__format_bytes(p->budget, budget, sizeof budget);
    hm__format_bytes(most, keeps, sizeof keeps);
    hm__format_bytes(part_bytes(p, 0, p->tiled) + part_bytes(p, 0, def->out), ring, sizeof ring);
    if (most > p->budget)
        return hm__fail(ctx, HM_STATUS_DEVICE_MEMORY_LIMIT,
                        "%s: the device memory budget of %s on cuda:%d is too small: the schedule "
                        "planned needs %s with its plans' work areas",
                        p->api, budget, p->part[0].device, keeps);
    if (p->npanels > 1) {
        size_t cut_bytes = 0;
        for (int i = 0; i < def->count; i++)
            if (p->present[i] && cut(p, i))
                cut_bytes += part_bytes(p, 0, i);
        hm__format_bytes(cut_bytes, panel, sizeof panel);
        hm__log(ctx, HM_LOG_INFO,
                "device memory budget %s a device: the schedule keeps %s (rings of %d tiles of "
                "%lld rows: %s; panels of the operands along %s's columns: %s%s); %s's %lld "
                "columns in %lld panels of %lld%s, so %s crosses the link %lld times",
                budget, keeps, HM_RING_SLOTS, (long long)p->part[0].slot_rows, ring,
                def->roles[def->out].name, panel,
                p->prefetch ? ", two of each: the next goes in while this one computes" : "",
                def->roles[def->out].name, (long long)p->cols, (long long)p->npanels,
                (long long)panel_cols(p, 0), p->panel_plus ? " or one fewer" : "",
                def->roles[p->tiled].name, (long long)p->npanels);
    } else {
        hm__log(ctx, HM_LOG_INFO,
                "device memory budget %s a device: the schedule keeps %s (rings of %d tiles of "
                "%lld rows: %s; the other operands whole)",
                budget, keeps, HM_RING_SLOTS, (long long)p->part[0].slot_rows, ring);
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm__op_plan_pipeline(hm_context *ctx, hm_op_plan *p, const hm_tensor *const in[])
{
    const hm_op_def *def = p->def;
    int in_pinned = 0, out_pinned = 0, seed_pinned = 0;
    hm_device where;
    if (in && in[p->tiled] && in[p->tiled]->data)
        (void)hm__backend_locate(ctx, in[p->tiled]->data, &where, &in_pinned);
    if (in && !p->alloc_out && in[def->out] && in[def->out]->data)
        (void)hm__backend_locate(ctx, in[def->out]->data, &where, &out_pinned);
    if (in && p->seed >= 0 && in[p->seed] && in[p->seed]->data)
        (void)hm__backend_locate(ctx, in[p->seed]->data, &where, &seed_pinned);
    log_division(ctx, p);
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 0; k < p->nparts && st == HM_STATUS_SUCCESS; k++)
        st = plan_part(ctx, p, k, in_pinned, out_pinned, seed_pinned);
    return st == HM_STATUS_SUCCESS ? check_budget(ctx, p) : st;
}

/* A tile's computation: the operation's execute with the tile's plan (of its part and panel
 * width) and pointers. */
typedef struct tile_call {
    const hm_op_plan *p;
    const hm_op_part *part;
    int width; /* index of the panel's width in be_tile_plan */
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
    void *plan = c->part->be_tile_plan[c->width][hm__tile_size_index(&c->part->tiles, rows)];
    return p->def->execute(ctx, p, plan, data);
}

/* Whether operand i, read whole (or in panels) and staged, is packed in host memory: the
 * backend's pipeline can copy it (or its panels) in itself. Sets *pinned. */
static bool host_packed(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[], int i,
                        int *pinned)
{
    *pinned = 0;
    if (!p->pipelined || i == p->tiled || i == p->def->out || !p->present[i] || !p->stage[i] ||
        p->copy_to[i] != i)
        return false;
    const hm_tensor *t = in[i];
    if (!hm__device_is_host(t->device) || !hm_tensor_is_contiguous(t) ||
        !hm_tensor_is_contiguous(&p->ex[i]))
        return false;
    hm_device where;
    (void)hm__backend_locate(ctx, t->data, &where, pinned);
    return true;
}

/* The pipeline copies operand i in before its first tile: read whole from pinned memory. */
static bool pinned_whole(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[], int i)
{
    int pinned;
    return host_packed(ctx, p, in, i, &pinned) && pinned;
}

bool hm__op_pipeline_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                            int i)
{
    return p->pipelined && p->present[i] &&
           (i == p->seed || cut(p, i) || pinned_whole(ctx, p, in, i));
}

/* Part k's (k ≥ 1) buffers on its device, and the operands the parts share whole copied there
 * from part 0's device or from the caller's memory (those the pipeline copies itself, and those
 * cut in panels, excepted). */
static hm_status part_buffers(hm_context *ctx, const hm_op_plan *p, int k,
                              const hm_tensor *const in[], void *const data0[], void *data[])
{
    const hm_op_def *def = p->def;
    const hm_op_part *part = &p->part[k];
    hm_device space = hm_device_cuda(part->device);
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++) {
        if (!p->present[i] || (i == p->seed && i != def->out)) /* the seed goes into the ring */
            continue;
        if ((st = hm__alloc(ctx, space, part_bytes(p, k, i), &data[i])) != HM_STATUS_SUCCESS ||
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

/* Panel j of operand i cut with the output's columns, into buf on `space` (packed), through the
 * one copy path: columns [col0, col0 + cols) of its last axis. */
static hm_status copy_panel(hm_context *ctx, const hm_op_plan *p, int i, const hm_tensor *whole,
                            int64_t j, hm_device space, void *buf)
{
    hm_tensor from = *whole, to = p->ex[i];
    int last = from.ndim - 1;
    size_t es = hm_dtype_size(from.dtype);
    from.shape[last] = panel_cols(p, j);
    from.data = (char *)from.data + panel_col0(p, j) * from.strides[last] * (int64_t)es;
    to.shape[last] = panel_cols(p, j);
    hm__row_major_strides(to.ndim, to.shape, to.strides);
    to.data = buf;
    to.device = space;
    return hm__transfer(ctx, &from, &to, p->fn, p->def->roles[i].name, true);
}

/* Panel j of the packed host operand i cut with the output's columns: rows of its last axis,
 * pitched, into dst. */
static hm_pipeline_copy panel_copy(const hm_op_plan *p, const hm_tensor *t, int i, int pinned,
                                   int64_t j, void *dst)
{
    size_t bytes = hm_tensor_nbytes(&p->ex[i]), es = hm_dtype_size(p->ex[i].dtype);
    size_t pitch = (size_t)p->cols * es;
    return (hm_pipeline_copy){.src = (const char *)t->data + panel_col0(p, j) * (int64_t)es,
                              .src_space = t->device,
                              .pinned = pinned,
                              .dst = dst,
                              .rows = bytes / pitch,
                              .width = (size_t)panel_cols(p, j) * es,
                              .pitch = pitch,
                              .name = p->def->roles[i].name};
}

/* The copies part k's job makes before its first tile of panel j (buf: its buffers, a cut
 * operand's at panel j's half): the pinned operands it reads whole (in the first panel only: they
 * stay) and the panels of the packed host operands cut with the columns (pageable ones staged by
 * the backend; with prefetch, all but the first panel's went in during the panel before).
 * Returns how many. */
static int pre_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[], int64_t j,
                      void *const buf[], hm_pipeline_copy pre[])
{
    const hm_op_def *def = p->def;
    int n = 0, pinned;
    for (int i = 0; i < def->count; i++) {
        if (!host_packed(ctx, p, in, i, &pinned) || (!cut(p, i) && (!pinned || j > 0)) ||
            (cut(p, i) && p->prefetch && j > 0))
            continue;
        size_t bytes = hm_tensor_nbytes(&p->ex[i]);
        pre[n++] = cut(p, i) ? panel_copy(p, in[i], i, pinned, j, buf[i])
                             : (hm_pipeline_copy){.src = in[i]->data,
                                                  .src_space = in[i]->device,
                                                  .pinned = pinned,
                                                  .dst = buf[i],
                                                  .rows = 1,
                                                  .width = bytes,
                                                  .pitch = bytes,
                                                  .name = def->roles[i].name};
    }
    return n;
}

/* With prefetch, the copies of panel j + 1's cut operands that part k's job for panel j makes
 * after its last tile's input (base: its buffers). Returns how many. */
static int next_copies(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[], int64_t j,
                       void *const base[], hm_pipeline_copy next[])
{
    int n = 0, pinned;
    for (int i = 0; i < p->def->count && p->prefetch && j + 1 < p->npanels; i++)
        if (cut(p, i) && host_packed(ctx, p, in, i, &pinned))
            next[n++] = panel_copy(p, in[i], i, pinned, j + 1, panel_half(p, i, j + 1, base[i]));
    return n;
}

/* Panel j (of all columns when the output is not cut): the cut operands' panels copied to
 * every part, then one job a part, run at once by the backend. */
static hm_status run_panel(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                           const hm_tensor *out, int64_t j, void *buf[][HM_OP_MAX_OPERANDS])
{
    const hm_op_def *def = p->def;
    tile_call calls[HM_MAX_DEVICE_SET];
    hm_pipeline_job jobs[HM_MAX_DEVICE_SET];
    hm_pipeline_copy pre[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS];
    hm_pipeline_copy next[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS];
    void *here[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS]; /* the buffers of panel j */
    hm_status st = HM_STATUS_SUCCESS;
    int pinned;
    for (int k = 0; k < p->nparts; k++)
        for (int i = 0; i < def->count; i++)
            here[k][i] = panel_half(p, i, j, buf[k][i]);
    for (int k = 0; k < p->nparts && st == HM_STATUS_SUCCESS; k++)
        for (int i = 0; i < def->count && st == HM_STATUS_SUCCESS; i++)
            if (p->present[i] && cut(p, i) && !host_packed(ctx, p, in, i, &pinned))
                st = copy_panel(ctx, p, i, in[i], j, hm_device_cuda(p->part[k].device), here[k][i]);
    int64_t col0 = p->npanels > 1 ? panel_col0(p, j) : 0;
    const hm_tensor *seed = p->seed < 0 ? NULL : p->seed == def->out ? out : in[p->seed];
    size_t out_row =
        p->npanels > 1 ? (size_t)panel_cols(p, j) * p->out_col_bytes : p->out_row_bytes;
    size_t out_pitch = p->npanels > 1 ? (size_t)p->cols * p->out_col_bytes : p->out_row_bytes;
    /* a tile row's step in host memory: a row (the input's rows maybe pitched), or (tiles of
     * columns) a column's element */
    size_t in_step = p->in_pitch, out_step = out_pitch, in_pitch = p->in_pitch;
    if (p->outer > 0) {
        in_step = p->in_row_bytes / (size_t)p->outer;
        out_step = p->out_row_bytes / (size_t)p->outer;
        in_pitch = (size_t)p->rows * in_step;
        out_pitch = (size_t)p->rows * out_step;
    }
    for (int k = 0; k < p->nparts && st == HM_STATUS_SUCCESS; k++) {
        const hm_op_part *part = &p->part[k];
        calls[k].p = p;
        calls[k].part = part;
        calls[k].width = p->npanels > 1 ? panel_plans(p, j) : 0;
        memcpy(calls[k].data, here[k], sizeof calls[k].data);
        jobs[k] = (hm_pipeline_job){
            .device = part->device,
            .tiles = &part->tiles,
            .rows = part->rows,
            .slot_rows = part->slot_rows,
            .in_row_bytes = p->in_row_bytes,
            .out_row_bytes = out_row,
            .in_pitch = in_pitch,
            .out_pitch = out_pitch,
            .outer = p->outer,
            .in_host = (const char *)in[p->tiled]->data + part->row0 * (int64_t)in_step,
            .in_space = in[p->tiled]->device,
            .out_host = (char *)out->data + part->row0 * (int64_t)out_step +
                        col0 * (int64_t)p->out_col_bytes,
            .out_space = out->device,
            .seed_host = seed ? (const char *)seed->data + part->row0 * (int64_t)out_step +
                                    col0 * (int64_t)p->out_col_bytes
                              : NULL,
            .seed_space = seed ? seed->device : out->device,
            .seed_name = seed ? def->roles[p->seed].name : NULL,
            .in_dev = buf[k][p->tiled],
            .out_dev = buf[k][def->out],
            .compute = compute_tile,
            .user = &calls[k],
            .op = p->fn,
            .in_name = def->roles[p->tiled].name,
            .out_name = def->roles[def->out].name,
            .pre = pre[k],
            .npre = pre_copies(ctx, p, in, j, here[k], pre[k]),
            .next = next[k],
            .nnext = next_copies(ctx, p, in, j, buf[k], next[k])};
    }
    return st == HM_STATUS_SUCCESS ? hm__backend_pipeline(ctx, p->backend, jobs, p->nparts) : st;
}

hm_status hm__op_run_pipeline(hm_context *ctx, const hm_op_plan *p, const hm_tensor *const in[],
                              const hm_tensor *out, void *const data[])
{
    const hm_op_def *def = p->def;
    void *buf[HM_MAX_DEVICE_SET][HM_OP_MAX_OPERANDS];
    memset(buf, 0, sizeof buf);
    memcpy(buf[0], data, sizeof buf[0]);
    hm_status st = HM_STATUS_SUCCESS;
    for (int k = 1; k < p->nparts && st == HM_STATUS_SUCCESS; k++)
        st = part_buffers(ctx, p, k, in, data, buf[k]);
    for (int64_t j = 0; j < (p->npanels > 1 ? p->npanels : 1) && st == HM_STATUS_SUCCESS; j++)
        st = run_panel(ctx, p, in, out, j, buf);
    if (st != HM_STATUS_SUCCESS)
        hm__backend_drain(ctx);
    for (int k = 1; k < p->nparts; k++)
        for (int i = 0; i < def->count; i++)
            hm__free(ctx, hm_device_cuda(p->part[k].device), buf[k][i], part_bytes(p, k, i));
    return st;
}
