/* The distributed matmul of CPU ranks: ScaLAPACK's p?gemm on a block distribution over a
 * process grid (one block a rank: block-cyclic with blocks of ceil(size/grid)). Each rank's
 * blocks are row-major, as hetmath's operands usually are: a row-major block of A is a
 * column-major block of Aᵀ, so ScaLAPACK computes Dᵀ = Bᵀ·Aᵀ on them, over the transposed grid
 * (grid_cols rows by grid_rows columns, the ranks in column order, so that every rank keeps its
 * blocks), and nothing is transposed in memory. The grid's making and the product are collective
 * over the descriptor's communicator. Built with MPI and ScaLAPACK only. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "core/dist_matmul_backend.h"

/* ScaLAPACK and its BLACS have no C header of their own in Debian: their C and Fortran entry
 * points as the library exports them (ints are Fortran INTEGERs, 32-bit). */
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int *context, const char *order, int rows, int cols);
void Cblacs_gridexit(int context);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *row_src, const int *col_src, const int *context, const int *lld,
               int *info);
void psgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const float *alpha, const void *a, const int *ia, const int *ja, const int *desca,
             const void *b, const int *ib, const int *jb, const int *descb, const float *beta,
             void *c, const int *ic, const int *jc, const int *descc);
void pdgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const double *alpha, const void *a, const int *ia, const int *ja, const int *desca,
             const void *b, const int *ib, const int *jb, const int *descb, const double *beta,
             void *c, const int *ic, const int *jc, const int *descc);
void pcgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const float *alpha, const void *a, const int *ia, const int *ja, const int *desca,
             const void *b, const int *ib, const int *jb, const int *descb, const float *beta,
             void *c, const int *ic, const int *jc, const int *descc);
void pzgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const double *alpha, const void *a, const int *ia, const int *ja, const int *desca,
             const void *b, const int *ib, const int *jb, const int *descb, const double *beta,
             void *c, const int *ic, const int *jc, const int *descc);

/* BLACS gives one system handle per MPI communicator, the same to every plan over it, and
 * frees it once: plans count their uses of a handle, and the last one frees it. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int handle, uses;
} handles[64];

static int handle_take(MPI_Comm comm)
{
    pthread_mutex_lock(&handles_lock);
    int h = Csys2blacs_handle(comm), free_slot = -1, i = 0;
    for (; i < 64 && !(handles[i].uses > 0 && handles[i].handle == h); i++)
        if (free_slot < 0 && handles[i].uses == 0)
            free_slot = i;
    if (i < 64)
        handles[i].uses++;
    else if (free_slot >= 0)
        handles[free_slot].handle = h, handles[free_slot].uses = 1;
    pthread_mutex_unlock(&handles_lock);
    return h;
}

static void handle_give(int h)
{
    pthread_mutex_lock(&handles_lock);
    for (int i = 0; i < 64; i++)
        if (handles[i].uses > 0 && handles[i].handle == h) {
            if (--handles[i].uses == 0)
                Cfree_blacs_system_handle(h);
            break;
        }
    pthread_mutex_unlock(&handles_lock);
}

/* The three matrices' rows and columns. */
static void dims(const hm_dist_matmul_desc *d, int64_t rows[3], int64_t cols[3])
{
    rows[0] = d->m, cols[0] = d->k; /* A */
    rows[1] = d->k, cols[1] = d->n; /* B */
    rows[2] = d->m, cols[2] = d->n; /* D */
}

static hm_status mpi_mm_layout(hm_context *ctx, const void *desc, void *out)
{
    (void)ctx;
    const hm_dist_matmul_desc *d = desc;
    int rank = 0;
    MPI_Comm_rank(d->comm, &rank);
    hm__grid_blocks(d, rank, out); /* row-major (the top of this file says why) */
    return HM_STATUS_SUCCESS;
}

typedef struct mm_plan {
    hm_dist_matmul_desc d;
    int handle, context;
    int desc[3][9]; /* ScaLAPACK's descriptors of Aᵀ, Bᵀ, Dᵀ (the row-major blocks of A, B, D) */
} mm_plan;

static hm_status mpi_mm_plan(hm_context *ctx, const void *desc, const void *args, void **out)
{
    (void)args;
    const hm_dist_matmul_desc *d = desc;
    mm_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a ScaLAPACK plan");
    p->d = *d;
    hm_dist_matmul_layout l;
    mpi_mm_layout(ctx, d, &l);
    p->handle = handle_take(d->comm);
    p->context = p->handle;
    /* rank r is (r / grid_cols, r % grid_cols) of hetmath's grid: of the transposed one, in
     * column order, (r % grid_cols, r / grid_cols) */
    Cblacs_gridinit(&p->context, "Column", d->grid_cols, d->grid_rows);
    int64_t rows[3], cols[3];
    dims(d, rows, cols);
    const int zero = 0;
    for (int i = 0; i < 3; i++) { /* the transpose: cols[i] rows over the grid's cols */
        int m = (int)cols[i], n = (int)rows[i], info = 0;
        int mb = (int)hm__grid_block(cols[i], d->grid_cols),
            nb = (int)hm__grid_block(rows[i], d->grid_rows);
        int ld = (int)l.ld[i];
        descinit_(p->desc[i], &m, &n, &mb, &nb, &zero, &zero, &p->context, &ld, &info);
        if (info != 0) {
            Cblacs_gridexit(p->context);
            handle_give(p->handle);
            free(p);
            return hm__fail(ctx, HM_STATUS_INTERNAL, "ScaLAPACK's descinit refused argument %d",
                            -info);
        }
    }
    *out = p;
    return HM_STATUS_SUCCESS;
}

static hm_status mpi_mm_execute(hm_context *ctx, void *plan, const void *args)
{
    (void)ctx;
    const mm_plan *p = plan;
    const hm_dist_matmul_args *a = args;
    const char no = 'N';
    /* Dᵀ (n × m) = Bᵀ (n × k) · Aᵀ (k × m): no conjugation, a plain transpose */
    const int one = 1, m = (int)p->d.n, n = (int)p->d.m, k = (int)p->d.k;
    const int *da = p->desc[1], *db = p->desc[0], *dd = p->desc[2];
    const void *first = a->b, *second = a->a;
    switch (p->d.dtype) {
    case HM_DTYPE_F32: {
        const float al = (float)a->alpha, be = (float)a->beta;
        psgemm_(&no, &no, &m, &n, &k, &al, first, &one, &one, da, second, &one, &one, db, &be, a->d,
                &one, &one, dd);
        break;
    }
    case HM_DTYPE_F64:
        pdgemm_(&no, &no, &m, &n, &k, &a->alpha, first, &one, &one, da, second, &one, &one, db,
                &a->beta, a->d, &one, &one, dd);
        break;
    case HM_DTYPE_C64: {
        const float al[2] = {(float)a->alpha, 0}, be[2] = {(float)a->beta, 0};
        pcgemm_(&no, &no, &m, &n, &k, al, first, &one, &one, da, second, &one, &one, db, be, a->d,
                &one, &one, dd);
        break;
    }
    default: {
        const double al[2] = {a->alpha, 0}, be[2] = {a->beta, 0};
        pzgemm_(&no, &no, &m, &n, &k, al, first, &one, &one, da, second, &one, &one, db, be, a->d,
                &one, &one, dd);
        break;
    }
    }
    return HM_STATUS_SUCCESS;
}

static void mpi_mm_destroy(void *plan)
{
    mm_plan *p = plan;
    Cblacs_gridexit(p->context);
    handle_give(p->handle);
    free(p);
}

const hm_op_backend hm__cpu_dist_matmul = {
    .error = HM_STATUS_INTERNAL,
    .plan = mpi_mm_plan,
    .execute = mpi_mm_execute,
    .destroy = mpi_mm_destroy,
    .layout = mpi_mm_layout,
};
