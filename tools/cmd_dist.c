/* hetmath bench dist-fft | dist-matmul, under mpirun: one distributed operation timed over all
 * ranks (a call's time is the slowest rank's, after a barrier), rank 0 printing one line or one
 * JSON object for all, with the serial floor beside it: the rank's local work timed alone plus
 * its exchanges' bytes at the all-to-all rate measured in the same run. Built with MPI only. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hetmath/mpi.h"

/* Times fn `repeat` times after `warmup`, each the slowest rank's, after a barrier: the median. */
static double time_all(void (*fn)(void *), void *arg, int repeat, int warmup, double *times)
{
    for (int i = 0; i < warmup; i++)
        fn(arg);
    for (int i = 0; i < repeat; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        fn(arg);
        double mine = MPI_Wtime() - t0;
        MPI_Allreduce(&mine, &times[i], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    }
    double *s = malloc(sizeof *s * (size_t)repeat);
    if (!s)
        return times[0];
    memcpy(s, times, sizeof *s * (size_t)repeat);
    for (int i = 1; i < repeat; i++) /* insertion sort: a few dozen entries */
        for (int j = i; j > 0 && s[j] < s[j - 1]; j--) {
            double t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    double m = s[repeat / 2];
    free(s);
    return m;
}

/* The all-to-all rate: each rank sending `bytes` in all, an equal share to every rank. */
typedef struct a2a_job {
    char *send, *recv;
    int count;
} a2a_job;

static void run_a2a(void *arg)
{
    a2a_job *a = arg;
    MPI_Alltoall(a->send, a->count, MPI_BYTE, a->recv, a->count, MPI_BYTE, MPI_COMM_WORLD);
}

static double alltoall_seconds(size_t bytes, int size)
{
    a2a_job a = {malloc(bytes + 1), malloc(bytes + 1), (int)(bytes / (size_t)size)};
    double t = 0, times[5];
    if (a.send && a.recv) {
        memset(a.send, 1, bytes);
        t = time_all(run_a2a, &a, 5, 1, times);
    }
    free(a.send);
    free(a.recv);
    return t;
}

typedef struct dist_fft_job {
    hm_comm *comm;
    hm_dist_fft_plan *plan;
    hm_dist_tensor x, y;
} dist_fft_job;

static void run_dist_fft(void *arg)
{
    dist_fft_job *j = arg;
    (void)hm_dist_fft_execute(g_ctx, j->comm, j->plan, &j->x, &j->y);
}

typedef struct local_fft_job {
    hm_tensor x, y;
    hm_fft_options o;
} local_fft_job;

static void run_local_fft(void *arg)
{
    local_fft_job *j = arg;
    (void)hm_fft(g_ctx, &j->x, &j->y, &j->o);
    (void)hm_context_synchronize(g_ctx); /* device calls return once queued */
}

/* The local transforms of a slab decomposition alone: the rank's slab of n0 over its other axes,
 * and n0 over its share of the second axis. */
static double local_fft_seconds(int ndim, const int64_t *n, int rank, int size, hm_dtype dt,
                                hm_fft_effort effort, int repeat, hm_device space)
{
    double total = 0, times[64];
    for (int pass = 0; pass < 2; pass++) {
        int64_t shape[3], off[3], ext[3];
        int axes[1] = {pass}, grid[1] = {size};
        memcpy(shape, n, sizeof(int64_t) * (size_t)ndim);
        if (hm_dist_box(ndim, shape, 1, axes, grid, rank, off, ext) != HM_STATUS_SUCCESS)
            return 0;
        local_fft_job j;
        memset(&j, 0, sizeof j);
        if (hm_tensor_alloc(g_ctx, space, dt, ndim, ext, &j.x) != HM_STATUS_SUCCESS ||
            hm_tensor_alloc(g_ctx, space, dt, ndim, ext, &j.y) != HM_STATUS_SUCCESS)
            return 0;
        bool on_device = space.type == HM_DEVICE_CUDA;
        if (!on_device)
            memset(j.x.data, 0, hm_tensor_nbytes(&j.x));
        hm_fft_options_init(&j.o);
        j.o.execution = on_device ? hm_execution_cuda(space.id) : hm_execution_cpu(HM_AUTO);
        j.o.effort = effort;                     /* the distributed plan's */
        j.o.num_axes = pass == 0 ? ndim - 1 : 1; /* the slab's own axes, then the first */
        for (int i = 0; i < j.o.num_axes; i++)
            j.o.axes[i] = pass == 0 ? i + 1 : 0;
        total += time_all(run_local_fft, &j, repeat < 64 ? repeat : 64, 1, times);
        hm_tensor_free(g_ctx, &j.x);
        hm_tensor_free(g_ctx, &j.y);
    }
    return total;
}

static void print_result(const char *what, double median, const double *times, int repeat,
                         double floor, const char *extra, int json)
{
    if (json) {
        printf("{%s, \"times_s\": [", what);
        for (int i = 0; i < repeat; i++)
            printf("%s%.9g", i ? ", " : "", times[i]);
        printf("], \"median_s\": %.9g, \"floor_s\": %.9g%s}\n", median, floor, extra);
    } else {
        printf("%s: median %.3f ms, serial floor %.3f ms (%.2fx)\n", what, median * 1e3,
               floor * 1e3, floor > 0 ? median / floor : 0.0);
    }
}

/* The exchange of device data alone: a slab of the first axis into slabs of the second, by
 * hm_dist_reshape (NCCL, with its packing), as the GPU ranks' floor of one transpose. */
typedef struct reshape_job {
    hm_comm *comm;
    hm_dist_tensor a, b;
} reshape_job;

static void run_reshape(void *arg)
{
    reshape_job *r = arg;
    (void)hm_dist_reshape(g_ctx, r->comm, &r->a, &r->b);
}

static double device_exchange_seconds(hm_comm *comm, int nd, const int64_t *n, hm_dtype dt,
                                      hm_device space)
{
    reshape_job r = {.comm = comm};
    int rank = hm_comm_rank(comm), size = hm_comm_size(comm), grid[1] = {size};
    double t = 0, times[5];
    hm_dist_tensor *parts[2] = {&r.a, &r.b};
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        int64_t ext[3];
        memcpy(parts[i]->global_shape, n, sizeof(int64_t) * (size_t)nd);
        ok = hm_dist_box(nd, n, 1, &i, grid, rank, parts[i]->offset, ext) == HM_STATUS_SUCCESS &&
             hm_tensor_alloc(g_ctx, space, dt, nd, ext, &parts[i]->local) == HM_STATUS_SUCCESS;
    }
    if (ok)
        t = time_all(run_reshape, &r, 5, 1, times);
    hm_tensor_free(g_ctx, &r.a.local);
    hm_tensor_free(g_ctx, &r.b.local);
    return t;
}

/* This rank's device: its rank among the processes of its node, modulo the node's devices. */
static hm_device rank_device(void)
{
    MPI_Comm node;
    int local = 0, count = 0;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &local);
        MPI_Comm_free(&node);
    }
    hm_context_device_count(g_ctx, &count);
    return hm_device_cuda(count > 0 ? local % count : 0);
}

static int bench_dist_fft(args *a, hm_comm *comm, int json, const hm_bench_options *b)
{
    const char *s = arg_value(a, "--shape");
    int64_t shape[HM_MAX_NDIM];
    int nd = 0;
    if (!s || !parse_shape(s, shape, &nd) || nd < 2 || nd > 3)
        return usage_error("bench dist-fft", "--shape takes 2 or 3 lengths such as 256,256,256", s);
    hm_dtype dt = HM_DTYPE_C64;
    if ((s = arg_value(a, "--dtype")) &&
        (!parse_dtype(s, &dt) || (dt != HM_DTYPE_C64 && dt != HM_DTYPE_C128)))
        return usage_error("bench dist-fft", "--dtype takes c64 or c128", s);
    hm_dist_fft_options o;
    hm_dist_fft_options_init(&o);
    o.transposed_out = arg_flag(a, "--transposed");
    o.effort = arg_flag(a, "--measure") ? HM_FFT_MEASURE : HM_FFT_ESTIMATE;
    int rank = hm_comm_rank(comm), size = hm_comm_size(comm);
    dist_fft_job j = {.comm = comm};
    int64_t xo[3], xe[3], yo[3], ye[3];
    TRY("hm_dist_fft_boxes", hm_dist_fft_boxes(g_ctx, comm, nd, shape, &o, xo, xe, yo, ye));
    int64_t gy[3];
    memcpy(gy, shape, sizeof gy);
    if (o.transposed_out) {
        gy[0] = shape[1];
        gy[1] = shape[0];
    }
    memcpy(j.x.global_shape, shape, sizeof(int64_t) * (size_t)nd);
    memcpy(j.x.offset, xo, sizeof(int64_t) * (size_t)nd);
    memcpy(j.y.global_shape, gy, sizeof(int64_t) * (size_t)nd);
    memcpy(j.y.offset, yo, sizeof(int64_t) * (size_t)nd);
    const char *mem = arg_value(a, "--memory");
    if (mem && strcmp(mem, "host") != 0 && strcmp(mem, "cuda") != 0)
        return usage_error("bench dist-fft",
                           "--memory takes host or cuda (each rank on its node's device of its "
                           "local rank)",
                           mem);
    hm_device space = mem && strcmp(mem, "cuda") == 0 ? rank_device() : hm_device_host();
    hm_tensor hx;
    TRY("allocating x", hm_tensor_alloc(g_ctx, space, dt, nd, xe, &j.x.local));
    TRY("allocating y", hm_tensor_alloc(g_ctx, space, dt, nd, ye, &j.y.local));
    TRY("allocating x's values", hm_tensor_alloc(g_ctx, hm_device_host(), dt, nd, xe, &hx));
    /* values in [-0.5, 0.5), as the other benchmarks */
    size_t reals = hm_tensor_nbytes(&hx) / (dt == HM_DTYPE_C128 ? 8 : 4);
    for (size_t i = 0; i < reals; i++) {
        double r = (double)((i * 2654435761u) % 1000u) / 1000.0 - 0.5;
        if (dt == HM_DTYPE_C128)
            ((double *)hx.data)[i] = r;
        else
            ((float *)hx.data)[i] = (float)r;
    }
    TRY("copying x's values", hm_copy(g_ctx, &hx, &j.x.local));
    hm_tensor_free(g_ctx, &hx);
    TRY("hm_dist_fft_plan_create", hm_dist_fft_plan_create(g_ctx, comm, &j.x, &j.y, &o, &j.plan));
    double *times = calloc((size_t)b->repeat, sizeof *times);
    if (!times)
        return op_failed("allocating", HM_STATUS_OUT_OF_HOST_MEMORY);
    double t = time_all(run_dist_fft, &j, b->repeat, b->warmup, times);
    /* The floor: the local transforms alone, and the transposes' bytes (once left transposed,
     * else twice) at the all-to-all rate: MPI_Alltoall's for host data; for device data
     * hetmath's own exchange (NCCL, with its packing: an upper bound of NCCL's rate, which
     * bench/torch_dist_fft.py measures alone). */
    bool on_device = space.type == HM_DEVICE_CUDA;
    double local = local_fft_seconds(nd, shape, rank, size, dt, o.effort, b->repeat, space);
    size_t slab = hm_tensor_nbytes(&j.x.local);
    double a2a = size < 2    ? 0
                 : on_device ? device_exchange_seconds(comm, nd, shape, dt, space)
                             : alltoall_seconds(slab, size);
    a2a *= o.transposed_out ? 1 : 2;
    if (rank == 0) {
        char what[256], extra[160];
        if (json)
            snprintf(what, sizeof what,
                     "\"operation\": \"dist-fft\", \"shape\": \"%s\", \"dtype\": \"%s\", "
                     "\"ranks\": %d, \"transposed_out\": %d, \"effort\": \"%s\", "
                     "\"memory\": \"%s\"",
                     arg_value(a, "--shape"), hm_dtype_name(dt), size, o.transposed_out,
                     o.effort == HM_FFT_MEASURE ? "measure" : "estimate",
                     on_device ? "cuda" : "host");
        else
            snprintf(what, sizeof what, "dist-fft %s %s over %d ranks%s%s", arg_value(a, "--shape"),
                     hm_dtype_name(dt), size, o.transposed_out ? ", left transposed" : "",
                     o.effort == HM_FFT_MEASURE ? ", measured plan" : "");
        snprintf(extra, sizeof extra,
                 ", \"local_fft_s\": %.9g, \"alltoall_s\": %.9g, \"alltoall_by\": \"%s\"", local,
                 a2a, on_device ? "hm_dist_reshape" : "MPI_Alltoall");
        print_result(what, t, times, b->repeat, local + a2a, extra, json);
    }
    free(times);
    hm_dist_fft_plan_destroy(j.plan);
    hm_tensor_free(g_ctx, &j.x.local);
    hm_tensor_free(g_ctx, &j.y.local);
    return 0;
}

typedef struct dist_mm_job {
    hm_comm *comm;
    hm_dist_matmul_plan *plan;
    hm_dist_tensor A, B, D;
} dist_mm_job;

static void run_dist_mm(void *arg)
{
    dist_mm_job *j = arg;
    (void)hm_dist_matmul_execute(g_ctx, j->comm, j->plan, &j->A, &j->B, NULL, &j->D);
}

typedef struct local_mm_job {
    hm_tensor a, b, d;
} local_mm_job;

static void run_local_mm(void *arg)
{
    local_mm_job *j = arg;
    /* on device operands the product is queued on the context's stream: timed to its end */
    if (hm_matmul(g_ctx, &j->a, &j->b, NULL, &j->d, NULL) == HM_STATUS_SUCCESS)
        (void)hm_context_synchronize(g_ctx);
}

static void run_nothing(void *arg)
{
    (void)arg;
}

/* Zeros into a tensor of any space (through a host twin for device memory). */
static hm_status zero_tensor(hm_tensor *t)
{
    if (t->device.type != HM_DEVICE_CUDA) {
        memset(t->data, 0, hm_tensor_nbytes(t));
        return HM_STATUS_SUCCESS;
    }
    hm_tensor h;
    hm_status st = hm_tensor_alloc(g_ctx, hm_device_host(), t->dtype, t->ndim, t->shape, &h);
    if (st != HM_STATUS_SUCCESS)
        return st;
    memset(h.data, 0, hm_tensor_nbytes(&h));
    st = hm_copy(g_ctx, &h, t);
    hm_tensor_free(g_ctx, &h);
    return st;
}

static int bench_dist_matmul(args *a, hm_comm *comm, int json, const hm_bench_options *b)
{
    long long m = 4096, n = 4096, k = 4096;
    const char *s;
    if ((s = arg_value(a, "--m")) && !parse_int(s, 1, 1LL << 31, &m))
        return usage_error("bench dist-matmul", "--m takes a size", s);
    if ((s = arg_value(a, "--n")) && !parse_int(s, 1, 1LL << 31, &n))
        return usage_error("bench dist-matmul", "--n takes a size", s);
    if ((s = arg_value(a, "--k")) && !parse_int(s, 1, 1LL << 31, &k))
        return usage_error("bench dist-matmul", "--k takes a size", s);
    hm_dtype dt = HM_DTYPE_F64;
    if ((s = arg_value(a, "--dtype")) && !parse_dtype(s, &dt))
        return usage_error("bench dist-matmul", "--dtype takes f32, f64, c64 or c128", s);
    const char *mem = arg_value(a, "--memory");
    if (mem && strcmp(mem, "host") != 0 && strcmp(mem, "cuda") != 0)
        return usage_error("bench dist-matmul",
                           "--memory takes host or cuda (each rank on its node's device of its "
                           "local rank)",
                           mem);
    hm_device space = mem && strcmp(mem, "cuda") == 0 ? rank_device() : hm_device_host();
    int rank = hm_comm_rank(comm), size = hm_comm_size(comm);
    dist_mm_job j = {.comm = comm};
    int64_t off[3][2], ext[3][2];
    TRY("hm_dist_matmul_boxes",
        hm_dist_matmul_boxes(g_ctx, comm, m, n, k, off[0], ext[0], off[1], ext[1], off[2], ext[2]));
    hm_dist_tensor *t[3] = {&j.A, &j.B, &j.D};
    const int64_t g[3][2] = {{m, k}, {k, n}, {m, n}};
    for (int i = 0; i < 3; i++) {
        memcpy(t[i]->global_shape, g[i], sizeof g[i]);
        memcpy(t[i]->offset, off[i], sizeof off[i]);
        TRY("allocating", hm_tensor_alloc(g_ctx, space, dt, 2, ext[i], &t[i]->local));
        TRY("zeroing", zero_tensor(&t[i]->local));
    }
    hm_dist_matmul_options o;
    hm_dist_matmul_options_init(&o);
    TRY("hm_dist_matmul_plan_create",
        hm_dist_matmul_plan_create(g_ctx, comm, &j.A, &j.B, NULL, &j.D, &o, &j.plan));
    double *times = calloc((size_t)b->repeat, sizeof *times);
    if (!times)
        return op_failed("allocating", HM_STATUS_OUT_OF_HOST_MEMORY);
    double tm = time_all(run_dist_mm, &j, b->repeat, b->warmup, times);
    /* The floor: this rank's block of D from its rows of A and columns of B, alone. */
    local_mm_job l;
    int64_t la[2] = {ext[2][0], k}, lb[2] = {k, ext[2][1]}, ld[2] = {ext[2][0], ext[2][1]};
    double local = 0, lt[64];
    if (ld[0] > 0 && ld[1] > 0 &&
        hm_tensor_alloc(g_ctx, space, dt, 2, la, &l.a) == HM_STATUS_SUCCESS &&
        hm_tensor_alloc(g_ctx, space, dt, 2, lb, &l.b) == HM_STATUS_SUCCESS &&
        hm_tensor_alloc(g_ctx, space, dt, 2, ld, &l.d) == HM_STATUS_SUCCESS &&
        zero_tensor(&l.a) == HM_STATUS_SUCCESS && zero_tensor(&l.b) == HM_STATUS_SUCCESS) {
        local = time_all(run_local_mm, &l, b->repeat < 64 ? b->repeat : 64, 1, lt);
        hm_tensor_free(g_ctx, &l.a);
        hm_tensor_free(g_ctx, &l.b);
        hm_tensor_free(g_ctx, &l.d);
    } else { /* nothing of D here: the others' timing rounds all the same */
        local = time_all(run_nothing, NULL, b->repeat < 64 ? b->repeat : 64, 1, lt);
    }
    if (rank == 0) {
        char what[256], extra[96];
        double flops = 2.0 * (double)m * (double)n * (double)k;
        if (json)
            snprintf(what, sizeof what,
                     "\"operation\": \"dist-matmul\", \"m\": %lld, \"n\": %lld, \"k\": %lld, "
                     "\"dtype\": \"%s\", \"ranks\": %d, \"memory\": \"%s\"",
                     m, n, k, hm_dtype_name(dt), size,
                     space.type == HM_DEVICE_CUDA ? "cuda" : "host");
        else
            snprintf(what, sizeof what, "dist-matmul %lldx%lldx%lld %s over %d %s ranks", m, n, k,
                     hm_dtype_name(dt), size, space.type == HM_DEVICE_CUDA ? "GPU" : "CPU");
        snprintf(extra, sizeof extra, ", \"local_gemm_s\": %.9g, \"gflops\": %.3f", local,
                 flops / tm / 1e9);
        print_result(what, tm, times, b->repeat, local, extra, json);
    }
    free(times);
    hm_dist_matmul_plan_destroy(j.plan);
    for (int i = 0; i < 3; i++)
        hm_tensor_free(g_ctx, &t[i]->local);
    return 0;
}

int bench_dist(args *a, const char *which)
{
    static const arg_spec spec[] = {{"--shape", 1},   {"--dtype", 1},  {"--transposed", 0},
                                    {"--measure", 0}, {"--m", 1},      {"--n", 1},
                                    {"--k", 1},       {"--repeat", 1}, {"--warmup", 1},
                                    {"--json", 0},    {"--memory", 1}, {NULL, 0}};
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", which);
    int rc = args_parse(a, cmd, spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: mpirun -n P hetmath bench dist-fft --shape N0,N1[,N2] [--dtype c64|c128]\n"
            "                                [--transposed] [--measure] [--repeat R] [--warmup W] "
            "[--json]\n"
            "                                [--memory host|cuda]\n"
            "       mpirun -n P hetmath bench dist-matmul [--m M] [--n N] [--k K]\n"
            "                                [--dtype f32|f64|c64|c128] [--repeat R] "
            "[--warmup W] [--json]\n"
            "                                [--memory host|cuda]\n"
            "  Each rank holds the operation's own distribution (no exchange around it); rank 0\n"
            "  prints the slowest rank's median and the serial floor (local work alone, plus the\n"
            "  FFT's transposes at the all-to-all rate measured in the same run).\n");
        return 0;
    }
    hm_bench_options b;
    int json;
    if ((rc = bench_common(a, cmd, &b, &json)))
        return rc;
    int provided = 0;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    hm_comm *comm = NULL;
    hm_status st = hm_comm_create_mpi(g_ctx, MPI_COMM_WORLD, &comm);
    if (st == HM_STATUS_SUCCESS)
        rc = strcmp(which, "dist-fft") == 0 ? bench_dist_fft(a, comm, json, &b)
                                            : bench_dist_matmul(a, comm, json, &b);
    else
        rc = op_failed("hm_comm_create_mpi", st);
    hm_comm_destroy(comm);
    MPI_Finalize();
    return rc;
}
