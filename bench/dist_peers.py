#!/usr/bin/env python3
"""Distributed peer benchmark: hetmath's `bench dist-fft` / `bench dist-matmul` against FFTW-MPI
and ScaLAPACK called directly (build/raw_mpi), under mpirun with the same ranks, in turns over
three rounds (a host whose speed drifts moves both alike). Writes JSON and prints a table whose
ratio column is hetmath's time over the peer's (lower is better); hetmath's own serial floor (its
local work alone plus its exchanges at the all-to-all rate measured in the same run) beside it.
The FFT runs twice: with FFTW_ESTIMATE's plans and the output in the input's distribution, and
with FFTW_MEASURE's plans and the output left transposed (the first two axes swapped, one
exchange fewer). Where Python has mpi4py-fft (PyPI: pip install mpi4py mpi4py-fft), its 3-D FFT
(bench/mpi4py_fft_peer.py), which plans with FFTW_MEASURE and leaves its output so distributed,
is reported beside the second, in the same rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def placement(ranks):
    """Each rank on its own cores, as many as the machine has for it (both sides of a row then
    run as many threads: hetmath and raw_mpi take the rank's affinity, the BLAS the variable);
    more ranks than cores: no binding, one thread each."""
    per = (os.cpu_count() or 1) // ranks
    if per < 1:
        return ["--bind-to", "none"], 1
    return ["--map-by", f"slot:PE={per}", "--bind-to", "core"], per


def mpirun(ranks, *cmd):
    """Runs cmd on `ranks` ranks; its last line of output as JSON. Each run gets an empty cache
    folder: hetmath's FFTW wisdom file from an earlier run (a measured plan) would otherwise
    change what an FFTW_ESTIMATE plan of a later one is."""
    binding, threads = placement(ranks)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(ENV, XDG_CACHE_HOME=cache, OPENBLAS_NUM_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads))
        out = subprocess.run(["mpirun", "-n", str(ranks), *binding, *cmd], check=True,
                             capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def has_mpi4py_fft():
    return subprocess.run([sys.executable, "-c", "import mpi4py_fft"], capture_output=True,
                          env=ENV).returncode == 0


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
    py_peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi4py_fft_peer.py")
    with_py = len(n) == 3 and has_mpi4py_fft()
    for p in [int(r) for r in a.ranks.split(",")]:
        cases = [
            (f"dist-fft c64 {a.fft}, {p} ranks",
             lambda: mpirun(p, hm, "bench", "dist-fft", "--shape", a.fft, "--repeat", a.repeat,
                            "--json"),
             "FFTW-MPI", lambda: mpirun(p, raw, "fft", *map(str, n), a.repeat)),
            (f"dist-fft c64 {a.fft} transposed, measured, {p} ranks",
             lambda: mpirun(p, hm, "bench", "dist-fft", "--shape", a.fft, "--transposed",
                            "--measure", "--repeat", a.repeat, "--json"),
             "FFTW-MPI", lambda: mpirun(p, raw, "fft", *map(str, n), a.repeat, "transposed",
                                        "measure")),
            (f"dist-matmul f64 {size}^3, {p} ranks",
             lambda: mpirun(p, hm, "bench", "dist-matmul", "--m", size, "--n", size, "--k", size,
                            "--repeat", a.repeat, "--json"),
             "ScaLAPACK pdgemm", lambda: mpirun(p, raw, "matmul", size, size, size, a.repeat, "0")),
        ]
        for case, mine, peer_name, peer in cases:
            hs, ps, floors, pys = [], [], [], []
            for _ in range(3):
                r = mine()
                hs.append(r["median_s"])
                floors.append(r["floor_s"])
                ps.append(peer()["median_s"])
                if with_py and "transposed" in case:  # mpi4py-fft leaves its output so
                    pys.append(mpirun(p, sys.executable, py_peer, a.fft, a.repeat)["median_s"])
            row = {"case": case, "hetmath_s": statistics.median(hs), "peer": peer_name,
                   "peer_s": statistics.median(ps), "floor_s": statistics.median(floors),
                   "round_ratios": [h / q for h, q in zip(hs, ps)]}
            row["ratio"] = row["hetmath_s"] / row["peer_s"]
            if pys:
                row["mpi4py_fft_s"] = statistics.median(pys)
            rows.append(row)
            print(f"{case}: {row['hetmath_s'] * 1e3:.2f} ms, {peer_name} "
                  f"{row['peer_s'] * 1e3:.2f} ms", file=sys.stderr, flush=True)
    with open(a.out, "w") as f:
        json.dump({"rows": rows, "cores": os.cpu_count(),
                   "threads_a_rank": {p: placement(int(p))[1] for p in a.ranks.split(",")}},
                  f, indent=1)
    print(f"{'case':40} {'hetmath':>10} {'peer':>18} {'peer time':>10} {'ratio':>6} "
          f"{'floor':>10}")
    for r in rows:
        rr = r["round_ratios"]
        print(f"{r['case']:40} {r['hetmath_s'] * 1e3:8.2f}ms {r['peer']:>18} "
              f"{r['peer_s'] * 1e3:8.2f}ms {r['ratio']:6.3f} {r['floor_s'] * 1e3:8.2f}ms"
              f"  rounds {min(rr):.2f}-{max(rr):.2f}" +
              (f"  mpi4py-fft {r['mpi4py_fft_s'] * 1e3:.2f}ms" if "mpi4py_fft_s" in r else ""))


if __name__ == "__main__":
    main()
