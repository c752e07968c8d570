/* The transfer layer: the one path by which bytes move between memory spaces, the ledger that
 * records every copy and the guard that may refuse the ones operations make on their own.
 *
 * A copy is carried out in at most three steps: pack a strided source into a contiguous buffer
 * in its own space, move the contiguous bytes across (the backend's copy_bytes, which is where
 * staging and chunking live), unpack into a strided destination. Views that are compact and share
 * their layout skip both packing steps and move in place. */
#include <stdio.h>
#include <string.h>

#include "core/backend.h"

const char *hm_transfer_direction_name(hm_transfer_direction dir)
{
    static const char *const names[] = {"h2h", "h2d", "d2h", "d2d", "remote"};
    return (dir >= 0 && dir < HM_TRANSFER_DIRECTION_COUNT) ? names[dir] : "unknown";
}

static const char *path_name(hm_transfer_path path)
{
    static const char *const names[] = {"direct", "staged", "packed", "peer", "mpi", "nccl"};
    return (path >= 0 && path <= HM_PATH_NCCL) ? names[path] : "unknown";
}

hm_transfer_direction hm__direction(hm_device src, hm_device dst)
{
    bool sh = hm__device_is_host(src), dh = hm__device_is_host(dst);
    if (sh && dh)
        return HM_TRANSFER_H2H;
    if (sh)
        return HM_TRANSFER_H2D;
    if (dh)
        return HM_TRANSFER_D2H;
    return HM_TRANSFER_D2D;
}

/* The guard of direction dir on a copy of operand from `src` to `dst` (as the message names
 * them). */
static hm_status guard(hm_context *ctx, hm_transfer_direction dir, const char *op,
                       const char *operand, const char *src, const char *dst, size_t bytes)
{
    char b[32];
    switch (ctx->guard[dir]) {
    case HM_GUARD_ERROR:
        return hm__fail(ctx, HM_STATUS_TRANSFER_REFUSED,
                        "%s: operand %s would be copied %s -> %s (%s), but the %s guard is set to "
                        "error",
                        op, operand, src, dst, hm__format_bytes(bytes, b, sizeof b),
                        hm_transfer_direction_name(dir));
    case HM_GUARD_LOG:
        hm__log(ctx, HM_LOG_WARN, "%s: implicit copy of operand %s %s -> %s (%s)", op, operand, src,
                dst, hm__format_bytes(bytes, b, sizeof b));
        return HM_STATUS_SUCCESS;
    default:
        return HM_STATUS_SUCCESS;
    }
}

hm_status hm__transfer_guard(hm_context *ctx, const char *op, const char *operand, hm_device src,
                             hm_device dst, size_t bytes)
{
    char s[32], d[32];
    return guard(ctx, hm__direction(src, dst), op, operand, hm_device_format(src, s, sizeof s),
                 hm_device_format(dst, d, sizeof d), bytes);
}

hm_status hm__transfer_guard_remote(hm_context *ctx, const char *op, const char *operand,
                                    int src_rank, int dst_rank, size_t bytes)
{
    char s[32], d[32];
    snprintf(s, sizeof s, "rank %d", src_rank);
    snprintf(d, sizeof d, "rank %d", dst_rank);
    return guard(ctx, HM_TRANSFER_REMOTE, op, operand, s, d, bytes);
}

/* Records r; `moved` is the path of the contiguous transfer inside a packed copy, named in the
 * log beside it. */
static void ledger_add(hm_context *ctx, hm_transfer_record *r, hm_transfer_path moved)
{
    struct hm_ledger *l = &ctx->ledger;
    if (r->direction != HM_TRANSFER_REMOTE)
        r->src_rank = r->dst_rank = -1;
    r->sequence = ++l->sequence;
    r->gbps = r->seconds > 0 ? (double)r->bytes / r->seconds / 1e9 : 0.0;
    size_t slot;
    if (l->count < HM_LEDGER_CAPACITY) {
        slot = (l->head + l->count) % HM_LEDGER_CAPACITY;
        l->count++;
    } else {
        slot = l->head;
        l->head = (l->head + 1) % HM_LEDGER_CAPACITY;
    }
    l->ring[slot] = *r;
    l->totals.copies[r->direction]++;
    l->totals.bytes[r->direction] += r->bytes;
    l->totals.seconds[r->direction] += r->seconds;

    if (hm__log_enabled(ctx, HM_LOG_INFO)) {
        char s[48] = "", d[48] = "", b[32], took[64];
        if (r->pending)
            snprintf(took, sizeof took, "queued on the caller's stream");
        else
            snprintf(took, sizeof took, "in %.3f ms (%.2f GB/s)", r->seconds * 1e3, r->gbps);
        size_t ns = 0, nd = 0;
        if (r->direction == HM_TRANSFER_REMOTE) { /* "rank 0 host -> rank 1 host" */
            ns = (size_t)snprintf(s, sizeof s, "rank %d ", r->src_rank);
            nd = (size_t)snprintf(d, sizeof d, "rank %d ", r->dst_rank);
        }
        hm_device_format(r->src, s + ns, sizeof s - ns);
        hm_device_format(r->dst, d + nd, sizeof d - nd);
        hm__log(ctx, HM_LOG_INFO,
                "transfer #%llu %s %s: %s%s -> %s%s, %s %s, %s%s%s%s, %d chunk%s [%s, %s]",
                (unsigned long long)r->sequence, hm_transfer_direction_name(r->direction),
                r->operand, s,
                r->src_pinned && r->src.type == HM_DEVICE_HOST ? " (registered)" : "", d,
                r->dst_pinned && r->dst.type == HM_DEVICE_HOST ? " (registered)" : "",
                hm__format_bytes(r->bytes, b, sizeof b), took, path_name(r->path),
                moved != r->path ? " (" : "", moved != r->path ? path_name(moved) : "",
                moved != r->path ? ")" : "", r->chunks, r->chunks == 1 ? "" : "s", r->operation,
                r->implicit ? "implicit" : "explicit");
    }
    if (l->fn)
        l->fn(r, l->fn_user_data);
}

void hm__ledger_add(hm_context *ctx, hm_transfer_record *r)
{
    ledger_add(ctx, r, r->path);
}

/* The times of queued copies that have finished (all of them, unread, with drop): into their
 * records, where the ring still holds them, and the totals. */
static void ledger_settle(hm_context *ctx, bool drop)
{
    struct hm_ledger *l = &ctx->ledger;
    int kept = 0;
    for (int i = 0; i < l->npending; i++) {
        struct hm_ledger_pending *q = &l->pending[i];
        double sec = 0;
        if (!hm__backend_timer_read(q->backend, q->timer, drop, &sec)) {
            l->pending[kept++] = *q;
            continue;
        }
        uint64_t first = l->count ? l->ring[l->head].sequence : 0;
        if (l->count && q->sequence >= first && q->sequence - first < l->count) {
            hm_transfer_record *r =
                &l->ring[(l->head + (q->sequence - first)) % HM_LEDGER_CAPACITY];
            r->pending = 0;
            r->seconds = sec;
            r->gbps = sec > 0 ? (double)r->bytes / sec / 1e9 : 0.0;
        }
        if (!drop) {
            l->totals.seconds[q->direction] += sec;
            hm__log(ctx, HM_LOG_DEBUG, "transfer #%llu done on the caller's stream: %.3f ms",
                    (unsigned long long)q->sequence, sec * 1e3);
        }
    }
    l->npending = kept;
}

void hm__ledger_drop_pending(hm_context *ctx)
{
    ledger_settle(ctx, true);
}

/* Same layout, both compact: the bytes can move as one block. */
static bool same_compact_layout(const hm_tensor *a, const hm_tensor *b)
{
    if (!hm__tensor_is_compact(a) || !hm__tensor_is_compact(b))
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] > 1 && a->strides[i] != b->strides[i])
            return false;
    return true;
}

hm_status hm__transfer(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst, const char *op,
                       const char *operand, bool implicit)
{
    hm_transfer_record r;
    memset(&r, 0, sizeof r);
    r.direction = hm__direction(src->device, dst->device);
    r.src = src->device;
    r.dst = dst->device;
    r.bytes = hm_tensor_nbytes(src);
    r.operation = op;
    r.operand = operand;
    r.implicit = implicit;
    r.path = HM_PATH_DIRECT;
    r.chunks = 1;
    hm_transfer_path moved = HM_PATH_DIRECT;
    if (r.bytes == 0)
        return HM_STATUS_SUCCESS;
    if (implicit && ctx->guard[r.direction] == HM_GUARD_ERROR)
        return hm__transfer_guard(ctx, op, operand, src->device, dst->device, r.bytes);

    hm_device where;
    if (hm__device_is_host(src->device))
        (void)hm__backend_locate(ctx, src->data, &where, &r.src_pinned);
    if (hm__device_is_host(dst->device))
        (void)hm__backend_locate(ctx, dst->data, &where, &r.dst_pinned);

    hm_status st = HM_STATUS_SUCCESS;
    double t0 = hm__now();
    bool same_space = (hm__device_is_host(src->device) && hm__device_is_host(dst->device)) ||
                      hm__device_equal(src->device, dst->device);
    /* Left queued on the device's stream (hm_copy_on_stream): timed there, read when done */
    const hm_backend_ops *timing = NULL;
    void *timer = NULL;
    if (ctx->copy_ordered && same_space && src->device.type == HM_DEVICE_CUDA) {
        ledger_settle(ctx, false);
        timing = hm__backend_for_memory(src->device);
        if (ctx->ledger.npending == HM_LEDGER_PENDING ||
            hm__backend_timer(ctx, timing, src->device.id, &timer, NULL) != HM_STATUS_SUCCESS) {
            hm__clear_error(ctx); /* untimed (seconds 0), never waited for */
            timer = NULL;
        }
    }
    void *src_buf = NULL, *dst_buf = NULL; /* packed temporaries, when needed */
    if (same_space) {
        st = hm__backend_copy_strided(ctx, src->device, dst->data, dst->strides, src->data,
                                      src->strides, src);
        if (st != HM_STATUS_SUCCESS)
            goto fail;
    } else {
        if (same_compact_layout(src, dst)) {
            st = hm__backend_copy_bytes(ctx, operand, dst->data, dst->device, src->data,
                                        src->device, r.bytes, &r.path, &r.chunks);
            if (st != HM_STATUS_SUCCESS)
                goto fail;
        } else {
            int64_t packed[HM_MAX_NDIM];
            hm__row_major_strides(src->ndim, src->shape, packed);
            const void *from = src->data;
            void *to = dst->data;
            if (!hm_tensor_is_contiguous(src)) {
                st = hm__alloc(ctx, src->device, r.bytes, &src_buf);
                if (st != HM_STATUS_SUCCESS)
                    goto fail;
                st = hm__backend_copy_strided(ctx, src->device, src_buf, packed, src->data,
                                              src->strides, src);
                if (st != HM_STATUS_SUCCESS)
                    goto fail;
                from = src_buf;
            }
            if (!hm_tensor_is_contiguous(dst)) {
                st = hm__alloc(ctx, dst->device, r.bytes, &dst_buf);
                if (st != HM_STATUS_SUCCESS)
                    goto fail;
                to = dst_buf;
            }
            st = hm__backend_copy_bytes(ctx, operand, to, dst->device, from, src->device, r.bytes,
                                        &moved, &r.chunks);
            if (st != HM_STATUS_SUCCESS)
                goto fail;
            if (dst_buf) {
                st = hm__backend_copy_strided(ctx, dst->device, dst->data, dst->strides, dst_buf,
                                              packed, dst);
                if (st != HM_STATUS_SUCCESS)
                    goto fail;
            }
            r.path = HM_PATH_PACKED;
        }
    }
    r.seconds = ctx->copy_ordered && timing ? 0 : hm__now() - t0;
    if (timer && hm__backend_timer(ctx, timing, src->device.id, &timer, NULL) != HM_STATUS_SUCCESS)
        hm__clear_error(ctx); /* the timer freed: untimed */
    r.pending = timer != NULL;
    ledger_add(ctx, &r, r.path == HM_PATH_PACKED ? moved : r.path);
    if (timer)
        ctx->ledger.pending[ctx->ledger.npending++] =
            (struct hm_ledger_pending){r.sequence, r.direction, timing, timer};
    timer = NULL;
fail:
    if (timer)
        (void)hm__backend_timer_read(timing, timer, true, NULL);
    hm__free(ctx, src->device, src_buf, r.bytes);
    hm__free(ctx, dst->device, dst_buf, r.bytes);
    return st;
}

/* hm_copy's checks; *same: src and dst are one view (nothing to copy). */
static hm_status copy_checks(hm_context *ctx, const char *fn, const hm_tensor *src,
                             const hm_tensor *dst, bool *same)
{
    *same = false;
    hm_status st = hm__check_operand(ctx, fn, "src", src);
    if (st == HM_STATUS_SUCCESS)
        st = hm__check_operand(ctx, fn, "dst", dst);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (src->dtype != dst->dtype)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH, "%s: operand src is %s but dst is %s", fn,
                        hm_dtype_name(src->dtype), hm_dtype_name(dst->dtype));
    if (!hm__same_shape(src, dst))
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: operand dst has a shape (ndim %d) that differs from src's (ndim %d)",
                        fn, dst->ndim, src->ndim);
    if (hm__tensors_overlap(src, dst)) {
        *same = hm__same_view(src, dst);
        if (!*same)
            return hm__fail(ctx, HM_STATUS_ALIASING, "%s: operand dst overlaps src", fn);
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm_copy(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst)
{
    static const char *const fn = "hm_copy";
    HM_ENTER(ctx, fn);
    bool same = false;
    hm_status st = copy_checks(ctx, fn, src, dst, &same);
    return st != HM_STATUS_SUCCESS || same ? st : hm__transfer(ctx, src, dst, fn, "src", false);
}

hm_status hm_copy_on_stream(hm_context *ctx, const hm_tensor *src, const hm_tensor *dst,
                            void *stream)
{
    static const char *const fn = "hm_copy_on_stream";
    HM_ENTER(ctx, fn);
    bool same = false;
    hm_status st = copy_checks(ctx, fn, src, dst, &same);
    if (st != HM_STATUS_SUCCESS || same)
        return st;
    /* the devices whose streams take part: each ordered after the caller's work */
    int dev[2], n = 0;
    if (stream && src->device.type == HM_DEVICE_CUDA)
        dev[n++] = src->device.id;
    if (stream && dst->device.type == HM_DEVICE_CUDA && !(n && dev[0] == dst->device.id))
        dev[n++] = dst->device.id;
    for (int i = 0; i < n && st == HM_STATUS_SUCCESS; i++)
        st = hm__backend_join(ctx, dev[i], stream, false);
    if (st != HM_STATUS_SUCCESS)
        return st;
    /* within one device's memory: left queued, the caller's stream after it */
    bool ordered = n == 1 && hm__device_equal(src->device, dst->device);
    ctx->copy_ordered = ordered;
    st = hm__transfer(ctx, src, dst, fn, "src", false);
    ctx->copy_ordered = false;
    if (st != HM_STATUS_SUCCESS) {
        hm__backend_drain(ctx);
        return st;
    }
    return ordered ? hm__backend_join(ctx, dev[0], stream, true) : HM_STATUS_SUCCESS;
}

hm_status hm_ledger_totals(const hm_context *ctx, hm_transfer_totals *out)
{
    if (!ctx)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__enter_const(ctx, "hm_ledger_totals");
    if (!out)
        return hm__fail_const(ctx, HM_STATUS_INVALID_ARGUMENT,
                              "hm_ledger_totals: the output pointer is NULL");
    ledger_settle((hm_context *)ctx, false); /* a lazy fill: the records' times, not their state */
    *out = ctx->ledger.totals;
    return HM_STATUS_SUCCESS;
}

size_t hm_ledger_count(const hm_context *ctx)
{
    return ctx ? ctx->ledger.count : 0;
}

hm_status hm_ledger_record(const hm_context *ctx, size_t index, hm_transfer_record *out)
{
    if (!ctx)
        return HM_STATUS_INVALID_ARGUMENT;
    hm__enter_const(ctx, "hm_ledger_record");
    if (!out || index >= ctx->ledger.count)
        return hm__fail_const(ctx, HM_STATUS_INVALID_ARGUMENT, "hm_ledger_record: %s",
                              !out ? "the output pointer is NULL"
                                   : "the index is past the records kept");
    ledger_settle((hm_context *)ctx, false); /* as in hm_ledger_totals */
    *out = ctx->ledger.ring[(ctx->ledger.head + index) % HM_LEDGER_CAPACITY];
    return HM_STATUS_SUCCESS;
}

void hm_ledger_reset(hm_context *ctx)
{
    if (!ctx)
        return;
    ledger_settle(ctx, true);
    ctx->ledger.head = 0;
    ctx->ledger.count = 0;
    memset(&ctx->ledger.totals, 0, sizeof ctx->ledger.totals);
}

hm_status hm_ledger_set_callback(hm_context *ctx, hm_transfer_fn fn, void *user_data)
{
    HM_ENTER(ctx, "hm_ledger_set_callback");
    ctx->ledger.fn = fn;
    ctx->ledger.fn_user_data = user_data;
    return HM_STATUS_SUCCESS;
}

hm_status hm_transfer_set_guard(hm_context *ctx, hm_transfer_direction dir, hm_guard_mode mode)
{
    HM_ENTER(ctx, "hm_transfer_set_guard");
    if ((int)dir < 0 || dir >= HM_TRANSFER_DIRECTION_COUNT)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_transfer_set_guard: direction %d is not an hm_transfer_direction",
                        (int)dir);
    if ((int)mode < HM_GUARD_ALLOW || mode > HM_GUARD_ERROR)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "hm_transfer_set_guard: mode %d is not an hm_guard_mode", (int)mode);
    ctx->guard[dir] = mode;
    return HM_STATUS_SUCCESS;
}

hm_guard_mode hm_transfer_guard(const hm_context *ctx, hm_transfer_direction dir)
{
    if (!ctx || (int)dir < 0 || dir >= HM_TRANSFER_DIRECTION_COUNT)
        return HM_GUARD_ALLOW;
    return ctx->guard[dir];
}
