/* The tile schedule of host-operand pipelines: its shape, its model, and the choice from
 * measurements (tiles.h says why). */
#include "core/tiles.h"

#include <stdio.h>
#include <string.h>

#include "core/backend.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void add_size(hm_tiles *t, int64_t rows)
{
    if (rows > 0 && hm__tile_size_index(t, rows) < 0 && t->nsizes < HM_TILE_SIZES)
        t->size[t->nsizes++] = rows;
}

void hm__tiles_shape(int64_t rows, int64_t large, int64_t small, hm_tiles *t)
{
    memset(t, 0, sizeof *t); /* padding too: candidates are compared as bytes */
    if (rows < 1)
        return;
    large = large < 1 ? 1 : large;
    small = small < 1 ? 1 : min64(small, large);
    const int64_t head[3] = {small, small, min64(2 * small, large)};
    int64_t rest = rows;
    for (int i = 0; i < 3 && rest > 0; i++) {
        t->head[t->nhead] = min64(head[i], rest);
        rest -= t->head[t->nhead++];
    }
    t->last = min64(small, rest);
    rest -= t->last;
    if (rest > 0) {
        t->nmid = (rest + large - 1) / large;
        t->mid = rest / t->nmid;
        t->nplus = rest % t->nmid;
    }
    t->count = t->nhead + t->nmid + (t->last > 0);
    for (int64_t i = 0; i < t->count; i++)
        add_size(t, hm__tile_rows(t, i));
}

void hm__tiles_plan(int64_t rows, int64_t max_tile, hm_tiles *t)
{
    int64_t large = min64((rows + 3) / 4, max_tile < 1 ? 1 : max_tile);
    hm__tiles_shape(rows, large, min64((rows + 9) / 10, large), t);
}

void hm__pipe_add_point(hm_pipe_model *m, int64_t rows, double sec)
{
    int i = 0;
    while (i < m->points && m->rows[i] < rows)
        i++;
    if (m->points == HM_PIPE_POINTS || (i < m->points && m->rows[i] == rows))
        return;
    memmove(&m->rows[i + 1], &m->rows[i], sizeof m->rows[0] * (size_t)(m->points - i));
    memmove(&m->sec[i + 1], &m->sec[i], sizeof m->sec[0] * (size_t)(m->points - i));
    m->rows[i] = rows;
    m->sec[i] = sec;
    m->points++;
}

double hm__pipe_compute(const hm_pipe_model *m, int64_t rows)
{
    if (m->points == 0)
        return 0;
    int i = 0;
    while (i < m->points && m->rows[i] < rows)
        i++;
    if (i < m->points && m->rows[i] == rows)
        return m->sec[i];
    if (i == 0 || i == m->points) { /* beyond the measured sizes */
        int k = i == 0 ? 0 : m->points - 1;
        return m->sec[k] * (double)rows / (double)m->rows[k];
    }
    double f = (double)(rows - m->rows[i - 1]) / (double)(m->rows[i] - m->rows[i - 1]);
    return m->sec[i - 1] + f * (m->sec[i] - m->sec[i - 1]);
}

double hm__tiles_time(const hm_pipe_model *m, const hm_tiles *t)
{
    /* Clocks of the host thread and of the three streams; the finish times of the last three
     * tiles' copies in and out (tile i's buffer is tile i-2's). */
    double host = 0, in = 0, mm = 0, out = 0, in_done[3] = {0, 0, 0}, out_done[3] = {0, 0, 0};
    int64_t rows_of[3] = {0, 0, 0};
    for (int64_t i = 0; i < t->count + 2; i++) {
        if (m->stage_out_row > 0 && i >= 2) {
            int64_t p = (i - 2) % 3;
            host = (host > out_done[p] ? host : out_done[p]) + m->stage_fixed +
                   m->stage_out_row * (double)rows_of[p];
        }
        if (i >= t->count)
            continue;
        int64_t r = hm__tile_rows(t, i), k = i % 3;
        if (m->stage_in_row > 0) {
            if (i >= 2 && host < in_done[(i - 2) % 3])
                host = in_done[(i - 2) % 3];
            host += m->stage_fixed + m->stage_in_row * (double)r;
        }
        in = (in > host ? in : host) + m->in_fixed + m->in_row * (double)r;
        mm = (mm > in ? mm : in) + hm__pipe_compute(m, r);
        out = (out > mm ? out : mm) + m->out_fixed + m->out_row * (double)r;
        in_done[k] = in;
        out_done[k] = out;
        rows_of[k] = r;
    }
    return out > host ? out : host;
}

int hm__tiles_candidates(int64_t rows, int64_t max_tile, int64_t min_tile,
                         hm_tiles cand[HM_TILES_CANDIDATES])
{
    static const int64_t q[] = {2, 3, 4, 5, 6, 8, 12, 16};
    /* end tiles: large·num/den */
    static const int64_t num[] = {1, 1, 2, 1}, den[] = {1, 2, 5, 4};
    int n = 0;
    hm__tiles_plan(rows, max_tile, &cand[n++]);
    max_tile = max_tile < 1 ? 1 : max_tile;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        for (size_t j = 0; j < sizeof num / sizeof num[0] && n < HM_TILES_CANDIDATES; j++) {
            int64_t large = min64((rows + q[i] - 1) / q[i], max_tile);
            int64_t small = (large * num[j] + den[j] - 1) / den[j];
            hm_tiles *t = &cand[n];
            hm__tiles_shape(rows, large, small, t);
            bool ok = t->count > 1 && t->nsizes <= HM_TILE_SIZES;
            for (int64_t r = 0; r < t->count && ok; r++)
                ok = hm__tile_rows(t, r) >= min_tile;
            for (int c = 0; c < n && ok; c++) /* a shape the rounding made twice */
                ok = memcmp(&cand[c], t, sizeof *t) != 0;
            n += ok;
        }
    return n;
}

int hm__tiles_pick(const hm_pipe_model *m, const hm_tiles *cand, int n, double *times)
{
    int fastest = 0, pick = -1;
    for (int i = 0; i < n; i++) {
        times[i] = hm__tiles_time(m, &cand[i]);
        fastest = times[i] < times[fastest] ? i : fastest;
    }
    for (int i = 0; i < n; i++)
        if (times[i] <= (1.0 + HM_TILES_TIE) * times[fastest] &&
            (pick < 0 || cand[i].count < cand[pick].count))
            pick = i;
    return times[pick] < (1.0 - HM_TILES_GAIN) * times[0] ? pick : 0;
}

int64_t hm__tile_rows(const hm_tiles *t, int64_t i)
{
    if (i < t->nhead)
        return t->head[i];
    i -= t->nhead;
    if (i < t->nmid)
        return t->mid + (i < t->nplus);
    return t->last;
}

int hm__tile_size_index(const hm_tiles *t, int64_t rows)
{
    for (int k = 0; k < t->nsizes; k++)
        if (t->size[k] == rows)
            return k;
    return -1;
}

void hm__tiles_describe(const hm_tiles *t, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
#define HM_PUT(...)                                                                                \
    do {                                                                                           \
        if (n < size)                                                                              \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);                                 \
    } while (0)
    for (int i = 0; i < t->nhead; i++)
        HM_PUT("%s%lld", i ? ", " : "", (long long)t->head[i]);
    if (t->nmid > 3) {
        if (t->nplus)
            HM_PUT(", %lld x %lld", (long long)t->nplus, (long long)(t->mid + 1));
        HM_PUT(", %lld x %lld", (long long)(t->nmid - t->nplus), (long long)t->mid);
    } else {
        for (int64_t i = 0; i < t->nmid; i++)
            HM_PUT(", %lld", (long long)(t->mid + (i < t->nplus)));
    }
    if (t->last)
        HM_PUT(", %lld", (long long)t->last);
#undef HM_PUT
}

/* Times a tile's computation at every size of schedule t not yet in the model. */
static hm_status time_sizes(hm_context *ctx, hm_tile_timer timer, void *user, const hm_tiles *t,
                            hm_pipe_model *m)
{
    for (int k = 0; k < t->nsizes; k++) {
        bool known = false;
        for (int i = 0; i < m->points; i++)
            known |= m->rows[i] == t->size[k];
        if (known || m->points == HM_PIPE_POINTS)
            continue;
        double sec = 0;
        hm_status st = timer(ctx, user, t->size[k], &sec);
        if (st != HM_STATUS_SUCCESS)
            return st;
        hm__pipe_add_point(m, t->size[k], sec);
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm__tiles_measured(hm_context *ctx, const hm_pipe_shape *sh, hm_tile_timer timer,
                             void *user, hm_tiles *t)
{
    hm_tiles cand[HM_TILES_CANDIDATES];
    int n = hm__tiles_candidates(sh->rows, sh->max_tile, sh->min_tile, cand);
    *t = cand[0];
    if (ctx->pipeline_schedule == HM_PIPELINE_FIXED || n < 2 ||
        !hm__backend_has_link(sh->backend)) {
        hm__log(ctx, HM_LOG_INFO, "%s: tiles from the sizes (%s)", sh->op,
                ctx->pipeline_schedule == HM_PIPELINE_FIXED ? "the context's fixed schedule"
                : n < 2                                     ? "no other candidate"
                                                            : "the link cannot be measured");
        return HM_STATUS_SUCCESS;
    }
    double t0 = hm__now();
    hm_link link;
    hm_status st = hm__backend_link(ctx, sh->backend, sh->device, &link);
    if (st != HM_STATUS_SUCCESS)
        return st;
    hm_pipe_model m = {0};
    m.in_fixed = link.in_fixed;
    m.in_row = (double)sh->in_row_bytes / link.in_bps;
    m.out_fixed = link.out_fixed;
    m.out_row = (double)sh->out_row_bytes / link.out_bps;
    m.stage_fixed = sh->in_staged || sh->out_staged ? link.host_fixed : 0;
    m.stage_in_row = sh->in_staged ? (double)sh->in_row_bytes / link.host_bps : 0;
    m.stage_out_row = sh->out_staged ? (double)sh->out_row_bytes / link.host_bps : 0;

    /* First ranking: the computation at the smallest and the largest tile of any candidate. */
    hm_tiles ends = {0};
    ends.nsizes = 2;
    ends.size[0] = sh->rows;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < cand[i].nsizes; k++) {
            ends.size[0] = min64(ends.size[0], cand[i].size[k]);
            ends.size[1] = cand[i].size[k] > ends.size[1] ? cand[i].size[k] : ends.size[1];
        }
    if ((st = time_sizes(ctx, timer, user, &ends, &m)) != HM_STATUS_SUCCESS)
        return st;
    double times[HM_TILES_CANDIDATES];
    for (int i = 0; i < n; i++)
        times[i] = hm__tiles_time(&m, &cand[i]);
    /* Second: the default and the shortlist, with every tile size of theirs timed. */
    hm_tiles shortlist[HM_TILES_SHORTLIST + 1];
    int ns = 0;
    shortlist[ns++] = cand[0];
    bool taken[HM_TILES_CANDIDATES] = {true};
    for (int s = 0; s < HM_TILES_SHORTLIST && s + 1 < n; s++) {
        int best = -1;
        for (int i = 1; i < n; i++)
            if (!taken[i] && (best < 0 || times[i] < times[best]))
                best = i;
        taken[best] = true;
        shortlist[ns++] = cand[best];
    }
    for (int i = 0; i < ns; i++)
        if ((st = time_sizes(ctx, timer, user, &shortlist[i], &m)) != HM_STATUS_SUCCESS)
            return st;
    /* beside the choice: the default when another was chosen, else the fastest other */
    int pick = hm__tiles_pick(&m, shortlist, ns, times), alt = pick ? 0 : 1;
    for (int i = 2; i < ns && pick == 0; i++)
        alt = times[i] < times[alt] ? i : alt;
    *t = shortlist[pick];
    char mine[128], other[128], staged[64] = "";
    hm__tiles_describe(&shortlist[pick], mine, sizeof mine);
    hm__tiles_describe(&shortlist[alt], other, sizeof other);
    if (sh->in_staged || sh->out_staged)
        snprintf(staged, sizeof staged, ", host copies into pinned buffers %.1f GB/s",
                 link.host_bps / 1e9);
    hm__log(ctx, HM_LOG_INFO,
            "%s: pipeline model measured in %.1f ms: link %.1f GB/s in, %.1f GB/s out%s; a tile's "
            "%s timed at %d sizes, %.4f ms at %lld rows to %.4f ms at %lld",
            sh->op, (hm__now() - t0) * 1e3, link.in_bps / 1e9, link.out_bps / 1e9, staged, sh->work,
            m.points, m.sec[0] * 1e3, (long long)m.rows[0], m.sec[m.points - 1] * 1e3,
            (long long)m.rows[m.points - 1]);
    hm__log(ctx, HM_LOG_INFO,
            "%s: of %d candidate schedules (the %d best modelled again), %s: modelled %.3f ms for "
            "%s; %s: %.3f ms for %s",
            sh->op, n, ns - 1, pick ? "chosen" : "the default kept", times[pick] * 1e3, mine,
            pick ? "the default" : "the fastest other", times[alt] * 1e3, other);
    return HM_STATUS_SUCCESS;
}
