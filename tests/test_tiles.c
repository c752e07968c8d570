/* The tile schedule of host-operand pipelines (src/core/tiles.h), an internal part tested through
 * the static library: every schedule covers its rows exactly, in tiles of 1 to max_tile rows,
 * small first and last, with at most HM_TILE_SIZES distinct sizes, and the notebook's and the
 * tests' schedules are the ones the GPU tests and the documentation name. */
#include "check.h"
#include "core/tiles.h"

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

int main(void)
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
    return hm_test_finish("test_tiles");
}
