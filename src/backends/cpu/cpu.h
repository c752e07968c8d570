/* The CPU backend's internal interface. */
#ifndef HETMATH_BACKENDS_CPU_H
#define HETMATH_BACKENDS_CPU_H

#include "core/backend.h"

extern const hm_op_backend hm__cpu_fft;
extern const hm_op_backend hm__cpu_matmul;
#ifdef HETMATH_HAVE_MPI
extern const hm_op_backend hm__cpu_dist_fft; /* FFTW-MPI (cpu_fft_mpi.c) */
#define HM_CPU_DIST_FFT (&hm__cpu_dist_fft)
#else
#define HM_CPU_DIST_FFT NULL
#endif
#ifdef HETMATH_HAVE_SCALAPACK
extern const hm_op_backend hm__cpu_dist_matmul; /* ScaLAPACK (cpu_matmul_mpi.c) */
#define HM_CPU_DIST_MATMUL (&hm__cpu_dist_matmul)
#else
#define HM_CPU_DIST_MATMUL NULL
#endif

/* Library version strings (cpu_fftw.c, cpu_matmul.c). */
void hm__cpu_fft_version(char *buf, size_t size);
void hm__cpu_blas_version(char *buf, size_t size);

#endif
