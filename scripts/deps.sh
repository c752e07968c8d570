#!/usr/bin/env bash
# Installs what the build and the tests need on Debian/Ubuntu (apt-get, as root or through sudo), unless it
# is already there. The CUDA toolkit is optional and not installed here.
set -euo pipefail
pkgs="build-essential cmake pkg-config libfftw3-dev libopenblas-dev libdlpack-dev python3-numpy
      libopenmpi-dev openmpi-bin libfftw3-mpi-dev libscalapack-openmpi-dev"
missing=""
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# libdlpack-dev is optional (older releases lack it): install the rest if it is missing.
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    $sudo apt-get install -y -qq --no-install-recommends ${missing/libdlpack-dev/} >/dev/null
