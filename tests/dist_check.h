/* What the MPI test programs share (test_dist.c, test_dist_cuda.c): their main(), every rank's
 * verdict combined, and elements of any dtype read and written as complex doubles. */
#ifndef HETMATH_TESTS_DIST_CHECK_H
#define HETMATH_TESTS_DIST_CHECK_H

#include <complex.h>
#include <mpi.h>

#include "check.h"

/* main() of an MPI test program: MPI started, *rank and *size set, the cases run (or the one
 * named), and the run failed when any rank failed. */
static inline int hm_mpi_test_main(int argc, char **argv, const char *program,
                                   const hm_test_case *cases, int count, int *rank, int *size)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    int rc = hm_test_main(argc, argv, program, cases, count);
    int worst = 0; /* every rank's verdict: one failing rank fails the run */
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}

/* Element at offset `at` (in elements) of data of dtype dt, as a complex double. */
static inline double complex get(const void *data, hm_dtype dt, int64_t at)
{
    switch (dt) {
    case HM_DTYPE_F32:
        return ((const float *)data)[at];
    case HM_DTYPE_F64:
        return ((const double *)data)[at];
    case HM_DTYPE_C64:
        return ((const float *)data)[2 * at] + I * ((const float *)data)[2 * at + 1];
    default:
        return ((const double *)data)[2 * at] + I * ((const double *)data)[2 * at + 1];
    }
}

static inline void set(void *data, hm_dtype dt, int64_t at, double complex v)
{
    switch (dt) {
    case HM_DTYPE_F32:
        ((float *)data)[at] = (float)creal(v);
        break;
    case HM_DTYPE_F64:
        ((double *)data)[at] = creal(v);
        break;
    case HM_DTYPE_C64:
        ((float *)data)[2 * at] = (float)creal(v);
        ((float *)data)[2 * at + 1] = (float)cimag(v);
        break;
    default:
        ((double *)data)[2 * at] = creal(v);
        ((double *)data)[2 * at + 1] = cimag(v);
        break;
    }
}

#endif
