#!/usr/bin/env bash
# The GPU check, run on a lent GPU machine (through the device tool): build with CUDA, run the
# whole ctest suite (the cuda label included), run compute-sanitizer over the CUDA tests, run the
# peer benchmarks, and print a short table last. Logs and JSON go under $OUT (at most 7 files).
#   scripts/gpu-check.sh [--quick|--tests|--bench|--multigpu|--outofcore|--auto|--dist|--distgpu]
#   (--quick: fewer benchmark sizes; --tests: build, tests, compute-sanitizer and demo only, for
#   a round of changes that moves no figure; --bench: build, diagnostics and peers only, for a
#   second call on the same machine after --tests, each within the tool's 10 minutes;
#   --multigpu: on a machine of two GPUs or more, build, the multigpu tests under
#   compute-sanitizer, the two-GPU diagnostics and peer rows; --outofcore: build, the
#   out-of-core tests, the schedules a budget makes and the out-of-core peer rows against
#   cuBLASXt, docs/OUT_OF_CORE.md; --auto: build, the auto execution space's tests under
#   compute-sanitizer, its calibration (timed, then read back from its file), estimates measured,
#   and its suite, into auto.log and auto.json beside the other modes' files; --dist: the
#   distributed layer on CPU ranks, FFTW-MPI and ScaLAPACK unpacked from carry-debs/ where the
#   image lacks them, into dist.log and dist.json; --distgpu: GPU ranks, below)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
tests_only=""
[ "${1:-}" = "--tests" ] && tests_only=1
bench_only=""
[ "${1:-}" = "--bench" ] && bench_only=1
multigpu=""
[ "${1:-}" = "--multigpu" ] && multigpu=1
outofcore=""
[ "${1:-}" = "--outofcore" ] && outofcore=1
auto=""
[ "${1:-}" = "--auto" ] && auto=1
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
build=build-gpu
summary=()
note() { summary+=("$1"); echo "== $1"; }

# --dist: the distributed layer on CPU ranks on an image without FFTW-MPI or ScaLAPACK: Debian's
# packages, which scripts/carry-debs.sh downloads into carry-debs/ (the device tool carries the
# folder), unpacked with dpkg -x beside the build; the BLAS, LAPACK and gfortran runtimes from
# the image where it has them. A build without CUDA, the mpi tests, then bench/dist_peers.py at 2
# and 4 ranks (the FFT at 512^3, the matmul at 4096^3; DIST_FFT, DIST_MATMUL change them): dist.log
# and dist.json. Its FFT row with FFTW_MEASURE plans afresh in every run (six a rank count): at
# 512^3 that may take minutes; DIST_FFT=256,256,256 keeps the call short.
root=/tmp/hm-carried
unpack_debs() {
    lib=$root/usr/lib/x86_64-linux-gnu
    fb=$root/fallback/usr/lib/x86_64-linux-gnu
    extra=""
    for d in carry-debs/libfftw3-mpi*.deb carry-debs/libscalapack*.deb; do
        [ -e "$d" ] && dpkg -x "$d" "$root"
    done
    for d in carry-debs/libblas3*.deb carry-debs/liblapack3*.deb carry-debs/libgfortran5*.deb; do
        [ -e "$d" ] && dpkg -x "$d" "$root/fallback"
    done
    for l in libgfortran.so.5:$fb liblapack.so.3:$fb/lapack libblas.so.3:$fb/blas; do
        ldconfig -p | grep -q "${l%%:*} " || extra="$extra:${l#*:}"
    done
    export LD_LIBRARY_PATH=$lib$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} LIBRARY_PATH=$lib$extra
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
}

# --distgpu: GPU ranks (NCCL), on a machine of two GPUs (on one: the one-rank parts only): a build with CUDA, MPI and NCCL
# (FFTW-MPI and ScaLAPACK from carry-debs/ as for --dist; -Werror), the cuda and multigpu labels
# (DISTGPU_LABELS picks others; none skips them, for a round that touched only the GPU ranks)
# (the GPU ranks' tests on 1 and 2 ranks among them), the mpi label, compute-sanitizer on the GPU
# ranks' FFT and matmul at 1 and 2 ranks and on three two-GPU cases, dist-matmul f32 at 16384^3
# and 32768^3 (DISTGPU_MATMUL) beside one GPU's bench matmul, then dist-fft c64 over 2 GPU ranks (1024^3 left transposed and not, DISTGPU_BIG's shape
# left transposed) beside one GPU's whole transform and PyTorch's slab FFT and NCCL all-to-all
# (bench/torch_dist_fft.py): distgpu.log and distgpu.json.
if [ "${1:-}" = "--distgpu" ]; then
    unpack_debs
    b=build-distgpu
    {
        cmake -S . -B $b $(command -v ninja >/dev/null && echo -G Ninja) -DCMAKE_BUILD_TYPE=Release \
            -DHETMATH_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH=$root/usr 2>&1 |
            grep "hetmath: CUDA" | tee /tmp/distgpu.cfg
        grep -q "NCCL ON" /tmp/distgpu.cfg ||
            { echo "no NCCL layer: carry carry-debs/ (scripts/carry-debs.sh) for FFTW-MPI"; exit 1; }
        cmake --build $b -j "$(nproc)" > "$OUT/build.log" 2>&1 ||
            { echo "build FAILED"; grep -m5 'error' "$OUT/build.log"; }
        labels=${DISTGPU_LABELS:-cuda|multigpu}
        if [ "$labels" != none ]; then
            timeout 200 ctest --test-dir $b -L "$labels" --output-on-failure > "$OUT/ctest.log" 2>&1
            echo "ctest $labels labels: $(grep -E 'tests passed' "$OUT/ctest.log")"
            grep -E '\(Failed|Timeout' "$OUT/ctest.log"
        fi
        timeout 90 ctest --test-dir $b -L mpi -j 16 --output-on-failure > "$OUT/ctest_mpi.log" 2>&1
        echo "ctest mpi label: $(grep -E 'tests passed' "$OUT/ctest_mpi.log")"
        grep -E '\(Failed|Timeout' "$OUT/ctest_mpi.log"
        # (NCCL probes its kernels by API calls that fail: those are not reported)
        ranks="1 2"
        [ "$gpus" -lt 2 ] && ranks=1 && echo "## one GPU: two GPU ranks not run"
        for np in $ranks; do
            for c in fft_against_serial matmul_against_serial; do
                echo "## compute-sanitizer memcheck, the GPU ranks' $c on $np rank(s)"
                timeout 90 mpirun -n $np compute-sanitizer --tool memcheck --leak-check full \
                    --report-api-errors no --error-exitcode 3 $b/tests/test_dist_cuda \
                    $c 2>&1 | grep -E 'SUMMARY|checks|FAILED'
            done
        done
        for n in ${DISTGPU_MATMUL:-16384 32768}; do
            echo "## matmul f32 $n^3: one GPU, then over $np GPU rank(s)"
            timeout 120 $b/hetmath bench matmul --m $n --n $n --k $n --dtype f32 \
                --memory cuda:0 --repeat 5 --warmup 1 --json 2>&1 | tail -1
            HETMATH_LOG_LEVEL=info timeout 150 mpirun -n $np $b/hetmath bench dist-matmul \
                --m $n --n $n --k $n --dtype f32 --memory cuda --repeat 5 --warmup 1 --json \
                2> /tmp/distgpu.err
            grep -E 'distributed matmul on|process grid|rror' /tmp/distgpu.err | cut -c26- |
                sort -u | head -4
        done
        [ "$gpus" -lt 2 ] && echo "## one GPU: the two-GPU cases and FFT rows not run"
        if [ "$gpus" -ge 2 ]; then
            for c in peer_copies split_fft operands_on_two_devices; do
                echo "## compute-sanitizer memcheck test_multigpu $c"
                timeout 60 compute-sanitizer --tool memcheck --leak-check full \
                    --error-exitcode 3 $b/tests/test_multigpu $c 2>&1 | grep -E 'ERROR SUMMARY|checks'
            done
            for t in --transposed ""; do
                echo "## dist-fft 1024^3 c64 over 2 GPU ranks $t"
                HETMATH_LOG_LEVEL=info timeout 120 mpirun -n 2 $b/hetmath bench dist-fft \
                    --shape 1024,1024,1024 --memory cuda $t --repeat 10 --warmup 2 --json \
                    2> /tmp/distgpu.err
                grep -E 'distributed FFT on|reads x|own memory|rror' /tmp/distgpu.err | cut -c26- |
                    sort -u | head -6
            done
            echo "## one GPU, the whole array"
            timeout 120 $b/hetmath bench fft --shape 1024,1024,1024 --memory cuda:0 --repeat 10 \
                --warmup 2 --json 2>&1 | tail -1
            echo "## PyTorch, 2 ranks"
            timeout 150 mpirun -n 2 python3 bench/torch_dist_fft.py 1024 1024 1024 10 2>&1 | tail -2
            big=${DISTGPU_BIG:-2048,2048,2048}
            if [ "$big" != none ]; then
                echo "## dist-fft $big c64 over 2 GPU ranks, left transposed"
                timeout 200 mpirun -n 2 $b/hetmath bench dist-fft --shape $big --memory cuda \
                    --transposed --repeat 3 --warmup 1 --json 2>&1 | tail -3
            fi
        fi
    } > "$OUT/distgpu.log" 2>&1
    grep '^{' "$OUT/distgpu.log" > "$OUT/distgpu.json"
    cat "$OUT/distgpu.log" | tail -40
    exit 0
fi

if [ "${1:-}" = "--dist" ]; then
    unpack_debs
    {
        echo "## runtimes from the carried packages (none: the image's):${extra:- none}"
        cmake -S . -B build-dist $(command -v ninja >/dev/null && echo -G Ninja) \
            -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON \
            -DCMAKE_PREFIX_PATH=$root/usr 2>&1 | grep "hetmath: CUDA"
        cmake --build build-dist -j "$(nproc)" > "$OUT/build.log" 2>&1 || echo "build FAILED"
        ctest --test-dir build-dist -L mpi -j "$(nproc)" 2>&1 | grep -E "tests passed|Failed|Timeout"
        python3 bench/dist_peers.py --bin build-dist --out "$OUT/dist.json" --ranks 2,4 \
            --fft "${DIST_FFT:-512,512,512}" --matmul "${DIST_MATMUL:-4096}" --repeat 3 2>&1 |
            tail -6
    } > "$OUT/dist.log" 2>&1
    note "dist: $(grep -E 'hetmath: CUDA' "$OUT/dist.log" | sed 's/.*hetmath: //')"
    note "dist mpi tests: $(grep -E 'tests passed' "$OUT/dist.log")"
    tail -6 "$OUT/dist.log"
    printf '%s\n' "${summary[@]}"
    exit 0
fi

card=$(nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.current,pcie.link.width.current \
    --format=csv,noheader 2>&1 | head -1)
note "card: $card, $(date -u +%Y-%m-%dT%H:%MZ)"

gen=""
command -v ninja >/dev/null && gen="-G Ninja"
# DLPack's header: the machine has no libdlpack-dev, but its CuPy or PyTorch ships one (PyTorch's
# as ATen/dlpack.h: linked into the build's own include folder as dlpack/dlpack.h)
dlpack=""
pkgs=$(python3 -c "
import os
for m in ('cupy', 'torch'):
    try:
        print(os.path.dirname(__import__(m).__file__))
    except Exception:
        pass" 2>/dev/null)
f=$( (find $pkgs -path '*/dlpack/dlpack.h'; find $pkgs -name dlpack.h) 2>/dev/null | head -1)
if [ -n "$f" ]; then
    mkdir -p "$build-include/dlpack" && ln -sf "$f" "$build-include/dlpack/dlpack.h" &&
        dlpack="-DDLPACK_INCLUDE_DIR=$PWD/$build-include"
fi
if cmake -S . -B $build $gen -DCMAKE_BUILD_TYPE=Release -DHETMATH_WERROR=ON $dlpack \
        -DCMAKE_CUDA_ARCHITECTURES=90 > "$OUT/build.log" 2>&1 &&
   cmake --build $build -j "$(nproc)" >> "$OUT/build.log" 2>&1; then
    note "build: ok ($(grep -o 'CUDA ON, DLPack [A-Z]*' "$OUT/build.log" | head -1 || echo 'CUDA ?')${f:+, DLPack from $f})"
else
    note "build: FAILED (see build.log)"; tail -40 "$OUT/build.log"; printf '%s\n' "${summary[@]}"; exit 1
fi

if [ -n "$auto" ]; then
    cache=$(mktemp -d)
    {
        echo "## test_auto_cuda, test_auto (each in its own cache folder)"
        timeout 300 ctest --test-dir $build -R '^test_auto' --output-on-failure 2>&1 |
            grep -E 'tests passed|Failed|CHECK|error'
        echo "## compute-sanitizer memcheck test_auto_cuda"
        for c in cuda_choices cuda_device_operands; do
            HETMATH_TEST_QUICK=1 XDG_CACHE_HOME=$cache timeout 200 compute-sanitizer \
                --tool memcheck --leak-check full \
                --error-exitcode 3 $build/tests/test_auto_cuda $c 2>&1 | tail -2
        done
        echo "## calibration on first use: measured, written; then read back"
        XDG_CACHE_HOME=$cache $build/hetmath calibrate
        XDG_CACHE_HOME=$cache HETMATH_LOG_LEVEL=info $build/hetmath bench matmul --m 8000 \
            --n 2000 --k 4000 --exec auto --repeat 1 --warmup 0 2>&1 | grep -m1 'execution space'
        XDG_CACHE_HOME=$cache HETMATH_LOG_LEVEL=debug $build/hetmath estimate matmul --m 8000 \
            --n 2000 --k 4000 2>&1 | grep -E 'auto:|execution space|<-' | head -8
        cat $cache/hetmath/calibration
        echo "## estimates measured"
        for args in "matmul --m 8000 --n 2000 --k 4000" "matmul --m 256 --n 256 --k 256" \
            "fft --shape 1048576" "fft --shape 4096" "fft --shape 4096 --memory cuda:0" \
            "matmul --m 1024 --n 1024 --k 1024 --reuse 100"; do
            XDG_CACHE_HOME=$cache $build/hetmath estimate $args --measure 2>&1
        done
        echo "## DLPack 1.0: the C bridge, and CuPy -> hetmath -> PyTorch on the card"
        timeout 120 ctest --test-dir $build -R '^test_dlpack' --output-on-failure 2>&1 |
            grep -E 'tests passed|Failed|CHECK|skipped|checks passed|Error'
        python3 tests/test_dlpack_python.py $build/libhetmath.so 2>&1 | tail -3
        echo "## small calls on device operands: raw cuFFT/cuBLASLt, then hetmath by --call"
        $build/raw_calls
        for c in stateless plan unchecked; do
            $build/hetmath bench fft --shape 1024 --memory cuda:0 --call $c --repeat 200 \
                --warmup 20 --json | python3 -c "import json,sys; r=json.load(sys.stdin); print('fft c64 1024 $c', r['median_s'])"
            $build/hetmath bench matmul --m 64 --n 64 --k 64 --memory cuda:0 --call $c \
                --repeat 200 --warmup 20 --json | python3 -c "import json,sys; r=json.load(sys.stdin); print('matmul f32 64^3 $c', r['median_s'])"
        done
    } > "$OUT/auto.log" 2>&1
    note "auto tests: $(grep -m1 'tests passed' "$OUT/auto.log"); sanitizer: $(grep -c 'ERROR SUMMARY: 0 errors' "$OUT/auto.log") of 2 clean"
    note "$(grep -m1 'measured the CPU' "$OUT/auto.log")"
    XDG_CACHE_HOME=$cache timeout 400 $build/hetmath bench auto --json > "$OUT/auto.json" 2>> "$OUT/auto.log"
    note "auto suite: exit $?, $(grep -c '"case"' "$OUT/auto.json") cases"
    python3 - "$OUT/auto.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for r in rows:
    if "summary" in r:
        print("summary:", {k: v for k, v in r.items() if k != "summary"})
    else:
        print(f"{r['case']:<40} cpu {r['cpu_s']*1e3:10.4g} gpu {r['gpu_s']*1e3:10.4g} "
              f"auto {r['auto_s']*1e3:10.4g} ms  {r['chose']:<7} model {r['model_chosen_s']*1e3:9.4g} "
              f"auto/best {r['auto_over_best']:.3f}")
PY
    echo
    printf '%s\n' "${summary[@]}"
    exit 0
fi

if [ -n "$outofcore" ]; then
    timeout 120 $build/tests/test_outofcore > "$OUT/ctest.log" 2>&1
    note "test_outofcore: $(tail -1 "$OUT/ctest.log") (exit $?)"
    {
        for mem in pinned host; do
            echo "## f32 32768^3, memory $mem, budget 2G: the schedule"
            HETMATH_LOG_LEVEL=info timeout 120 $build/hetmath bench matmul --m 32768 --n 32768 \
                --k 32768 --memory $mem --advanced --device-memory-limit 2G --repeat 1 \
                --warmup 0 --pipeline-timing tiles 2>&1 |
                grep -E 'device memory budget|pipelined|planned on|^matmul' | head -12
        done
        echo "## fft c64 512^3, memory pinned, budget 256M: two passes"
        HETMATH_LOG_LEVEL=info timeout 60 $build/hetmath bench fft --shape 512,512,512 \
            --memory pinned --exec cuda:0 --device-memory-limit 256M --repeat 1 --warmup 0 \
            --pipeline-timing tiles 2>&1 |
            grep -E 'device memory budget|passes|pass [12]|pipelined|^fft' | head -14
        echo "## f32 32768^3, memory pinned + C (beta 1), budget 2G: C's tiles into D's ring"
        HETMATH_LOG_LEVEL=info timeout 120 $build/hetmath bench matmul --m 32768 --n 32768 \
            --k 32768 --memory pinned --advanced --device-memory-limit 2G --beta 1 --repeat 1 \
            --warmup 0 2>&1 | grep -E 'device memory budget|pipelined|planned on|^matmul' | head -8
        echo "## notebook, memory pinned, budget a sixth: every tile's timeline (the last call)"
        HETMATH_LOG_LEVEL=debug timeout 60 $build/hetmath bench matmul --m 8000 --n 2000 \
            --k 4000 --memory pinned --advanced --device-memory-limit 37333333 --repeat 1 \
            --warmup 0 --pipeline-timing tiles 2>&1 |
            grep -E 'device memory budget|pipelined|planned on| tile [0-9]+: in|^matmul' | tail -90
        echo "## notebook, memory host, budget a sixth of its operands (37.3 MB)"
        HETMATH_LOG_LEVEL=info timeout 60 $build/hetmath bench matmul --m 8000 --n 2000 \
            --k 4000 --memory host --advanced --device-memory-limit 37333333 --repeat 3 \
            --warmup 1 2>&1 | grep -E 'device memory budget|pipelined|^matmul' | head -8
    } > "$OUT/diagnostics.txt" 2>&1
    # A product larger than the card (D of 160 GB) where the host has the memory (the x2 machine's
    # 256 GiB): one device, then the set of two; BIG=0 leaves it out.
    host_gib=$(awk '/MemTotal/ {print int($2 / 1048576)}' /proc/meminfo)
    if [ "${BIG:-1}" = 1 ] && [ "$host_gib" -ge 200 ]; then
        for devs in 1 $([ "$gpus" -ge 2 ] && echo 2); do
            echo "## big_product 200000 200000 4096 on $devs device(s), pageable"
            HETMATH_LOG_LEVEL=info timeout 240 $build/big_product 200000 200000 4096 $devs 2>&1 |
                grep -E 'device memory budget|pipelined|^\{|big_product' | head -6
        done >> "$OUT/diagnostics.txt" 2>&1
        note "big product: $(grep -c '"ok": true' "$OUT/diagnostics.txt") run(s) correct on sampled tiles"
    fi
    PYTHONUNBUFFERED=1 timeout 400 python3 bench/peers.py --bin $build/hetmath --outofcore \
        --out "$OUT/peers.json" > "$OUT/peers.log" 2>&1 && note "peers --outofcore: ok" ||
        note "peers --outofcore: FAILED or cut short (see peers.log)"
    tail -12 "$OUT/peers.log"
    echo
    printf '%s\n' "${summary[@]}"
    exit 0
fi

if [ -n "$multigpu" ]; then
    # Within the tool's 10 minutes: the tests, the peer rows, the diagnostics, then
    # compute-sanitizer on the copy and split cases, each step bounded.
    timeout 200 ctest --test-dir $build -L multigpu --output-on-failure > "$OUT/ctest.log" 2>&1
    note "ctest multigpu label ($gpus GPUs): $(grep -E 'tests passed' "$OUT/ctest.log") (exit $?)"
    grep -E 'skipped|FAILED|Failed' "$OUT/ctest.log" | head -8
    timeout 200 ctest --test-dir $build -L cuda --output-on-failure >> "$OUT/ctest.log" 2>&1
    note "ctest cuda label: $(grep -E 'tests passed' "$OUT/ctest.log" | tail -1)"
    PYTHONUNBUFFERED=1 timeout 240 python3 bench/peers.py --bin $build/hetmath --multigpu \
        --out "$OUT/peers.json" > "$OUT/peers.log" 2>&1 && note "peers --multigpu: ok" ||
        note "peers --multigpu: FAILED or cut short (see peers.log)"
    {
        for layout in "" --transpose; do
            echo "## copy 256M cuda:0 -> cuda:1 $layout"
            HETMATH_LOG_LEVEL=info timeout 30 $build/hetmath bench copy --bytes 256M \
                --from cuda:0 --to cuda:1 $layout --repeat 10 --warmup 2 2>&1 |
                grep -E 'cuda:1:|transfer #1 |^copy'
        done
        echo "## fft c64 4096x4096 (axis 1), memory pinned, exec cuda:0,1 and cuda:0"
        for ex in cuda:0,1 cuda:0; do
            HETMATH_LOG_LEVEL=info timeout 30 $build/hetmath bench fft --shape 4096,4096 \
                --axes 1 --memory pinned --exec $ex --repeat 5 --warmup 1 2>&1 |
                grep -E 'divided|planned on|pipelined|^fft' | head -8
        done
        for mem in pinned host; do
            echo "## notebook, memory $mem, exec cuda:0,1"
            HETMATH_LOG_LEVEL=info timeout 30 $build/hetmath bench matmul --m 8000 --n 2000 \
                --k 4000 --memory $mem --advanced --exec cuda:0,1 --repeat 5 --warmup 1 2>&1 |
                grep -E 'device set|planned on|pipelined|transfer #[0-9] |^matmul' | head -14
        done
    } > "$OUT/diagnostics.txt" 2>&1
    : > "$OUT/sanitizer.log"
    for c in peer_copies staged_copies operands_on_two_devices split_matmul split_fft; do
        echo "### compute-sanitizer memcheck test_multigpu $c" >> "$OUT/sanitizer.log"
        timeout 60 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 3 \
            $build/tests/test_multigpu $c >> "$OUT/sanitizer.log" 2>&1
        echo "exit $?" >> "$OUT/sanitizer.log"
    done
    for tool in memcheck racecheck; do # the tiled transpose kernel's shared memory too
        echo "### compute-sanitizer $tool test_transfer_cuda" >> "$OUT/sanitizer.log"
        timeout 90 compute-sanitizer --tool $tool --error-exitcode 3 \
            $build/tests/test_transfer_cuda >> "$OUT/sanitizer.log" 2>&1
        echo "exit $?" >> "$OUT/sanitizer.log"
    done
    note "compute-sanitizer: $(grep -cE '(ERROR SUMMARY: 0 errors|RACECHECK SUMMARY: 0 hazards)' "$OUT/sanitizer.log") of 7 runs clean (5 test_multigpu cases, test_transfer_cuda memcheck and racecheck)"
    echo
    tail -14 "$OUT/peers.log"
    echo
    printf '%s\n' "${summary[@]}"
    exit 0
fi

if [ -z "$bench_only" ]; then
ctest --test-dir $build --output-on-failure > "$OUT/ctest.log" 2>&1
rc=$?
note "ctest: $(grep -E 'tests passed' "$OUT/ctest.log" || echo 'no summary') (exit $rc)"
note "ctest cuda label: $(ctest --test-dir $build -L cuda 2>&1 | grep -E 'tests passed')"
note "ctest multigpu label ($gpus GPUs): $(ctest --test-dir $build -L multigpu 2>&1 | grep -E 'tests passed')"
grep -E '^device 0:' -r $build/Testing/Temporary/LastTest.log | head -1 | sed 's/^/   /'

san_fail=0
: > "$OUT/sanitizer.log"
multi=""
[ "$gpus" -ge 2 ] && multi=$build/tests/test_multigpu
for t in $build/tests/test_transfer_cuda $build/tests/test_fft_cuda $build/tests/test_matmul_cuda \
    $build/tests/test_outofcore $build/tests/test_faults_cuda $build/tests/test_concurrency_cuda \
    $build/tests/test_streams $build/tests/test_allocator $multi; do
    for tool in memcheck racecheck; do
        # racecheck looks at shared-memory hazards: our kernels are in the transfer and FFT
        # tests; cuBLASLt's are not ours to check.
        case "$(basename $t)" in
        test_matmul_cuda | test_outofcore | test_faults_cuda | test_concurrency_cuda | test_multigpu | \
            test_streams | test_allocator)
            [ "$tool" = racecheck ] && continue ;;
        esac
        echo "### compute-sanitizer --tool $tool $t" >> "$OUT/sanitizer.log"
        extra=""
        [ "$tool" = memcheck ] && extra="--leak-check full"
        HETMATH_TEST_QUICK=1 timeout 300 compute-sanitizer --tool $tool $extra --error-exitcode 3 \
            "$t" >> "$OUT/sanitizer.log" 2>&1 || san_fail=$((san_fail + 1))
    done
done
note "compute-sanitizer: $([ $san_fail -eq 0 ] && echo clean || echo "$san_fail run(s) reported errors") \
($(grep -cE '(ERROR SUMMARY: 0 errors|RACECHECK SUMMARY: 0 hazards)' "$OUT/sanitizer.log") of \
$(grep -cE '(ERROR|RACECHECK) SUMMARY' "$OUT/sanitizer.log") runs clean)"

{ $build/hetmath demo && $build/hetmath info && $build/hetmath estimate-transfer --size notebook; } \
    > "$OUT/checks.txt" 2>&1 && note "demo, info, estimate-transfer: ok" ||
    note "demo, info, estimate-transfer: FAILED"
{
    echo "## the injected-failure walks (points at each site)"
    $build/tests/test_faults_cuda 2>&1 | grep -E "alloc|points|checks"
    $build/tests/test_faults 2>&1 | grep -E "alloc|checks"
    echo "## what a run of the command costs before any work (wall seconds, peak RSS)"
    for args in "--help" "fft --help" "info"; do
        python3 bench/coldstart.py $build/hetmath $args
    done
} >> "$OUT/checks.txt" 2>&1
fi

# Diagnostics: where the time of a pipelined host-operand matmul goes (the tiles, the log's
# overlap line), and what autotuning measures against the heuristic's choice.
if [ -n "$tests_only" ]; then
    printf '%s\n' "${summary[@]}"
    exit 0
fi
if [ -n "$bench_only" ] && ! ls $build/hetmath >/dev/null 2>&1; then
    note "no build: run --tests first"; exit 1
fi

{
    for mem in pinned host; do
        for timing in none tiles; do
            echo "## notebook, memory $mem, --pipeline-timing $timing"
            HETMATH_LOG_LEVEL=info $build/hetmath bench matmul --pipeline-timing $timing \
                --m 8000 --n 2000 --k 4000 --memory $mem --advanced --repeat 5 --warmup 1 2>&1 |
                grep -E 'pipelined|transfer #|matmul f32' | tail -5
        done
    done
    # the pipeline's schedule: what the measured model saw and chose, and the fixed one's time
    for mem in pinned host; do
        for tiles in measured fixed; do
            echo "## notebook, memory $mem, --tiles $tiles"
            HETMATH_LOG_LEVEL=info $build/hetmath bench matmul --m 8000 --n 2000 --k 4000 \
                --memory $mem --advanced --tiles $tiles --repeat 5 --warmup 1 2>&1 |
                grep -E 'link of|model measured|candidate schedules|row tiles of|^matmul f32' |
                head -6
        done
    done
    for tiles in measured fixed; do
        echo "## fft c64 4096x4096 (axis 1), memory host, exec cuda:0, --tiles $tiles"
        HETMATH_LOG_LEVEL=info $build/hetmath bench fft --shape 4096,4096 --axes 1 \
            --memory host --exec cuda:0 --tiles $tiles --repeat 5 --warmup 1 2>&1 |
            grep -E 'link of|model measured|candidate schedules|chunks of|^fft' | head -6
    done
    echo "## notebook, memory host, a plan that registers its operands (--register)"
    HETMATH_LOG_LEVEL=info $build/hetmath bench matmul --m 8000 --n 2000 --k 4000 --memory host \
        --advanced --register --repeat 5 --warmup 1 2>&1 |
        grep -E 'registered|pipelined|matmul f32' | head -4
    for tune in 1 8; do
        echo "## tf32 8192^3, --autotune $tune"
        HETMATH_LOG_LEVEL=info $build/hetmath bench matmul --m 8192 --n 8192 --k 8192 \
            --memory cuda:0 --advanced --tf32 --autotune $tune --repeat 10 --warmup 2 2>&1 |
            grep -E 'autotune|algorithm|^matmul' | tail -12
    done
    for shape in 10000 1048576 16777216 4096,4096; do
        axes=""
        [ "$shape" = 4096,4096 ] && axes="--axes 1"
        for how in "" --measure; do
            echo "## fft c64 $shape, memory host, ${how:-default}: what the CPU planner took"
            XDG_CACHE_HOME=$(mktemp -d) HETMATH_LOG_LEVEL=info $build/hetmath bench fft \
                --shape $shape $axes --memory host $how --repeat 10 --warmup 2 2>&1 |
                grep -E 'FFTW:|execution space|^fft' | head -5
        done
    done
} > "$OUT/diagnostics.txt"

PYTHONUNBUFFERED=1 python3 bench/peers.py --bin $build/hetmath --out "$OUT/peers.json" $quick \
    > "$OUT/peers.log" 2>&1 && note "peers: ok" || note "peers: FAILED (see peers.log)"

echo
tail -50 "$OUT/peers.log"
echo
printf '%s\n' "${summary[@]}"
