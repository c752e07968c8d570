#!/usr/bin/env bash
# Installs the dependencies, builds hetmath and runs `hetmath demo` (the README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/hetmath demo "$@"
