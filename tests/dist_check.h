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

/* Element (i, j) of operand `which` (0: A, 1: B, 2: C) of a product a test defines. */
typedef double complex (*hm_test_mat_value)(const void *user, int which, int64_t i, int64_t j);

/* A block of D, host data of dtype dt (shape, element strides) at global offset off, against
 * alpha·A·B + beta·C over k in double precision (the real parts for real dtypes), relative to
 * the magnitude of the terms: the worst element. */
static inline double hm_test_matmul_error(const void *d, hm_dtype dt, const int64_t *shape,
                                          const int64_t *strides, const int64_t *off, int64_t k,
                                          double alpha, double beta, hm_test_mat_value value,
                                          const void *user)
{
    int cx = dt == HM_DTYPE_C64 || dt == HM_DTYPE_C128;
    double worst = 0;
    for (int64_t i = 0; i < shape[0]; i++)
        for (int64_t j = 0; j < shape[1]; j++) {
            int64_t gi = i + off[0], gj = j + off[1];
            double complex sum = 0, c = value(user, 2, gi, gj);
            double mag = 0;
            for (int64_t q = 0; q < k; q++) {
                double complex a = value(user, 0, gi, q), b = value(user, 1, q, gj);
                if (!cx) {
                    a = creal(a);
                    b = creal(b);
                }
                sum += a * b;
                mag += cabs(a * b);
            }
            double complex want = alpha * sum + beta * (cx ? c : creal(c));
            double complex got = get(d, dt, i * strides[0] + j * strides[1]);
            worst =
                fmax(worst, cabs(got - want) / (fabs(alpha) * mag + fabs(beta) * cabs(c) + 1e-300));
        }
    return worst;
}

#endif
