/* The distributed layer over MPI, on CPU ranks: grid decompositions, reshapes between every pair
 * of them (uneven splits, strided local layouts) with exact values and exact ledger figures, bad
 * distributions and bad input on one rank (a clear status on every rank, never a hang: ctest's
 * timeout), and injected failures on one rank. Run by ctest under mpirun with 1, 2, 4 and 8 ranks.
 */
#include <stdbool.h>

#include "dist_check.h"
#include "hetmath/debug.h"
#include "hetmath/mpi.h"

static int g_rank, g_size;

static hm_context *dist_context(hm_test_log *log, hm_comm **comm)
{
    hm_context *ctx = hm_test_context(log, log ? HM_LOG_INFO : HM_LOG_OFF);
    CHECK_STATUS(hm_comm_create_mpi(ctx, MPI_COMM_WORLD, comm), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_comm_rank(*comm), g_rank);
    CHECK_EQ_INT(hm_comm_size(*comm), g_size);
    return ctx;
}

/* A process grid of g_size ranks over `naxes` axes: as square as it goes. */
static void grid_of(int naxes, int *grid)
{
    grid[0] = g_size;
    grid[1] = grid[2] = 1;
    if (naxes >= 2)
        for (int a = 1; a * a <= g_size; a++)
            if (g_size % a == 0) {
                grid[0] = g_size / a;
                grid[1] = a;
            }
}

/* The decompositions the tests use, by number: slabs along axis 0, along axis 2, pencils over
 * axes 0 and 1, pencils over axes 1 and 2, and everything on the last rank. */
enum { DECOMPOSITIONS = 5 };

static void decomposition(int which, const int64_t *global, int64_t *offset, int64_t *extent)
{
    static const int naxes[DECOMPOSITIONS] = {1, 1, 2, 2, 1};
    static const int axes[DECOMPOSITIONS][2] = {{0, 0}, {2, 0}, {0, 1}, {1, 2}, {0, 0}};
    int grid[3];
    grid_of(naxes[which], grid);
    if (which == 4) { /* the last rank holds everything, the others nothing */
        grid[0] = 1;
        CHECK_STATUS(
            hm_dist_box(3, global, 1, axes[which], grid, g_size - 1 - g_rank, offset, extent),
            HM_STATUS_SUCCESS);
        return;
    }
    CHECK_STATUS(hm_dist_box(3, global, naxes[which], axes[which], grid, g_rank, offset, extent),
                 HM_STATUS_SUCCESS);
}

static const int64_t G[3] = {13, 7, 5}; /* divides evenly over no grid */

/* A distributed f64 tensor of decomposition `which`, its local part row-major (or column-major),
 * filled with each element's global linear index (or poison). */
static void make(hm_context *ctx, int which, int colmajor, int fill, hm_dist_tensor *t)
{
    int64_t extent[3];
    memcpy(t->global_shape, G, sizeof G);
    decomposition(which, G, t->offset, extent);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, 3, extent, &t->local),
                 HM_STATUS_SUCCESS);
    if (colmajor) {
        t->local.strides[0] = 1;
        t->local.strides[1] = extent[0];
        t->local.strides[2] = extent[0] * extent[1];
    }
    double *v = t->local.data;
    for (int64_t i = 0; i < extent[0]; i++)
        for (int64_t j = 0; j < extent[1]; j++)
            for (int64_t k = 0; k < extent[2]; k++) {
                int64_t at =
                    i * t->local.strides[0] + j * t->local.strides[1] + k * t->local.strides[2];
                int64_t gi = i + t->offset[0], gj = j + t->offset[1], gk = k + t->offset[2];
                v[at] = fill ? (double)((gi * G[1] + gj) * G[2] + gk) : -1.0;
            }
}

/* Elements of t whose value is not its global index. */
static long wrong_values(const hm_dist_tensor *t)
{
    const double *v = t->local.data;
    long wrong = 0;
    for (int64_t i = 0; i < t->local.shape[0]; i++)
        for (int64_t j = 0; j < t->local.shape[1]; j++)
            for (int64_t k = 0; k < t->local.shape[2]; k++) {
                int64_t at =
                    i * t->local.strides[0] + j * t->local.strides[1] + k * t->local.strides[2];
                int64_t gi = i + t->offset[0], gj = j + t->offset[1], gk = k + t->offset[2];
                wrong += v[at] != (double)((gi * G[1] + gj) * G[2] + gk);
            }
    return wrong;
}

/* Elements rank `from` holds in decomposition a that rank `to` holds in b. */
static int64_t shared(int a, int from, int b, int to)
{
    int64_t oa[3], ea[3], ob[3], eb[3], n = 1;
    int saved = g_rank;
    g_rank = from;
    decomposition(a, G, oa, ea);
    g_rank = to;
    decomposition(b, G, ob, eb);
    g_rank = saved;
    for (int d = 0; d < 3; d++) {
        int64_t lo = oa[d] > ob[d] ? oa[d] : ob[d];
        int64_t hi = oa[d] + ea[d] < ob[d] + eb[d] ? oa[d] + ea[d] : ob[d] + eb[d];
        n *= hi > lo ? hi - lo : 0;
    }
    return n;
}

static void reshapes(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(&log, &comm);
    for (int a = 0; a < DECOMPOSITIONS; a++)
        for (int b = 0; b < DECOMPOSITIONS; b++) {
            hm_dist_tensor in, out;
            make(ctx, a, 0, 1, &in);
            make(ctx, b, (a + b) % 2, 0, &out);
            hm_ledger_reset(ctx);
            hm_test_log_clear(&log);
            CHECK_STATUS(hm_dist_reshape(ctx, comm, &in, &out), HM_STATUS_SUCCESS);
            CHECK_EQ_INT(wrong_values(&out), 0);
            CHECK_EQ_INT(wrong_values(&in), 0); /* the input is never modified */
            /* Exactly one record per peer and direction, of the shared elements' bytes. */
            hm_transfer_totals tot;
            hm_ledger_totals(ctx, &tot);
            int64_t records = 0, bytes = 0;
            for (int q = 0; q < g_size; q++) {
                if (q == g_rank)
                    continue;
                int64_t s = shared(a, g_rank, b, q), r = shared(a, q, b, g_rank);
                records += (s > 0) + (r > 0);
                bytes += (s + r) * 8;
            }
            CHECK_EQ_INT(tot.copies[HM_TRANSFER_REMOTE], records);
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_REMOTE], bytes);
            for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
                hm_transfer_record r;
                hm_ledger_record(ctx, i, &r);
                CHECK(r.direction == HM_TRANSFER_REMOTE && r.path == HM_PATH_MPI);
                CHECK(r.src_rank == g_rank || r.dst_rank == g_rank);
                CHECK_EQ_INT(r.bytes, 8 * shared(a, r.src_rank, b, r.dst_rank));
            }
            if (records > 0)
                CHECK_CONTAINS(log.text, "remote in: rank ");
            CHECK_CONTAINS(log.text, "reshape: f64 [13, 7, 5] -> [13, 7, 5] over ");
            hm_tensor_free(ctx, &in.local);
            hm_tensor_free(ctx, &out.local);
        }
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* One bad call: `st_here` where `bad` is this rank, HM_STATUS_REMOTE_FAILURE (naming rank `bad`)
 * elsewhere; `bad` -1: the same status everywhere. The output keeps its poison. */
static void expect(hm_context *ctx, hm_status got, int bad, hm_status st_here, const char *says,
                   const hm_dist_tensor *out)
{
    if (bad < 0 || bad == g_rank) {
        CHECK_STATUS(got, st_here);
        CHECK_CONTAINS(hm_context_last_error(ctx), says);
    } else {
        CHECK_STATUS(got, HM_STATUS_REMOTE_FAILURE);
        char who[64];
        snprintf(who, sizeof who, "hm_dist_reshape: rank %d failed (%s)", bad,
                 hm_status_name(st_here));
        CHECK_CONTAINS(hm_context_last_error(ctx), who);
    }
    if (out && out->local.data) {
        const double *v = out->local.data;
        long touched = 0;
        for (int64_t i = 0; i < hm_tensor_numel(&out->local); i++)
            touched += v[i] != -1.0;
        CHECK_EQ_INT(touched, 0);
    }
}

static void bad_distributions(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    int last = g_size - 1;
    hm_dist_tensor in, out;
    make(ctx, 0, 0, 1, &in);
    make(ctx, 1, 0, 0, &out); /* slabs along another axis: every rank sends to every other */

    /* Boxes that overlap (every rank claims offset 0) or, on one rank, leave holes. */
    hm_dist_tensor wrong = in;
    memset(wrong.offset, 0, sizeof wrong.offset);
    if (g_size > 1)
        expect(ctx, hm_dist_reshape(ctx, comm, &wrong, &out), -1, HM_STATUS_INVALID_DISTRIBUTION,
               "the boxes of ranks", &out);
    wrong = in;
    wrong.local.shape[0] = in.local.shape[0] > 0 ? in.local.shape[0] - 1 : 0;
    bool hole = in.local.shape[0] > 0;
    int any = 0;
    MPI_Allreduce(&hole, &any, 1, MPI_C_BOOL, MPI_LOR, MPI_COMM_WORLD);
    if (any)
        expect(ctx, hm_dist_reshape(ctx, comm, &wrong, &out), -1, HM_STATUS_INVALID_DISTRIBUTION,
               "of the 455 elements (holes)", &out);
    /* The last rank says another global shape. */
    wrong = in;
    if (g_rank == last)
        wrong.global_shape[2] = 6;
    expect(ctx, hm_dist_reshape(ctx, comm, &wrong, &out), -1, HM_STATUS_INVALID_DISTRIBUTION,
           g_size > 1 ? "has another global shape" : "holes", &out);
    /* A box outside the global shape on the last rank alone. */
    wrong = in;
    if (g_rank == last)
        wrong.offset[1] = 3;
    expect(ctx, hm_dist_reshape(ctx, comm, &wrong, &out), last, HM_STATUS_INVALID_ARGUMENT,
           "is not inside the global extent", &out);
    /* A NULL output, or another dtype, on the last rank alone. */
    expect(ctx, hm_dist_reshape(ctx, comm, &in, g_rank == last ? NULL : &out), last,
           HM_STATUS_INVALID_ARGUMENT, "operand out is NULL", g_rank == last ? NULL : &out);
    wrong = out;
    if (g_rank == last)
        wrong.local.dtype = HM_DTYPE_C128;
    expect(ctx, hm_dist_reshape(ctx, comm, &in, &wrong), last, HM_STATUS_DTYPE_MISMATCH,
           "operand out is c128 but in is f64", &out);
    /* The remote guard set to error on rank 0 alone: nothing moves anywhere. */
    if (g_size > 1) {
        if (g_rank == 0)
            hm_transfer_set_guard(ctx, HM_TRANSFER_REMOTE, HM_GUARD_ERROR);
        hm_ledger_reset(ctx);
        expect(ctx, hm_dist_reshape(ctx, comm, &in, &out), 0, HM_STATUS_TRANSFER_REFUSED,
               "the remote guard is set to error", &out);
        CHECK_EQ_INT(hm_ledger_count(ctx), 0);
        hm_transfer_set_guard(ctx, HM_TRANSFER_REMOTE, HM_GUARD_ALLOW);
    }
    /* And every rank goes on: the same call, right. */
    CHECK_STATUS(hm_dist_reshape(ctx, comm, &in, &out), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(wrong_values(&out), 0);
    CHECK_STATUS(hm_dist_reshape(ctx, NULL, &in, &out), HM_STATUS_INVALID_ARGUMENT);
    hm_tensor_free(ctx, &in.local);
    hm_tensor_free(ctx, &out.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Every failure point of a reshape on rank 0 alone (its strided copies: its own part, the
 * packing, the unpacking), failed in turn: rank 0 reports the injected failure, the others that
 * rank 0 failed, and the next call is right everywhere. */
static void failures_on_one_rank(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    hm_dist_tensor in, out;
    make(ctx, 1, 0, 1, &in);
    make(ctx, 3, 1, 0, &out);
    long before = hm_debug_site_count(ctx, HM_FAULT_BACKEND_CALL);
    CHECK_STATUS(hm_dist_reshape(ctx, comm, &in, &out), HM_STATUS_SUCCESS);
    long points = hm_debug_site_count(ctx, HM_FAULT_BACKEND_CALL) - before;
    MPI_Bcast(&points, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    CHECK(points >= 1);
    for (long n = 1; n <= points; n++) {
        if (g_rank == 0)
            hm_debug_inject_failure(ctx, HM_FAULT_BACKEND_CALL, n);
        hm_status st = hm_dist_reshape(ctx, comm, &in, &out);
        if (g_rank == 0) {
            CHECK_STATUS(st, HM_STATUS_INTERNAL);
            CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
        } else {
            CHECK_STATUS(st, HM_STATUS_REMOTE_FAILURE);
            CHECK_CONTAINS(hm_context_last_error(ctx), "rank 0 failed (INTERNAL)");
        }
        hm_debug_inject_failure(ctx, HM_FAULT_BACKEND_CALL, 0);
        CHECK_STATUS(hm_dist_reshape(ctx, comm, &in, &out), HM_STATUS_SUCCESS);
        CHECK_EQ_INT(wrong_values(&out), 0);
    }
    if (g_rank == 0)
        printf("test_dist: %ld failure points on rank 0 of %d\n", points, g_size);
    hm_tensor_free(ctx, &in.local);
    hm_tensor_free(ctx, &out.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* hm_dist_box alone: its refusals, and every grid's boxes tiling the global shape. */
static void boxes(void)
{
    int64_t g[3] = {10, 3, 7}, off[3], ext[3];
    const int ax[2] = {0, 2}, same[2] = {1, 1}, grid[2] = {3, 2}, zero[2] = {0, 1};
    CHECK_STATUS(hm_dist_box(3, g, 2, ax, grid, 0, NULL, ext), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_dist_box(0, g, 1, ax, grid, 0, off, ext), HM_STATUS_INVALID_SHAPE);
    CHECK_STATUS(hm_dist_box(3, g, 4, ax, grid, 0, off, ext), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_dist_box(3, g, 2, same, grid, 0, off, ext), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_dist_box(3, g, 2, ax, zero, 0, off, ext), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_dist_box(3, g, 2, ax, grid, -1, off, ext), HM_STATUS_INVALID_ARGUMENT);
    int64_t neg[3] = {10, -3, 7};
    CHECK_STATUS(hm_dist_box(3, neg, 2, ax, grid, 0, off, ext), HM_STATUS_INVALID_SHAPE);
    /* 3 × 2 ranks over axes 0 and 2, and a 7th rank outside the grid: every element once. */
    int count[10][3][7] = {{{0}}};
    for (int r = 0; r < 7; r++) {
        CHECK_STATUS(hm_dist_box(3, g, 2, ax, grid, r, off, ext), HM_STATUS_SUCCESS);
        for (int64_t i = off[0]; i < off[0] + ext[0]; i++)
            for (int64_t j = off[1]; j < off[1] + ext[1]; j++)
                for (int64_t k = off[2]; k < off[2] + ext[2]; k++)
                    count[i][j][k]++;
        if (r == 0) /* 10 over 3: 4, 3, 3; 7 over 2: 4, 3 */
            CHECK(ext[0] == 4 && ext[1] == 3 && ext[2] == 4 && off[2] == 0);
        if (r == 5)
            CHECK(off[0] == 7 && ext[0] == 3 && off[2] == 4 && ext[2] == 3);
        if (r == 6)
            CHECK_EQ_INT(ext[0] * ext[1] * ext[2], 0);
    }
    int wrong = 0;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 7; k++)
                wrong += count[i][j][k] != 1;
    CHECK_EQ_INT(wrong, 0);
}

/* ---- the distributed FFT ---------------------------------------------------------------- */

/* x's value at global linear index g (a c2r input: Hermitian enough that the real output is
 * what the serial transform gives too, since both read the same half). */
static double complex value(int64_t g, int complex_x)
{
    return sin(0.37 * (double)g + 0.1) + (complex_x ? I * cos(0.11 * (double)g) : 0);
}

typedef struct fft_case {
    hm_fft_type type;
    hm_dtype x;
    int ndim;
    int64_t n[3]; /* the logical lengths (the real side's for r2c and c2r) */
    int transposed;
    hm_fft_norm norm;
    int natural; /* 1: x and y in the transform's own decomposition (hm_dist_fft_boxes); 2: the
                    same, y's memory one element off FFTW's alignment (it then transforms in
                    its own buffer) */
} fft_case;

static hm_dtype y_dtype(const fft_case *c)
{
    if (c->type == HM_FFT_C2C)
        return c->x;
    if (c->type == HM_FFT_R2C)
        return c->x == HM_DTYPE_F64 ? HM_DTYPE_C128 : HM_DTYPE_C64;
    return c->x == HM_DTYPE_C128 ? HM_DTYPE_F64 : HM_DTYPE_F32;
}

/* Global shapes of x and y. */
static void fft_shapes(const fft_case *c, int64_t *gx, int64_t *gy)
{
    int r = c->ndim;
    for (int i = 0; i < r; i++)
        gx[i] = gy[i] = c->n[i];
    if (c->type == HM_FFT_R2C)
        gy[r - 1] = c->n[r - 1] / 2 + 1;
    if (c->type == HM_FFT_C2R)
        gx[r - 1] = c->n[r - 1] / 2 + 1;
    if (c->transposed) {
        int64_t t = gy[0];
        gy[0] = gy[1];
        gy[1] = t;
    }
}

/* A distributed tensor of global shape g: in `box` (offset, extent) given, else a pencil over
 * the last two axes; local row-major. */
static void dist_alloc(hm_context *ctx, int ndim, const int64_t *g, hm_dtype dt, const int64_t *off,
                       const int64_t *ext, hm_dist_tensor *t)
{
    int64_t o[3], e[3];
    if (!off) {
        int grid[3], axes[2] = {ndim - 2, ndim - 1};
        grid_of(2, grid);
        CHECK_STATUS(hm_dist_box(ndim, g, 2, axes, grid, g_rank, o, e), HM_STATUS_SUCCESS);
        off = o;
        ext = e;
    }
    memset(t, 0, sizeof *t);
    memcpy(t->global_shape, g, sizeof(int64_t) * (size_t)ndim);
    memcpy(t->offset, off, sizeof(int64_t) * (size_t)ndim);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dt, ndim, ext, &t->local),
                 HM_STATUS_SUCCESS);
}

/* Global linear index of local element `at` (row-major local) of t. */
static int64_t global_index(const hm_dist_tensor *t, int64_t at, int swap01)
{
    int nd = t->local.ndim;
    int64_t idx[3], g = 0;
    for (int i = nd - 1; i >= 0; i--) {
        idx[i] = at % t->local.shape[i] + t->offset[i];
        at /= t->local.shape[i];
    }
    int64_t shape[3];
    memcpy(shape, t->global_shape, sizeof shape);
    if (swap01) { /* the index in the unswapped (serial) array */
        int64_t a = idx[0];
        idx[0] = idx[1];
        idx[1] = a;
        int64_t b = shape[0];
        shape[0] = shape[1];
        shape[1] = b;
    }
    for (int i = 0; i < nd; i++)
        g = g * shape[i] + idx[i];
    return g;
}

/* FFTW-MPI's share of an axis of n for rank q: ceil(n/p) a rank, the last ones short. */
static int64_t fftw_share(int64_t n, int q)
{
    int64_t block = (n + g_size - 1) / g_size, left = n - q * block;
    return left < 0 ? 0 : (left < block ? left : block);
}

/* The transform's own transposes in this rank's ledger, exactly: to each peer its rows of this
 * rank's planes (and, when the output goes back into slabs, that peer's planes of this rank's
 * rows back), and as much the other way; of the complex side (r2c, c2r: the halved last axis). */
static void check_transposes(hm_context *ctx, const fft_case *c)
{
    int r = c->ndim;
    int64_t nc[3], rest = 1;
    for (int i = 0; i < r; i++)
        nc[i] = c->n[i];
    if (c->type != HM_FFT_C2C)
        nc[r - 1] = c->n[r - 1] / 2 + 1;
    for (int i = 2; i < r; i++)
        rest *= nc[i];
    hm_dtype cplx = c->type == HM_FFT_C2R ? c->x : y_dtype(c);
    long long want[2] = {0, 0}, have[2] = {0, 0};
    int64_t my0 = fftw_share(nc[0], g_rank), my1 = fftw_share(nc[1], g_rank);
    for (int q = 0; q < g_size; q++) {
        if (q == g_rank)
            continue;
        int64_t out = my0 * fftw_share(nc[1], q), in = fftw_share(nc[0], q) * my1;
        want[0] += (out + (c->transposed ? 0 : in)) * rest * (long long)hm_dtype_size(cplx);
        want[1] += (in + (c->transposed ? 0 : out)) * rest * (long long)hm_dtype_size(cplx);
    }
    for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
        hm_transfer_record rec;
        hm_ledger_record(ctx, i, &rec);
        if (strcmp(rec.operand, "x (transposes)") != 0)
            continue;
        have[0] += rec.src_rank == g_rank ? (long long)rec.bytes : 0;
        have[1] += rec.dst_rank == g_rank ? (long long)rec.bytes : 0;
    }
    CHECK_EQ_INT(have[0], want[0]);
    CHECK_EQ_INT(have[1], want[1]);
}

/* One case: y from the distributed transform against each rank's serial hm_fft of the whole x,
 * within the dtype's threshold; x unchanged. Returns the relative error. */
static double run_fft_case(hm_context *ctx, hm_comm *comm, const fft_case *c)
{
    int64_t gx[3], gy[3], xo[3], xe[3], yo[3], ye[3];
    fft_shapes(c, gx, gy);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.type = c->type;
    o.direction = c->type == HM_FFT_C2R ? HM_FFT_INVERSE : HM_FFT_FORWARD;
    o.norm = c->norm;
    o.transposed_out = c->transposed;
    CHECK_STATUS(hm_dist_fft_boxes(ctx, comm, c->ndim, c->n, &o, xo, xe, yo, ye),
                 HM_STATUS_SUCCESS);
    hm_dist_tensor x, y;
    dist_alloc(ctx, c->ndim, gx, c->x, c->natural ? xo : NULL, xe, &x);
    dist_alloc(ctx, c->ndim, gy, y_dtype(c), c->natural ? yo : NULL, ye, &y);
    hm_tensor y_mem = y.local; /* y's allocation; shifted by one element when natural is 2 */
    if (c->natural == 2) {
        int64_t more = hm_tensor_numel(&y.local) + 1;
        hm_tensor_free(ctx, &y_mem);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), y_dtype(c), 1, &more, &y_mem),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_init(&y.local, (char *)y_mem.data + hm_dtype_size(y_dtype(c)),
                                    hm_device_host(), y_dtype(c), c->ndim, ye, NULL),
                     HM_STATUS_SUCCESS);
    }
    int cx = c->x == HM_DTYPE_C64 || c->x == HM_DTYPE_C128;
    for (int64_t i = 0; i < hm_tensor_numel(&x.local); i++)
        set(x.local.data, c->x, i, value(global_index(&x, i, 0), cx));
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &y, &o), HM_STATUS_SUCCESS);
    check_transposes(ctx, c);
    if (c->natural) { /* nothing exchanged around the transform's own transposes */
        hm_transfer_record r;
        CHECK(!hm_test_last_record(ctx, "x", &r) && !hm_test_last_record(ctx, "y", &r));
    }
    /* The serial reference: the whole x on this rank, hm_fft on the CPU. */
    hm_tensor sx, sy = {0};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), c->x, c->ndim, gx, &sx), HM_STATUS_SUCCESS);
    for (int64_t i = 0; i < hm_tensor_numel(&sx); i++)
        set(sx.data, c->x, i, value(i, cx));
    hm_fft_options so;
    hm_fft_options_init(&so);
    so.type = o.type;
    so.direction = o.direction;
    so.norm = o.norm;
    so.last_length = c->type == HM_FFT_C2R ? c->n[c->ndim - 1] : 0;
    so.execution = hm_execution_cpu(1);
    CHECK_STATUS(hm_fft(ctx, &sx, &sy, &so), HM_STATUS_SUCCESS);
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < hm_tensor_numel(&sy); i++)
        scale = fmax(scale, cabs(get(sy.data, sy.dtype, i)));
    for (int64_t i = 0; i < hm_tensor_numel(&y.local); i++) {
        double complex want = get(sy.data, sy.dtype, global_index(&y, i, c->transposed));
        worst = fmax(worst, cabs(get(y.local.data, y.local.dtype, i) - want));
    }
    if (getenv("HM_TEST_VERBOSE") && g_rank == 0)
        printf("reference max %g, worst difference %g\n", scale, worst);
    long changed = 0;
    for (int64_t i = 0; i < hm_tensor_numel(&x.local); i++)
        changed += cabs(get(x.local.data, c->x, i) - value(global_index(&x, i, 0), cx)) > 1e-6;
    CHECK_EQ_INT(changed, 0);
    hm_tensor_free(ctx, &sx);
    hm_tensor_free(ctx, &sy);
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y_mem);
    return scale > 0 ? worst / scale : worst;
}

static void fft_against_serial(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(&log, &comm);
    const fft_case cases[] = {
        {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_BACKWARD, 1},
        {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_ORTHO, 2},
        {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_ORTHO, 0},
        {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 1, HM_FFT_NORM_FORWARD, 1},
        {HM_FFT_C2C, HM_DTYPE_C64, 2, {12, 10}, 1, HM_FFT_NORM_NONE, 0},
        {HM_FFT_R2C, HM_DTYPE_F64, 3, {7, 8, 10}, 0, HM_FFT_NORM_BACKWARD, 0},
        {HM_FFT_R2C, HM_DTYPE_F64, 3, {7, 8, 10}, 1, HM_FFT_NORM_ORTHO, 1},
        {HM_FFT_R2C, HM_DTYPE_F32, 2, {12, 9}, 0, HM_FFT_NORM_FORWARD, 1},
        {HM_FFT_C2R, HM_DTYPE_C128, 3, {6, 8, 10}, 0, HM_FFT_NORM_BACKWARD, 1},
        {HM_FFT_C2R, HM_DTYPE_C64, 2, {10, 12}, 0, HM_FFT_NORM_ORTHO, 0},
    };
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i++) {
        const fft_case *c = &cases[i];
        double err = run_fft_case(ctx, comm, c);
        bool single = c->x == HM_DTYPE_C64 || c->x == HM_DTYPE_F32;
        CHECK_NEAR(err, single ? 2e-6 : 1e-13, "distributed FFT against the serial one");
        if (getenv("HM_TEST_VERBOSE") && g_rank == 0)
            printf("case %zu: relative error %.3g\n", i, err);
    }
    /* The transform's own exchanges are ledgered: every byte one rank sends, another receives. */
    hm_transfer_totals t;
    hm_ledger_totals(ctx, &t);
    long long sent = 0, got = 0;
    for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
        hm_transfer_record r;
        hm_ledger_record(ctx, i, &r);
        sent += r.src_rank == g_rank ? (long long)r.bytes : 0;
        got += r.dst_rank == g_rank ? (long long)r.bytes : 0;
    }
    long long all[2] = {sent, got}, sums[2];
    MPI_Allreduce(all, sums, 2, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK_EQ_INT(sums[0], sums[1]);
    if (g_size > 1)
        CHECK(sums[0] > 0);
    CHECK_CONTAINS(log.text, "FFTW-MPI planned in ");
    /* The first case's y is rank 0's part of FFTW-MPI's output, as large as its buffer (the
     * first two axes' shares give the same count at 1, 2 and 4 ranks), 64-byte aligned: the
     * transform runs in it, one copy fewer; other ranks and cases may not, in the same call. */
    if (g_rank == 0)
        CHECK_CONTAINS(log.text, "FFTW-MPI transforms in y's own memory on this rank");
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Bad distributed FFTs: every rank fails, with the finding rank's reason. */
static void fft_bad_inputs(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    int last = g_size - 1;
    fft_case c = {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_BACKWARD, 0};
    int64_t gx[3], gy[3], o3[3], e3[3];
    fft_shapes(&c, gx, gy);
    hm_dist_tensor x, y;
    dist_alloc(ctx, 3, gx, c.x, NULL, e3, &x);
    dist_alloc(ctx, 3, gy, c.x, NULL, e3, &y);
    (void)o3;
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    /* c2r asked with transposed output on the last rank alone. */
    hm_dist_fft_options bad = o;
    if (g_rank == last) {
        bad.type = HM_FFT_C2R;
        bad.direction = HM_FFT_INVERSE;
        bad.transposed_out = 1;
    }
    hm_status st = hm_dist_fft(ctx, comm, &x, &y, &bad);
    CHECK_STATUS(st, g_rank == last ? HM_STATUS_DTYPE_MISMATCH : HM_STATUS_REMOTE_FAILURE);
    /* y of the wrong global shape (every rank): the transform's shape is named. */
    hm_dist_tensor wrong = y;
    o.transposed_out = 1;
    if (gx[0] != gx[1])
        CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &wrong, &o), HM_STATUS_INVALID_SHAPE);
    o.transposed_out = 0;
    /* A 1-D x on rank 0. */
    wrong = x;
    if (g_rank == 0)
        wrong.local.ndim = 1;
    st = hm_dist_fft(ctx, comm, &wrong, &y, &o);
    CHECK_STATUS(st, g_rank == 0 ? HM_STATUS_INVALID_SHAPE : HM_STATUS_REMOTE_FAILURE);
    /* Options of a bad size on rank 0. */
    bad = o;
    if (g_rank == 0)
        bad.size = 3;
    st = hm_dist_fft(ctx, comm, &x, &y, &bad);
    CHECK_STATUS(st, g_rank == 0 ? HM_STATUS_INVALID_ARGUMENT : HM_STATUS_REMOTE_FAILURE);
    /* And then a good one. */
    CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &y, &o), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Every failure point of a distributed FFT on the last rank (its buffer, its strided copies,
 * FFTW-MPI's planning and transform, the normalisation), failed in turn: a clean status on
 * every rank, the next call right. */
static void fft_failures_on_one_rank(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    int last = g_size - 1;
    fft_case c = {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_ORTHO, 0};
    int64_t gx[3], gy[3], e3[3];
    fft_shapes(&c, gx, gy);
    hm_dist_tensor x, y;
    dist_alloc(ctx, 3, gx, c.x, NULL, e3, &x);
    dist_alloc(ctx, 3, gy, c.x, NULL, e3, &y);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.norm = c.norm;
    const hm_fault_site sites[] = {HM_FAULT_HOST_ALLOC, HM_FAULT_BACKEND_CALL};
    for (size_t k = 0; k < HM_ARRAY_LEN(sites); k++) {
        /* The points of exactly one call, counted on the rank that will fail. */
        long before = hm_debug_site_count(ctx, sites[k]);
        CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &y, &o), HM_STATUS_SUCCESS);
        long points = hm_debug_site_count(ctx, sites[k]) - before;
        MPI_Bcast(&points, 1, MPI_LONG, last, MPI_COMM_WORLD);
        CHECK(points > 0);
        for (long n = 1; n <= points; n++) {
            if (g_rank == last)
                hm_debug_inject_failure(ctx, sites[k], n);
            hm_status st = hm_dist_fft(ctx, comm, &x, &y, &o);
            int failed = st != HM_STATUS_SUCCESS, all = 0;
            MPI_Allreduce(&failed, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
            CHECK_EQ_INT(all, g_size); /* every point fails the call, on every rank */
            if (g_rank == last)
                CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
            else
                CHECK_STATUS(st, HM_STATUS_REMOTE_FAILURE);
            hm_debug_inject_failure(ctx, sites[k], 0);
            CHECK_NEAR(run_fft_case(ctx, comm, &c), 1e-13, "the call after a failure");
        }
        if (g_rank == last)
            printf("test_dist: fft: %ld failure points at site %d on rank %d\n", points,
                   (int)sites[k], last);
    }
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* ---- the distributed matmul ------------------------------------------------------------- */

enum { MM_M = 37, MM_N = 29, MM_K = 23 };

/* A 2-D distributed matrix rows × cols: the natural box given, else (the `layout`-th of three)
 * row slabs, column slabs, or blocks over a grid; local row-major, or column-major when odd. */
static void mat_alloc(hm_context *ctx, int64_t rows, int64_t cols, hm_dtype dt, const int64_t *off,
                      const int64_t *ext, int layout, hm_dist_tensor *t)
{
    int64_t g[2] = {rows, cols}, o[2], e[2];
    if (!off) {
        int axes[2] = {layout == 1 ? 1 : 0, 1}, grid[3];
        grid_of(layout == 2 ? 2 : 1, grid);
        CHECK_STATUS(hm_dist_box(2, g, layout == 2 ? 2 : 1, axes, grid, g_rank, o, e),
                     HM_STATUS_SUCCESS);
        off = o;
        ext = e;
    }
    memset(t, 0, sizeof *t);
    memcpy(t->global_shape, g, sizeof g);
    memcpy(t->offset, off, 2 * sizeof(int64_t));
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dt, 2, ext, &t->local), HM_STATUS_SUCCESS);
    if (layout % 2 == 1) { /* column-major local */
        t->local.strides[0] = 1;
        t->local.strides[1] = ext[0];
    }
}

static double complex mat_value(int which, int64_t i, int64_t j)
{
    return sin(0.3 * (double)i + 0.7 * (double)j + 0.1 * which) +
           I * cos(0.2 * (double)i - 0.5 * (double)j + which);
}

static void mat_fill(hm_dist_tensor *t, int which)
{
    int cx = t->local.dtype == HM_DTYPE_C64 || t->local.dtype == HM_DTYPE_C128;
    for (int64_t i = 0; i < t->local.shape[0]; i++)
        for (int64_t j = 0; j < t->local.shape[1]; j++) {
            double complex v = mat_value(which, i + t->offset[0], j + t->offset[1]);
            set(t->local.data, t->local.dtype, i * t->local.strides[0] + j * t->local.strides[1],
                cx ? v : creal(v));
        }
}

static double complex mat_operand(const void *user, int which, int64_t i, int64_t j)
{
    return mat_value(which == 2 ? *(const int *)user : which, i, j);
}

/* D's box against alpha·A·B + beta·C in double precision (C: the values `c_which` gives, when
 * beta is not 0), relative to the largest magnitude of the terms. */
static double mat_error(const hm_dist_tensor *d, double alpha, double beta, int c_which)
{
    return hm_test_matmul_error(d->local.data, d->local.dtype, d->local.shape, d->local.strides,
                                d->offset, MM_K, alpha, beta, mat_operand, &c_which);
}

static void matmul_against_serial(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(&log, &comm);
    const hm_dtype dtypes[] = {HM_DTYPE_F64, HM_DTYPE_C128, HM_DTYPE_F32, HM_DTYPE_C64};
    int64_t ao[2], ae[2], bo[2], be[2], dof[2], de[2];
    CHECK_STATUS(hm_dist_matmul_boxes(ctx, comm, MM_M, MM_N, MM_K, ao, ae, bo, be, dof, de),
                 HM_STATUS_SUCCESS);
    for (size_t t = 0; t < HM_ARRAY_LEN(dtypes); t++)
        for (int variant = 0; variant < 5; variant++) {
            /* 0: natural boxes, beta 0; 1: slabs and blocks with C; 2: in place (beta scales
             * D's own values); 3: natural, with C; 4: natural and row-major, beta scaling D's
             * own values: the product in the operands' own blocks */
            int natural = variant == 0 || variant == 3 || variant == 4;
            hm_dist_tensor A, B, C, D;
            mat_alloc(ctx, MM_M, MM_K, dtypes[t], natural ? ao : NULL, ae, 0, &A);
            mat_alloc(ctx, MM_K, MM_N, dtypes[t], natural ? bo : NULL, be, variant == 4 ? 0 : 1,
                      &B);
            mat_alloc(ctx, MM_M, MM_N, dtypes[t], natural ? dof : NULL, de, 2, &C);
            mat_alloc(ctx, MM_M, MM_N, dtypes[t], natural ? dof : NULL, de,
                      variant == 2   ? 2
                      : variant == 4 ? 0
                                     : 3,
                      &D);
            mat_fill(&A, 0);
            mat_fill(&B, 1);
            mat_fill(&C, 2);
            mat_fill(&D, 3);
            hm_dist_matmul_options o;
            hm_dist_matmul_options_init(&o);
            o.alpha = 1.5;
            o.beta = variant == 0 ? 0.0 : -0.5;
            hm_ledger_reset(ctx);
            bool with_c = variant == 1 || variant == 3;
            CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, with_c ? &C : NULL, &D, &o),
                         HM_STATUS_SUCCESS);
            bool single = dtypes[t] == HM_DTYPE_F32 || dtypes[t] == HM_DTYPE_C64;
            double err = mat_error(&D, o.alpha, o.beta, with_c ? 2 : 3);
            CHECK_NEAR(err, single ? 1e-5 : 1e-13,
                       "distributed matmul against the double reference");
            if (getenv("HM_TEST_VERBOSE") && g_rank == 0)
                printf("matmul %s variant %d: relative error %.3g\n", hm_dtype_name(dtypes[t]),
                       variant, err);
            if (natural) { /* nothing exchanged around the product's own panels */
                hm_transfer_record r;
                CHECK(!hm_test_last_record(ctx, "A", &r) && !hm_test_last_record(ctx, "D", &r));
            }
            hm_tensor_free(ctx, &A.local);
            hm_tensor_free(ctx, &B.local);
            hm_tensor_free(ctx, &C.local);
            hm_tensor_free(ctx, &D.local);
        }
    CHECK_CONTAINS(log.text, "ScaLAPACK: a ");
    if (g_rank == 0) /* variant 4: A, B and D in place (rank 0's blocks are never empty) */
        CHECK_CONTAINS(log.text, "ScaLAPACK works in 3 of the operands' own blocks on this rank");
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

static void matmul_bad_inputs(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    int last = g_size - 1;
    hm_dist_tensor A, B, C, D, wrong;
    mat_alloc(ctx, MM_M, MM_K, HM_DTYPE_F64, NULL, NULL, 0, &A);
    mat_alloc(ctx, MM_K, MM_N, HM_DTYPE_F64, NULL, NULL, 1, &B);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_F64, NULL, NULL, 2, &C);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_F64, NULL, NULL, 0, &D);
    hm_dist_matmul_options o, other;
    hm_dist_matmul_options_init(&o);
    /* B of K+1 rows everywhere: the inner dimensions differ (B's boxes re-made for it). */
    mat_alloc(ctx, MM_K + 1, MM_N, HM_DTYPE_F64, NULL, NULL, 1, &wrong);
    CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &wrong, NULL, &D, &o), HM_STATUS_SHAPE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "inner dimensions differ");
    hm_tensor_free(ctx, &wrong.local);
    /* C given on the last rank only; beta different on the last rank. */
    if (g_size > 1) {
        CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, g_rank == last ? &C : NULL, &D, &o),
                     HM_STATUS_INVALID_DISTRIBUTION);
        CHECK_CONTAINS(hm_context_last_error(ctx), "the ranks disagree on which operands");
        other = o;
        if (g_rank == last)
            other.beta = 1;
        CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, &C, &D, &other),
                     HM_STATUS_INVALID_DISTRIBUTION);
        CHECK_CONTAINS(hm_context_last_error(ctx), "the ranks disagree on alpha and beta");
    }
    /* Another dtype for D on rank 0. */
    wrong = D;
    if (g_rank == 0)
        wrong.local.dtype = HM_DTYPE_F32;
    hm_status st = hm_dist_matmul(ctx, comm, &A, &B, NULL, &wrong, &o);
    CHECK_STATUS(st, g_rank == 0 ? HM_STATUS_DTYPE_MISMATCH : HM_STATUS_REMOTE_FAILURE);
    /* f16 everywhere. */
    hm_dist_tensor h[3] = {A, B, D};
    for (int i = 0; i < 3; i++)
        h[i].local.dtype = HM_DTYPE_F16;
    CHECK_STATUS(hm_dist_matmul(ctx, comm, &h[0], &h[1], NULL, &h[2], &o), HM_STATUS_INVALID_DTYPE);
    /* And a good call. */
    mat_fill(&A, 0);
    mat_fill(&B, 1);
    CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, NULL, &D, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(mat_error(&D, 1.0, 0.0, 3), 1e-13, "the call after bad ones");
    hm_tensor_free(ctx, &A.local);
    hm_tensor_free(ctx, &B.local);
    hm_tensor_free(ctx, &C.local);
    hm_tensor_free(ctx, &D.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Every failure point of a distributed matmul on the last rank, failed in turn: together on
 * every rank, and the next call right. */
static void matmul_failures_on_one_rank(void)
{
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(NULL, &comm);
    int last = g_size - 1;
    hm_dist_tensor A, B, C, D;
    mat_alloc(ctx, MM_M, MM_K, HM_DTYPE_C128, NULL, NULL, 2, &A);
    mat_alloc(ctx, MM_K, MM_N, HM_DTYPE_C128, NULL, NULL, 0, &B);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_C128, NULL, NULL, 1, &C);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_C128, NULL, NULL, 2, &D);
    mat_fill(&A, 0);
    mat_fill(&B, 1);
    mat_fill(&C, 2);
    hm_dist_matmul_options o;
    hm_dist_matmul_options_init(&o);
    o.beta = 2.0;
    const hm_fault_site sites[] = {HM_FAULT_HOST_ALLOC, HM_FAULT_BACKEND_CALL};
    for (size_t k = 0; k < HM_ARRAY_LEN(sites); k++) {
        long before = hm_debug_site_count(ctx, sites[k]);
        CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, &C, &D, &o), HM_STATUS_SUCCESS);
        long points = hm_debug_site_count(ctx, sites[k]) - before;
        MPI_Bcast(&points, 1, MPI_LONG, last, MPI_COMM_WORLD);
        CHECK(points > 0);
        for (long n = 1; n <= points; n++) {
            if (g_rank == last)
                hm_debug_inject_failure(ctx, sites[k], n);
            hm_status st = hm_dist_matmul(ctx, comm, &A, &B, &C, &D, &o);
            if (g_rank == last)
                CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
            else
                CHECK_STATUS(st, HM_STATUS_REMOTE_FAILURE);
            CHECK(st != HM_STATUS_SUCCESS);
            hm_debug_inject_failure(ctx, sites[k], 0);
            CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, &C, &D, &o), HM_STATUS_SUCCESS);
            CHECK_NEAR(mat_error(&D, 1.0, 2.0, 2), 1e-13, "the call after a failure");
        }
        if (g_rank == last)
            printf("test_dist: matmul: %ld failure points at site %d on rank %d\n", points,
                   (int)sites[k], last);
    }
    hm_tensor_free(ctx, &A.local);
    hm_tensor_free(ctx, &B.local);
    hm_tensor_free(ctx, &C.local);
    hm_tensor_free(ctx, &D.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

/* Plans made once and executed on new values: each execution as the stateless call's, no new
 * FFTW-MPI or ScaLAPACK plan; bad plans and boxes on one rank fail every rank. */
static void plans(void)
{
    static hm_test_log log;
    hm_comm *comm = NULL;
    hm_context *ctx = dist_context(&log, &comm);
    int last = g_size - 1;
    fft_case c = {HM_FFT_C2C, HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_NORM_ORTHO, 0};
    int64_t gx[3], gy[3], e3[3];
    fft_shapes(&c, gx, gy);
    hm_dist_tensor x, y, y2;
    dist_alloc(ctx, 3, gx, c.x, NULL, e3, &x);
    dist_alloc(ctx, 3, gy, c.x, NULL, e3, &y);
    dist_alloc(ctx, 3, gy, c.x, NULL, e3, &y2);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.norm = c.norm;
    hm_dist_fft_plan *fp = NULL;
    CHECK_STATUS(hm_dist_fft_plan_create(ctx, comm, &x, &y, &o, &fp), HM_STATUS_SUCCESS);
    for (int call = 0; call < 3; call++) {
        for (int64_t i = 0; i < hm_tensor_numel(&x.local); i++)
            set(x.local.data, c.x, i, value(global_index(&x, i, 0) + 17 * call, 1));
        hm_test_log_clear(&log);
        CHECK_STATUS(hm_dist_fft_execute(ctx, comm, fp, &x, &y), HM_STATUS_SUCCESS);
        CHECK(strstr(log.text, "FFTW-MPI planned") == NULL); /* planned once */
        CHECK_STATUS(hm_dist_fft(ctx, comm, &x, &y2, &o), HM_STATUS_SUCCESS);
        CHECK(memcmp(y.local.data, y2.local.data, hm_tensor_nbytes(&y.local)) == 0);
    }
    /* A NULL plan, or another box, on the last rank: every rank fails. */
    hm_status st = hm_dist_fft_execute(ctx, comm, g_rank == last ? NULL : fp, &x, &y);
    CHECK_STATUS(st, g_rank == last ? HM_STATUS_INVALID_ARGUMENT : HM_STATUS_REMOTE_FAILURE);
    hm_dist_tensor moved = x;
    if (g_rank == last)
        moved.offset[2] += 1;
    st = hm_dist_fft_execute(ctx, comm, fp, &moved, &y);
    CHECK_STATUS(st, g_rank == last ? HM_STATUS_PLAN_MISMATCH : HM_STATUS_REMOTE_FAILURE);
    CHECK_STATUS(hm_dist_fft_execute(ctx, comm, fp, &x, &y), HM_STATUS_SUCCESS);
    hm_dist_fft_plan_destroy(fp);
    /* No place for the plan on rank 0: every rank fails, none leaks. */
    fp = NULL;
    st = hm_dist_fft_plan_create(ctx, comm, &x, &y, &o, g_rank == 0 ? NULL : &fp);
    CHECK_STATUS(st, g_rank == 0 ? HM_STATUS_INVALID_ARGUMENT : HM_STATUS_REMOTE_FAILURE);
    CHECK(fp == NULL);

    /* The matmul. */
    hm_dist_tensor A, B, D, D2;
    mat_alloc(ctx, MM_M, MM_K, HM_DTYPE_F64, NULL, NULL, 0, &A);
    mat_alloc(ctx, MM_K, MM_N, HM_DTYPE_F64, NULL, NULL, 1, &B);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_F64, NULL, NULL, 2, &D);
    mat_alloc(ctx, MM_M, MM_N, HM_DTYPE_F64, NULL, NULL, 2, &D2);
    hm_dist_matmul_options mo;
    hm_dist_matmul_options_init(&mo);
    mo.alpha = 0.75;
    hm_dist_matmul_plan *mp = NULL;
    CHECK_STATUS(hm_dist_matmul_plan_create(ctx, comm, &A, &B, NULL, &D, &mo, &mp),
                 HM_STATUS_SUCCESS);
    for (int call = 0; call < 3; call++) {
        mat_fill(&A, call);
        mat_fill(&B, 1);
        hm_test_log_clear(&log);
        CHECK_STATUS(hm_dist_matmul_execute(ctx, comm, mp, &A, &B, NULL, &D), HM_STATUS_SUCCESS);
        CHECK(strstr(log.text, "ScaLAPACK: a ") == NULL); /* its grid made once */
        CHECK_STATUS(hm_dist_matmul(ctx, comm, &A, &B, NULL, &D2, &mo), HM_STATUS_SUCCESS);
        CHECK(memcmp(D.local.data, D2.local.data, hm_tensor_nbytes(&D.local)) == 0);
    }
    hm_dist_matmul_plan_destroy(mp);
    hm_tensor_free(ctx, &x.local);
    hm_tensor_free(ctx, &y.local);
    hm_tensor_free(ctx, &y2.local);
    hm_tensor_free(ctx, &A.local);
    hm_tensor_free(ctx, &B.local);
    hm_tensor_free(ctx, &D.local);
    hm_tensor_free(ctx, &D2.local);
    hm_comm_destroy(comm);
    hm_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const hm_test_case cases[] = {
        HM_TEST_CASE(boxes),
        HM_TEST_CASE(reshapes),
        HM_TEST_CASE(bad_distributions),
        HM_TEST_CASE(failures_on_one_rank),
        HM_TEST_CASE(fft_against_serial),
        HM_TEST_CASE(fft_bad_inputs),
        HM_TEST_CASE(fft_failures_on_one_rank),
        HM_TEST_CASE(matmul_against_serial),
        HM_TEST_CASE(matmul_bad_inputs),
        HM_TEST_CASE(matmul_failures_on_one_rank),
        HM_TEST_CASE(plans),
    };
    return hm_mpi_test_main(argc, argv, "test_dist", cases, (int)HM_ARRAY_LEN(cases), &g_rank,
                            &g_size);
}
