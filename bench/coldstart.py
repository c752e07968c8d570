#!/usr/bin/env python3
"""What one run of the hetmath command costs before it does any work: wall time and peak RSS of
`hetmath ARGS...`, the median of a few runs. Usage: coldstart.py HETMATH ARGS..."""
import resource
import statistics
import subprocess
import sys
import time

times = []
for _ in range(5):
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"hetmath {' '.join(sys.argv[2:])}: {statistics.median(times):.3f} s, peak {rss:.0f} MB")
