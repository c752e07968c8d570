/* The tile schedule of host-operand pipelines (tiles.h says why it has this shape). */
#include "core/tiles.h"

#include <stdio.h>

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void add_size(hm_tiles *t, int64_t rows)
{
    if (rows > 0 && hm__tile_size_index(t, rows) < 0 && t->nsizes < HM_TILE_SIZES)
        t->size[t->nsizes++] = rows;
}

void hm__tiles_plan(int64_t rows, int64_t max_tile, hm_tiles *t)
{
    *t = (hm_tiles){0};
    if (rows < 1)
        return;
    if (max_tile < 1)
        max_tile = 1;
    int64_t large = min64((rows + 3) / 4, max_tile);
    int64_t small = min64((rows + 9) / 10, large);
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
