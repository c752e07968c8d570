/**
 * @file hetmath/mpi.h
 * @brief Communicators made from MPI communicators (installed when hetmath is built with MPI).
 *
 * The caller initialises MPI (MPI_Init or MPI_Init_thread) before making a communicator and
 * finalises it after destroying the last one; hetmath never calls MPI_Init or MPI_Finalize.
 */
#ifndef HETMATH_MPI_H
#define HETMATH_MPI_H

#include <mpi.h>

#include "hetmath/dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Makes a communicator over the processes of @p comm. Collective over @p comm. hetmath works on
 * its own duplicate (MPI_Comm_dup), whose errors are returned rather than fatal, so its traffic
 * never mixes with the caller's; @p comm may be freed after this returns.
 * @retval HM_STATUS_SUCCESS
 * @retval HM_STATUS_INVALID_ARGUMENT  NULL @p ctx or @p out, MPI_COMM_NULL, or MPI not initialised
 * @retval HM_STATUS_MPI_ERROR         MPI_Comm_dup failed
 * @retval HM_STATUS_OUT_OF_HOST_MEMORY
 */
HM_API hm_status hm_comm_create_mpi(hm_context *ctx, MPI_Comm comm, hm_comm **out);

/** The communicator's MPI duplicate (MPI_COMM_NULL for NULL), for the caller's own calls that
 *  must match hetmath's ranks. */
HM_API MPI_Comm hm_comm_mpi(const hm_comm *comm);

#ifdef __cplusplus
}
#endif

#endif
