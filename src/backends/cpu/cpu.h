/* The CPU backend's internal interface. */
#ifndef HETMATH_CPU_H
#define HETMATH_CPU_H

#include "core/backend.h"

extern const struct hm_fft_backend hm__cpu_fft;
extern const struct hm_matmul_backend hm__cpu_matmul;

/* Library version strings (cpu_fft.c, cpu_matmul.c). */
void hm__cpu_fft_version(char *buf, size_t size);
void hm__cpu_blas_version(char *buf, size_t size);

/* Element-wise strided copy on the host (any strides, same shape). Never fails. */
hm_status hm__cpu_copy_strided(void *dst, const int64_t *dst_strides, const void *src,
                               const int64_t *src_strides, const int64_t *shape, int ndim,
                               size_t elem_size);

#endif
