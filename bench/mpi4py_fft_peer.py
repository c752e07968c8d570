#!/usr/bin/env python3
"""mpi4py-fft (PyPI), the Python peer of the distributed FFT: a 3-D c64 forward transform of the
shape given (slabs over the ranks, mpi4py-fft's PFFT with its defaults: the FFTW backend planning
with FFTW_MEASURE, the output left distributed along the second axis, as FFTW-MPI's transposed
output), under mpirun. Each
repetition is timed between barriers, its time the slowest rank's; rank 0 prints one JSON object
with the median. Usage: mpirun -n P python3 bench/mpi4py_fft_peer.py N0,N1,N2 [REPEAT]
"""
import json
import statistics
import sys
import time

import numpy as np
from mpi4py import MPI
from mpi4py_fft import PFFT, newDistArray


def main():
    shape = [int(v) for v in sys.argv[1].split(",")]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    comm = MPI.COMM_WORLD
    fft = PFFT(comm, shape, axes=(0, 1, 2), dtype=np.complex64, grid=(-1,))
    u = newDistArray(fft, False)
    u_hat = newDistArray(fft, True)
    rng = np.random.default_rng(comm.rank)
    u[:] = rng.random(u.shape) + 1j * rng.random(u.shape)
    fft.forward(u, u_hat, normalize=False)  # warm-up: FFTW's plans made
    times = []
    for _ in range(repeat):
        comm.Barrier()
        t0 = time.perf_counter()
        fft.forward(u, u_hat, normalize=False)
        t = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
        times.append(t)
    if comm.rank == 0:
        print(json.dumps({"median_s": statistics.median(times), "ranks": comm.size,
                          "shape": shape, "repeat": repeat}))
    fft.destroy()


if __name__ == "__main__":
    main()
