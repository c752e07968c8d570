/* The distributed layer on GPU ranks (NCCL): each rank's operands on its own device (rank r on
 * cuda:r), run by ctest under mpirun with 1 and 2 ranks; skipped (77, on every rank) when the
 * machine has fewer devices than ranks, or none. The distributed FFT (c2c, r2c and c2r, 2-D and
 * 3-D, single and double, uneven slabs, odd real lengths, left transposed or not, the four
 * norms, both exchange modes: packed small planes and a plane a message) against each rank's
 * serial CPU transform of the whole array (c2r's input Hermitian: a serial r2c's output); x
 * in the transform's decomposition (read where it is) or in pencils (exchanged into it on the
 * device), y likewise; x never changed (to the byte); the exchanges' ledger records (path nccl)
 * summing to the same bytes sent as received, exactly the slabs' counts; a plan executed on new
 * values; reshapes of device data against the values; ranks disagreeing on host or device memory
 * refused on every rank. */
#include <stdbool.h>

#include "dist_check.h"
#include "hetmath/mpi.h"

static int g_rank, g_size;

/* A context and communicator with this rank's device, or a skip of the whole run (every rank
 * decides alike: the device count is the machine's). */
static hm_context *gpu_context(hm_test_log *log, hm_comm **comm)
{
    hm_context *ctx = hm_test_context(log, HM_LOG_INFO);
    int n = 0;
    hm_context_device_count(ctx, &n);
    if (n < g_size) {
        if (g_rank == 0)
            printf("test_dist_cuda: skipped, %d CUDA device(s) for %d ranks (one a rank)\n", n,
                   g_size);
        hm_context_destroy(ctx);
        MPI_Finalize();
        exit(HM_TEST_SKIP);
    }
    CHECK_STATUS(hm_comm_create_mpi(ctx, MPI_COMM_WORLD, comm), HM_STATUS_SUCCESS);
    return ctx;
}

static double complex value(int64_t g, int round)
{
    return sin(0.37 * (double)g + 0.1 * round) + I * cos(0.11 * (double)g - 0.2 * round);
}

/* The global index (row-major in the global shape, or in the unswapped shape when swap01) of
 * local row-major element `at` of a box (offset off, extent ext) of global shape g. */
static int64_t global_index(int nd, const int64_t *g, const int64_t *off, const int64_t *ext,
                            int64_t at, bool swap01)
{
    int64_t idx[3], shape[3], out = 0;
    for (int i = nd - 1; i >= 0; i--) {
        idx[i] = at % ext[i] + off[i];
        at /= ext[i];
        shape[i] = g[i];
    }
    if (swap01) {
        int64_t t = idx[0];
        idx[0] = idx[1];
        idx[1] = t;
        t = shape[0];
        shape[0] = shape[1];
        shape[1] = t;
    }
    for (int i = 0; i < nd; i++)
        out = out * shape[i] + idx[i];
    return out;
}

/* A distributed tensor on this rank's device: box (off, ext) of g, row-major; a host twin. */
static void device_part(hm_context *ctx, int nd, const int64_t *g, hm_dtype dt, const int64_t *off,
                        const int64_t *ext, hm_dist_tensor *t, hm_tensor *host)
{
    memset(t, 0, sizeof *t);
    memcpy(t->global_shape, g, sizeof(int64_t) * (size_t)nd);
    memcpy(t->offset, off, sizeof(int64_t) * (size_t)nd);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(g_rank), dt, nd, ext, &t->local),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dt, nd, ext, host), HM_STATUS_SUCCESS);
}

/* Pencils over the last two axes (a decomposition the transform does not use). */
static void pencil(int nd, const int64_t *g, int64_t *off, int64_t *ext)
{
    int grid[2] = {g_size, 1}, axes[2] = {nd - 2, nd - 1};
    CHECK_STATUS(hm_dist_box(nd, g, 2, axes, grid, g_rank, off, ext), HM_STATUS_SUCCESS);
}

typedef struct fft_case {
    hm_dtype dt; /* x's */
    int nd;
    int64_t n[3]; /* the logical lengths (the real side's for r2c and c2r) */
    int transposed;
    hm_fft_direction dir;
    hm_fft_norm norm;
    int natural; /* x and y in the transform's decomposition, else pencils */
    hm_fft_type type;
} fft_case;

static hm_dtype y_dtype(const fft_case *c)
{
    if (c->type == HM_FFT_C2C)
        return c->dt;
    if (c->type == HM_FFT_R2C)
        return c->dt == HM_DTYPE_F64 ? HM_DTYPE_C128 : HM_DTYPE_C64;
    return c->dt == HM_DTYPE_C128 ? HM_DTYPE_F64 : HM_DTYPE_F32;
}

/* The complex side's lengths (the last halved for r2c and c2r); gx and gy, x's and y's global
 * shapes (y's first two axes swapped when left transposed). */
static void fft_shapes(const fft_case *c, int64_t *nc, int64_t *gx, int64_t *gy)
{
    int r = c->nd;
    for (int i = 0; i < r; i++)
        nc[i] = gx[i] = gy[i] = c->n[i];
    if (c->type != HM_FFT_C2C)
        nc[r - 1] = c->n[r - 1] / 2 + 1;
    if (c->type == HM_FFT_R2C)
        gy[r - 1] = nc[r - 1];
    if (c->type == HM_FFT_C2R)
        gx[r - 1] = nc[r - 1];
    if (c->transposed) {
        int64_t t = gy[0];
        gy[0] = gy[1];
        gy[1] = t;
    }
}

/* The whole input of a round on the host in double precision (sx, allocated here): values of
 * the global index, real ones for r2c; for c2r the serial r2c of real values, so that the input
 * is Hermitian and every c2r reads it alike. */
static void serial_input(hm_context *ctx, const fft_case *c, const int64_t *gx, int round,
                         hm_tensor *sx)
{
    bool real_x = c->dt == HM_DTYPE_F32 || c->dt == HM_DTYPE_F64;
    if (c->type != HM_FFT_C2R) {
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), real_x ? HM_DTYPE_F64 : HM_DTYPE_C128,
                                     c->nd, gx, sx),
                     HM_STATUS_SUCCESS);
        for (int64_t i = 0; i < hm_tensor_numel(sx); i++)
            set(sx->data, sx->dtype, i, real_x ? creal(value(i, round)) : value(i, round));
        return;
    }
    hm_tensor real;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, c->nd, c->n, &real),
                 HM_STATUS_SUCCESS);
    for (int64_t i = 0; i < hm_tensor_numel(&real); i++)
        set(real.data, HM_DTYPE_F64, i, creal(value(i, round)));
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.type = HM_FFT_R2C;
    o.execution = hm_execution_cpu(1);
    memset(sx, 0, sizeof *sx);
    CHECK_STATUS(hm_fft(ctx, &real, sx, &o), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &real);
}

/* The sum over every rank of the bytes this rank's remote nccl records say it sent and
 * received; each record's path checked. */
static void remote_bytes(hm_context *ctx, long long *sent, long long *got)
{
    long long mine[2] = {0, 0};
    for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
        hm_transfer_record r;
        hm_ledger_record(ctx, i, &r);
        if (r.direction != HM_TRANSFER_REMOTE)
            continue;
        CHECK_EQ_INT(r.path, HM_PATH_NCCL);
        mine[0] += r.src_rank == g_rank ? (long long)r.bytes : 0;
        mine[1] += r.dst_rank == g_rank ? (long long)r.bytes : 0;
    }
    long long all[2];
    MPI_Allreduce(mine, all, 2, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    *sent = all[0];
    *got = all[1];
}

/* One case, planned once and executed on two rounds of values: y against the serial transform
 * on the CPU, x unchanged; returns the worst relative error. */
static double run_case(hm_context *ctx, hm_comm *comm, const fft_case *c)
{
    int nd = c->nd;
    int64_t nc[3], gx[3], gy[3], xo[3], xe[3], yo[3], ye[3];
    fft_shapes(c, nc, gx, gy);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.type = c->type;
    o.direction = c->dir;
    o.norm = c->norm;
    o.transposed_out = c->transposed;
    CHECK_STATUS(hm_dist_fft_boxes(ctx, comm, nd, c->n, &o, xo, xe, yo, ye), HM_STATUS_SUCCESS);
    if (!c->natural) {
        pencil(nd, gx, xo, xe);
        pencil(nd, gy, yo, ye);
    }
    hm_dist_tensor x, y;
    hm_tensor hx, hy;
    device_part(ctx, nd, gx, c->dt, xo, xe, &x, &hx);
    device_part(ctx, nd, gy, y_dtype(c), yo, ye, &y, &hy);
    hm_dist_fft_plan *plan = NULL;
    CHECK_STATUS(hm_dist_fft_plan_create(ctx, comm, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    double worst = 0;
    size_t xbytes = hm_tensor_nbytes(&hx);
    void *before = malloc(xbytes ? xbytes : 1);
    CHECK(before != NULL);
    for (int round = 0; round < 2 && before; round++) {
        hm_tensor sx, sy = {0};
        serial_input(ctx, c, gx, round, &sx);
        for (int64_t i = 0; i < hm_tensor_numel(&hx); i++)
            set(hx.data, c->dt, i, get(sx.data, sx.dtype, global_index(nd, gx, xo, xe, i, false)));
        memcpy(before, hx.data, xbytes);
        CHECK_STATUS(hm_copy(ctx, &hx, &x.local), HM_STATUS_SUCCESS);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_dist_fft_execute(ctx, comm, plan, &x, &y), HM_STATUS_SUCCESS);
        long long sent, got;
        remote_bytes(ctx, &sent, &got);
        CHECK_EQ_INT(sent, got);
        if (c->natural && g_size > 1) { /* the slabs' exchanges alone: (p-1)/p of the complex
                                           side when the slabs divide evenly, each way */
            int64_t n = 1;
            for (int i = 0; i < nd; i++)
                n *= nc[i];
            hm_dtype cplx = c->type == HM_FFT_C2R ? c->dt : y_dtype(c);
            if (nc[0] % g_size == 0 && nc[1] % g_size == 0)
                CHECK_EQ_INT(sent, (long long)(n / g_size * (g_size - 1)) *
                                       (long long)hm_dtype_size(cplx) * (c->transposed ? 1 : 2));
        }
        CHECK_STATUS(hm_copy(ctx, &y.local, &hy), HM_STATUS_SUCCESS);
        hm_fft_options so;
        hm_fft_options_init(&so);
        so.type = c->type;
        so.direction = c->dir;
        so.norm = c->norm;
        so.last_length = c->type == HM_FFT_C2R ? c->n[nd - 1] : 0;
        so.execution = hm_execution_cpu(1);
        CHECK_STATUS(hm_fft(ctx, &sx, &sy, &so), HM_STATUS_SUCCESS);
        double scale = 0, diff = 0;
        for (int64_t i = 0; i < hm_tensor_numel(&sy); i++)
            scale = fmax(scale, cabs(get(sy.data, sy.dtype, i)));
        for (int64_t i = 0; i < hm_tensor_numel(&hy); i++) {
            int64_t g = global_index(nd, gy, yo, ye, i, c->transposed);
            diff = fmax(diff, cabs(get(hy.data, hy.dtype, i) - get(sy.data, sy.dtype, g)));
        }
        worst = fmax(worst, diff / (scale > 0 ? scale : 1));
        hm_tensor_free(ctx, &sx);
        hm_tensor_free(ctx, &sy);
        /* x unchanged, to the byte */
        CHECK_STATUS(hm_copy(ctx, &x.local, &hx), HM_STATUS_SUCCESS);
        CHECK(memcmp(before, hx.data, xbytes) == 0);
    }
    free(before);
    hm_dist_fft_plan_destroy(plan);
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y.local);
    hm_tensor_free(ctx, &hx);
    hm_tensor_free(ctx, &hy);
    return worst;
}

static void fft_against_serial(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = gpu_context(&log, &comm);
    const fft_case cases[] = {
        /* small planes: the exchange packed; uneven slabs */
        {HM_DTYPE_C128, 3, {9, 6, 10}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1, HM_FFT_C2C},
        {HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_FORWARD, HM_FFT_NORM_ORTHO, 1, HM_FFT_C2C},
        {HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_INVERSE, HM_FFT_NORM_BACKWARD, 0, HM_FFT_C2C},
        {HM_DTYPE_C64, 2, {13, 10}, 1, HM_FFT_FORWARD, HM_FFT_NORM_FORWARD, 1, HM_FFT_C2C},
        {HM_DTYPE_C64, 2, {12, 10}, 0, HM_FFT_INVERSE, HM_FFT_NORM_ORTHO, 0, HM_FFT_C2C},
        /* planes of 256 KiB a peer and more: a plane a message */
        {HM_DTYPE_C64, 3, {16, 256, 256}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1, HM_FFT_C2C},
        {HM_DTYPE_C64, 3, {17, 256, 258}, 0, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1, HM_FFT_C2C},
        /* r2c (even and odd last lengths) and c2r: the complex side halved */
        {HM_DTYPE_F64, 3, {9, 6, 10}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1, HM_FFT_R2C},
        {HM_DTYPE_F64, 3, {7, 8, 9}, 0, HM_FFT_FORWARD, HM_FFT_NORM_ORTHO, 0, HM_FFT_R2C},
        {HM_DTYPE_F32, 2, {13, 10}, 0, HM_FFT_FORWARD, HM_FFT_NORM_FORWARD, 1, HM_FFT_R2C},
        {HM_DTYPE_F32, 3, {16, 256, 256}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 0, HM_FFT_R2C},
        {HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_INVERSE, HM_FFT_NORM_BACKWARD, 1, HM_FFT_C2R},
        {HM_DTYPE_C128, 2, {6, 9}, 0, HM_FFT_INVERSE, HM_FFT_NORM_NONE, 0, HM_FFT_C2R},
        {HM_DTYPE_C64, 3, {17, 256, 258}, 0, HM_FFT_INVERSE, HM_FFT_NORM_ORTHO, 1, HM_FFT_C2R},
    };
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i++) {
        double err = run_case(ctx, comm, &cases[i]);
        bool single = cases[i].dt == HM_DTYPE_C64 || cases[i].dt == HM_DTYPE_F32;
        double limit = single ? 1e-5 : 1e-12;
        if (err > limit)
            printf("rank %d: case %zu: error %g over %g\n", g_rank, i, err, limit);
        CHECK(err <= limit);
    }
    CHECK_CONTAINS(log.text, "distributed FFT on cuda:");
    CHECK_CONTAINS(log.text, "each exchanged by NCCL while the next transforms");
    CHECK_CONTAINS(log.text, "cuFFT reads x where it is on this rank");
    CHECK_CONTAINS(log.text, ": r2c, ");
    CHECK_CONTAINS(log.text, "the planes transformed into real ones");
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Device data reshaped from slabs of axis 0 into pencils and back: exact values. */
static void reshapes(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = gpu_context(NULL, &comm);
    const int64_t g[3] = {13, 7, 5};
    int64_t ao[3], ae[3], bo[3], be[3];
    const int axis0 = 0, grid1[1] = {g_size};
    CHECK_STATUS(hm_dist_box(3, g, 1, &axis0, grid1, g_rank, ao, ae), HM_STATUS_SUCCESS);
    pencil(3, g, bo, be);
    hm_dist_tensor a, b;
    hm_tensor ha, hb;
    device_part(ctx, 3, g, HM_DTYPE_C64, ao, ae, &a, &ha);
    device_part(ctx, 3, g, HM_DTYPE_C64, bo, be, &b, &hb);
    for (int64_t i = 0; i < hm_tensor_numel(&ha); i++)
        set(ha.data, HM_DTYPE_C64, i, (double)global_index(3, g, ao, ae, i, false));
    CHECK_STATUS(hm_copy(ctx, &ha, &a.local), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_dist_reshape(ctx, comm, &a, &b), HM_STATUS_SUCCESS);
    long long sent, got;
    remote_bytes(ctx, &sent, &got);
    CHECK_EQ_INT(sent, got);
    CHECK_STATUS(hm_copy(ctx, &b.local, &hb), HM_STATUS_SUCCESS);
    long wrong = 0;
    for (int64_t i = 0; i < hm_tensor_numel(&hb); i++)
        wrong += get(hb.data, HM_DTYPE_C64, i) != (double)global_index(3, g, bo, be, i, false);
    CHECK_EQ_INT(wrong, 0);
    hm_tensor_free(ctx, &a.local);
    hm_tensor_free(ctx, &b.local);
    hm_tensor_free(ctx, &ha);
    hm_tensor_free(ctx, &hb);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* The last rank's operands in host memory, the others' on their devices: every rank refuses;
 * a rank's x and y in two spaces: refused. */
static void mixed_memory(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = gpu_context(NULL, &comm);
    const int64_t g[3] = {8, 6, 4};
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    int64_t xo[3], xe[3], yo[3], ye[3];
    CHECK_STATUS(hm_dist_fft_boxes(ctx, comm, 3, g, &o, xo, xe, yo, ye), HM_STATUS_SUCCESS);
    hm_dist_tensor x, y;
    hm_tensor hx, hy;
    device_part(ctx, 3, g, HM_DTYPE_C64, xo, xe, &x, &hx);
    device_part(ctx, 3, g, HM_DTYPE_C64, yo, ye, &y, &hy);
    hm_dist_tensor xh = x, yh = y;
    xh.local = hx;
    yh.local = hy;
    bool host_here = g_size > 1 && g_rank == g_size - 1;
    hm_status st = hm_dist_fft(ctx, comm, host_here ? &xh : &x, host_here ? &yh : &y, &o);
    CHECK_STATUS(st, g_size > 1 ? HM_STATUS_INVALID_DISTRIBUTION : HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &yh, &o), HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES);
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y.local);
    hm_tensor_free(ctx, &hx);
    hm_tensor_free(ctx, &hy);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* ---- the distributed matmul (SUMMA) ---------------------------------------------------- */

enum { DM_M = 67, DM_N = 45 };

/* A distributed matrix rows × cols on this rank's device, box (off, ext), element (i, j) the
 * value of its global index in round `round` (the real part for real dtypes). */
static void device_matrix(hm_context *ctx, int64_t rows, int64_t cols, hm_dtype dt,
                          const int64_t *off, const int64_t *ext, int round, hm_dist_tensor *t)
{
    const int64_t g[2] = {rows, cols};
    hm_tensor host;
    device_part(ctx, 2, g, dt, off, ext, t, &host);
    bool cx = dt == HM_DTYPE_C64 || dt == HM_DTYPE_C128;
    for (int64_t at = 0; at < hm_tensor_numel(&host); at++) {
        double complex v = value(global_index(2, g, off, ext, at, false), round);
        set(host.data, dt, at, cx ? v : creal(v));
    }
    CHECK_STATUS(hm_copy(ctx, &host, &t->local), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &host);
}

/* The operands' values: rounds of A, B and C, and the product's K. */
typedef struct mm_rounds {
    int round[3];
    int64_t k;
} mm_rounds;

static double complex mm_operand(const void *user, int which, int64_t i, int64_t j)
{
    const mm_rounds *r = user;
    int64_t cols = which == 0 ? r->k : DM_N;
    return value(i * cols + j, r->round[which]);
}

/* D's box (on the device) against alpha·A·B + beta·C in double precision, A, B and C the values
 * of rounds ra, rb and rc; relative to the magnitude of the terms. */
static double matmul_error(hm_context *ctx, const hm_dist_tensor *d, int64_t k, double alpha,
                           double beta, int ra, int rb, int rc)
{
    hm_tensor host;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), d->local.dtype, 2, d->local.shape, &host),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &d->local, &host), HM_STATUS_SUCCESS);
    const mm_rounds r = {{ra, rb, rc}, k};
    double worst = hm_test_matmul_error(host.data, host.dtype, host.shape, host.strides, d->offset,
                                        k, alpha, beta, mm_operand, &r);
    hm_tensor_free(ctx, &host);
    return worst;
}

/* The distributed matmul of device operands (SUMMA: panels of A along grid rows and of B along
 * grid columns sent by NCCL while cuBLASLt multiplies) against a double-precision reference:
 * f64 and c128 with K = 4133 in four panels of at most 1034 (a quarter of K: two a block at two
 * ranks), f32 and c64 with K = 601 in one; the product's own blocks
 * (beta 0), row and column slabs exchanged on the devices with C, and beta scaling D's own
 * values; a plan executed again on new values of A; the product's nccl records summing to the
 * same bytes sent as received, A's exactly its blocks' bytes once to each other rank of a grid
 * row. */
static void matmul_against_serial(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = gpu_context(&log, &comm);
    const hm_dtype dtypes[] = {HM_DTYPE_F64, HM_DTYPE_C128, HM_DTYPE_F32, HM_DTYPE_C64};
    for (size_t t = 0; t < HM_ARRAY_LEN(dtypes); t++) {
        bool single = dtypes[t] == HM_DTYPE_F32 || dtypes[t] == HM_DTYPE_C64;
        const int64_t k = single ? 601 : 4133;
        int64_t off[3][2], ext[3][2];
        CHECK_STATUS(hm_dist_matmul_boxes(ctx, comm, DM_M, DM_N, k, off[0], ext[0], off[1], ext[1],
                                          off[2], ext[2]),
                     HM_STATUS_SUCCESS);
        for (int variant = 0; variant < 3; variant++) {
            /* 0: the product's own blocks, beta 0, then its plan on new values; 1: A in row
             * slabs, B and D in column slabs, with C; 2: its blocks, beta scaling D's values */
            int64_t so[3][2], se[3][2];
            const int64_t g[3][2] = {{DM_M, k}, {k, DM_N}, {DM_M, DM_N}};
            for (int i = 0; i < 3; i++) {
                int axes[1] = {i == 0 ? 0 : 1}, grid[1] = {g_size};
                CHECK_STATUS(hm_dist_box(2, g[i], 1, axes, grid, g_rank, so[i], se[i]),
                             HM_STATUS_SUCCESS);
            }
            bool slabs = variant == 1;
            hm_dist_tensor A, B, C, D;
            device_matrix(ctx, DM_M, k, dtypes[t], slabs ? so[0] : off[0], slabs ? se[0] : ext[0],
                          0, &A);
            device_matrix(ctx, k, DM_N, dtypes[t], slabs ? so[1] : off[1], slabs ? se[1] : ext[1],
                          1, &B);
            device_matrix(ctx, DM_M, DM_N, dtypes[t], slabs ? so[2] : off[2],
                          slabs ? se[2] : ext[2], 2, &C);
            device_matrix(ctx, DM_M, DM_N, dtypes[t], slabs ? so[2] : off[2],
                          slabs ? se[2] : ext[2], 3, &D);
            hm_dist_matmul_options o;
            hm_dist_matmul_options_init(&o);
            o.alpha = 1.5;
            o.beta = variant == 0 ? 0.0 : -0.5;
            hm_ledger_reset(ctx);
            CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, slabs ? &C : NULL, &D, &o),
                         HM_STATUS_SUCCESS);
            double err = matmul_error(ctx, &D, k, o.alpha, o.beta, 0, 1, slabs ? 2 : 3);
            CHECK_NEAR(err, single ? 1e-5 : 1e-12, "the GPU ranks' matmul against the reference");
            long long sent = 0, got = 0;
            remote_bytes(ctx, &sent, &got);
            CHECK_EQ_INT(sent, got);
            if (variant == 0) {
                /* grid 1 x size: every rank's A block to the size - 1 others, B's to none */
                CHECK_EQ_INT(sent, (long long)(g_size - 1) * DM_M * k *
                                       (long long)hm_dtype_size(dtypes[t]));
                hm_dist_matmul_plan *plan = NULL;
                CHECK_STATUS(hm_dist_matmul_plan_create(ctx, comm, &A, &B, NULL, &D, &o, &plan),
                             HM_STATUS_SUCCESS);
                hm_tensor_free(ctx, &A.local);
                device_matrix(ctx, DM_M, k, dtypes[t], off[0], ext[0], 4, &A);
                CHECK_STATUS(hm_dist_matmul_execute(ctx, comm, plan, &A, &B, NULL, &D),
                             HM_STATUS_SUCCESS);
                CHECK_NEAR(matmul_error(ctx, &D, k, o.alpha, 0.0, 4, 1, 3), single ? 1e-5 : 1e-12,
                           "the GPU ranks' matmul plan on new values of A");
                hm_dist_matmul_plan_destroy(plan);
            }
            hm_tensor_free(ctx, &A.local);
            hm_tensor_free(ctx, &B.local);
            hm_tensor_free(ctx, &C.local);
            hm_tensor_free(ctx, &D.local);
        }
    }
    CHECK_CONTAINS(log.text, "SUMMA (cuBLASLt, NCCL): a 1 x ");
    CHECK_CONTAINS(log.text, "K in 4 panels of at most 1034,");
    CHECK_CONTAINS(log.text, "distributed matmul on cuda:");
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const hm_test_case cases[] = {
        HM_TEST_CASE(matmul_against_serial),
        HM_TEST_CASE(fft_against_serial),
        HM_TEST_CASE(reshapes),
        HM_TEST_CASE(mixed_memory),
    };
    return hm_mpi_test_main(argc, argv, "test_dist_cuda", cases, (int)HM_ARRAY_LEN(cases), &g_rank,
                            &g_size);
}
