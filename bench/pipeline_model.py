#!/usr/bin/env python3
"""The model behind the host-operand pipeline's default tile schedule (src/core/tiles.h).

The library now runs this model itself at planning (hm__tiles_time in src/core/tiles.c), on the
link and tile computations it measures there; this script keeps the offline version, on the
figures below, that chose the default shape.

Inputs, measured on the H100 test machine on 2026-11-25: the notebook's tile products
(rows x 2000 x 4000 f32 on device operands, cuBLASLt's heuristic; `hetmath bench matmul
--memory cuda:0 --advanced`) and the pinned link (54 GB/s each way). The model: B goes in
first; the copy-in stream moves A's tiles back to back; tile i's product starts when it has
arrived and the previous product is done; its copy out follows its product on the copy-out
stream. It prints the modelled time of equal tiles, of the schedule tiles.h makes, and of the
best schedules of up to six tiles drawn from the measured sizes.

Measured against it (same day): equal tiles of 800 rows 4.13 ms (model 4.35), of 2000 rows 4.36
(4.35), of 1000 rows 4.36 (4.43); the tiles.h schedule 4.00-4.11 ms over three runs (4.11).
"""
import itertools

# rows of A in the tile -> ms of its product
PRODUCT_MS = {500: .2408, 571: .2991, 667: .3420, 728: .3436, 800: .3350, 889: .3874,
              960: .4297, 1000: .4195, 1024: .4710, 1143: .4895, 1334: .6154, 1600: .6752,
              2000: .7122, 2667: 1.0355, 4000: 1.3746, 8000: 2.7032}
ROWS, K, N, GBPS = 8000, 4000, 2000, 54.0
A_ROW_MS = 4 * K / GBPS / 1e6      # one row of A in
D_ROW_MS = 4 * N / GBPS / 1e6      # one row of D out
B_MS = 4 * K * N / GBPS / 1e6
LAUNCH_MS = 0.005


def product_ms(rows):
    sizes = sorted(PRODUCT_MS)
    lo = max([s for s in sizes if s <= rows], default=sizes[0])
    hi = min([s for s in sizes if s >= rows], default=sizes[-1])
    if lo == hi:
        return PRODUCT_MS[lo] * rows / lo
    return PRODUCT_MS[lo] + (PRODUCT_MS[hi] - PRODUCT_MS[lo]) * (rows - lo) / (hi - lo)


def pipeline_ms(tiles):
    t_in, t_mm, t_out = B_MS, 0.0, 0.0
    for rows in tiles:
        t_in += A_ROW_MS * rows
        t_mm = max(t_mm, t_in) + product_ms(rows) + LAUNCH_MS
        t_out = max(t_out, t_mm) + D_ROW_MS * rows
    return t_out


def main():
    floor = B_MS + max(A_ROW_MS * ROWS, PRODUCT_MS[ROWS], D_ROW_MS * ROWS)
    print(f"overlap floor {floor:.3f} ms")
    for rows in (800, 1000, 1334, 2000):
        n = -(-ROWS // rows)
        tiles = [rows] * (n - 1) + [ROWS - rows * (n - 1)]
        print(f"equal tiles of {rows}: {pipeline_ms(tiles):.3f} ms")
    ours = [800, 800, 1600, 2000, 2000, 800]
    print(f"tiles.h schedule {ours}: {pipeline_ms(ours):.3f} ms")
    best = []
    sizes = sorted(PRODUCT_MS)[:-1]
    for n in range(2, 6):
        for head in itertools.product(sizes, repeat=n):
            last = ROWS - sum(head)
            if last >= 400:
                tiles = list(head) + [last]
                best.append((pipeline_ms(tiles), tiles))
    best.sort()
    for ms, tiles in best[:5]:
        print(f"best: {tiles}: {ms:.3f} ms")


if __name__ == "__main__":
    main()
