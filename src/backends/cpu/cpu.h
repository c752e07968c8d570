/* The CPU backend's internal interface. */
#ifndef HETMATH_BACKENDS_CPU_H
#define HETMATH_BACKENDS_CPU_H

#include "core/backend.h"

extern const hm_op_backend hm__cpu_fft;
extern const hm_op_backend hm__cpu_matmul;

/* Library version strings (cpu_fftw.c, cpu_matmul.c). */
void hm__cpu_fft_version(char *buf, size_t size);
void hm__cpu_blas_version(char *buf, size_t size);

#endif
