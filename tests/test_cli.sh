#!/bin/sh
# Drives the hetmath command: exit codes (0 ok, 1 operation failed, 2 usage), --help everywhere,
# the demo to its end, and the JSON of the benchmarks.
set -u
bin="$1"
# the command's per-machine files (FFTW's wisdom, auto's calibration) in a folder of this run's
XDG_CACHE_HOME=$(mktemp -d)
export XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT
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
contains "info --json fftw" cli.out '"fftw": "fftw-3'
check "info" 0 "$bin" info
contains "info libraries" cli.out "cpu backend:  BLAS "
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
# the auto execution space: its option, the estimate, the suite (no GPU here: the CPU alone)
check "bench matmul --exec auto" 0 "$bin" bench matmul --m 40 --n 30 --k 20 --exec auto --repeat 2 --json
contains "bench matmul --exec auto json" cli.out '"execution": "auto"'
check "bench fft --exec auto:5" 0 "$bin" bench fft --shape 512 --exec auto:5 --repeat 2
check "bench fft --exec auto:0" 2 "$bin" bench fft --exec auto:0
for c in calibrate estimate "bench auto"; do
    check "$c --help" 0 $bin $c --help
    contains "$c --help" cli.out "usage: hetmath"
done
check "estimate matmul" 0 "$bin" estimate matmul --m 64 --n 32 --k 16 --dtype f64
contains "estimate matmul" cli.out "matmul f64 64x32x16 host, reuse 1"
contains "estimate matmul choice" cli.out "<- auto"
check "estimate fft measured json" 0 "$bin" estimate fft --shape 8,256 --axes 1 --reuse 3 --measure --json
contains "estimate fft json" cli.out '"measured_s": '
check "estimate bad operation" 2 "$bin" estimate fftx
contains "estimate bad operation" cli.err "the operation is fft or matmul"
check "estimate fft without shape" 2 "$bin" estimate fft
check "estimate fft real dtype" 2 "$bin" estimate fft --shape 64 --dtype f32
check "estimate bad reuse" 2 "$bin" estimate matmul --reuse 0
check "bench auto quick" 0 "$bin" bench auto --quick --json
contains "bench auto summary" cli.out '"summary": true'
check "bench matmul" 0 "$bin" bench matmul --m 64 --n 48 --k 32 --batch 2 --dtype c64 --repeat 2 --json
contains "bench matmul json" cli.out '"tflops"'
contains "bench matmul json" cli.out '"gpu_times_s": \[\]'
for c in plan unchecked; do
    check "bench matmul --call $c" 0 "$bin" bench matmul --m 33 --n 17 --k 9 --call $c --repeat 3 --json
    contains "bench matmul --call $c json" cli.out "\"call\": \"$c\""
    check "bench fft --call $c" 0 "$bin" bench fft --shape 8,1000 --axes 1 --call $c --repeat 3 --json
    contains "bench fft --call $c json" cli.out "\"call\": \"$c\""
done
check "bench fft bad --call" 2 "$bin" bench fft --call bogus
contains "bench fft bad --call message" cli.err "--call takes stateless, plan or unchecked"
check "bench matmul bad budget" 2 "$bin" bench matmul --device-memory-limit lots
contains "bench matmul bad budget message" cli.err "--device-memory-limit takes a size"
check "bench matmul bad size" 2 "$bin" bench matmul --m 0
check "bench matmul f16 on cpu" 1 "$bin" bench matmul --dtype f16 --m 8 --n 8 --k 8 --repeat 1
contains "bench matmul f16 message" cli.err "NOT_SUPPORTED"
check "estimate-transfer --help" 0 "$bin" estimate-transfer --help
check "estimate-transfer bad size" 2 "$bin" estimate-transfer --size huge
check "fft --help" 0 "$bin" fft --help
check "matmul --help" 0 "$bin" matmul --help
check "fft without output" 2 "$bin" fft x.npy
contains "fft without output names -o" cli.err "needs -o OUT.npy"
check "matmul without B" 2 "$bin" matmul a.npy -o d.npy
contains "matmul without B" cli.err "needs two input files"

# Versions, help, slips, and what is wrong with which argument.
for v in --version -V version; do
    check "$v" 0 "$bin" $v
    contains "$v" cli.out "^hetmath [0-9]"
done
check "help" 0 "$bin" help
contains "help lists commands" cli.out "estimate-transfer"
check "help fft" 0 "$bin" help fft
contains "help fft" cli.out "usage: hetmath fft"
check "help bench fft" 0 "$bin" help bench fft
contains "help bench fft" cli.out "usage: hetmath bench fft"
check "misspelt command" 2 "$bin" fftt
contains "did you mean the command" cli.err "did you mean 'fft'"
check "misspelt option" 2 "$bin" fft x.npy -o y.npy --nrom ortho
contains "unknown option named" cli.err "unknown option --nrom (did you mean --norm?)"
check "missing value" 2 "$bin" fft x.npy -o y.npy --norm
contains "missing value" cli.err "option --norm needs a value"
check "empty value" 2 "$bin" fft x.npy -o y.npy --norm=
contains "empty value" cli.err "option --norm needs a value"
check "option as a value" 2 "$bin" fft x.npy -o --norm ortho
contains "option as a value" cli.err "option -o needs a value"
check "exec set named twice" 2 "$bin" fft x.npy -o y.npy --exec cuda:0,0
contains "exec set named twice" cli.err "--exec takes cpu, cpu:THREADS (1 to 4096), cuda:N, a set"
check "repeated option" 2 "$bin" fft x.npy -o y.npy --norm ortho --norm=forward
contains "repeated option" cli.err "option --norm is given twice"
check "value to a flag" 2 "$bin" fft x.npy -o y.npy --inverse=1
contains "value to a flag" cli.err "option --inverse takes no value"
check "too many inputs" 2 "$bin" fft x.npy z.npy -o y.npy
contains "too many inputs" cli.err "unexpected argument: z.npy"
check "bench misspelt" 2 "$bin" bench mattmul
contains "bench misspelt" cli.err "did you mean matmul?"
check "threads overflow" 2 "$bin" bench fft --exec cpu:99999999999
check "threads zero" 2 "$bin" bench fft --exec cpu:0
check "axes overflow" 2 "$bin" bench fft --axes 4294967296
check "repeat overflow" 2 "$bin" bench fft --repeat 99999999999999
check "matmul sizes overflow" 2 "$bin" bench matmul --m 99999999999999999999
check "--opt=value" 0 "$bin" bench fft --shape=64 --repeat=2 --warmup=0
check "beta without C" 2 "$bin" matmul a.npy b.npy -o d.npy --beta 3
contains "beta without C" cli.err "--beta scales C: give --c C.npy"
check "bias without advanced" 2 "$bin" matmul a.npy b.npy -o d.npy --bias b.npy
contains "bias without advanced" cli.err "need --advanced: --bias"
check "output folder missing" 1 "$bin" fft x.npy -o /nonexistent-folder/y.npy
contains "output folder missing" cli.err "folder /nonexistent-folder: No such file or directory"

# .npy round trips against NumPy, when a python3 with NumPy is here (CI installs one).
PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import numpy" >/dev/null 2>&1; then PY="$p"; break; fi
done
if [ -n "$PY" ]; then
    "$PY" -c '
import numpy as np
r = np.random.default_rng(5)
np.save("x.npy", (r.standard_normal((3, 8)) + 1j * r.standard_normal((3, 8))).astype(np.complex128))
np.save("xf.npy", np.asfortranarray(r.standard_normal((6, 5))))
np.save("xr.npy", r.standard_normal((4, 10)).astype(np.float32))
np.save("xh.npy", np.fft.rfft(r.standard_normal(12)))
np.save("a.npy", r.standard_normal((2, 3, 4)))
np.save("b.npy", np.asfortranarray(r.standard_normal((4, 5))))
np.save("c.npy", r.standard_normal((2, 3, 5)))
np.save("ai.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
'
    check "fft c128" 0 "$bin" fft x.npy -o y.npy
    check "fft fortran real input, axis 0, ortho" 0 "$bin" fft xf.npy -o yf.npy --axes 0 --norm ortho
    check "fft r2c f32" 0 "$bin" fft xr.npy -o yr.npy --real --axes -1
    check "fft c2r n=12" 0 "$bin" fft xh.npy -o yh.npy --real --inverse --n 12
    check "fft inverse none" 0 "$bin" fft x.npy -o yi.npy --inverse --norm none
    check "matmul broadcast, C, alpha, beta" 0 "$bin" matmul a.npy b.npy -o d.npy --c c.npy --alpha 2 --beta -0.5
    check "numpy agrees" 0 "$PY" -c '
import numpy as np
x = np.load("x.npy"); xf = np.load("xf.npy"); xr = np.load("xr.npy"); xh = np.load("xh.npy")
a, b, c = np.load("a.npy"), np.load("b.npy"), np.load("c.npy")
def close(got, want, tol):
    got, want = np.load(got), want
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.linalg.norm(got - want) <= tol * np.linalg.norm(want), np.linalg.norm(got - want)
close("y.npy", np.fft.fftn(x), 1e-12)
close("yf.npy", np.fft.fft(xf, axis=0, norm="ortho"), 1e-12)
close("yr.npy", np.fft.rfft(xr, axis=-1), 1e-5)
close("yh.npy", np.fft.irfft(xh, n=12), 1e-12)
close("yi.npy", np.fft.ifftn(x) * x.size, 1e-12)
close("d.npy", 2 * (a @ b) - 0.5 * c, 1e-12)
'
    # bad files: truncated, wrong magic, unsupported dtype, header promising more data
    head -c 300 x.npy > trunc.npy
    printf 'NOTNUMPYatall' > magic.npy
    "$PY" -c '
d = open("x.npy", "rb").read()
open("lies.npy", "wb").write(d.replace(b"(3, 8)", b"(3, 9)"))
'
    # Output files: written whole then renamed, so a failure leaves an existing file as it was;
    # -o naming the input reads it first; a device that cannot take the bytes gives the reason.
    printf 'keep me' > out.npy
    check "failing call keeps the output" 1 "$bin" fft ai.npy -o out.npy
    contains "failing call keeps the output" out.npy "keep me"
    cp x.npy self.npy
    check "output over the input" 0 "$bin" fft self.npy -o self.npy
    check "write error" 1 "$bin" fft x.npy -o /dev/full
    contains "write error has a reason" cli.err "cannot write /dev/full: No space left on device"
    check "errors printed once" 1 "$bin" fft ai.npy -o out.npy
    if [ "$(wc -l < cli.err)" -eq 1 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: an error printed more than once:"; cat cli.err; fi
    left=$(ls -a | grep -c '^\.out\.npy\.\|^\.self\.npy\.' || true)
    if [ "$left" -eq 0 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: temporary files left behind"; ls -a; fi
    "$PY" -c '
import numpy as np
np.save("rec.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<f8")]))
np.save("zero_d.npy", np.array(2.5 - 1j))
np.save("empty_batch.npy", np.zeros((0, 8), dtype=np.complex64))
'
    check "structured dtype" 1 "$bin" fft rec.npy -o out.npy
    contains "structured dtype" cli.err "a structured dtype (a list of fields) is not supported"
    check "0-d array" 0 "$bin" fft zero_d.npy -o y0.npy
    check "empty batch" 0 "$bin" fft empty_batch.npy -o ye.npy --axes 1
    check "numpy agrees on the edges" 0 "$PY" -c '
import numpy as np
assert np.allclose(np.load("self.npy"), np.fft.fftn(np.load("x.npy")))
y0 = np.load("y0.npy"); assert y0.shape == () and y0 == np.fft.fftn(np.array(2.5 - 1j))
ye = np.load("ye.npy"); assert ye.shape == (0, 8)
'
    for f in trunc magic ai lies; do
        check "bad file $f" 1 "$bin" fft $f.npy -o out.npy
    done
    contains "truncated" cli.err "hetmath fft"
    "$bin" fft trunc.npy -o out.npy 2>cli.err; contains "truncated file" cli.err "promises"
    "$bin" fft magic.npy -o out.npy 2>cli.err; contains "wrong magic" cli.err "bad magic"
    "$bin" fft ai.npy -o out.npy 2>cli.err; contains "int32" cli.err "unsupported dtype '<i4'"
    "$bin" fft lies.npy -o out.npy 2>cli.err; contains "lying header" cli.err "promises"
    rm -f x.npy xf.npy xr.npy xh.npy a.npy b.npy c.npy ai.npy y.npy yf.npy yr.npy yh.npy yi.npy \
        d.npy trunc.npy magic.npy lies.npy out.npy self.npy rec.npy zero_d.npy empty_batch.npy \
        y0.npy ye.npy
else
    echo "test_cli: no python3 with NumPy here; the .npy round trips were not run"
fi
rm -f cli.out cli.err
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
