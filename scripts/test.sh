#!/usr/bin/env bash
# Builds hetmath (with CUDA when the toolkit is found) and runs every test. Tests that need a GPU
# report "skipped" on a machine without one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DHETMATH_WERROR=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
