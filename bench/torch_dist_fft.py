#!/usr/bin/env python3
"""The GPU ranks' peers of `hetmath bench dist-fft --memory cuda`, under mpirun (one process a
GPU, NCCL through torch.distributed): the slab FFT a PyTorch user writes today (fft2 of the
rank's planes, all_to_all_single, fft along the first axis, the output left transposed), the
all-to-all of the same bytes alone (NCCL's rate: the serial floor's exchange), the local
transforms alone, and one GPU's cuFFT of the whole array (torch.fft.fftn, rank 0). c64, the first
two lengths divisible by the ranks. Rank 0 prints one JSON line of medians.

    mpirun -n 2 python3 bench/torch_dist_fft.py N0 N1 N2 [REPEAT]
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist


def timed(fn, repeat):
    """Median over `repeat` calls after one warm-up, each the slowest rank's."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        dist.barrier()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        t = torch.tensor([time.perf_counter() - t0], device="cuda")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        times.append(t.item())
    return statistics.median(times)


def main():
    n0, n1, n2 = (int(v) for v in sys.argv[1:4])
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    size = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    local = int(os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", "0"))
    torch.cuda.set_device(local % torch.cuda.device_count())
    dist.init_process_group("nccl", init_method="tcp://127.0.0.1:29533", rank=rank,
                            world_size=size)
    n0l, n1l = n0 // size, n1 // size
    x = torch.randn(n0l, n1, n2, dtype=torch.complex64, device="cuda")

    def slab_fft():
        y = torch.fft.fft2(x, dim=(1, 2))
        y = y.reshape(n0l, size, n1l, n2).transpose(0, 1).contiguous()
        out = torch.empty_like(y)
        dist.all_to_all_single(torch.view_as_real(out), torch.view_as_real(y))
        return torch.fft.fft(out.reshape(n0, n1l, n2), dim=0)

    send = torch.empty(n0l * n1 * n2 * 2, dtype=torch.float32, device="cuda")
    recv = torch.empty_like(send)
    t_slab = timed(slab_fft, repeat)
    t_a2a = timed(lambda: dist.all_to_all_single(recv, send), repeat)
    g = torch.empty(n0, n1l, n2, dtype=torch.complex64, device="cuda")
    t_local = timed(lambda: torch.fft.fft2(x, dim=(1, 2)), repeat) + \
        timed(lambda: torch.fft.fft(g, dim=0), repeat)
    del x, g, send, recv
    torch.cuda.empty_cache()
    one = -1.0
    if rank == 0:
        whole = torch.randn(n0, n1, n2, dtype=torch.complex64, device="cuda")
        torch.fft.fftn(whole)
        torch.cuda.synchronize()
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            torch.fft.fftn(whole)
            torch.cuda.synchronize()
            ts.append(time.perf_counter() - t0)
        one = statistics.median(ts)
        del whole
    dist.barrier()
    if rank == 0:
        print(json.dumps({"shape": [n0, n1, n2], "ranks": size, "torch_slab_fft_s": t_slab,
                          "nccl_alltoall_s": t_a2a, "local_fft_s": t_local,
                          "one_gpu_fftn_s": one, "alltoall_bytes_a_rank": n0l * n1 * n2 * 8}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
