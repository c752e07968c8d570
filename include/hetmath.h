/**
 * @file hetmath.h
 * @brief hetmath: matrix multiply and FFT over operands in host or GPU memory, with the memory
 * space and the execution space explicit and every host<->device copy measured and reported.
 *
 * Include this header only. It compiles as C11 and as C++. The DLPack bridge is separate:
 * hetmath/dlpack.h (needs dlpack/dlpack.h).
 */
#ifndef HETMATH_H
#define HETMATH_H

#include "hetmath/status.h"
#include "hetmath/core.h"
#include "hetmath/transfer.h"
#include "hetmath/fft.h"
#include "hetmath/matmul.h"
#include "hetmath/bench.h"
#include "hetmath/cpu.h"

#endif
