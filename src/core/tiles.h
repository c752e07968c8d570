/* The tiles of a host-operand pipeline (the matmul's row tiles of A and D, the FFT's chunks of
 * the batch): how many rows each tile has, in order.
 *
 * The first tile's copy in and the last tile's copy out overlap nothing, so those tiles are
 * small; small products and transforms run below the device's rate, so the tiles in between are
 * large. The schedule: two tiles of about rows/10, one of twice that, then tiles of about rows/4
 * (at most max_tile, the staging buffer's rows), then one of about rows/10. For the notebook's
 * 8000 rows: 800, 800, 1600, 2000, 2000, 800. A model of the pipeline fitted to tile products
 * measured on an H100 (bench/pipeline_model.py, 2026-11-25) ranks this the best of all schedules
 * of up to six tiles drawn from the measured sizes, 5-7% under equal tiles of 800 to 2000 rows;
 * measured, 4.00-4.11 ms against 4.13-4.36 (docs/PERFORMANCE.md). */
#ifndef HETMATH_CORE_TILES_H
#define HETMATH_CORE_TILES_H

#include <stddef.h>
#include <stdint.h>

#define HM_TILE_SIZES 6 /* distinct tile sizes at most: a backend plan each */

typedef struct hm_tiles {
    int64_t head[3]; /* the first tiles (fewer when rows are few) */
    int nhead;
    int64_t mid, nmid; /* nmid middle tiles of mid rows, the first nplus of mid + 1 */
    int64_t nplus;
    int64_t last;                /* the last tile, 0 when there is none after the middle */
    int64_t count;               /* tiles in all */
    int64_t size[HM_TILE_SIZES]; /* the distinct tile sizes, in order of first use */
    int nsizes;
} hm_tiles;

/* The schedule for `rows` rows (≥ 1) in tiles of at most max_tile (≥ 1) rows. */
void hm__tiles_plan(int64_t rows, int64_t max_tile, hm_tiles *t);

/* Rows of tile i (0 ≤ i < count). */
int64_t hm__tile_rows(const hm_tiles *t, int64_t i);

/* Index in t->size of a tile size; -1 when no tile has that size. */
int hm__tile_size_index(const hm_tiles *t, int64_t rows);

/* The tiles' rows for the log, "800, 800, 1600, 2000, 2000, 800"; more than three middle tiles
 * are written "40 x 2097". */
void hm__tiles_describe(const hm_tiles *t, char *buf, size_t size);

#endif
