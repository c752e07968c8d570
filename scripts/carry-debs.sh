#!/usr/bin/env bash
# Downloads, from this machine's Debian archive, the packages `scripts/gpu-check.sh --dist`
# unpacks on a lent machine whose image lacks them (FFTW-MPI, ScaLAPACK for Open MPI, and the
# BLAS, LAPACK and gfortran runtimes ScaLAPACK needs, used there only where the image has none),
# into carry-debs/ (ignored by git: pass it to the device tool's carry).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p carry-debs
cd carry-debs
apt-get download libfftw3-mpi3 libfftw3-mpi-dev libscalapack-openmpi2.2 libscalapack-openmpi-dev \
    libblas3 liblapack3 libgfortran5
ls -l
