/* The distributed peers called directly, under mpirun, for bench/dist_peers.py: FFTW-MPI's 3-D
 * c2c transform in place on its own slabs, and ScaLAPACK's pdgemm on a block-cyclic
 * distribution. Rank 0 prints one JSON object: the slowest rank's median over the repeats.
 *   mpirun -n P raw_mpi fft N0 N1 N2 REPEAT [transposed] [measure]   (the output left
 *       transposed: the first two axes swapped; FFTW_MEASURE's plan instead of FFTW_ESTIMATE's)
 *   mpirun -n P raw_mpi matmul M N K REPEAT NB      (NB 0: one block a rank, as hetmath)
 * FFTW-MPI plans with as many threads as the rank may run on (its CPU affinity), hetmath's rule,
 * so that both sides of a row use the same cores; the BLAS under pdgemm takes its own setting
 * (OPENBLAS_NUM_THREADS, which dist_peers.py sets for both sides). */
#define _GNU_SOURCE
#include <fftw3-mpi.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int Csys2blacs_handle(MPI_Comm comm);
void Cblacs_gridinit(int *context, const char *order, int rows, int cols);
void Cblacs_gridinfo(int context, int *rows, int *cols, int *row, int *col);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *row_src, const int *col_src, const int *context, const int *lld,
               int *info);
void pdgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const double *alpha, const void *a, const int *ia, const int *ja, const int *desca,
             const void *b, const int *ib, const int *jb, const int *descb, const double *beta,
             void *c, const int *ic, const int *jc, const int *descc);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The slowest rank's time of each round, their median. */
static double median_of(double *t, int n)
{
    for (int i = 0; i < n; i++) {
        double worst;
        MPI_Allreduce(&t[i], &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        t[i] = worst;
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    return t[n / 2];
}

/* The CPUs this rank may run on. */
static int cpu_count(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

static double run_fft(ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t n2, int repeat, int transposed,
                      int measure)
{
    ptrdiff_t local_n0, start, local_n1, start1;
    ptrdiff_t alloc = fftwf_mpi_local_size_3d_transposed(n0, n1, n2, MPI_COMM_WORLD, &local_n0,
                                                         &start, &local_n1, &start1);
    fftwf_complex *buf = fftwf_alloc_complex((size_t)alloc);
    fftwf_plan p = fftwf_mpi_plan_dft_3d(n0, n1, n2, buf, buf, MPI_COMM_WORLD, FFTW_FORWARD,
                                         (measure ? FFTW_MEASURE : FFTW_ESTIMATE) |
                                             (transposed ? FFTW_MPI_TRANSPOSED_OUT : 0));
    for (ptrdiff_t i = 0; i < 2 * alloc; i++)
        ((float *)buf)[i] = (float)((i * 2654435761u) % 1000u) / 1000.0f - 0.5f;
    double *t = calloc((size_t)repeat, sizeof *t);
    fftwf_execute(p); /* warm-up */
    for (int r = 0; r < repeat; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        fftwf_execute(p);
        t[r] = MPI_Wtime() - t0;
    }
    double m = median_of(t, repeat);
    free(t);
    fftwf_destroy_plan(p);
    fftwf_free(buf);
    return m;
}

static double run_matmul(int m, int n, int k, int repeat, int nb)
{
    int size, rows = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int r = 1; r * r <= size; r++)
        if (size % r == 0)
            rows = r;
    int cols = size / rows, ctx = Csys2blacs_handle(MPI_COMM_WORLD), myr, myc, zero = 0, info;
    Cblacs_gridinit(&ctx, "Row", rows, cols);
    Cblacs_gridinfo(ctx, &rows, &cols, &myr, &myc);
    const int dims[3][2] = {{m, k}, {k, n}, {m, n}};
    int desc[3][9];
    double *mat[3];
    for (int i = 0; i < 3; i++) {
        int mb = nb > 0 ? nb : (dims[i][0] + rows - 1) / rows;
        int cb = nb > 0 ? nb : (dims[i][1] + cols - 1) / cols;
        int lr = numroc_(&dims[i][0], &mb, &myr, &zero, &rows);
        int lc = numroc_(&dims[i][1], &cb, &myc, &zero, &cols);
        int ld = lr > 1 ? lr : 1;
        descinit_(desc[i], &dims[i][0], &dims[i][1], &mb, &cb, &zero, &zero, &ctx, &ld, &info);
        mat[i] = calloc((size_t)ld * (size_t)(lc > 1 ? lc : 1), sizeof(double));
    }
    const double one = 1, nothing = 0;
    const int i1 = 1;
    double *t = calloc((size_t)repeat, sizeof *t);
    pdgemm_("N", "N", &m, &n, &k, &one, mat[0], &i1, &i1, desc[0], mat[1], &i1, &i1, desc[1],
            &nothing, mat[2], &i1, &i1, desc[2]);
    for (int r = 0; r < repeat; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        pdgemm_("N", "N", &m, &n, &k, &one, mat[0], &i1, &i1, desc[0], mat[1], &i1, &i1, desc[1],
                &nothing, mat[2], &i1, &i1, desc[2]);
        t[r] = MPI_Wtime() - t0;
    }
    double med = median_of(t, repeat);
    free(t);
    for (int i = 0; i < 3; i++)
        free(mat[i]);
    return med;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    fftwf_init_threads();
    fftwf_mpi_init();
    fftwf_plan_with_nthreads(cpu_count());
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double t = -1;
    int transposed = 0, measure = 0, known = 1;
    for (int i = 6; i < argc; i++) {
        transposed |= strcmp(argv[i], "transposed") == 0;
        measure |= strcmp(argv[i], "measure") == 0;
        known &= strcmp(argv[i], "transposed") == 0 || strcmp(argv[i], "measure") == 0;
    }
    if (argc >= 6 && argc <= 8 && known && strcmp(argv[1], "fft") == 0)
        t = run_fft(atol(argv[2]), atol(argv[3]), atol(argv[4]), atoi(argv[5]), transposed,
                    measure);
    else if (argc == 7 && strcmp(argv[1], "matmul") == 0)
        t = run_matmul(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    if (rank == 0) {
        if (t < 0)
            fprintf(stderr, "usage: raw_mpi fft N0 N1 N2 REPEAT [transposed] [measure] | matmul M "
                            "N K REPEAT NB\n");
        else
            printf("{\"median_s\": %.9g}\n", t);
    }
    MPI_Finalize();
    return t < 0;
}
