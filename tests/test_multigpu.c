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
                                  : ", staged, 7 chunks [hm_copy, explicit]");
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
    /* 40 MiB + 12 bytes in chunks of an eighth, rounded up to a MiB (6 MiB): 7 chunks. */
    CHECK_CONTAINS(log.text, ", staged, 7 chunks [hm_copy, explicit]");
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
            CHECK(st != HM_STATUS_SUCCESS);
            CHECK(d.data == NULL);
            CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
            hm_debug_inject_failure(ctx, sites[s], 0);
            hm_context_clear_plan_cache(ctx); /* a plan cached before the failure goes too */
            CHECK_EQ_INT(hm_debug_live_plans(ctx), plans);
        }
        CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
        mm_check(ctx, &o, &d, 1);
        hm_tensor_free(ctx, &d);
    }
    mm_free(ctx, &o);
    hm_context_destroy(ctx);
}

/* ---- one operation over both devices ------------------------------------------------------ */

enum { SM = 3001, SK = 1003, SN = 517 }; /* A 12 MB: pipelined; rows that do not divide evenly */

typedef struct split_mm {
    hm_tensor A, B, D;
    float *ref; /* D from one device, device operands */
} split_mm;

/* Host operands in `space` with fresh values, and the one-device product of them. */
static void split_make(hm_context *ctx, split_mm *s, hm_device space)
{
    int64_t sa[2] = {SM, SK}, sb[2] = {SK, SN}, sd[2] = {SM, SN};
    CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, sa, &s->A), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, sb, &s->B), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, space, HM_DTYPE_F32, 2, sd, &s->D), HM_STATUS_SUCCESS);
    s->ref = malloc(sizeof(float) * SM * SN);
    CHECK(s->ref != NULL);
}

/* New values in A and B, and their product on cuda:0 from device operands into s->ref. */
static void split_values(hm_context *ctx, split_mm *s)
{
    fill_f32(s->A.data, (int64_t)SM * SK);
    fill_f32(s->B.data, (int64_t)SK * SN);
    memset(s->D.data, 0xff, sizeof(float) * SM * SN);
    hm_tensor a, b, d = {0}, ref;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, s->A.shape, &a),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, s->B.shape, &b),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &s->A, &a), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &s->B, &b), HM_STATUS_SUCCESS);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.blocking = 1;
    CHECK_STATUS(hm_matmul(ctx, &a, &b, NULL, &d, &mo), HM_STATUS_SUCCESS);
    hm_tensor_init(&ref, s->ref, hm_device_host(), HM_DTYPE_F32, 2, s->D.shape, NULL);
    CHECK_STATUS(hm_copy(ctx, &d, &ref), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &a);
    hm_tensor_free(ctx, &b);
    hm_tensor_free(ctx, &d);
}

/* D against the one-device product (the relative norm of the difference within f32's threshold:
 * the tiles may use other kernels), and a few rows against the double-precision reference. */
static void split_check(const split_mm *s)
{
    const float *d = s->D.data, *a = s->A.data, *b = s->B.data;
    double num = 0, den = 0;
    for (int64_t i = 0; i < (int64_t)SM * SN; i++) {
        double diff = (double)d[i] - s->ref[i];
        num += diff * diff;
        den += (double)s->ref[i] * s->ref[i];
    }
    CHECK_NEAR(sqrt(num / den), 1e-5, "split matmul against one device (relative norm)");
    const int rows[] = {0, 1500, 1501, SM - 1};
    double rel = 0;
    for (size_t r = 0; r < HM_ARRAY_LEN(rows); r++)
        for (int j = 0; j < SN; j += 7) {
            double sum = 0, mag = 0;
            for (int p = 0; p < SK; p++) {
                sum += (double)a[rows[r] * SK + p] * b[p * SN + j];
                mag += fabs((double)a[rows[r] * SK + p] * b[p * SN + j]);
            }
            double e = fabs(sum - d[rows[r] * SN + j]) / mag;
            rel = e > rel || e != e ? e : rel;
        }
    CHECK_NEAR(rel, 1e-5, "split matmul against the double reference");
}

static void split_free(hm_context *ctx, split_mm *s)
{
    hm_tensor_free(ctx, &s->A);
    hm_tensor_free(ctx, &s->B);
    hm_tensor_free(ctx, &s->D);
    free(s->ref);
}

static hm_matmul_options on_both(void)
{
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    const int ids[] = {0, 1};
    CHECK_STATUS(hm_execution_cuda_set(ids, 2, &mo.execution), HM_STATUS_SUCCESS);
    return mo;
}

/* The notebook's shape of call, smaller, over {0,1}: A's rows and D's divided 1501 + 1500, B to
 * cuda:0 from the host and on to cuda:1 over the direct link; exact ledger figures; pageable and
 * pinned; a cached plan run again on new values. */
static void split_matmul(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    hm_context_destroy(ctx);
    ctx = hm_test_context_scheduled(&log, HM_LOG_INFO, HM_PIPELINE_FIXED);
    round_trip(ctx, 0, 1, 1, HM_PATH_PEER); /* the pair's path, said once in the log */
    bool peer = peer_path(&log) == HM_PATH_PEER;
    const hm_device spaces[] = {hm_device_host(), hm_device_pinned()};
    hm_matmul_options mo = on_both();
    for (size_t v = 0; v < HM_ARRAY_LEN(spaces); v++) {
        split_mm s;
        split_make(ctx, &s, spaces[v]);
        for (int call = 0; call < 2; call++) {
            split_values(ctx, &s);
            hm_ledger_reset(ctx);
            hm_test_log_clear(&log);
            CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo),
                         HM_STATUS_SUCCESS);
            split_check(&s);
            /* Pageable B: to cuda:0 once (staged), on to cuda:1 over the direct link. Pinned
             * B: half of it to each device at once over its own link, then each device takes
             * the other half from the other over the direct link (whole over each host link
             * where the devices cannot reach each other). */
            bool pinned = spaces[v].type == HM_DEVICE_CUDA_HOST;
            int64_t b = (int64_t)SK * SN * 4;
            hm_transfer_totals t;
            hm_ledger_totals(ctx, &t);
            CHECK_EQ_INT(t.copies[HM_TRANSFER_H2D], pinned ? 4 : 3); /* B, A's two parts */
            CHECK_EQ_INT(t.bytes[HM_TRANSFER_H2D],
                         (int64_t)SM * SK * 4 + (pinned && !peer ? 2 : 1) * b);
            CHECK_EQ_INT(t.copies[HM_TRANSFER_D2H], 2); /* D's two parts */
            CHECK_EQ_INT(t.bytes[HM_TRANSFER_D2H], (int64_t)SM * SN * 4);
            CHECK_EQ_INT(t.copies[HM_TRANSFER_D2D], pinned ? (peer ? 2 : 0) : 1);
            CHECK_EQ_INT(t.bytes[HM_TRANSFER_D2D], pinned && !peer ? 0 : b);
            hm_transfer_record r;
            CHECK(hm_test_last_record(ctx, "B", &r));
            if (pinned)
                CHECK(r.direction == HM_TRANSFER_H2D && r.src_pinned && r.dst.id == 1);
            else
                CHECK(r.direction == HM_TRANSFER_D2D && r.src.id == 0 && r.dst.id == 1 &&
                      r.path == HM_PATH_PEER);
            for (size_t i = 0; i < hm_ledger_count(ctx); i++) {
                hm_ledger_record(ctx, i, &r);
                if (strcmp(r.operand, "A") == 0)
                    CHECK_EQ_INT(r.bytes, (int64_t)(r.dst.id == 0 ? 1501 : 1500) * SK * 4);
            }
            if (call == 0) {
                CHECK_CONTAINS(log.text, "execution space: cuda:0,1");
                CHECK_CONTAINS(log.text, "device set cuda:0,1: rows divided: 0-1500 on cuda:0, "
                                         "1501-3000 on cuda:1; operands the parts share go to "
                                         "every device at once from pinned memory, else to the "
                                         "first and on over the direct link");
                CHECK_CONTAINS(log.text, "planned on cuda:1 in ");
                CHECK_CONTAINS(log.text, "pipelined on cuda:1 over ");
            } else {
                CHECK_CONTAINS(log.text, "plan reused from the context's cache");
            }
        }
        split_free(ctx, &s);
    }
    hm_context_destroy(ctx);
}

/* With peer access, pageable B goes on from cuda:0 as a d2d copy, which the d2d guard refuses
 * before any work, while pinned B goes from the host to each device and is not refused; without
 * peer access B goes to each device from the host, and the guard has nothing to refuse. */
static void split_paths_and_guard(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    hm_matmul_options mo = on_both();
    split_mm s, sp;
    split_make(ctx, &s, hm_device_host());
    split_make(ctx, &sp, hm_device_pinned());
    split_values(ctx, &s);
    split_values(ctx, &sp);
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_D2D, HM_GUARD_ERROR), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo),
                 peer_path(&log) == HM_PATH_PEER ? HM_STATUS_TRANSFER_REFUSED : HM_STATUS_SUCCESS);
    if (peer_path(&log) == HM_PATH_PEER) {
        CHECK_CONTAINS(hm_context_last_error(ctx), "operand B would be copied cuda:0 -> cuda:1");
        CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    }
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul_advanced(ctx, &sp.A, &sp.B, NULL, &sp.D, NULL, &mo), HM_STATUS_SUCCESS);
    split_check(&sp);
    hm_transfer_totals tp;
    hm_ledger_totals(ctx, &tp);
    CHECK_EQ_INT(tp.copies[HM_TRANSFER_D2D], 0);
    split_free(ctx, &sp);
    hm_context_destroy(ctx);

    ctx = two_devices(&log, "test_multigpu");
    CHECK_STATUS(hm_debug_set_peer_access(ctx, 0), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_D2D, HM_GUARD_ERROR), HM_STATUS_SUCCESS);
    split_values(ctx, &s);
    hm_ledger_reset(ctx);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo), HM_STATUS_SUCCESS);
    split_check(&s);
    hm_transfer_totals t;
    hm_ledger_totals(ctx, &t);
    CHECK_EQ_INT(t.copies[HM_TRANSFER_H2D], 4); /* B twice, A's two parts */
    CHECK_EQ_INT(t.bytes[HM_TRANSFER_H2D], ((int64_t)SM * SK + 2 * (int64_t)SK * SN) * 4);
    CHECK_EQ_INT(t.copies[HM_TRANSFER_D2D], 0);
    CHECK_CONTAINS(log.text, "else to each from the caller's memory (the devices cannot reach");
    split_free(ctx, &s);
    hm_context_destroy(ctx);
}

/* What a set does not divide: device operands (on cuda:1, which leads), and host operands when
 * the pinned pool stages for one device only; both said in the log, both right. */
static void split_declined(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    hm_matmul_options mo = on_both();
    mo.blocking = 1;
    mm_operands o;
    mm_make(ctx, &o, 1, 1);
    hm_tensor d = {0};
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_matmul(ctx, &o.a, &o.b, NULL, &d, &mo), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log.text, "device set cuda:0,1: computed on cuda:1 alone");
    mm_check(ctx, &o, &d, 1);
    hm_tensor_free(ctx, &d);
    mm_free(ctx, &o);
    hm_context_destroy(ctx);

    hm_context_options opts;
    hm_context_options_init(&opts);
    opts.log_fn = hm_test_log_fn;
    opts.log_user_data = &log;
    opts.log_level = HM_LOG_INFO;
    opts.pinned_pool_bytes = (size_t)128 << 20;
    CHECK_STATUS(hm_context_create(&opts, &ctx), HM_STATUS_SUCCESS);
    split_mm s;
    split_make(ctx, &s, hm_device_host());
    split_values(ctx, &s);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log.text, "device set cuda:0,1: rows not divided, all on cuda:0: the pinned "
                             "pool");
    split_check(&s);
    CHECK(hm_context_pinned_pool_held(ctx) <= opts.pinned_pool_bytes);
    split_free(ctx, &s);
    hm_context_destroy(ctx);
}

/* A batched FFT of host data over {0,1}: the batch divided, each row as one device makes it. */
static void split_fft(void)
{
    static hm_test_log log;
    hm_context *ctx = two_devices(&log, "test_multigpu");
    enum { ROWS = 67, L = 32768 };
    int64_t shape[2] = {ROWS, L};
    hm_tensor x, y, y1;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_C64, 2, shape, &x),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_C64, 2, shape, &y),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_C64, 2, shape, &y1),
                 HM_STATUS_SUCCESS);
    hm_fft_options one, both;
    hm_fft_options_init(&one);
    one.num_axes = 1;
    one.axes[0] = 1;
    one.execution = hm_execution_cuda(0);
    both = one;
    const int ids[] = {1, 0};
    CHECK_STATUS(hm_execution_cuda_set(ids, 2, &both.execution), HM_STATUS_SUCCESS);
    for (int call = 0; call < 2; call++) {
        fill_f32(x.data, 2 * (int64_t)ROWS * L);
        CHECK_STATUS(hm_fft(ctx, &x, &y1, &one), HM_STATUS_SUCCESS);
        hm_ledger_reset(ctx);
        hm_test_log_clear(&log);
        CHECK_STATUS(hm_fft(ctx, &x, &y, &both), HM_STATUS_SUCCESS);
        const float *a = y.data, *b = y1.data;
        double num = 0, den = 0;
        for (int64_t i = 0; i < 2 * (int64_t)ROWS * L; i++) {
            num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            den += (double)b[i] * b[i];
        }
        CHECK_NEAR(sqrt(num / den), 1e-6, "split fft against one device (relative norm)");
        hm_transfer_totals t;
        hm_ledger_totals(ctx, &t);
        CHECK_EQ_INT(t.copies[HM_TRANSFER_H2D], 2);
        CHECK_EQ_INT(t.bytes[HM_TRANSFER_H2D], (int64_t)ROWS * L * 8);
        CHECK_EQ_INT(t.copies[HM_TRANSFER_D2H], 2);
        CHECK_EQ_INT(t.copies[HM_TRANSFER_D2D], 0);
        if (call == 0)
            CHECK_CONTAINS(log.text, "device set cuda:0,1: transforms divided: 0-33 on cuda:0, "
                                     "34-66 on cuda:1");
    }
    hm_tensor_free(ctx, &x);
    hm_tensor_free(ctx, &y);
    hm_tensor_free(ctx, &y1);
    hm_context_destroy(ctx);
}

/* Every failure point of a divided matmul (the pool growing, allocations on either device, the
 * copies and computations), failed in turn: a clean status, no plan left, D untouched by a
 * failed call's claims, and the next call right. */
static void split_faults(void)
{
    hm_context *ctx = two_devices(NULL, "test_multigpu");
    hm_context_destroy(ctx);
    ctx = hm_test_context_scheduled(NULL, HM_LOG_OFF, HM_PIPELINE_FIXED);
    hm_matmul_options mo = on_both();
    split_mm s;
    split_make(ctx, &s, hm_device_host());
    split_values(ctx, &s);
    const hm_fault_site sites[] = {HM_FAULT_PINNED_ALLOC, HM_FAULT_DEVICE_ALLOC,
                                   HM_FAULT_BACKEND_CALL, HM_FAULT_HOST_ALLOC};
    for (size_t k = 0; k < HM_ARRAY_LEN(sites); k++) {
        hm_context_destroy(ctx); /* a fresh pool, so that its growth is a failure point */
        ctx = hm_test_context_scheduled(NULL, HM_LOG_OFF, HM_PIPELINE_FIXED);
        long before = hm_debug_site_count(ctx, sites[k]);
        CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo), HM_STATUS_SUCCESS);
        long points = hm_debug_site_count(ctx, sites[k]) - before;
        if (sites[k] != HM_FAULT_HOST_ALLOC)
            CHECK(points > 0);
        printf("split matmul: %ld failure points at site %d\n", points, (int)sites[k]);
        for (long n = 1; n <= points; n++) {
            hm_context_destroy(ctx);
            ctx = hm_test_context_scheduled(NULL, HM_LOG_OFF, HM_PIPELINE_FIXED);
            CHECK_STATUS(hm_debug_inject_failure(ctx, sites[k], n), HM_STATUS_SUCCESS);
            hm_status st = hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo);
            if (st == HM_STATUS_SUCCESS) { /* a failure the call works around (the pool) */
                split_check(&s);
                continue;
            }
            CHECK_CONTAINS(hm_context_last_error(ctx), "injected");
            hm_debug_inject_failure(ctx, sites[k], 0);
            hm_context_clear_plan_cache(ctx); /* a plan cached before the failure goes too */
            CHECK_EQ_INT(hm_debug_live_plans(ctx), 0);
            memset(s.D.data, 0, sizeof(float) * SM * SN);
            CHECK_STATUS(hm_matmul_advanced(ctx, &s.A, &s.B, NULL, &s.D, NULL, &mo),
                         HM_STATUS_SUCCESS);
            split_check(&s);
        }
    }
    split_free(ctx, &s);
    hm_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const hm_test_case cases[] = {
        HM_TEST_CASE(peer_copies),
        HM_TEST_CASE(staged_copies),
        HM_TEST_CASE(ops_on_second_device),
        HM_TEST_CASE(operands_on_two_devices),
        HM_TEST_CASE(second_device_faults),
        HM_TEST_CASE(split_matmul),
        HM_TEST_CASE(split_paths_and_guard),
        HM_TEST_CASE(split_declined),
        HM_TEST_CASE(split_fft),
        HM_TEST_CASE(split_faults),
    };
    return hm_test_main(argc, argv, "test_multigpu", cases, (int)HM_ARRAY_LEN(cases));
}
