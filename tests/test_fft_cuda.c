/* The FFT on a GPU (cuFFT): the case table with device operands, host operands on the GPU and
 * device operands on the CPU (exact ledger figures), the guard, asynchronous calls, plans and
 * properties at 2^24. Skipped (77) without a device. */
#include "fft_cases.h"

static hm_test_log g_log;

/* A context with a device, or the skip. */
static hm_context *gpu_context(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    hm_test_require_cuda(ctx, "test_fft_cuda");
    return ctx;
}

/* The case table on device operands, host operands on cuda:0, device operands on the CPU. */
static void cases_all_spaces(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    (void)dev;
    run_fft_cases(ctx, dev, hm_execution_default(), 0, "cuda default");
    run_fft_cases(ctx, hm_device_host(), hm_execution_cuda(0), 1, "host on cuda:0");
    run_fft_cases(ctx, dev, hm_execution_cpu(HM_AUTO), 1, "cuda:0 on cpu");

    hm_context_destroy(ctx);
}

/* The guard, an asynchronous call, a device plan on several inputs. */
static void guard_async_and_plans(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    (void)dev;
    unsigned long long seed = 99;
    /* Guard: device operands on the CPU would copy x d2h; refused before any work. */
    enum { N = 1024 };
    int64_t n = N;
    hm_tensor x, y;
    CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_C64, 1, &n, &x), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_C64, 1, &n, &y), HM_STATUS_SUCCESS);
    static float h[2 * N];
    for (int i = 0; i < 2 * N; i++)
        h[i] = (float)hm_test_rand(&seed);
    hm_tensor ht;
    hm_tensor_init(&ht, h, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    CHECK_STATUS(hm_copy(ctx, &ht, &x), HM_STATUS_SUCCESS);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.execution = hm_execution_cpu(HM_AUTO);
    hm_transfer_set_guard(ctx, HM_TRANSFER_D2H, HM_GUARD_ERROR);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_TRANSFER_REFUSED);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand x would be copied cuda:0 -> host");
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    hm_transfer_set_guard(ctx, HM_TRANSFER_D2H, HM_GUARD_ALLOW);

    /* Asynchronous on the context's stream: queue, synchronise, compare with the CPU. */
    hm_fft_options_init(&o);
    hm_context_set_log_level(ctx, HM_LOG_INFO);
    hm_test_log_clear(&g_log);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(g_log.text,
                   "memory space: cuda:0; execution space: cuda:0 \xe2\x80\x94 no copies");
    CHECK_CONTAINS(g_log.text, "transform queued on the stream of cuda:0");
    hm_context_set_log_level(ctx, HM_LOG_WARN);
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS);
    static float gpu[2 * N], cpu[2 * N];
    hm_tensor gt, ct;
    hm_tensor_init(&gt, gpu, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_tensor_init(&ct, cpu, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    CHECK_STATUS(hm_copy(ctx, &y, &gt), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft(ctx, &ht, &ct, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(rel_l2(gpu, cpu, 2 * N), 1e-6, "cuFFT agrees with FFTW");

    /* A device plan executed on several inputs. */
    hm_fft_plan *plan;
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < 2 * N; i++)
            h[i] = (float)hm_test_rand(&seed);
        CHECK_STATUS(hm_copy(ctx, &ht, &x), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &y), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(ctx, &y, &gt), HM_STATUS_SUCCESS); /* same stream: ordered */
        CHECK_STATUS(hm_fft(ctx, &ht, &ct, &o), HM_STATUS_SUCCESS);
        CHECK_NEAR(rel_l2(gpu, cpu, 2 * N), 1e-6, "planned cuFFT agrees with FFTW");
    }
    hm_fft_plan_destroy(plan);
    hm_tensor_free(ctx, &x);
    hm_tensor_free(ctx, &y);

    hm_context_destroy(ctx);
}

static void pipelined_host_operands(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    (void)dev;
    unsigned long long seed = 99;
    /* Host operands pipelined over the batch (x >= 8 MiB, 37 transforms), pageable and pinned,
     * c2c and r2c, in chunks the measured model chose, and pageable c2c in a context of fixed
     * schedules (chunks of 4 to 9): within the threshold of the device-operand result, exactly
     * x in and y out, in as many chunks as the log says. */
    hm_context *fixed_ctx = hm_test_context_scheduled(&g_log, HM_LOG_WARN, HM_PIPELINE_FIXED);
    for (int variant = 0; variant < 5; variant++) {
        int pinned = variant & 1, real = (variant >> 1) & 1, fixed = variant == 4;
        hm_context *c = fixed ? fixed_ctx : ctx;
        const int64_t rows = 37, len = 65536;
        int64_t sx[2] = {rows, len}, sy[2] = {rows, real ? len / 2 + 1 : len};
        hm_dtype xt = real ? HM_DTYPE_F32 : HM_DTYPE_C64;
        hm_device hs = pinned ? hm_device_pinned() : hm_device_host();
        hm_tensor hx, hy, dx, dy, ref;
        CHECK_STATUS(hm_tensor_alloc(ctx, hs, xt, 2, sx, &hx), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hs, HM_DTYPE_C64, 2, sy, &hy), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, dev, xt, 2, sx, &dx), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_C64, 2, sy, &dy), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 2, sy, &ref),
                     HM_STATUS_SUCCESS);
        size_t nreal = hm_tensor_nbytes(&hx) / 4;
        for (size_t i = 0; i < nreal; i++)
            ((float *)hx.data)[i] = (float)hm_test_rand(&seed);
        hm_fft_options po;
        hm_fft_options_init(&po);
        po.type = real ? HM_FFT_R2C : HM_FFT_C2C;
        po.num_axes = 1;
        po.axes[0] = 1;
        po.blocking = 1;
        CHECK_STATUS(hm_copy(ctx, &hx, &dx), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft(ctx, &dx, &dy, &po), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(ctx, &dy, &ref), HM_STATUS_SUCCESS);
        po.execution = hm_execution_cuda(0);
        hm_context_set_log_level(c, HM_LOG_INFO);
        hm_test_log_clear(&g_log);
        hm_ledger_reset(c);
        CHECK_STATUS(hm_fft(c, &hx, &hy, &po), HM_STATUS_SUCCESS);
        hm_context_set_log_level(c, HM_LOG_WARN);
        long long chunks = hm_test_log_number(&g_log, "host operands pipelined over ");
        if (fixed) {
            CHECK_CONTAINS(g_log.text,
                           "host operands pipelined over 6 tiles of 4, 4, 8, 9, 8, 4 transforms");
        } else {
            CHECK_CONTAINS(g_log.text, "pipeline model measured in ");
            CHECK_CONTAINS(g_log.text, "candidate schedules");
            CHECK(chunks >= 2 && chunks <= rows);
        }
        CHECK_CONTAINS(g_log.text, "ms wall: x in, compute and y out overlapped");
        hm_transfer_totals tot;
        hm_ledger_totals(c, &tot);
        CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], hm_tensor_nbytes(&hx));
        CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2H], hm_tensor_nbytes(&hy));
        for (size_t i = 0; i < hm_ledger_count(c); i++) {
            hm_transfer_record rec;
            hm_ledger_record(c, i, &rec);
            CHECK_EQ_INT(rec.chunks, chunks);
        }
        CHECK_NEAR(rel_l2(hy.data, ref.data, 2 * rows * sy[1]), 1e-6,
                   real ? "pipelined r2c vs device operands" : "pipelined c2c vs device operands");
        hm_tensor *all[5] = {&hx, &hy, &dx, &dy, &ref};
        for (int i = 0; i < 5; i++)
            hm_tensor_free(ctx, all[i]);
    }
    hm_context_destroy(fixed_ctx);

    hm_context_destroy(ctx);
}

static void registered_plan(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    (void)dev;
    unsigned long long seed = 99;
    /* A plan with register_host over pageable host operands: the second execution on the same
     * buffers registers x and y and copies them direct; the result is bit-identical; stateless
     * calls refuse the option. */
    {
        int64_t sx[2] = {37, 65536};
        hm_tensor hx, hy;
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 2, sx, &hx),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C64, 2, sx, &hy),
                     HM_STATUS_SUCCESS);
        size_t nb = hm_tensor_nbytes(&hx);
        for (size_t i = 0; i < nb / 4; i++)
            ((float *)hx.data)[i] = (float)hm_test_rand(&seed);
        float *first = malloc(nb);
        hm_fft_options po;
        hm_fft_options_init(&po);
        po.num_axes = 1;
        po.axes[0] = 1;
        po.execution = hm_execution_cuda(0);
        po.register_host = 1;
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_fft(ctx, &hx, &hy, &po), HM_STATUS_INVALID_ARGUMENT);
        CHECK_CONTAINS(hm_context_last_error(ctx), "hm_fft: register_host needs a plan");
        CHECK_EQ_INT(hm_ledger_count(ctx), 0);
        hm_fft_plan *rplan = NULL;
        CHECK_STATUS(hm_fft_plan_create(ctx, &hx, &hy, &po, &rplan), HM_STATUS_SUCCESS);
        for (int call = 0; call < 2 && rplan; call++) {
            hm_context_set_log_level(ctx, HM_LOG_INFO);
            hm_test_log_clear(&g_log);
            hm_ledger_reset(ctx);
            CHECK_STATUS(hm_fft_execute(ctx, rplan, &hx, &hy), HM_STATUS_SUCCESS);
            hm_context_set_log_level(ctx, HM_LOG_WARN);
            hm_transfer_record rx, ry;
            CHECK(hm_test_last_record(ctx, "x", &rx) && hm_test_last_record(ctx, "y", &ry));
            CHECK_EQ_INT(rx.bytes, nb);
            CHECK_EQ_INT(ry.bytes, nb);
            CHECK_EQ_INT(rx.src_pinned, call);
            CHECK_EQ_INT(ry.dst_pinned, call);
            CHECK_EQ_INT(rx.path, call ? HM_PATH_DIRECT : HM_PATH_STAGED);
            if (call == 0) {
                memcpy(first, hy.data, nb);
            } else {
                CHECK_CONTAINS(g_log.text, "hm_fft: registered operand x (19.4 MB at");
                CHECK_CONTAINS(g_log.text, "hm_fft: registered operand y (19.4 MB at");
                CHECK(memcmp(first, hy.data, nb) == 0);
            }
        }
        hm_context_set_log_level(ctx, HM_LOG_INFO);
        hm_test_log_clear(&g_log);
        hm_fft_plan_destroy(rplan);
        hm_context_set_log_level(ctx, HM_LOG_WARN);
        CHECK_CONTAINS(g_log.text, "unregistered 19.4 MB of host memory");
        free(first);
        hm_tensor_free(ctx, &hx);
        hm_tensor_free(ctx, &hy);
    }

    hm_context_destroy(ctx);
}

/* Linearity, impulse and shift at 2^20 and 2^24 points. */
static void properties_large(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    (void)dev;
    run_fft_properties(ctx, dev, hm_execution_default(), 20, "cuda");
    if (!getenv("HETMATH_TEST_QUICK")) /* set under compute-sanitizer, where 2^24 is slow */
        run_fft_properties(ctx, dev, hm_execution_default(), 24, "cuda");

    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(cases_all_spaces),        HM_TEST_CASE(guard_async_and_plans),
    HM_TEST_CASE(pipelined_host_operands), HM_TEST_CASE(registered_plan),
    HM_TEST_CASE(properties_large),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_fft_cuda", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
