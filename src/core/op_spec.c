/* Helpers an operation's specification calls (core/op.h): options, the execution space, where
 * each operand is computed on, and whether host operands are pipelined. */
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
    hm_status st =
        hm__resolve_execution(ctx, p->api, requested, p->kind, ops, names, def->count, &p->exec);
    if (st != HM_STATUS_SUCCESS)
        return st;
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

void hm__op_consider_pipeline(hm_context *ctx, hm_op_plan *p, int tiled, int64_t rows,
                              size_t in_row_bytes, size_t out_row_bytes, int64_t min_tile)
{
    const hm_tensor *in = &p->t[tiled], *out = &p->t[p->def->out];
    if (p->exec.kind != HM_EXEC_CUDA || !hm__backend_can_pipeline(p->backend) || rows < 2 ||
        !hm__device_is_host(in->device) || !hm__device_is_host(out->device) ||
        hm_tensor_nbytes(in) < HM_PIPELINE_MIN_BYTES ||
        ctx->pinned_pool_bytes < HM_STAGE_BUFFERS * HM_STAGE_CHUNK || in_row_bytes == 0 ||
        out_row_bytes == 0)
        return;
    int64_t max_in = (int64_t)(HM_STAGE_CHUNK / in_row_bytes),
            max_out = (int64_t)(HM_STAGE_CHUNK / out_row_bytes);
    int64_t tile_max = max_in < max_out ? max_in : max_out;
    if (tile_max < 1)
        return;
    hm_tiles t;
    hm__tiles_plan(rows, tile_max, &t);
    if (t.count < 2 || t.head[0] < min_tile)
        return;
    p->pipelined = true;
    p->tiled = tiled;
    p->rows = rows;
    p->tile_max = tile_max;
    p->tile_min = min_tile;
    p->in_row_bytes = in_row_bytes;
    p->out_row_bytes = out_row_bytes;
    divide(ctx, p);
}
