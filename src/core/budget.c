/* The device memory budget's arithmetic (budget.h says what and why). */
#include "core/budget.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* a·b + c, saturating at SIZE_MAX. */
static size_t mul_add(size_t a, size_t b, size_t c)
{
    if (a != 0 && b > (SIZE_MAX - c) / a)
        return SIZE_MAX;
    return a * b + c;
}

size_t hm__budget_bytes(const hm_budget_need *n, int64_t tile, int64_t width)
{
    size_t out_tile = mul_add((size_t)tile, mul_add((size_t)width, n->out_col, 0), 0);
    size_t ring = mul_add(HM_RING_SLOTS, mul_add((size_t)tile, n->in_row, out_tile), 0);
    size_t cut = mul_add((size_t)width, n->per_col, 0);
    size_t ws = (size_t)(n->ws_tiles * (double)out_tile);
    size_t sum = n->whole;
    const size_t parts[] = {ring, cut, n->workspace, ws};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        sum = parts[i] > SIZE_MAX - sum ? SIZE_MAX : sum + parts[i];
    return sum;
}

/* The most rows a tile of panels `width` wide may have: the staging chunk and the rows. */
static int64_t tile_cap(const hm_budget_need *n, int64_t width)
{
    size_t row = n->in_row > (size_t)width * n->out_col ? n->in_row : (size_t)width * n->out_col;
    if (row == 0 || n->chunk / row >= (size_t)n->rows)
        return n->rows;
    return (int64_t)(n->chunk / row);
}

int64_t hm__budget_tile(const hm_budget_need *n, size_t budget, int64_t width)
{
    int64_t lo = n->tile_min, hi = tile_cap(n, width);
    if (hi < lo || hm__budget_bytes(n, lo, width) > budget)
        return 0;
    while (lo < hi) { /* bytes grow with the tile: the largest that fits */
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (hm__budget_bytes(n, mid, width) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* The widest panel (≤ cols) whose tiles of `tile` rows fit; 0 when one column does not. */
static int64_t widest(const hm_budget_need *n, size_t budget, int64_t tile)
{
    int64_t lo = 1, hi = n->cols;
    if (hm__budget_bytes(n, tile, 1) > budget)
        return 0;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (hm__budget_bytes(n, tile, mid) <= budget && tile <= tile_cap(n, mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static bool take(const hm_budget_need *n, size_t budget, int64_t wmax, hm_budget_fit *out)
{
    int64_t panels = (n->cols + wmax - 1) / wmax;
    int64_t width = n->cols / panels, plus = n->cols % panels;
    int64_t tile = hm__budget_tile(n, budget, width + (plus > 0));
    if (tile < 1)
        return false;
    *out =
        (hm_budget_fit){tile, panels, width, plus, hm__budget_bytes(n, tile, width + (plus > 0))};
    return true;
}

bool hm__budget_fit(const hm_budget_need *n, size_t budget, hm_budget_fit *out)
{
    int64_t want = min64(min64(HM_BUDGET_TILE_WANT * n->tile_min, tile_cap(n, n->cols)), n->rows);
    int64_t tile = hm__budget_tile(n, budget, n->cols);
    if (tile >= (n->cuttable ? want : 1) && tile >= n->tile_min) {
        *out = (hm_budget_fit){tile, 1, n->cols, 0, hm__budget_bytes(n, tile, n->cols)};
        return true;
    }
    if (n->cuttable) {
        /* The widest panels with tiles of `want` rows, then of fewer, while at least
         * HM_BUDGET_MIN_WIDTH wide; then any width. */
        for (int64_t t = want; t >= n->tile_min && t >= 1; t = t > n->tile_min ? t / 2 : 0) {
            int64_t t_ok = t < n->tile_min ? n->tile_min : t;
            int64_t w = widest(n, budget, t_ok);
            if (w >= min64(HM_BUDGET_MIN_WIDTH, n->cols) && take(n, budget, w, out))
                return true;
            if (t_ok == n->tile_min)
                break;
        }
        int64_t w = widest(n, budget, n->tile_min);
        if (w >= 1 && take(n, budget, w, out))
            return true;
    }
    *out = (hm_budget_fit){n->tile_min, n->cuttable ? n->cols : 1, n->cuttable ? 1 : n->cols, 0,
                           hm__budget_bytes(n, n->tile_min, n->cuttable ? 1 : n->cols)};
    return false;
}
