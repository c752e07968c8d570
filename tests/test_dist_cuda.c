/* The distributed layer on GPU ranks (NCCL): each rank's operands on its own device (rank r on
 * cuda:r), run by ctest under mpirun with 1 and 2 ranks; skipped (77, on every rank) when the
 * machine has fewer devices than ranks, or none. The distributed FFT (c2c, 2-D and 3-D, c64 and
 * c128, uneven slabs, left transposed or not, the four norms, both exchange modes: packed small
 * planes and a plane a message) against each rank's serial CPU transform of the whole array; x
 * in the transform's decomposition (read where it is) or in pencils (exchanged into it on the
 * device), y likewise; x never changed; the exchanges' ledger records (path nccl) summing to the
 * same bytes sent as received, exactly the slabs' counts; a plan executed on new values; reshapes
 * of device data against the values; ranks disagreeing on host or device memory refused on every
 * rank. */
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
    hm_dtype dt;
    int nd;
    int64_t n[3];
    int transposed;
    hm_fft_direction dir;
    hm_fft_norm norm;
    int natural; /* x and y in the transform's decomposition, else pencils */
} fft_case;

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
    int64_t gy[3], xo[3], xe[3], yo[3], ye[3];
    memcpy(gy, c->n, sizeof gy);
    if (c->transposed) {
        gy[0] = c->n[1];
        gy[1] = c->n[0];
    }
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.direction = c->dir;
    o.norm = c->norm;
    o.transposed_out = c->transposed;
    CHECK_STATUS(hm_dist_fft_boxes(ctx, comm, nd, c->n, &o, xo, xe, yo, ye), HM_STATUS_SUCCESS);
    if (!c->natural) {
        pencil(nd, c->n, xo, xe);
        pencil(nd, gy, yo, ye);
    }
    hm_dist_tensor x, y;
    hm_tensor hx, hy;
    device_part(ctx, nd, c->n, c->dt, xo, xe, &x, &hx);
    device_part(ctx, nd, gy, c->dt, yo, ye, &y, &hy);
    hm_dist_fft_plan *plan = NULL;
    CHECK_STATUS(hm_dist_fft_plan_create(ctx, comm, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    double worst = 0;
    hm_tensor sx, sy = {0};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, nd, c->n, &sx),
                 HM_STATUS_SUCCESS);
    for (int round = 0; round < 2; round++) {
        for (int64_t i = 0; i < hm_tensor_numel(&hx); i++)
            set(hx.data, c->dt, i, value(global_index(nd, c->n, xo, xe, i, false), round));
        CHECK_STATUS(hm_copy(ctx, &hx, &x.local), HM_STATUS_SUCCESS);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_dist_fft_execute(ctx, comm, plan, &x, &y), HM_STATUS_SUCCESS);
        long long sent, got;
        remote_bytes(ctx, &sent, &got);
        CHECK_EQ_INT(sent, got);
        if (c->natural && g_size > 1) { /* the slabs' exchanges alone: (p-1)/p of the array
                                           when the slabs divide evenly, each way */
            int64_t n = 1;
            for (int i = 0; i < nd; i++)
                n *= c->n[i];
            if (c->n[0] % g_size == 0 && c->n[1] % g_size == 0)
                CHECK_EQ_INT(sent, (long long)(n / g_size * (g_size - 1)) *
                                       (long long)hm_dtype_size(c->dt) * (c->transposed ? 1 : 2));
        }
        CHECK_STATUS(hm_copy(ctx, &y.local, &hy), HM_STATUS_SUCCESS);
        for (int64_t i = 0; i < hm_tensor_numel(&sx); i++)
            set(sx.data, HM_DTYPE_C128, i, value(i, round));
        hm_fft_options so;
        hm_fft_options_init(&so);
        so.direction = c->dir;
        so.norm = c->norm;
        so.execution = hm_execution_cpu(1);
        CHECK_STATUS(hm_fft(ctx, &sx, &sy, &so), HM_STATUS_SUCCESS);
        double scale = 0, diff = 0;
        for (int64_t i = 0; i < hm_tensor_numel(&sy); i++)
            scale = fmax(scale, cabs(get(sy.data, HM_DTYPE_C128, i)));
        for (int64_t i = 0; i < hm_tensor_numel(&hy); i++) {
            int64_t g = global_index(nd, gy, yo, ye, i, c->transposed);
            diff = fmax(diff, cabs(get(hy.data, c->dt, i) - get(sy.data, HM_DTYPE_C128, g)));
        }
        worst = fmax(worst, diff / (scale > 0 ? scale : 1));
        hm_tensor_free(ctx, &sy);
        /* x unchanged */
        CHECK_STATUS(hm_copy(ctx, &x.local, &hx), HM_STATUS_SUCCESS);
        long changed = 0;
        for (int64_t i = 0; i < hm_tensor_numel(&hx); i++)
            changed += cabs(get(hx.data, c->dt, i) -
                            value(global_index(nd, c->n, xo, xe, i, false), round)) > 1e-6;
        CHECK_EQ_INT(changed, 0);
    }
    hm_dist_fft_plan_destroy(plan);
    hm_tensor_free(ctx, &sx);
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
        {HM_DTYPE_C128, 3, {9, 6, 10}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1},
        {HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_FORWARD, HM_FFT_NORM_ORTHO, 1},
        {HM_DTYPE_C128, 3, {9, 6, 10}, 0, HM_FFT_INVERSE, HM_FFT_NORM_BACKWARD, 0},
        {HM_DTYPE_C64, 2, {13, 10}, 1, HM_FFT_FORWARD, HM_FFT_NORM_FORWARD, 1},
        {HM_DTYPE_C64, 2, {12, 10}, 0, HM_FFT_INVERSE, HM_FFT_NORM_ORTHO, 0},
        /* planes of 256 KiB a peer and more: a plane a message */
        {HM_DTYPE_C64, 3, {16, 256, 256}, 1, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1},
        {HM_DTYPE_C64, 3, {17, 256, 258}, 0, HM_FFT_FORWARD, HM_FFT_NORM_BACKWARD, 1},
    };
    for (size_t i = 0; i < HM_ARRAY_LEN(cases); i++) {
        double err = run_case(ctx, comm, &cases[i]);
        double limit = cases[i].dt == HM_DTYPE_C64 ? 1e-5 : 1e-12;
        if (err > limit)
            printf("rank %d: case %zu: error %g over %g\n", g_rank, i, err, limit);
        CHECK(err <= limit);
    }
    CHECK_CONTAINS(log.text, "distributed FFT on cuda:");
    CHECK_CONTAINS(log.text, "each exchanged by NCCL while the next transforms");
    CHECK_CONTAINS(log.text, "cuFFT reads x where it is on this rank");
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

int main(int argc, char **argv)
{
    static const hm_test_case cases[] = {
        HM_TEST_CASE(fft_against_serial),
        HM_TEST_CASE(reshapes),
        HM_TEST_CASE(mixed_memory),
    };
    return hm_mpi_test_main(argc, argv, "test_dist_cuda", cases, (int)HM_ARRAY_LEN(cases), &g_rank,
                            &g_size);
}
