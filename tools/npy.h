/* Reading and writing NumPy's .npy files (format versions 1.0 to 3.0), for the hetmath
 * command. Little-endian f2, f4, f8, c8, c16 in C or Fortran order. */
#ifndef HETMATH_TOOLS_NPY_H
#define HETMATH_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "hetmath.h"

typedef struct npy_array {
    hm_dtype dtype;
    int ndim;
    int64_t shape[HM_MAX_NDIM];
    int fortran_order;
    void *data; /* malloc'ed, nbytes long */
    size_t nbytes;
} npy_array;

/* Parses a whole .npy image in memory. On failure returns 0 and writes the reason into why. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *why, size_t why_size);

/* Reads a file (npy_parse on its contents). */
int npy_read(const char *path, npy_array *out, char *why, size_t why_size);

/* Whether a result can be written at path: its folder exists and is writable, it is not a
 * folder. Checked before computing; on failure the reason goes into why. */
int npy_check_writable(const char *path, char *why, size_t why_size);

/* Writes a C-order array of `dtype` and `shape` from `data`. A regular file (or a new one) is
 * written beside the target and renamed over it once complete: on any failure the target is as
 * it was and nothing is left behind. A device or pipe is written in place. Failures give the
 * system's reason. */
int npy_write(const char *path, hm_dtype dtype, int ndim, const int64_t *shape, const void *data,
              char *why, size_t why_size);

/* A host view of the array in its own order (strides for Fortran order). */
hm_tensor npy_tensor(const npy_array *a);

void npy_free(npy_array *a);

#endif
