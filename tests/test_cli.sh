#!/bin/sh
# Drives the hetmath command: exit codes (0 ok, 1 operation failed, 2 usage), --help everywhere,
# the demo to its end, and the JSON of the benchmarks.
set -u
bin="$1"
fail=0
pass=0
check() { # description, expected exit code, command...
    what="$1"; want="$2"; shift 2
    "$@" >cli.out 2>cli.err
    got=$?
    if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $what: exit $got, expected $want"; cat cli.err; fi
}
contains() { # description, file, text
    if grep -q -- "$3" "$2"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $1: '$3' not in $2"; cat "$2"; fi
}
check "no command" 2 "$bin"
check "unknown command" 2 "$bin" frobnicate
check "help" 0 "$bin" --help
for c in info demo "bench copy" "bench fft"; do
    check "$c --help" 0 $bin $c --help
    contains "$c --help" cli.out "usage: hetmath"
done
check "info" 0 "$bin" info
contains "info" cli.out "hetmath "
check "info --json" 0 "$bin" info --json
contains "info --json" cli.out '"devices": \['
check "info bad flag" 2 "$bin" info --bogus
check "demo" 0 "$bin" demo
contains "demo spaces line" cli.out "memory space: host; execution space: cpu"
contains "demo banner" cli.out "= SPECIFICATION PHASE ="
contains "demo ledger" cli.out "== Ledger"
contains "demo tone" cli.out "peak |Y\[440\]| = 32768.0"
check "bench copy" 0 "$bin" bench copy --bytes 1M --from host --to host --repeat 3 --json
contains "bench copy json" cli.out '"gbps"'
contains "bench copy json" cli.out '"cpu_times_s": \['
check "bench copy bad size" 2 "$bin" bench copy --bytes lots --from host --to host
check "bench copy no from" 2 "$bin" bench copy --to host
check "bench copy bad space" 2 "$bin" bench copy --from mars --to host
check "bench fft" 0 "$bin" bench fft --shape 4096 --repeat 3 --json
contains "bench fft json" cli.out '"bytes_h2d": 0'
contains "bench fft json" cli.out '"gflops"'
check "bench fft 2-D real" 0 "$bin" bench fft --shape 64,64 --dtype f32 --real --repeat 2
check "bench fft bad shape" 2 "$bin" bench fft --shape 0,4
check "bench fft bad exec" 2 "$bin" bench fft --exec gpu
check "bench fft wrong dtype" 1 "$bin" bench fft --dtype f32 --shape 64 --repeat 1
contains "bench fft wrong dtype message" cli.err "INVALID_DTYPE"
check "bench unknown" 2 "$bin" bench matmulx
rm -f cli.out cli.err
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
