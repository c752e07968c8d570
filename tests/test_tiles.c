/* The tile schedule of host-operand pipelines (src/core/tiles.h), an internal part tested through
 * the static library: every schedule covers its rows exactly, in tiles of 1 to max_tile rows,
 * small first and last, with at most HM_TILE_SIZES distinct sizes, and the notebook's and the
 * tests' schedules are the ones the GPU tests and the documentation name; the pipeline model
 * gives the times worked out by hand, and the choice among candidates follows the link. */
#include "check.h"
#include "core/budget.h"
#include "core/tiles.h"

#include <string.h>

static void check_schedule(int64_t rows, int64_t max_tile)
{
    hm_tiles t;
    hm__tiles_plan(rows, max_tile, &t);
    int64_t sum = 0, smallest_mid = rows;
    const char *wrong = NULL;
    if (t.count < 1 || t.nsizes < 1 || t.nsizes > HM_TILE_SIZES)
        wrong = "count or sizes";
    for (int64_t i = 0; i < t.count; i++) {
        int64_t r = hm__tile_rows(&t, i);
        if (r < 1 || r > max_tile || hm__tile_size_index(&t, r) < 0)
            wrong = "a tile's rows";
        if (i >= t.nhead && i < t.nhead + t.nmid && r < smallest_mid)
            smallest_mid = r;
        sum += r;
    }
    if (sum != rows)
        wrong = "the sum";
    /* the first tile is a tenth at most, and when the buffers leave room for quarters, no larger
     * than the middle ones (+1 for the even split's rounding) */
    if (hm__tile_rows(&t, 0) > (rows + 9) / 10 ||
        (max_tile >= (rows + 3) / 4 && t.nmid > 0 && hm__tile_rows(&t, 0) > smallest_mid + 1))
        wrong = "the first tile";
    /* no more tiles than the buffers force, and the four small ones */
    if (t.count > 4 + (rows + max_tile - 1) / max_tile + 1)
        wrong = "the count";
    if (wrong)
        fprintf(stderr, "schedule of %lld rows, tiles of at most %lld: %s is wrong\n",
                (long long)rows, (long long)max_tile, wrong);
    CHECK(!wrong);
}

/* The first n tiles of the schedule, and their count. */
static void check_exact(int64_t rows, int64_t max_tile, int64_t count, int n, const int64_t *want)
{
    hm_tiles t;
    hm__tiles_plan(rows, max_tile, &t);
    CHECK_EQ_INT(t.count, count);
    for (int i = 0; i < n && i < t.count; i++)
        CHECK_EQ_INT(hm__tile_rows(&t, i), want[i]);
}

/* Every candidate covers its rows in tiles of min_tile to max_tile rows (the default excepted),
 * with at most HM_TILE_SIZES sizes, no two alike; the first is the default. */
static void check_candidates(int64_t rows, int64_t max_tile, int64_t min_tile)
{
    hm_tiles cand[HM_TILES_CANDIDATES], dflt;
    int n = hm__tiles_candidates(rows, max_tile, min_tile, cand);
    hm__tiles_plan(rows, max_tile, &dflt);
    const char *wrong = NULL;
    if (n < 1 || n > HM_TILES_CANDIDATES || memcmp(&cand[0], &dflt, sizeof dflt) != 0)
        wrong = "the count or the default";
    for (int c = 1; c < n && !wrong; c++) {
        int64_t sum = 0;
        for (int64_t i = 0; i < cand[c].count; i++) {
            int64_t r = hm__tile_rows(&cand[c], i);
            if (r < min_tile || r > max_tile || hm__tile_size_index(&cand[c], r) < 0)
                wrong = "a tile's rows";
            sum += r;
        }
        if (sum != rows || cand[c].count < 2 || cand[c].nsizes > HM_TILE_SIZES)
            wrong = "the sum, count or sizes";
        for (int o = 0; o < c; o++)
            if (memcmp(&cand[o], &cand[c], sizeof cand[c]) == 0)
                wrong = "a candidate twice";
    }
    if (wrong)
        fprintf(stderr, "candidates for %lld rows (tiles %lld to %lld): %s is wrong\n",
                (long long)rows, (long long)min_tile, (long long)max_tile, wrong);
    CHECK(!wrong);
}

/* The notebook (A 8000×4000, D 8000×2000 f32, pinned) on a link of `gbps` each way (5 us a
 * copy), with the tile products measured on the H100 (bench/pipeline_model.py). */
static int pick_notebook(double gbps, hm_tiles *chosen, double *times)
{
    static const int64_t rows[] = {500,  571,  667,  728,  800,  889,  960,  1000,
                                   1024, 1143, 1334, 1600, 2000, 2667, 4000, 8000};
    static const double ms[] = {.2408, .2991, .3420, .3436, .3350, .3874,  .4297,  .4195,
                                .4710, .4895, .6154, .6752, .7122, 1.0355, 1.3746, 2.7032};
    hm_pipe_model m = {0};
    m.in_fixed = m.out_fixed = 5e-6;
    m.in_row = 16000 / (gbps * 1e9);
    m.out_row = 8000 / (gbps * 1e9);
    for (size_t i = sizeof rows / sizeof rows[0]; i-- > 0;) /* any order: kept ascending */
        hm__pipe_add_point(&m, rows[i], ms[i] * 1e-3);
    hm_tiles cand[HM_TILES_CANDIDATES];
    int n = hm__tiles_candidates(8000, 2097, 16, cand);
    int k = hm__tiles_pick(&m, cand, n, times);
    *chosen = cand[k];
    return k;
}

static void tile_schedules(void)
{
    for (int64_t rows = 1; rows <= 400; rows++)
        for (int64_t max_tile = 1; max_tile <= rows + 1; max_tile += 1 + max_tile / 3)
            check_schedule(rows, max_tile);
    check_schedule(1000000, 2097);
    check_schedule(4096, 1024);

    /* the notebook (A 8000×4000 f32: 2097 rows to a 32 MiB buffer) */
    check_exact(8000, 2097, 6, 6, (const int64_t[]){800, 800, 1600, 2000, 2000, 800});
    /* test_matmul_cuda and test_fft_cuda */
    check_exact(3001, 8363, 6, 6, (const int64_t[]){301, 301, 602, 748, 748, 301});
    check_exact(37, 128, 6, 6, (const int64_t[]){4, 4, 8, 9, 8, 4});
    /* the FFT benchmark's 4096 transforms of 4096 points (1024 to a buffer) */
    check_exact(4096, 1024, 6, 6, (const int64_t[]){410, 410, 820, 1023, 1023, 410});
    /* a buffer smaller than the schedule wants: tiles of the buffer's size in the middle */
    check_exact(100, 5, 20, 6, (const int64_t[]){5, 5, 5, 5, 5, 5});
    /* one row: one tile */
    check_exact(1, 1, 1, 1, (const int64_t[]){1});
    hm_tiles t;
    hm__tiles_plan(8000, 2097, &t);
    CHECK_EQ_INT(t.nsizes, 3);
    CHECK_EQ_INT(hm__tile_size_index(&t, 1600), 1);
    CHECK_EQ_INT(hm__tile_size_index(&t, 1234), -1);
    char text[128];
    hm__tiles_describe(&t, text, sizeof text);
    CHECK_CONTAINS(text, "800, 800, 1600, 2000, 2000, 800");
    hm__tiles_plan(100, 5, &t);
    hm__tiles_describe(&t, text, sizeof text);
    CHECK_CONTAINS(text, "5, 5, 5, 16 x 5, 5");
    hm__tiles_plan(37, 128, &t);
    hm__tiles_describe(&t, text, sizeof text);
    CHECK_CONTAINS(text, "4, 4, 8, 9, 8, 4");

    /* The computation between and beyond measured sizes. */
    hm_pipe_model m = {0};
    CHECK_NEAR(hm__pipe_compute(&m, 7), 0, "nothing measured");
    hm__pipe_add_point(&m, 10, 23);
    hm__pipe_add_point(&m, 5, 13);
    hm__pipe_add_point(&m, 5, 99); /* a size already there: kept as it was */
    CHECK_EQ_INT(m.points, 2);
    CHECK_EQ_INT(m.rows[0], 5);
    CHECK_NEAR(fabs(hm__pipe_compute(&m, 5) - 13), 1e-12, "a measured size");
    CHECK_NEAR(fabs(hm__pipe_compute(&m, 7) - 17), 1e-12, "between");
    CHECK_NEAR(fabs(hm__pipe_compute(&m, 20) - 46), 1e-12, "beyond, proportional");
    CHECK_NEAR(fabs(hm__pipe_compute(&m, 1) - 2.6), 1e-12, "below, proportional");

    /* The pipeline, against times worked out by hand: a row in 1, out 1 (and 0.5 a copy where
     * said); a tile of 5 computed in 13, of 10 in 23. One tile: in, compute, out in a row. */
    m.in_row = m.out_row = 1;
    hm__tiles_shape(10, 10, 10, &t);
    CHECK_EQ_INT(t.count, 1);
    CHECK_NEAR(fabs(hm__tiles_time(&m, &t) - (10 + 23 + 10)), 1e-12, "one tile");
    /* Two tiles of 5, compute-bound: in 0-5, 5-10; compute 5-18, 18-31; out 18-23, 31-36. */
    hm__tiles_shape(10, 5, 5, &t);
    CHECK_EQ_INT(t.count, 2);
    CHECK_NEAR(fabs(hm__tiles_time(&m, &t) - 36), 1e-12, "two tiles");
    /* With 0.5 a copy each way: in 0-5.5, 5.5-11; compute 5.5-18.5, 18.5-31.5; out to 37. */
    m.in_fixed = m.out_fixed = 0.5;
    CHECK_NEAR(fabs(hm__tiles_time(&m, &t) - 37), 1e-12, "two tiles, fixed costs");
    /* Staged both ways (a row 1 each way on the host, 0.5 a copy), a tile of 5 computed in 5,
     * direct copies of 1 a row: the host fills buffer 0 by 5.5 and buffer 1 by 11; in 5.5-10.5,
     * 11-16; compute 10.5-15.5, 16-21; out 15.5-20.5, 21-26; the host empties tile 0 at
     * 20.5-26 and tile 1 at 26-31.5. */
    hm_pipe_model staged = {0};
    staged.in_row = staged.out_row = 1;
    staged.stage_fixed = 0.5;
    staged.stage_in_row = staged.stage_out_row = 1;
    hm__pipe_add_point(&staged, 5, 5);
    CHECK_NEAR(fabs(hm__tiles_time(&staged, &t) - 31.5), 1e-12, "two staged tiles");
    /* A faster link is never slower. */
    hm_pipe_model fast = m;
    fast.in_row = fast.out_row = 0.5;
    hm__tiles_plan(8000, 2097, &t);
    CHECK(hm__tiles_time(&fast, &t) <= hm__tiles_time(&m, &t));

    for (int64_t rows = 1; rows <= 300; rows += 7)
        for (int64_t max_tile = 1; max_tile <= rows + 1; max_tile += 1 + max_tile / 2)
            for (int64_t min_tile = 1; min_tile <= 33; min_tile += 16)
                check_candidates(rows, max_tile, min_tile);
    check_candidates(8000, 2097, 16);
    check_candidates(1000000, 2097, 16);

    /* The choice follows the link. On the H100's (54 GB/s each way) and on a far faster one
     * (400 GB/s) the default is kept: it is the model's best there (bench/pipeline_model.py).
     * On PCIe gen4 (25 GB/s) the copies dominate, and more, smaller tiles hide more of them than
     * the default's 6, by more than HM_TILES_GAIN. */
    hm_tiles chosen;
    double times[HM_TILES_CANDIDATES];
    CHECK_EQ_INT(pick_notebook(54, &chosen, times), 0);
    CHECK_EQ_INT(chosen.count, 6);
    CHECK_EQ_INT(pick_notebook(400, &chosen, times), 0);
    int k = pick_notebook(25, &chosen, times);
    CHECK(k != 0);
    CHECK(chosen.count > 6);
    CHECK(times[k] < (1 - HM_TILES_GAIN) * times[0]);
    /* The rule itself, on the notebook over links from 8 to 400 GB/s: of the candidates within
     * HM_TILES_TIE of the fastest, the first with the fewest tiles; taken only when
     * HM_TILES_GAIN faster than the default. */
    static const double links[] = {8, 12, 16, 25, 40, 54, 100, 400};
    for (size_t l = 0; l < sizeof links / sizeof links[0]; l++) {
        hm_tiles all[HM_TILES_CANDIDATES];
        int n_all = hm__tiles_candidates(8000, 2097, 16, all);
        int got = pick_notebook(links[l], &chosen, times);
        int fastest = 0, want = -1;
        for (int i = 0; i < n_all; i++)
            fastest = times[i] < times[fastest] ? i : fastest;
        for (int i = 0; i < n_all; i++)
            if (times[i] <= (1 + HM_TILES_TIE) * times[fastest] &&
                (want < 0 || all[i].count < all[want].count))
                want = i;
        if (times[want] >= (1 - HM_TILES_GAIN) * times[0])
            want = 0;
        CHECK_EQ_INT(got, want);
    }
    /* Equal times everywhere (nothing moves, nothing to compute): the default. */
    hm_pipe_model none = {0};
    hm_tiles cand[HM_TILES_CANDIDATES];
    int n = hm__tiles_candidates(8000, 2097, 16, cand);
    CHECK(n > 10);
    CHECK_EQ_INT(hm__tiles_pick(&none, cand, n, times), 0);
}

/* ---- the device memory budget (src/core/budget.h) ---------------------------------------- */

/* A schedule that fits is within the budget, its tiles between tile_min and the staging chunk,
 * its panels cover the columns exactly; one that does not fit reports a need above the budget. */
static void check_fit(const hm_budget_need *n, size_t budget)
{
    hm_budget_fit f;
    bool ok = hm__budget_fit(n, budget, &f);
    int64_t wmax = f.width + (f.plus > 0);
    const char *wrong = NULL;
    if (ok) {
        if (f.bytes > budget || f.bytes != hm__budget_bytes(n, f.tile_max, wmax))
            wrong = "its bytes";
        else if (f.tile_max < n->tile_min || f.tile_max > n->rows ||
                 (size_t)f.tile_max * n->in_row > n->chunk ||
                 (size_t)f.tile_max * (size_t)wmax * n->out_col > n->chunk)
            wrong = "its tiles";
        else if (f.panels < 1 || f.width * f.panels + f.plus != n->cols || f.plus >= f.panels ||
                 (!n->cuttable && f.panels != 1))
            wrong = "its panels";
        else if (f.panels > 1 &&
                 hm__budget_bytes(n, HM_BUDGET_TILE_WANT * n->tile_min, n->cols) <= budget &&
                 HM_BUDGET_TILE_WANT * n->tile_min <= n->rows &&
                 (size_t)(HM_BUDGET_TILE_WANT * n->tile_min) * n->in_row <= n->chunk &&
                 (size_t)(HM_BUDGET_TILE_WANT * n->tile_min) * (size_t)n->cols * n->out_col <=
                     n->chunk)
            wrong = "panels where one would do";
    } else if (f.bytes <= budget) {
        wrong = "the need of a refusal";
    }
    if (wrong)
        fprintf(stderr,
                "budget %zu, whole %zu, per column %zu, %lld columns, %lld rows: %s is wrong "
                "(tiles %lld, %lld panels of %lld + %lld)\n",
                budget, n->whole, n->per_col, (long long)n->cols, (long long)n->rows, wrong,
                (long long)f.tile_max, (long long)f.panels, (long long)f.width, (long long)f.plus);
    CHECK(!wrong);
}

static void budget_schedules(void)
{
    /* The case, worked by hand (docs/OUT_OF_CORE.md): f32 32768³ under 2 GiB, B cut
     * (a column is K·4 = 131072 bytes), cuBLASLt's 32 MiB. One panel would need B's 4 GiB;
     * tiles of 128 rows leave panels of up to 15940 columns, so 3 panels of 10923, 10923 and
     * 10922, whose tiles may then be 256 rows (the staging chunk: 32 MiB of A's rows), 1.60 GB
     * in all. */
    const hm_budget_need big = {.per_col = 131072,
                                .cols = 32768,
                                .cuttable = true,
                                .rows = 32768,
                                .in_row = 131072,
                                .out_col = 4,
                                .tile_min = 16,
                                .chunk = (size_t)32 << 20,
                                .workspace = (size_t)32 << 20};
    hm_budget_fit f;
    CHECK(hm__budget_fit(&big, (size_t)2 << 30, &f));
    CHECK_EQ_INT(f.panels, 3);
    CHECK_EQ_INT(f.width, 10922);
    CHECK_EQ_INT(f.plus, 2);
    CHECK_EQ_INT(f.tile_max, 256);
    CHECK_EQ_INT((long long)f.bytes,
                 3LL * 256 * (131072 + 10923 * 4) + 131072LL * 10923 + (32LL << 20));
    /* Enough for B whole: one panel, the largest tiles the chunk allows. */
    CHECK(hm__budget_fit(&big, (size_t)8 << 30, &f));
    CHECK_EQ_INT(f.panels, 1);
    CHECK_EQ_INT(f.tile_max, 256);
    /* Pinned operands (nothing staged): the same panels, whose tiles are then as large as the
     * budget leaves room for: (2 GiB - 32 MiB - B's panel) / (3 rings of a row of A and of D). */
    hm_budget_need pinned = big;
    pinned.chunk = SIZE_MAX;
    CHECK(hm__budget_fit(&pinned, (size_t)2 << 30, &f));
    CHECK_EQ_INT(f.panels, 3);
    CHECK_EQ_INT(f.tile_max,
                 ((2LL << 30) - (32LL << 20) - 131072LL * 10923) / (3LL * (131072 + 10923 * 4)));
    CHECK_EQ_INT(f.tile_max, 1301);
    /* Not even tiles of 16 rows in panels of a column: refused, with that schedule's need. */
    CHECK(!hm__budget_fit(&big, (size_t)33 << 20, &f));
    CHECK_EQ_INT((long long)f.bytes, 3LL * 16 * (131072 + 4) + 131072 + (32LL << 20));
    /* An FFT's batch: never cut; the work area of a tile counted. */
    const hm_budget_need fft = {.cols = 1,
                                .rows = 3001,
                                .in_row = 2048,
                                .out_col = 2048,
                                .tile_min = 1,
                                .chunk = (size_t)32 << 20,
                                .ws_tiles = 1.0};
    CHECK(hm__budget_fit(&fft, (size_t)2 << 20, &f));
    CHECK_EQ_INT(f.panels, 1);
    CHECK_EQ_INT(f.tile_max, (2 << 20) / (3 * 4096 + 2048));
    CHECK(!hm__budget_fit(&fft, 4096, &f));

    /* Properties over many needs and budgets. */
    unsigned long long seed = 99;
    for (int r = 0; r < 4000; r++) {
        hm_budget_need n = {.whole = (size_t)(hm_test_rand(&seed) + 1) * 4e6,
                            .per_col = (size_t)((hm_test_rand(&seed) + 1) * 5000),
                            .cols = 1 + (int64_t)((hm_test_rand(&seed) + 1) * 6000),
                            .cuttable = hm_test_rand(&seed) > -0.5,
                            .rows = 1 + (int64_t)((hm_test_rand(&seed) + 1) * 20000),
                            .in_row = 4 + (size_t)((hm_test_rand(&seed) + 1) * 40000),
                            .out_col = hm_test_rand(&seed) > 0 ? 4 : 16,
                            .tile_min = hm_test_rand(&seed) > 0 ? 16 : 1,
                            .chunk = (size_t)32 << 20,
                            .workspace = hm_test_rand(&seed) > 0 ? (size_t)32 << 20 : 0,
                            .ws_tiles = hm_test_rand(&seed) > 0 ? 1.0 : 0.0};
        if (!n.cuttable)
            n.per_col = 0;
        if (n.tile_min > n.rows)
            n.tile_min = n.rows;
        size_t budget = (size_t)((hm_test_rand(&seed) + 1.02) * 1e8);
        check_fit(&n, budget);
    }
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(tile_schedules),
    HM_TEST_CASE(budget_schedules),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_tiles", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
