/* The tiles of a host-operand pipeline (the matmul's row tiles of A and D, the FFT's chunks of
 * the batch): how many rows each tile has, in order, and how the schedule is chosen.
 *
 * The first tile's copy in and the last tile's copy out overlap nothing, so those tiles are
 * small; small products and transforms run below the device's rate, so the tiles in between are
 * large. A schedule has that shape: two tiles of `small` rows, one of twice that (at most
 * `large`), then tiles of about `large` (at most max_tile, the staging buffer's rows), then one of
 * `small`. The default (rows/4 and rows/10): for the notebook's 8000 rows, 800, 800, 1600, 2000,
 * 2000, 800, which a model of the pipeline (bench/pipeline_model.py) ranks the best of all
 * schedules of up to six tiles (docs/TUNING.md).
 *
 * What is best depends on the link and the device: on a slower link the copies dominate and more,
 * smaller tiles hide more of them; on a faster one the products dominate and fewer, larger tiles
 * run them nearer the device's rate. So a pipeline's plan measures the link (once per context and
 * device) and one tile's computation at the smallest and largest candidate sizes, models every
 * candidate shape with the same simulation as bench/pipeline_model.py, and keeps the default
 * unless another shape is modelled HM_TILES_GAIN faster (hm__tiles_measured). */
#ifndef HETMATH_CORE_TILES_H
#define HETMATH_CORE_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetmath/core.h"

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

/* The default schedule for `rows` rows (≥ 1) in tiles of at most max_tile (≥ 1) rows. */
void hm__tiles_plan(int64_t rows, int64_t max_tile, hm_tiles *t);

/* The schedule of that shape with middle tiles of about `large` rows and end tiles of `small`
 * (1 ≤ small ≤ large). */
void hm__tiles_shape(int64_t rows, int64_t large, int64_t small, hm_tiles *t);

/* What a pipeline's time depends on, in seconds. The host thread fills tile i's pinned buffer
 * (when the input is staged) after emptying tile i-2's result (when the output is staged), as
 * src/backends/cuda/cuda_pipeline.c does; each tile's copy in, computation and copy out follow
 * the previous tile's on their stream. A copy of a tile costs a fixed part (a DMA's start, a
 * round of the host's threads) and a part per row. */
#define HM_PIPE_POINTS 24
typedef struct hm_pipe_model {
    double in_fixed, in_row;   /* a tile of the input in: in_fixed + rows·in_row (the link) */
    double out_fixed, out_row; /* a tile of the result out */
    double stage_fixed;        /* the host's copy of a tile into or out of a pinned buffer: */
    double stage_in_row;       /*   stage_fixed + rows·stage_in_row (input; 0: it goes direct) */
    double stage_out_row;      /*   stage_fixed + rows·stage_out_row (result; 0: direct) */
    int points;                /* a tile's computation measured at rows[i]: sec[i] (ascending) */
    int64_t rows[HM_PIPE_POINTS];
    double sec[HM_PIPE_POINTS];
} hm_pipe_model;

/* Adds a measured computation (kept in ascending rows; a size already there or a full table: no
 * change). */
void hm__pipe_add_point(hm_pipe_model *m, int64_t rows, double sec);

/* A tile's computation of `rows` rows: linear between the nearest measured sizes, proportional
 * to the rows beyond them; 0 with nothing measured. */
double hm__pipe_compute(const hm_pipe_model *m, int64_t rows);

/* The modelled time of the pipeline of schedule t. */
double hm__tiles_time(const hm_pipe_model *m, const hm_tiles *t);

#define HM_TILES_CANDIDATES 32
/* Another shape replaces the default when modelled HM_TILES_GAIN faster; candidates within
 * HM_TILES_TIE of the fastest are as fast, and the fewest tiles among them is taken. */
#define HM_TILES_GAIN 0.10
#define HM_TILES_TIE  0.01

/* The candidate schedules: middle tiles of rows/q (q = 2, 3, 4, 5, 6, 8, 12, 16; at most
 * max_tile) with end tiles of 1, 1/2, 2/5 or 1/4 of that; only those whose tiles all have at least
 * min_tile rows. cand[0] is the default (hm__tiles_plan), present even when its tiles are
 * smaller. Returns the count (≤ HM_TILES_CANDIDATES). */
int hm__tiles_candidates(int64_t rows, int64_t max_tile, int64_t min_tile,
                         hm_tiles cand[HM_TILES_CANDIDATES]);

/* The candidate to use under m: of those modelled within HM_TILES_TIE of the fastest, the one
 * with the fewest tiles (the first of them in the list), unless it is not HM_TILES_GAIN faster
 * than cand[0], the default, which is then kept: 0. times[i] gets each candidate's modelled
 * time. A near tie among candidates so never turns on the noise of a measurement. */
int hm__tiles_pick(const hm_pipe_model *m, const hm_tiles *cand, int n, double *times);

/* Rows of tile i (0 ≤ i < count). */
int64_t hm__tile_rows(const hm_tiles *t, int64_t i);

/* Index in t->size of a tile size; -1 when no tile has that size. */
int hm__tile_size_index(const hm_tiles *t, int64_t rows);

/* The tiles' rows for the log, "800, 800, 1600, 2000, 2000, 800"; more than three middle tiles
 * are written "40 x 2097". */
void hm__tiles_describe(const hm_tiles *t, char *buf, size_t size);

/* Measuring and choosing (needs the execution device's backend). */

/* Times one tile's computation of `rows` rows on the execution device (warm, on device
 * temporaries); sets *seconds. */
typedef hm_status (*hm_tile_timer)(hm_context *ctx, void *user, int64_t rows, double *seconds);

struct hm_backend_ops;

/* A pipeline's rows and what moves per row. */
typedef struct hm_pipe_shape {
    const char *op;                       /* the operation, for the log */
    const char *work;                     /* a tile's computation: "product", "transform" */
    const struct hm_backend_ops *backend; /* the device's, which measures the link */
    int device;                           /* the device it runs on */
    int64_t rows, max_tile, min_tile;
    size_t in_row_bytes, out_row_bytes;
    bool in_staged, out_staged; /* the host operands are pageable (copied through pinned buffers) */
} hm_pipe_shape;

/* Sets *t to the schedule for the pipeline: the default when the context asks for fixed schedules
 * (HM_PIPELINE_FIXED) or the device's link cannot be measured; else the pick among the
 * candidates of the model measured: the link, then `timer` at the smallest and largest tile of
 * any candidate, which ranks them; then every tile size of the default and of the
 * HM_TILES_SHORTLIST best, which ranks those again (small products run below the device's rate in
 * steps, wave by wave, that two sizes cannot show). Logs the measurements, the modelled times
 * and the choice. Fails only with timer's or the link measurement's status. */
#define HM_TILES_SHORTLIST 3
hm_status hm__tiles_measured(hm_context *ctx, const hm_pipe_shape *shape, hm_tile_timer timer,
                             void *user, hm_tiles *t);

#endif
