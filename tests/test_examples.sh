#!/bin/sh
# The examples' output, not only their exit code: the README's FFT example prints y[256] of an
# impulse's transform (exp(-i pi/2) = -i) from the CPU and, where a device exists, from cuda:0,
# and the bytes the ledger counted (8192 each way with a device, none without).
set -u
bin="$1"
out=$("$bin" 2>/dev/null) || { echo "FAIL: $bin exited $?"; exit 1; }
fail=0
want() {
    if printf '%s\n' "$out" | grep -qx -- "$1"; then :; else
        echo "FAIL: no line '$1' in:"; printf '%s\n' "$out"; fail=1; fi
}
want "cpu: y\[256\] = (-\{0,1\}0.000, -1.000)"
if printf '%s\n' "$out" | grep -q "no CUDA device here"; then
    want "host->device 0 bytes, device->host 0 bytes"
else
    want "cuda:0: y\[256\] = (-\{0,1\}0.000, -1.000)"
    want "host->device 8192 bytes, device->host 8192 bytes"
fi
[ "$fail" -eq 0 ] && echo "test_examples: fft_spaces printed what it should"
exit "$fail"
