/* Several GPUs in one process: copies between devices byte-exact with exact ledger figures (over
 * the direct link, and staged where peer access is not used), operations on the second device
 * against a double-precision reference with their results left there, operands on two devices
 * (refused, or copied to the named device, visibly and guarded), and injected failures on the
 * second device. Skipped (77), saying why, with fewer than two devices. */
#include <stdbool.h>

#include "check.h"
#include "hetmath/debug.h"

static unsigned long long seed = 0x2545F4914F6CDD1DULL;

/* A context for two devices, or the skip. */
static hm_context *two_devices(hm_test_log *log, const char *name)
{
    hm_context *ctx = hm_test_context(log, HM_LOG_INFO);
    int n = 0;
    hm_context_device_count(ctx, &n);
    if (n < 2) {
        printf("%s: skipped, %d CUDA device%s (two needed)\n", name, n, n == 1 ? "" : "s");
        hm_context_destroy(ctx);
        exit(HM_TEST_SKIP);
    }
    return ctx;
}

static void fill_f32(float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)hm_test_rand(&seed);
}

/* The path copies between the two devices take, as the log said when it was decided: over the
 * direct link where the devices have one (the machines this test runs on do: NVLink). */
static hm_transfer_path peer_path(const hm_test_log *log)
{
    return strstr(log->text, "cannot reach each other") ? HM_PATH_STAGED : HM_PATH_PEER;
}

/* Host → cuda:from → cuda:to → host, contiguous, for n floats: byte-exact, one d2d record of
 * n·4 bytes between the two ids, on the expected path. */
static void round_trip(hm_context *ctx, int from, int to, int64_t n, hm_transfer_path path)
{
    hm_tensor h, back, a, b;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 1, &n, &h),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 1, &n, &back),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(from), HM_DTYPE_F32, 1, &n, &a),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(to), HM_DTYPE_F32, 1, &n, &b),
                 HM_STATUS_SUCCESS);
    fill_f32(h.data, n);
    memset(back.data, 0xff, (size_t)n * 4);
    CHECK_STATUS(hm_copy(ctx, &h, &a), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_copy(ctx, &a, &b), HM_STATUS_SUCCESS);
    hm_transfer_totals tot;
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_D2D], 1);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2D], n * 4);
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, 0, &r), HM_STATUS_SUCCESS);
    CHECK(r.src.type == HM_DEVICE_CUDA && r.src.id == from);
    CHECK(r.dst.type == HM_DEVICE_CUDA && r.dst.id == to);
    CHECK_EQ_INT(r.path, path);
    CHECK_EQ_INT(r.implicit, 0);
    CHECK_STATUS(hm_copy(ctx, &b, &back), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, back.data, (size_t)n * 4) == 0);
    hm_tensor_free(ctx, &a);
    hm_tensor_free(ctx, &b);
    hm_tensor_free(ctx, &h);
    hm_tensor_free(ctx, &back);
}

/* A strided view on each device: rows × cols of a padded column-major block on `from` into a
 * row-major sub-block of a wider array on `to`; packed on one side, unpacked on the other. */
static void strided_trip(hm_context *ctx, int from, int to)
{
    enum { R = 301, C = 257, LD = 320, W = 300 };
    int64_t shape[2] = {R, C}, n_from = (int64_t)LD * C, n_to = (int64_t)R * W;
    hm_tensor h, back, a, b;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, shape, &h),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, shape, &back),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(from), HM_DTYPE_F32, 1, &n_from, &a),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(to), HM_DTYPE_F32, 1, &n_to, &b),
                 HM_STATUS_SUCCESS);
    fill_f32(h.data, (int64_t)R * C);
    hm_tensor av, bv;
    int64_t colmajor[2] = {1, LD}, sub[2] = {W, 1};
    CHECK_STATUS(hm_tensor_init(&av, a.data, a.device, HM_DTYPE_F32, 2, shape, colmajor),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&bv, (float *)b.data + 7, b.device, HM_DTYPE_F32, 2, shape, sub),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &h, &av), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_copy(ctx, &av, &bv), HM_STATUS_SUCCESS);
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, 0, &r), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(r.direction, HM_TRANSFER_D2D);
    CHECK_EQ_INT(r.bytes, (int64_t)R * C * 4);
    CHECK_EQ_INT(r.path, HM_PATH_PACKED);
    CHECK(r.src.id == from && r.dst.id == to);
    memset(back.data, 0, (size_t)R * C * 4);
    CHECK_STATUS(hm_copy(ctx, &bv, &back), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, back.data, (size_t)R * C * 4) == 0);
    hm_tensor_free(ctx, &a);
    hm_tensor_free(ctx, &b);
    hm_tensor_free(ctx, &h);
    hm_tensor_free(ctx, &back);
}

/* Sizes: one element, an odd count below the staging threshold, and 40 MiB + 3 elements (several
 * staging chunks). */
static const int64_t sizes[] = {1, 1000003, ((int64_t)40 << 18) + 3};

static void peer_copies(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    /* The pair's path is decided on its first copy, and said once. */
    round_trip(ctx, 0, 1, 1, peer_path(&log));
    bool peer = peer_path(&log) == HM_PATH_PEER;
    for (size_t i = 0; i < HM_ARRAY_LEN(sizes); i++) {
        round_trip(ctx, 0, 1, sizes[i], peer_path(&log));
        round_trip(ctx, 1, 0, sizes[i], peer_path(&log));
    }
    const char *said = strstr(log.text, "cuda:0 <-> cuda:1: ");
    CHECK(said != NULL && strstr(said + 1, "cuda:0 <-> cuda:1: ") == NULL);
    CHECK_CONTAINS(log.text, "d2d src: cuda:0 -> cuda:1");
    CHECK_CONTAINS(log.text, peer ? ", peer, 1 chunk [hm_copy, explicit]"
                                  : ", staged, 8 chunks [hm_copy, explicit]");
    hm_test_log_clear(&log);
    strided_trip(ctx, 0, 1);
    strided_trip(ctx, 1, 0);
    CHECK_CONTAINS(log.text, peer ? "packed (peer)" : "packed (staged)");
    hm_context_destroy(ctx);
}

static void staged_copies(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    CHECK_STATUS(hm_debug_set_peer_access(ctx, 2), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_debug_set_peer_access(ctx, 0), HM_STATUS_SUCCESS);
    for (size_t i = 0; i < HM_ARRAY_LEN(sizes); i++) {
        round_trip(ctx, 0, 1, sizes[i], HM_PATH_STAGED);
        round_trip(ctx, 1, 0, sizes[i], HM_PATH_STAGED);
    }
    CHECK_CONTAINS(log.text, "peer access not used");
    /* 40 MiB in chunks of an eighth, rounded up to a MiB: 8 chunks. */
    CHECK_CONTAINS(log.text, ", staged, 8 chunks [hm_copy, explicit]");
    hm_test_log_clear(&log);
    strided_trip(ctx, 0, 1);
    CHECK_CONTAINS(log.text, "packed (staged)");
    CHECK(hm_context_pinned_pool_held(ctx) > 0);
    hm_context_destroy(ctx);
}

/* D = A·B in double precision; A m×k, B k×n, row-major f32. */
static double matmul_error(const float *a, const float *b, const float *d, int m, int n, int k)
{
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                s += (double)a[i * k + p] * b[p * n + j];
                mag += fabs((double)a[i * k + p] * b[p * n + j]);
            }
            double e = fabs(s - d[i * n + j]) / (mag > 0 ? mag : 1);
            worst = e > worst ? e : worst;
        }
    return worst;
}

enum { M = 96, N = 80, K = 112 };

/* A and B on host with random values; device copies on the given devices. */
typedef struct mm_operands {
    hm_tensor ha, hb, a, b;
} mm_operands;

static void mm_make(hm_context *ctx, mm_operands *o, int dev_a, int dev_b)
{
    int64_t sa[2] = {M, K}, sb[2] = {K, N};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sa, &o->ha),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sb, &o->hb),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(dev_a), HM_DTYPE_F32, 2, sa, &o->a),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(dev_b), HM_DTYPE_F32, 2, sb, &o->b),
                 HM_STATUS_SUCCESS);
    fill_f32(o->ha.data, (int64_t)M * K);
    fill_f32(o->hb.data, (int64_t)K * N);
    CHECK_STATUS(hm_copy(ctx, &o->ha, &o->a), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &o->hb, &o->b), HM_STATUS_SUCCESS);
}

static void mm_free(hm_context *ctx, mm_operands *o)
{
    hm_tensor_free(ctx, &o->ha);
    hm_tensor_free(ctx, &o->hb);
    hm_tensor_free(ctx, &o->a);
    hm_tensor_free(ctx, &o->b);
}

/* D (on device `dev`) against the reference. */
static void mm_check(hm_context *ctx, const mm_operands *o, const hm_tensor *d, int dev)
{
    CHECK(d->device.type == HM_DEVICE_CUDA && d->device.id == dev);
    CHECK_STATUS(hm_tensor_check(ctx, d), HM_STATUS_SUCCESS); /* pointer attributes: there */
    int64_t sd[2] = {M, N};
    hm_tensor hd;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sd, &hd),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, d, &hd), HM_STATUS_SUCCESS);
    CHECK_NEAR(matmul_error(o->ha.data, o->hb.data, hd.data, M, N, K), 1e-5, "f32 matmul");
    hm_tensor_free(ctx, &hd);
}

static void ops_on_second_device(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    mm_operands o;
    mm_make(ctx, &o, 1, 1);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.blocking = 1;
    hm_ledger_reset(ctx);
    hm_test_log_clear(&log);
    hm_tensor d = {0};
    CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
    hm_transfer_totals tot;
    hm_ledger_totals(ctx, &tot);
    for (int i = 0; i < HM_TRANSFER_DIRECTION_COUNT; i++)
        CHECK_EQ_INT(tot.copies[i], 0);
    CHECK_CONTAINS(log.text, "execution space: cuda:1");
    mm_check(ctx, &o, &d, 1);
    /* A plan made on cuda:1 runs again with other values there. */
    hm_tensor_free(ctx, &d);
    fill_f32(o.ha.data, (int64_t)M * K);
    CHECK_STATUS(hm_copy(ctx, &o.ha, &o.a), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_matmul_advanced(ctx, &o.a, &o.b, NULL, &d, NULL, &mo), HM_STATUS_SUCCESS);
    mm_check(ctx, &o, &d, 1);
    hm_tensor_free(ctx, &d);

    /* An FFT on cuda:1: a c64 signal of one frequency lands in one bin. */
    enum { L = 1000 };
    int64_t len = L;
    hm_tensor hx, x, y = {0}, hy;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 1, &len, &hx),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 1, &len, &hy),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(1), HM_DTYPE_C64, 1, &len, &x),
                 HM_STATUS_SUCCESS);
    float *v = hx.data;
    for (int i = 0; i < L; i++) {
        double t = 2 * M_PI * 37.0 * i / L;
        v[2 * i] = (float)cos(t);
        v[2 * i + 1] = (float)sin(t);
    }
    CHECK_STATUS(hm_copy(ctx, &hx, &x), HM_STATUS_SUCCESS);
    hm_fft_options fo;
    hm_fft_options_init(&fo);
    fo.blocking = 1;
    CHECK_STATUS(hm_fft(ctx, &x, &y, &fo), HM_STATUS_SUCCESS);
    CHECK(y.device.type == HM_DEVICE_CUDA && y.device.id == 1);
    CHECK_STATUS(hm_tensor_check(ctx, &y), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &y, &hy), HM_STATUS_SUCCESS);
    const float *w = hy.data;
    double worst = 0;
    for (int i = 0; i < L; i++) {
        double re = i == 37 ? L : 0;
        double e = hypot(w[2 * i] - re, w[2 * i + 1]) / L;
        worst = e > worst ? e : worst;
    }
    CHECK_NEAR(worst, 1e-5, "c64 fft on cuda:1");
    hm_tensor_free(ctx, &y);
    hm_tensor_free(ctx, &x);
    hm_tensor_free(ctx, &hx);
    hm_tensor_free(ctx, &hy);
    mm_free(ctx, &o);
    hm_context_destroy(ctx);
}

static void operands_on_two_devices(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    mm_operands o;
    mm_make(ctx, &o, 0, 1);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.blocking = 1;
    hm_tensor d = {0};
    /* Refused without an execution device, naming both. */
    CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo),
                 HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand B is on cuda:1 but A is on cuda:0");
    CHECK(d.data == NULL);

    /* Named: A goes to cuda:1, once, as an implicit d2d copy; D stays there. */
    mo.execution = hm_execution_cuda(1);
    hm_ledger_reset(ctx);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
    hm_transfer_totals tot;
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_D2D], 1);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2D], (int64_t)M * K * 4);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2D] + tot.copies[HM_TRANSFER_D2H], 0);
    hm_transfer_record r;
    CHECK(hm_test_last_record(ctx, "A", &r));
    CHECK(r.src.id == 0 && r.dst.id == 1 && r.implicit == 1 && r.path == HM_PATH_PEER);
    CHECK_CONTAINS(log.text, "operands A (");
    mm_check(ctx, &o, &d, 1);
    hm_tensor_free(ctx, &d);

    /* The d2d guard refuses it before any work; an explicit copy is still allowed. */
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_D2D, HM_GUARD_ERROR), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_TRANSFER_REFUSED);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand A would be copied cuda:0 -> cuda:1");
    CHECK_CONTAINS(hm_context_last_error(ctx), "d2d guard");
    CHECK(d.data == NULL);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    hm_tensor a1;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(1), HM_DTYPE_F32, o.a.ndim, o.a.shape, &a1),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &o.a, &a1), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &a1);
    mm_free(ctx, &o);
    hm_context_destroy(ctx);
}

/* Every device allocation and backend call of a copy between devices and of a matmul on cuda:1
 * whose A is on cuda:0, failed in turn: a clean status each time, no plan left, and the context
 * still computes the right product afterwards. */
static void second_device_faults(void)
{
    hm_context *ctx = two_devices(NULL, "test_multigpu");
    mm_operands o;
    mm_make(ctx, &o, 0, 1);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.blocking = 1;
    mo.execution = hm_execution_cuda(1);
    const hm_fault_site sites[] = {HM_FAULT_DEVICE_ALLOC, HM_FAULT_BACKEND_CALL};
    for (size_t s = 0; s < HM_ARRAY_LEN(sites); s++) {
        hm_context_clear_plan_cache(ctx);
        long before = hm_debug_site_count(ctx, sites[s]);
        hm_tensor d = {0};
        CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
        hm_tensor_free(ctx, &d);
        long points = hm_debug_site_count(ctx, sites[s]) - before;
        CHECK(points > 0);
        for (long n = 1; n <= points; n++) {
            hm_context_clear_plan_cache(ctx);
            long plans = hm_debug_live_plans(ctx);
            CHECK_STATUS(hm_debug_inject_failure(ctx, sites[s], n), HM_STATUS_SUCCESS);
            hm_status st = hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo);
            hm_debug_inject_failure(ctx, sites[s], 0);
            CHECK(st != HM_STATUS_SUCCESS);
            CHECK(d.data == NULL);
            CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
            CHECK_EQ_INT(hm_debug_live_plans(ctx), plans);
        }
        CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
        mm_check(ctx, &o, &d, 1);
        hm_tensor_free(ctx, &d);
    }
    mm_free(ctx, &o);
    hm_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const hm_test_case cases[] = {
        HM_TEST_CASE(peer_copies),          HM_TEST_CASE(staged_copies),
        HM_TEST_CASE(ops_on_second_device), HM_TEST_CASE(operands_on_two_devices),
        HM_TEST_CASE(second_device_faults),
    };
    return hm_test_main(argc, argv, "test_multigpu", cases, (int)HM_ARRAY_LEN(cases));
}
