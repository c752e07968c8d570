#!/usr/bin/env python3
"""Peer benchmark: the same cases through hetmath (its `bench --json` command) and through CuPy,
NumPy and SciPy, in one run on one machine, reported as ratios.

Every time is a median of wall-clock times around a call that has finished (GPU work
synchronised), after warm-up, so both sides are measured the same way. Writes the full results
as JSON and prints a table whose last column is hetmath's time over the peer's (lower is better).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def hetmath(binary, *args, cache=None):
    """`hetmath bench ARGS --json`; cache: the folder its per-machine FFTW wisdom lives in
    (XDG_CACHE_HOME), so that a row can run with none (the default's rules alone) or with what
    a measuring run wrote."""
    env = dict(os.environ)
    if cache is not None:
        env["XDG_CACHE_HOME"] = cache
    out = subprocess.run([binary, "bench", *args, "--json"], check=True, capture_output=True,
                         text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def wall(fn, sync, repeat, warmup):
    for _ in range(warmup):
        fn()
        sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def signed(shape):
    """f32 operands on the device, uniform in [-0.5, 0.5) as `hetmath bench` makes its own. The
    peers get the same distribution: at the 700 W limit the same cuBLAS kernel ran 5-20% faster
    on all-positive U[0, 1) data than on signed data (H100, 2026-11-25), so data of another
    distribution than hetmath's measures the data, not the library."""
    import cupy as cp
    return (cp.random.random(shape, dtype=cp.float32) - 0.5).astype(cp.float32)


def warmup_for(fn, sync, seconds=1.0):
    """Warm-up calls for about `seconds` of back-to-back work (at least 10), given to both sides
    alike: long products heat the card and move its clocks, and a side that starts on a card
    that has cooled while the other side's process started measures the idle time."""
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return max(10, int(seconds / max(time.perf_counter() - t0, 1e-6)))


def rounds(mine, peer, n=3):
    """hetmath and the peer taken in turns, n rounds: on a host whose speed drifts, a ratio of
    two runs minutes apart measures the drift. Returns each side's median over the rounds and
    the per-round ratios."""
    hs, ps = [], []
    for _ in range(n):
        hs.append(mine())
        ps.append(peer())
    return statistics.median(hs), statistics.median(ps), [h / p for h, p in zip(hs, ps)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the hetmath command")
    ap.add_argument("--out", required=True, help="JSON file for the full results")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    ap.add_argument("--multigpu", action="store_true",
                    help="only the rows of two GPUs (copies between them, operations over both)")
    ap.add_argument("--outofcore", action="store_true",
                    help="only the rows of host operands under a device memory budget, against "
                         "hetmath on device operands, cuBLASXt and the link floor")
    a = ap.parse_args()

    import numpy as np
    import scipy.fft
    try:
        import cupy as cp
        gpu = cp.cuda.runtime.getDeviceCount() > 0
    except Exception as e:  # no CuPy or no device: CPU peers only
        print(f"peers: no CuPy GPU ({e}); GPU rows skipped", file=sys.stderr)
        gpu = False
    nothing = lambda: None
    sync = (lambda: cp.cuda.Device().synchronize()) if gpu else nothing
    rows = []

    started = time.perf_counter()

    def add(case, hm, peer_name, peer_s, goal=None, extra=None, ratios=None):
        row = {"case": case, "hetmath_s": hm, "peer": peer_name, "peer_s": peer_s,
               "ratio": hm / peer_s if peer_s else None, "goal": goal,
               "round_ratios": ratios}
        row.update(extra or {})
        rows.append(row)
        # progress, so that a run cut short still says how far it got
        print(f"[{time.perf_counter() - started:6.0f} s] {case}: {hm * 1e3:.3f} ms, "
              f"{peer_name} {peer_s * 1e3:.3f} ms", file=sys.stderr, flush=True)

    rep = 5 if a.quick else 20
    if a.outofcore:
        if gpu:
            outofcore_rows(a, add)
        report(a, rows)
        return
    if a.multigpu:
        if not gpu or cp.cuda.runtime.getDeviceCount() < 2:
            print("peers: fewer than two GPUs; no two-GPU rows", file=sys.stderr)
        else:
            two_gpu_rows(a, add, cp, np)
        report(a, rows)
        return
    pinned_gbps = {}
    # ---- copies ----------------------------------------------------------------------------
    if gpu:
        sizes = ["1M", "64M", "256M"] if a.quick else ["1M", "16M", "256M", "1G"]
        for size in sizes:
            nbytes = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[size[-1]] * int(size[:-1])
            n = nbytes // 4
            r = 3 if nbytes >= 1 << 30 else rep
            host = np.ones(n, dtype=np.float32)
            pinned_mem = cp.cuda.alloc_pinned_memory(nbytes)
            pinned = np.frombuffer(pinned_mem, dtype=np.float32, count=n)
            pinned[:] = 1
            dev = cp.empty(n, dtype=np.float32)
            dev2 = cp.empty(n, dtype=np.float32)
            peers = {
                ("host", "cuda:0"): lambda: dev.set(host),
                ("cuda:0", "host"): lambda: dev.get(out=host),
                ("pinned", "cuda:0"): lambda: dev.set(pinned),
                ("cuda:0", "pinned"): lambda: dev.get(out=pinned),
                ("cuda:0", "cuda:0"): lambda: dev2.__setitem__(slice(None), dev),
            }
            mine = {}
            for (src, dst), fn in peers.items():
                hm = hetmath(a.bin, "copy", "--bytes", size, "--from", src, "--to", dst,
                             "--repeat", str(r), "--warmup", "2")
                mine[(src, dst)] = hm["median_s"]
                cps = wall(fn, sync, r, 2)
                add(f"copy {size} {src}->{dst}", hm["median_s"], "cupy", cps,
                    extra={"hetmath_gbps": hm["gbps"], "peer_gbps": nbytes / cps / 1e9})
            pinned_gbps[size] = (nbytes / mine[("pinned", "cuda:0")] / 1e9,
                                 nbytes / mine[("cuda:0", "pinned")] / 1e9)
            if nbytes >= 256 << 20:
                # The transfer goal: pageable >= 0.7x pinned, same run. Pageable and pinned
                # taken in turns over three rounds: a disturbance of the host or the link (seen
                # once on the H100 machine: a pinned 1 GiB copy at 35 ms instead of 20) then
                # touches one round, not the whole comparison.
                def copy_s(src, dst):
                    return hetmath(a.bin, "copy", "--bytes", size, "--from", src, "--to", dst,
                                   "--repeat", str(r), "--warmup", "2")["median_s"]

                for src, dst, pin in (("host", "cuda:0", ("pinned", "cuda:0")),
                                      ("cuda:0", "host", ("cuda:0", "pinned"))):
                    pg, pn, ratios = rounds(lambda: copy_s(src, dst), lambda: copy_s(*pin))
                    add(f"copy {size} {src}->{dst} vs pinned", pg, "hm pinned", pn,
                        goal=1 / 0.7, ratios=ratios)
            del dev, dev2, pinned, pinned_mem, host
            cp.get_default_memory_pool().free_all_blocks()

    # ---- FFT -------------------------------------------------------------------------------
    ffts = [("10000", None), ("1048576", None), ("16777216", None), ("4096,4096", "1")]
    if a.quick:
        ffts = ffts[:3]
    for shape, axes in ffts:
        dims = [int(s) for s in shape.split(",")]
        rng = np.random.default_rng(0)
        x = (rng.standard_normal(dims) + 1j * rng.standard_normal(dims)).astype(np.complex64)
        extra_args = ["--axes", axes] if axes else []
        r = 5 if x.size >= 1 << 24 else rep
        # CPU: hetmath on the host (all cores) vs scipy.fft (all workers): the default plan with
        # no wisdom (its rules alone), the measured plan (which writes the machine's wisdom
        # file), and the default again reading that file
        cold, warm = tempfile.mkdtemp(), tempfile.mkdtemp()

        def cpu_fft(*how, cache):
            return hetmath(a.bin, "fft", "--shape", shape, "--memory", "host", *how, "--repeat",
                           str(r), "--warmup", "2", *extra_args, cache=cache)["median_s"]

        scipy_fft = lambda: wall(lambda: scipy.fft.fft(x, axis=-1, workers=-1), nothing, r, 2)
        npt = wall(lambda: np.fft.fft(x, axis=-1), nothing, r, 1)
        hm, sp, ratios = rounds(lambda: cpu_fft(cache=cold), scipy_fft)
        add(f"fft c64 {shape} cpu default", hm, "scipy.fft", sp, goal=0.5,
            extra={"numpy_s": npt}, ratios=ratios)
        hm, sp, ratios = rounds(lambda: cpu_fft("--measure", cache=warm), scipy_fft)
        add(f"fft c64 {shape} cpu measured", hm, "scipy.fft", sp, goal=0.5, ratios=ratios)
        hm, sp, ratios = rounds(lambda: cpu_fft(cache=warm), scipy_fft)
        add(f"fft c64 {shape} cpu default, wisdom", hm, "scipy.fft", sp, goal=0.5, ratios=ratios)
        if gpu:
            hm = hetmath(a.bin, "fft", "--shape", shape, "--memory", "cuda:0", "--repeat", str(rep),
                         "--warmup", "3", *extra_args)
            xd = cp.asarray(x)
            cf = wall(lambda: cp.fft.fft(xd, axis=-1), sync, rep, 3)
            add(f"fft c64 {shape} cuda:0", hm["median_s"], "cupy.fft", cf, goal=1.05)
            del xd
    # batched host operands on the GPU: pipelined over the batch, against CuPy's serial
    # copy-transform-copy
    if gpu:
        x = (rng.standard_normal((4096, 4096)) + 1j * rng.standard_normal((4096, 4096))).astype(
            np.complex64)
        hm = hetmath(a.bin, "fft", "--shape", "4096,4096", "--axes", "1", "--memory", "host",
                     "--exec", "cuda:0", "--repeat", "5", "--warmup", "2")
        serial = wall(lambda: cp.fft.fft(cp.asarray(x), axis=-1).get(), sync, 5, 2)
        add("fft c64 4096,4096 host operands on cuda:0", hm["median_s"], "cupy serial", serial,
            extra={"bytes_h2d": hm["bytes_h2d"], "bytes_d2h": hm["bytes_d2h"]})
        # the pipeline's chunks as the measured model chose them, against the fixed schedule
        def fft_tiles(how):
            return hetmath(a.bin, "fft", "--shape", "4096,4096", "--axes", "1", "--memory",
                           "host", "--exec", "cuda:0", "--repeat", "5", "--warmup", "2",
                           "--tiles", how)["median_s"]

        hm, fx, ratios = rounds(lambda: fft_tiles("measured"), lambda: fft_tiles("fixed"))
        add("fft c64 4096,4096 host operands on cuda:0, measured tiles", hm, "hm fixed tiles", fx,
            ratios=ratios)
    # small-call overhead
    if gpu:
        hm = hetmath(a.bin, "fft", "--shape", "1024", "--memory", "cuda:0", "--repeat", "200",
                     "--warmup", "20")
        xd = cp.asarray((np.arange(1024) * 1j).astype(np.complex64))
        cf = wall(lambda: cp.fft.fft(xd), sync, 200, 20)
        add("fft c64 1024 cuda:0 (small call)", hm["median_s"], "cupy.fft", cf)
        raw = json.loads(subprocess.run([os.path.join(os.path.dirname(a.bin), "raw_calls")],
                                        check=True, capture_output=True, text=True).stdout)
        add("fft c64 1024 cuda:0 (small call)", hm["median_s"], "raw cuFFT",
            raw["fft_c64_1024_s"], goal=1.3)

    # ---- matmul ----------------------------------------------------------------------------
    def mm(*args, r=rep, w=2):
        return hetmath(a.bin, "matmul", *args, "--repeat", str(r), "--warmup", str(w))

    # CPU: hetmath (CBLAS, all cores) vs NumPy (its OpenBLAS, all cores)
    for dt, npdt in (("f32", np.float32), ("f64", np.float64)):
        n = 2048
        A = np.random.default_rng(1).random((n, n), dtype=np.float64).astype(npdt)
        B = np.random.default_rng(2).random((n, n), dtype=np.float64).astype(npdt)
        out = np.empty((n, n), dtype=npdt)
        hm, npt, ratios = rounds(
            lambda: mm("--m", str(n), "--n", str(n), "--k", str(n), "--dtype", dt,
                       r=10)["median_s"],
            lambda: wall(lambda: np.matmul(A, B, out=out), nothing, 10, 2))
        add(f"matmul {dt} {n}^3 cpu", hm, "numpy", npt, goal=1 / 0.95,
            extra={"hetmath_tflops": 2 * n ** 3 / hm / 1e12,
                   "peer_tflops": 2 * n ** 3 / npt / 1e12}, ratios=ratios)
    if gpu:
        import torch
        M, N, K = 8000, 2000, 4000  # the notebook: A 8000x4000, B 4000x2000, D 8000x2000
        flops = 2 * M * N * K
        A, B = signed((M, K)), signed((K, N))
        D = cp.empty((M, N), dtype=cp.float32)
        hm = mm("--m", str(M), "--n", str(N), "--k", str(K), "--memory", "cuda:0")
        cps = wall(lambda: cp.matmul(A, B, out=D), sync, rep, 3)
        add("matmul f32 notebook, device operands", hm["median_s"], "cupy", cps, goal=1 / 0.98,
            extra={"hetmath_tflops": hm["tflops"], "peer_tflops": flops / cps / 1e12})
        gemm_s = hm["median_s"]
        Ah, Bh = cp.asnumpy(A), cp.asnumpy(B)
        for label, args in (("generic, exec cuda:0", ["--exec", "cuda:0"]),
                            ("advanced", ["--advanced"])):
            last = {}

            def mine():
                last.update(mm("--m", str(M), "--n", str(N), "--k", str(K), "--memory", "host",
                               *args, r=5))
                return last["median_s"]

            hm, serial, ratios = rounds(
                mine, lambda: wall(lambda: (cp.asarray(Ah) @ cp.asarray(Bh)).get(), sync, 5, 2))
            add(f"matmul f32 notebook, host operands, {label}", hm, "cupy serial", serial,
                goal=0.15, extra={"bytes_h2d": last["bytes_h2d"], "bytes_d2h": last["bytes_d2h"]},
                ratios=ratios)
        # pinned operands against the overlap floor: B in + max(A in, GEMM, D out)
        if pinned_gbps:
            gin, gout = pinned_gbps.get("256M", next(iter(pinned_gbps.values())))
            floor = 4 * K * N / gin / 1e9 + max(4 * M * K / gin / 1e9, gemm_s,
                                                  4 * M * N / gout / 1e9)
            # three runs each, the median: one run can meet a disturbance of the host
            def floor_row(case, *args):
                runs = [mm("--m", str(M), "--n", str(N), "--k", str(K), "--advanced", *args,
                           r=5)["median_s"] for _ in range(3)]
                add(case, statistics.median(runs), "overlap floor", floor, goal=1.25,
                    ratios=[t / floor for t in runs])

            floor_row("matmul f32 notebook, pinned operands, advanced", "--memory", "pinned")
            # pageable operands that a long-lived plan registered (register_host): the first
            # call stages, the second registers, the timed ones copy direct
            floor_row("matmul f32 notebook, registered operands (plan), advanced",
                      "--memory", "host", "--register")
        # the pipeline's tiles as the measured model chose them, against the fixed schedule
        for memory in ("pinned", "host"):
            def nb_tiles(how):
                return mm("--m", str(M), "--n", str(N), "--k", str(K), "--memory", memory,
                          "--advanced", "--tiles", how, r=5)["median_s"]

            hm, fx, ratios = rounds(lambda: nb_tiles("measured"), lambda: nb_tiles("fixed"))
            add(f"matmul f32 notebook, {memory} operands, measured tiles", hm, "hm fixed tiles",
                fx, ratios=ratios)
        del A, B, D
        cp.get_default_memory_pool().free_all_blocks()
        sizes = [1024, 4096, 8192] if a.quick else [1024, 2048, 4096, 8192, 16384]
        for n in sizes:
            # The long products heat the card and move its clocks: both sides warm up for 10
            # calls, time 10, and take turns over 3 rounds (the short ones too: a single run
            # once met a clock change, f32 2048 at 0.475 ms against 0.355 the run before).
            r, nr = (10, 3) if n >= 8192 else (rep, 3)
            flops = 2 * n ** 3

            def row(kind, args, peer_name, peer_fn, peer_sync):
                w = warmup_for(peer_fn, peer_sync) if n >= 8192 else 2
                hm, pt, ratios = rounds(
                    lambda: mm("--m", str(n), "--n", str(n), "--k", str(n), "--memory",
                               "cuda:0", *args, r=r, w=w)["median_s"],
                    lambda: wall(peer_fn, peer_sync, r, w), nr)
                add(f"matmul {kind} {n}^3 cuda:0", hm, peer_name, pt, goal=1 / 0.98,
                    extra={"hetmath_tflops": flops / hm / 1e12, "peer_tflops": flops / pt / 1e12},
                    ratios=ratios)

            A, B = signed((n, n)), signed((n, n))
            D = cp.empty((n, n), dtype=cp.float32)
            row("f32", [], "cupy", lambda: cp.matmul(A, B, out=D), sync)
            del A, B, D
            cp.get_default_memory_pool().free_all_blocks()
            ta = torch.rand((n, n), device="cuda") - 0.5
            tb = torch.rand((n, n), device="cuda") - 0.5
            torch.backends.cuda.matmul.allow_tf32 = True
            row("tf32", ["--advanced", "--tf32"], "torch", lambda: torch.matmul(ta, tb),
                torch.cuda.synchronize)
            torch.backends.cuda.matmul.allow_tf32 = False
            ta, tb = ta.bfloat16(), tb.bfloat16()
            row("bf16", ["--advanced", "--dtype", "bf16"], "torch", lambda: torch.matmul(ta, tb),
                torch.cuda.synchronize)
            del ta, tb
            torch.cuda.empty_cache()
        # small-call overhead: 64x64 f32 on device operands
        A = cp.random.random((64, 64), dtype=cp.float32)
        D = cp.empty((64, 64), dtype=cp.float32)
        hm = mm("--m", "64", "--n", "64", "--k", "64", "--memory", "cuda:0", r=200)
        cps = wall(lambda: cp.matmul(A, A, out=D), sync, 200, 20)
        add("matmul f32 64^3 cuda:0 (small call)", hm["median_s"], "cupy", cps)
        add("matmul f32 64^3 cuda:0 (small call)", hm["median_s"], "raw cuBLASLt",
            raw["matmul_f32_64_s"], goal=1.3)

    report(a, rows)


def outofcore_rows(a, add):
    """Host operands under a device memory budget (docs/OUT_OF_CORE.md): the issue's f32 32768³
    under 2 GiB against hetmath's device-resident product (rate) and cuBLASXt on the same host
    operands (pinned; pageable with cuBLASXt's pinning mode), the notebook's shape under a sixth
    of its operands against itself without a budget, a batched FFT of host data four times its
    budget and a 3-D FFT (two passes) against the link floor (every byte in and out once a pass
    at the measured rates)."""
    n = 16384 if a.quick else 32768
    xt_bin = os.path.join(os.path.dirname(a.bin), "raw_cublasxt")

    def mm(m, nn, k, *args, r=3, w=1):
        return hetmath(a.bin, "matmul", "--m", str(m), "--n", str(nn), "--k", str(k), *args,
                       "--repeat", str(r), "--warmup", str(w))

    def xt(memory, pinning):
        out = subprocess.run([xt_bin, str(n), str(n), str(n), memory, str(pinning), "2"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["median_s"]

    flops = 2 * n ** 3
    dev = mm(n, n, n, "--memory", "cuda:0")["median_s"]
    for memory, pinning in (("pinned", 0), ("host", 1)):
        hm = mm(n, n, n, "--memory", memory, "--advanced", "--device-memory-limit", "2G")
        case = f"matmul f32 {n}^3 {memory} operands, budget 2 GiB"
        extra = {"bytes_h2d": hm["bytes_h2d"], "bytes_d2h": hm["bytes_d2h"],
                 "hetmath_tflops": flops / hm["median_s"] / 1e12}
        if memory == "pinned":
            add(case, hm["median_s"], "hm on device", dev, goal=1 / 0.9,
                extra=dict(extra, peer_tflops=flops / dev / 1e12))
        add(case, hm["median_s"], "cuBLASXt" + (" pinning" if pinning else ""),
            xt(memory, pinning), goal=0.15, extra=extra)
    # D = A·B + C, C pinned too: C's tiles go into D's ring with A's (no device memory of its
    # own), against the device-resident product that reads C
    dev_c = mm(n, n, n, "--memory", "cuda:0", "--beta", "1")["median_s"]
    hm = mm(n, n, n, "--memory", "pinned", "--advanced", "--device-memory-limit", "2G",
            "--beta", "1")
    add(f"matmul f32 {n}^3 pinned operands + C, budget 2 GiB", hm["median_s"],
        "hm on device + C", dev_c, goal=1 / 0.9,
        extra={"bytes_h2d": hm["bytes_h2d"], "bytes_d2h": hm["bytes_d2h"],
               "hetmath_tflops": flops / hm["median_s"] / 1e12})
    # the notebook's shape: A 8000x4000, B 4000x2000, D 8000x2000 f32, 224 MB of operands
    M, N, K = 8000, 2000, 4000
    sixth = 4 * (M * K + K * N + M * N) // 6
    for memory in ("host", "pinned"):
        def run(*budget):
            return mm(M, N, K, "--memory", memory, "--advanced", *budget, r=5)["median_s"]

        hm, free, ratios = rounds(lambda: run("--device-memory-limit", str(sixth)), run)
        add(f"matmul f32 notebook, {memory}, budget {sixth / 1e6:.1f} MB", hm,
            "hm no budget", free, goal=1.25, ratios=ratios)
    # a batched 2-D FFT of host data (c64 64 x 1024 x 1024, 512 MiB) under 128 MiB
    cin = hetmath(a.bin, "copy", "--bytes", "256M", "--from", "pinned", "--to", "cuda:0")
    cout = hetmath(a.bin, "copy", "--bytes", "256M", "--from", "cuda:0", "--to", "pinned")
    nbytes = 64 * 1024 * 1024 * 8
    floor = max(nbytes / (cin["gbps"] * 1e9), nbytes / (cout["gbps"] * 1e9))
    for memory in ("pinned", "host"):
        hm = hetmath(a.bin, "fft", "--shape", "64,1024,1024", "--axes", "1,2", "--memory",
                     memory, "--exec", "cuda:0", "--device-memory-limit", "128M", "--repeat",
                     "5", "--warmup", "1")
        add(f"fft c64 64x1024x1024 (axes 1,2) {memory}, budget 128 MiB", hm["median_s"],
            "link floor", floor, goal=1.3)
    # a 3-D FFT over every axis (1 GiB) under a quarter of it: two passes (slabs, then pencils),
    # each moving x in and y out once; the floor: both passes' bytes at the measured rates, in
    # and out overlapped
    nbytes = 512 ** 3 * 8
    floor3 = 2 * max(nbytes / (cin["gbps"] * 1e9), nbytes / (cout["gbps"] * 1e9))
    for memory in ("pinned", "host"):
        hm = hetmath(a.bin, "fft", "--shape", "512,512,512", "--memory", memory, "--exec",
                     "cuda:0", "--device-memory-limit", "256M", "--repeat", "3", "--warmup", "1")
        add(f"fft c64 512^3 (every axis) {memory}, budget 256 MiB", hm["median_s"], "link floor",
            floor3, goal=1.3, extra={"bytes_h2d": hm["bytes_h2d"], "bytes_d2h": hm["bytes_d2h"]})


def two_gpu_rows(a, add, cp, np):
    """Two GPUs: copies between them against CuPy's memcpyPeer (peer access enabled for CuPy
    too, its best case), and host-operand operations over both devices against hetmath on one
    and against CuPy splitting the rows over the two in two threads."""
    import threading
    for i, j in ((0, 1), (1, 0)):
        with cp.cuda.Device(i):
            try:
                cp.cuda.runtime.deviceEnablePeerAccess(j)
            except cp.cuda.runtime.CUDARuntimeError:
                pass  # already enabled
    nbytes = 256 << 20
    with cp.cuda.Device(0):
        src = cp.ones(nbytes // 4, dtype=cp.float32)
    with cp.cuda.Device(1):
        dst = cp.empty(nbytes // 4, dtype=cp.float32)

    def sync_both():
        for d in (0, 1):
            cp.cuda.Device(d).synchronize()

    for frm, to, s_, d_ in (("cuda:0", "cuda:1", src, dst), ("cuda:1", "cuda:0", dst, src)):
        peer = wall(lambda: cp.cuda.runtime.memcpyPeer(d_.data.ptr, d_.device.id, s_.data.ptr,
                                                       s_.device.id, nbytes), sync_both, 20, 3)
        for layout, goal in (([], 1 / 0.9), (["--transpose"], 2.0)):
            hm = hetmath(a.bin, "copy", "--bytes", "256M", "--from", frm, "--to", to, *layout,
                         "--repeat", "20", "--warmup", "3")
            add(f"copy 256M {frm}->{to}{' transposed' if layout else ''}", hm["median_s"],
                "cupy memcpyPeer", peer, goal=goal,
                extra={"hetmath_gbps": hm["gbps"], "peer_gbps": nbytes / peer / 1e9})
    del src, dst

    M, N, K = 8000, 2000, 4000  # the notebook's host-operand matmul
    rng = np.random.default_rng(3)
    Ah = (rng.random((M, K), dtype=np.float32) - 0.5).astype(np.float32)
    Bh = (rng.random((K, N), dtype=np.float32) - 0.5).astype(np.float32)
    Dh = np.empty((M, N), dtype=np.float32)

    def split():
        def part(d, rows):
            with cp.cuda.Device(d):
                Dh[rows] = (cp.asarray(Ah[rows]) @ cp.asarray(Bh)).get()
        ts = [threading.Thread(target=part, args=(d, slice(d * M // 2, (d + 1) * M // 2)))
              for d in (0, 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    two_thread = wall(split, sync_both, 5, 2)

    def mm(memory, exec_):
        return hetmath(a.bin, "matmul", "--m", str(M), "--n", str(N), "--k", str(K), "--memory",
                       memory, "--advanced", "--exec", exec_, "--repeat", "5", "--warmup", "2")

    # the host's own copy rate (pageable into pinned, hetmath's threads): pageable operands
    # over two links are bound by it
    host = hetmath(a.bin, "copy", "--bytes", "1G", "--from", "host", "--to", "pinned",
                   "--repeat", "3", "--warmup", "1")
    staged_floor = 4 * (M * K + K * N + M * N) / (host["gbps"] * 1e9)
    pinned_two = None
    for memory in ("pinned", "host"):
        one, two, ratios = rounds(lambda: mm(memory, "cuda:0")["median_s"],
                                  lambda: mm(memory, "cuda:0,1")["median_s"])
        if memory == "pinned":
            pinned_two = two
        add(f"matmul f32 notebook, {memory} operands, cuda:0,1", two, "hm on cuda:0", one,
            goal=0.6 if memory == "pinned" else None, ratios=[1 / r for r in ratios])
        if memory == "host":
            add("matmul f32 notebook, host operands, cuda:0,1", two, "cupy two threads",
                two_thread, goal=0.12)
            add("matmul f32 notebook, host operands, cuda:0,1", two, "host copy floor",
                staged_floor, goal=1.2, extra={"host_gbps": host["gbps"]})
    # The host links' floor: pinned copies on both devices at once, each on its own streams,
    # in alone and in and out together (the host's DMA bandwidth, not one link's, bounds them).
    def dma_rate(nbytes, both_ways):
        rt = cp.cuda.runtime
        ends = []
        for d in (0, 1):
            with cp.cuda.Device(d):
                dev_in = cp.empty(nbytes // 4, dtype=cp.float32)
                dev_out = cp.empty(nbytes // 4, dtype=cp.float32)
                ends.append((d, dev_in, dev_out, cp.cuda.alloc_pinned_memory(nbytes),
                             cp.cuda.alloc_pinned_memory(nbytes),
                             cp.cuda.Stream(non_blocking=True), cp.cuda.Stream(non_blocking=True)))

        def run():
            for d, di, do, hi, ho, si, so in ends:
                with cp.cuda.Device(d):
                    rt.memcpyAsync(di.data.ptr, hi.ptr, nbytes, rt.memcpyHostToDevice, si.ptr)
                    if both_ways:
                        rt.memcpyAsync(ho.ptr, do.data.ptr, nbytes, rt.memcpyDeviceToHost, so.ptr)
            for e in ends:
                e[5].synchronize()
                e[6].synchronize()

        t = wall(run, lambda: None, 10, 2)
        return (2 if both_ways else 1) * 2 * nbytes / t / 1e9

    agg_in, agg_both = dma_rate(128 << 20, False), dma_rate(128 << 20, True)
    print(f"host links, both devices at once: {agg_in:.1f} GB/s in, {agg_both:.1f} GB/s in and "
          f"out together", file=sys.stderr)
    # the notebook over two devices, pinned: A and B in (B's halves, the devices exchange the
    # rest), D out; the transform: x in, y out
    mm_in, mm_out = 4 * (M * K + K * N), 4 * M * N
    mm_floor = max(mm_in / (agg_in * 1e9), (mm_in + mm_out) / (agg_both * 1e9))
    x = "4096,4096"
    def fft(exec_):
        return hetmath(a.bin, "fft", "--shape", x, "--axes", "1", "--memory", "pinned",
                       "--exec", exec_, "--repeat", "5", "--warmup", "2")["median_s"]
    one, two, ratios = rounds(lambda: fft("cuda:0"), lambda: fft("cuda:0,1"))
    add("fft c64 4096,4096 pinned operands, cuda:0,1", two, "hm on cuda:0", one, goal=0.6,
        ratios=[1 / r for r in ratios])
    add("fft c64 4096,4096 pinned operands, cuda:0,1", two, "host links floor",
        2 * 4096 * 4096 * 8 / (agg_both * 1e9), extra={"agg_in_gbps": agg_in,
                                                        "agg_both_gbps": agg_both})
    add("matmul f32 notebook, pinned operands, cuda:0,1", pinned_two, "host links floor",
        mm_floor)


def report(a, rows):
    with open(a.out, "w") as f:
        json.dump({"rows": rows}, f, indent=1)
    print(f"{'case':52} {'hetmath':>11} {'peer':>11} {'peer time':>11} {'ratio':>7} {'goal':>7}")
    for r in rows:
        goal = "" if r["goal"] is None else f"<={r['goal']:.3g}"
        rr = r.get("round_ratios") or []
        spread = f"  rounds {min(rr):.2f}-{max(rr):.2f}" if len(rr) > 1 else ""
        print(f"{r['case']:52} {r['hetmath_s'] * 1e3:9.3f}ms {r['peer']:>11} "
              f"{r['peer_s'] * 1e3:9.3f}ms {r['ratio']:7.3f} {goal:>7}{spread}")


if __name__ == "__main__":
    main()
