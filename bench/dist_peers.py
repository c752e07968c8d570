#!/usr/bin/env python3
"""Distributed peer benchmark: hetmath's `bench dist-fft` / `bench dist-matmul` against FFTW-MPI
and ScaLAPACK called directly (build/raw_mpi), under mpirun with the same ranks, in turns over
three rounds (a host whose speed drifts moves both alike). Writes JSON and prints a table whose
ratio column is hetmath's time over the peer's (lower is better); hetmath's own serial floor (its
local work alone plus its exchanges at the all-to-all rate measured in the same run) beside it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def mpirun(ranks, *cmd):
    out = subprocess.run(["mpirun", "-n", str(ranks), *cmd], check=True, capture_output=True,
                         text=True, env=ENV).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the build folder (hetmath and raw_mpi)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ranks", default="2,4")
    ap.add_argument("--fft", default="256,256,256")
    ap.add_argument("--matmul", default="2048")
    ap.add_argument("--repeat", default="5")
    a = ap.parse_args()
    hm, raw = os.path.join(a.bin, "hetmath"), os.path.join(a.bin, "raw_mpi")
    n = [int(v) for v in a.fft.split(",")]
    size = a.matmul
    rows = []
    for p in [int(r) for r in a.ranks.split(",")]:
        cases = [
            (f"dist-fft c64 {a.fft}, {p} ranks",
             lambda: mpirun(p, hm, "bench", "dist-fft", "--shape", a.fft, "--repeat", a.repeat,
                            "--json"),
             "FFTW-MPI", lambda: mpirun(p, raw, "fft", *map(str, n), a.repeat)),
            (f"dist-matmul f64 {size}^3, {p} ranks",
             lambda: mpirun(p, hm, "bench", "dist-matmul", "--m", size, "--n", size, "--k", size,
                            "--repeat", a.repeat, "--json"),
             "ScaLAPACK pdgemm", lambda: mpirun(p, raw, "matmul", size, size, size, a.repeat, "0")),
        ]
        for case, mine, peer_name, peer in cases:
            hs, ps, floors = [], [], []
            for _ in range(3):
                r = mine()
                hs.append(r["median_s"])
                floors.append(r["floor_s"])
                ps.append(peer()["median_s"])
            row = {"case": case, "hetmath_s": statistics.median(hs), "peer": peer_name,
                   "peer_s": statistics.median(ps), "floor_s": statistics.median(floors),
                   "round_ratios": [h / q for h, q in zip(hs, ps)]}
            row["ratio"] = row["hetmath_s"] / row["peer_s"]
            rows.append(row)
            print(f"{case}: {row['hetmath_s'] * 1e3:.2f} ms, {peer_name} "
                  f"{row['peer_s'] * 1e3:.2f} ms", file=sys.stderr, flush=True)
    with open(a.out, "w") as f:
        json.dump({"rows": rows}, f, indent=1)
    print(f"{'case':40} {'hetmath':>10} {'peer':>18} {'peer time':>10} {'ratio':>6} "
          f"{'floor':>10}")
    for r in rows:
        rr = r["round_ratios"]
        print(f"{r['case']:40} {r['hetmath_s'] * 1e3:8.2f}ms {r['peer']:>18} "
              f"{r['peer_s'] * 1e3:8.2f}ms {r['ratio']:6.3f} {r['floor_s'] * 1e3:8.2f}ms"
              f"  rounds {min(rr):.2f}-{max(rr):.2f}")


if __name__ == "__main__":
    main()
