/* The device memory budget of an operation on host operands (out-of-core schedules).
 *
 * A pipeline of host operands keeps on its device: the operands the computation reads whole (a
 * matmul's B and bias, unless they are cut too), a ring of HM_RING_SLOTS tile buffers for the
 * tiled input's rows and as many for the output's rows (core/op_pipeline.c), and the backend's
 * workspace. When that does not fit the budget, the output's columns (its last axis) are cut
 * into panels, and with them the last axis of every operand that runs along them (B's columns,
 * the bias): each panel is a pipeline of its own over all the rows, so the tiled input crosses
 * the link once a panel. A panel's tile of the output is then `width` columns of `rows` rows.
 *
 * This file is arithmetic only: what a schedule (tile rows, panel width) needs, and the schedule
 * that fits a budget, preferring one panel (the tiled input read once) while its tiles keep at
 * least HM_BUDGET_TILE_WANT·tile_min rows, then the widest panels with the largest tiles. */
#ifndef HETMATH_CORE_BUDGET_H
#define HETMATH_CORE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HM_RING_SLOTS       3 /* tile buffers a ring: one copied in, one computed, one copied out */
#define HM_BUDGET_TILE_WANT 8 /* one panel only while tiles keep this many times tile_min rows */
#define HM_BUDGET_MIN_WIDTH 256 /* panels narrower than this only as the last resort */

/* What a pipeline of host operands needs on one device. */
typedef struct hm_budget_need {
    size_t whole;     /* operands kept whole on the device */
    size_t per_col;   /* a column's bytes of the operands cut with the output's columns */
    int64_t cols;     /* the output's columns */
    bool cuttable;    /* whether the output's columns may be cut into panels */
    int64_t rows;     /* rows of the tiled input and of the output */
    size_t in_row;    /* bytes of a row of the tiled input */
    size_t out_col;   /* bytes of one column of an output row (a row: cols·out_col) */
    int64_t tile_min; /* the fewest rows a tile may have */
    size_t chunk;     /* a tile's rows of either operand fit one pinned staging buffer of this
                         many bytes (SIZE_MAX: the operands are pinned, nothing is staged) */
    size_t workspace; /* the backend's, fixed */
    double ws_tiles;  /* and a work area of this many output tiles */
} hm_budget_need;

/* A schedule. */
typedef struct hm_budget_fit {
    int64_t tile_max; /* rows of a ring slot: the largest tile */
    int64_t panels;   /* the output's columns in this many panels, */
    int64_t width;    /* of `width` columns, the first cols % panels one more... */
    int64_t plus;     /* ...that is, this many of width + 1 */
    size_t bytes;     /* on the device */
} hm_budget_fit;

/* Bytes on the device of the schedule with tiles of at most `tile` rows and panels of at most
 * `width` columns. */
size_t hm__budget_bytes(const hm_budget_need *n, int64_t tile, int64_t width);

/* The largest tile (≤ the staging chunk and rows) for panels of `width` columns within budget;
 * 0 when not even tile_min rows fit. */
int64_t hm__budget_tile(const hm_budget_need *n, size_t budget, int64_t width);

/* The schedule for budget (see above); false when even tiles of tile_min rows in panels of one
 * column do not fit (out->bytes is then that smallest schedule's need). */
bool hm__budget_fit(const hm_budget_need *n, size_t budget, hm_budget_fit *out);

#endif
