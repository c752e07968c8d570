/**
 * @file hetmath.h
 * @brief hetmath: matrix multiply and FFT over operands in host or GPU memory, with the memory
 * space and the execution space explicit and every host<->device copy measured and reported.
 *
 * Include this header only. It compiles as C11 and as C++. Separate: the DLPack bridge,
 * hetmath/dlpack.h (needs dlpack/dlpack.h); the testing hooks, hetmath/debug.h; the distributed
 * layer, hetmath/dist.h and hetmath/mpi.h (built with MPI).
 */
#ifndef HETMATH_H
#define HETMATH_H

#include "hetmath/version.h"
#include "hetmath/status.h"
#include "hetmath/core.h"
#include "hetmath/transfer.h"
#include "hetmath/fft.h"
#include "hetmath/matmul.h"
#include "hetmath/bench.h"
#include "hetmath/cpu.h"

#endif
