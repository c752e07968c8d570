/* The FFT on host memory with CPU execution (FFTW3): the case table against a reference DFT,
 * properties at large sizes, plans, the cache, wisdom, the log, and every bad input. */
#include <sys/stat.h>
#include <unistd.h>

#include "fft_cases.h"

static void bad_inputs(hm_context *ctx)
{
    float xb[2 * 64], yb[2 * 64];
    int64_t s1[1] = {16}, s2[2] = {4, 8}, s4[4] = {2, 2, 2, 2}, s0[1] = {0};
    hm_tensor x, y, x4, xr, x0;
    hm_tensor_init(&x, xb, hm_device_host(), HM_DTYPE_C64, 2, s2, NULL);
    hm_tensor_init(&y, yb, hm_device_host(), HM_DTYPE_C64, 2, s2, NULL);
    hm_tensor_init(&x4, xb, hm_device_host(), HM_DTYPE_C64, 4, s4, NULL);
    hm_tensor_init(&xr, xb, hm_device_host(), HM_DTYPE_F32, 1, s1, NULL);
    hm_tensor_init(&x0, xb, hm_device_host(), HM_DTYPE_C64, 1, s0, NULL);
    for (int i = 0; i < 128; i++)
        xb[i] = (float)i;
    hm_fft_options o;
#define POISON() memset(yb, 0x55, sizeof yb)
#define EXPECT(call, status, text)                                                                 \
    do {                                                                                           \
        POISON();                                                                                  \
        CHECK_STATUS(call, status);                                                                \
        CHECK_CONTAINS(hm_context_last_error(ctx), text);                                          \
        unsigned char *p_ = (unsigned char *)yb;                                                   \
        int touched_ = 0;                                                                          \
        for (size_t i_ = 0; i_ < sizeof yb; i_++)                                                  \
            touched_ += p_[i_] != 0x55;                                                            \
        CHECK_EQ_INT(touched_, 0);                                                                 \
    } while (0)

    hm_fft_options_init(&o);
    o.num_axes = 4;
    EXPECT(hm_fft(ctx, &x4, &y, &o), HM_STATUS_INVALID_AXES, "4 transform axes");
    hm_fft_options_init(&o);
    EXPECT(hm_fft(ctx, &x4, &y, &o), HM_STATUS_INVALID_AXES, "has 4 dimensions");
    o.num_axes = 2;
    o.axes[0] = 1;
    o.axes[1] = -1;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_AXES, "axis 1 is repeated");
    o.axes[1] = 2;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_AXES, "axis 2 is out of range");
    o.axes[1] = -3;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_AXES, "axis -3 is out of range");
    hm_fft_options_init(&o);
    o.type = HM_FFT_C2R;
    o.direction = HM_FFT_INVERSE;
    o.last_length = 20; /* needs 11 complex inputs, x has 8 */
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_SHAPE, "needs 11 input elements");
    hm_fft_options_init(&o);
    o.type = HM_FFT_R2C;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_DTYPE, "operand x is c64, but a r2c");
    o.type = HM_FFT_C2C;
    EXPECT(hm_fft(ctx, &xr, &y, &o), HM_STATUS_INVALID_DTYPE, "takes c64 or c128");
    o.type = HM_FFT_R2C;
    o.direction = HM_FFT_INVERSE;
    EXPECT(hm_fft(ctx, &xr, &y, &o), HM_STATUS_INVALID_ARGUMENT, "is forward");
    hm_fft_options_init(&o);
    hm_tensor bad = y;
    bad.dtype = HM_DTYPE_C128;
    EXPECT(hm_fft(ctx, &x, &bad, &o), HM_STATUS_DTYPE_MISMATCH, "operand y is c128");
    bad = y;
    bad.shape[1] = 5;
    EXPECT(hm_fft(ctx, &x, &bad, &o), HM_STATUS_SHAPE_MISMATCH, "output shape");
    bad = y;
    bad.device = hm_device_pinned();
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    POISON();
    CHECK(hm_fft(ctx, &x, &bad, &o) != HM_STATUS_SUCCESS); /* not pinned memory, or no CUDA */
    hm_tensor overlap = x;
    overlap.data = xb + 2;
    overlap.shape[0] = 3;
    hm_tensor x3 = x;
    x3.shape[0] = 3;
    CHECK_STATUS(hm_fft(ctx, &x3, &overlap, &o), HM_STATUS_ALIASING);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand y overlaps x");
    hm_tensor y0 = y;
    y0.ndim = 1;
    y0.shape[0] = 0;
    EXPECT(hm_fft(ctx, &x0, &y0, &o), HM_STATUS_INVALID_SHAPE, "zero-length axis 0");
    EXPECT(hm_fft(ctx, NULL, &y, &o), HM_STATUS_INVALID_ARGUMENT, "operand x is NULL");
    EXPECT(hm_fft(ctx, &x, NULL, &o), HM_STATUS_INVALID_ARGUMENT, "operand y is NULL");
    CHECK_STATUS(hm_fft(NULL, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT);
    o.norm = (hm_fft_norm)9;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT, "norm 9");
    hm_fft_options_init(&o);
    o.direction = (hm_fft_direction)0;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT, "direction 0");
    hm_fft_options_init(&o);
    o.size = 3;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT, "options size");
    hm_fft_options_init(&o);
    o.register_host = 1;
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT,
           "hm_fft: register_host needs a plan (hm_fft_plan_create)");
    o.register_host = 3;
    hm_fft_plan *rp = NULL;
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &rp), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "register_host 3 is neither 0 nor 1");
    CHECK(rp == NULL);
    hm_fft_options_init(&o);
    o.execution = hm_execution_cpu(0);
    EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_EXECUTION, "cpu execution with 0 threads");
    if (ndev == 0) {
        o.execution = hm_execution_cuda(0);
        EXPECT(hm_fft(ctx, &x, &y, &o), HM_STATUS_CUDA_UNAVAILABLE, "hm_fft: ");
    }
    /* The inputs were never written. */
    int changed = 0;
    for (int i = 0; i < 128; i++)
        changed += xb[i] != (float)i;
    CHECK_EQ_INT(changed, 0);
#undef EXPECT
#undef POISON
}

static void plans_and_log(hm_context *ctx, hm_test_log *log)
{
    enum { N = 48, B = 3 };
    static float xb[2 * N * B], yb[2 * N * B], y2[2 * N * B];
    int64_t shape[2] = {B, N};
    hm_tensor x, y, yc;
    hm_tensor_init(&x, xb, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_tensor_init(&y, yb, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_tensor_init(&yc, y2, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    hm_fft_plan *plan = NULL;
    hm_context_set_log_level(ctx, HM_LOG_DEBUG);
    hm_test_log_clear(log);
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, &plan), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log->text, "= SPECIFICATION PHASE =");
    CHECK_CONTAINS(log->text, "= PLANNING PHASE =");
    CHECK_CONTAINS(log->text, "memory space: host; execution space: cpu (");
    CHECK_CONTAINS(log->text, "\xe2\x80\x94 no copies");
    CHECK_CONTAINS(log->text, "fft: c2c forward, rank 1 over axes [1], batch 3, n 48");
    unsigned long long seed = 7;
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < 2 * N * B; i++)
            xb[i] = (float)hm_test_rand(&seed);
        CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &y), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft(ctx, &x, &yc, &o), HM_STATUS_SUCCESS);
        CHECK(memcmp(yb, y2, sizeof yb) == 0); /* the same algorithm: bit-identical */
    }
    CHECK_CONTAINS(log->text, "= EXECUTION PHASE =");
    CHECK_CONTAINS(log->text, "plan cache miss");
    CHECK_CONTAINS(log->text, "plan cache hit");
    /* A plan refuses operands of another layout, and other contexts. */
    hm_tensor other = x;
    other.strides[0] = 1;
    other.strides[1] = B;
    CHECK_STATUS(hm_fft_execute(ctx, plan, &other, &y), HM_STATUS_PLAN_MISMATCH);
    CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &x), HM_STATUS_PLAN_MISMATCH);
    hm_context *ctx2 = hm_test_context(NULL, HM_LOG_OFF);
    CHECK_STATUS(hm_fft_execute(ctx2, plan, &x, &y), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx2);
    hm_fft_plan_destroy(plan);
    hm_fft_plan_destroy(NULL);
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &y, &o, NULL), HM_STATUS_INVALID_ARGUMENT);
    /* A plan that allocates its output. */
    hm_tensor none;
    memset(&none, 0, sizeof none);
    CHECK_STATUS(hm_fft_plan_create(ctx, &x, &none, &o, &plan), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft_execute(ctx, plan, &x, &none), HM_STATUS_SUCCESS);
    CHECK(none.data != NULL && none.ndim == 2 && none.dtype == HM_DTYPE_C64);
    CHECK(memcmp(none.data, y2, sizeof y2) == 0);
    hm_tensor_free(ctx, &none);
    hm_fft_plan_destroy(plan);

    /* MEASURE effort, and wisdom out and back in. */
    o.effort = HM_FFT_MEASURE;
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    /* another algorithm, perhaps, but the same transform as the estimated plan's (y2) */
    CHECK_NEAR(rel_l2(yb, y2, 2 * N * B), 1e-6, "measured plan agrees with the estimated one");
    /* With 8 threads or more, measuring also times FFTW's plan on three quarters of them, and
     * for arrays of at most 1 MiB on one (cpu_fft.c); whichever it keeps computes the same
     * transform. */
    o.execution = hm_execution_cpu(8);
    hm_context_set_log_level(ctx, HM_LOG_INFO);
    hm_test_log_clear(log);
    memset(yb, 0, sizeof yb);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log->text, "FFTW: its plan timed on 6 (");
    CHECK_CONTAINS(log->text, " and on 1 (");
    CHECK_CONTAINS(log->text, " threads against all 8 (");
    CHECK_NEAR(rel_l2(yb, y2, 2 * N * B), 1e-6, "the measured 8-thread plan agrees");
    o.execution = hm_execution_default();
    const char *path = "test_fft_cpu.wisdom";
    CHECK_STATUS(hm_fft_wisdom_export(ctx, path), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft_wisdom_import(ctx, path), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_fft_wisdom_import(ctx, "/nonexistent/wisdom"), HM_STATUS_FFTW_ERROR);
    CHECK_STATUS(hm_fft_wisdom_export(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    remove(path);

    /* The guard: c2r on the host preserves its input through an h2h copy; forbid h2h and the
     * call is refused before any work. */
    int64_t hs[1] = {N / 2 + 1}, rs[1] = {N};
    hm_tensor xc, yr;
    hm_tensor_init(&xc, xb, hm_device_host(), HM_DTYPE_C64, 1, hs, NULL);
    hm_tensor_init(&yr, yb, hm_device_host(), HM_DTYPE_F32, 1, rs, NULL);
    hm_fft_options_init(&o);
    o.type = HM_FFT_C2R;
    o.direction = HM_FFT_INVERSE;
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ERROR);
    memset(yb, 0x55, sizeof yb);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_fft(ctx, &xc, &yr, &o), HM_STATUS_TRANSFER_REFUSED);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_fft: operand x would be copied host -> host");
    CHECK_EQ_INT(((unsigned char *)yb)[0], 0x55);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_LOG);
    hm_test_log_clear(log);
    CHECK_STATUS(hm_fft(ctx, &xc, &yr, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log->text, "implicit copy of operand x");
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ALLOW);
    hm_context_set_log_level(ctx, HM_LOG_WARN);
}

/* A context logging into log at level, with the CPU FFT's strategies forced or forbidden. */
static hm_context *strategy_context(hm_test_log *log, hm_log_level level, int split, int row_blocks)
{
    hm_context *ctx = hm_test_context(log, level);
    hm_cpu_fft_options o;
    hm_cpu_fft_options_init(&o);
    o.wisdom_file = HM_CPU_FFT_NEVER;
    o.split = split;
    o.row_blocks = row_blocks;
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_SUCCESS);
    return ctx;
}

static hm_test_log g_log;

/* The case table, on the default execution space and on one thread. */
static void cases_default(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    run_fft_cases(ctx, hm_device_host(), hm_execution_default(), 0, "cpu default");
    run_fft_cases(ctx, hm_device_host(), hm_execution_cpu(1), 0, "cpu 1 thread");
    hm_context_destroy(ctx);
}

static void bad_input_statuses(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    bad_inputs(ctx);
    hm_context_destroy(ctx);
}

static void plans_cache_and_log(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    plans_and_log(ctx, &g_log);
    hm_context_destroy(ctx);
}

/* Linearity, impulse and shift at 2^20 and 2^24 points. */
static void properties_large(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    run_fft_properties(ctx, hm_device_host(), hm_execution_default(), 20, "cpu");
    run_fft_properties(ctx, hm_device_host(), hm_execution_default(), 24, "cpu");
    hm_context_destroy(ctx);
}

/* Row blocks (cpu_fft.c) forced on, in y: the table again, and the properties. */
static void row_blocks_forced(void)
{
    hm_context *ctx = strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_AUTO, HM_CPU_FFT_ALWAYS);
    run_fft_cases(ctx, hm_device_host(), hm_execution_default(), 0, "cpu row blocks");
    run_fft_cases(ctx, hm_device_host(), hm_execution_cpu(3), 0, "cpu row blocks, 3 threads");
    run_fft_properties(ctx, hm_device_host(), hm_execution_cpu(3), 20, "cpu row blocks");
    hm_context_destroy(ctx);
}

/* A batch of rows that must take row blocks: in y, against FFTW's plan, and streamed (bit for
 * bit the same: the same block plans). */
static void row_blocks_against_fftw(void)
{
    enum { R = 37, L = 1000 };
    static float xr[2 * R * L], yr[2 * R * L], ref[2 * R * L];
    unsigned long long seed = 5;
    for (int i = 0; i < 2 * R * L; i++)
        xr[i] = (float)hm_test_rand(&seed);
    int64_t sh[2] = {R, L};
    hm_tensor xt, yt;
    hm_tensor_init(&xt, xr, hm_device_host(), HM_DTYPE_C64, 2, sh, NULL);
    hm_tensor_init(&yt, yr, hm_device_host(), HM_DTYPE_C64, 2, sh, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    o.norm = HM_FFT_NORM_ORTHO;
    hm_context *ctx = strategy_context(&g_log, HM_LOG_INFO, HM_CPU_FFT_AUTO, HM_CPU_FFT_ALWAYS);
    CHECK_STATUS(hm_fft(ctx, &xt, &yt, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(g_log.text, "FFTW: 37 rows in blocks of 32, copied and transformed in place");
    hm_context_destroy(ctx);
    memcpy(ref, yr, sizeof ref);
    hm_context *plain = strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_AUTO, HM_CPU_FFT_NEVER);
    memset(yr, 0, sizeof yr);
    CHECK_STATUS(hm_fft(plain, &xt, &yt, &o), HM_STATUS_SUCCESS);
    CHECK_NEAR(rel_l2(ref, yr, 2 * R * L), 1e-6, "row blocks agree with FFTW's plan");
    hm_context_destroy(plain);
    hm_context *streamed =
        strategy_context(&g_log, HM_LOG_INFO, HM_CPU_FFT_AUTO, HM_CPU_FFT_STREAM);
    memset(yr, 0, sizeof yr);
    CHECK_STATUS(hm_fft(streamed, &xt, &yt, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(g_log.text, "FFTW: 37 rows in blocks of 32, streamed out of a scratch block");
    CHECK(memcmp(ref, yr, sizeof ref) == 0);
    hm_context_destroy(streamed);
}

/* The split of long 1-D transforms (cpu_fft_split.c) forced on: the table, whose 1-D c2c cases
 * of 360 points and more split (the others go to FFTW's plans), on 3 threads and on 1, and the
 * properties at 2^20 and 2^24. Row blocks off: they would take the batch of rows short enough
 * for them. */
static void split_forced(void)
{
    hm_context *ctx = strategy_context(&g_log, HM_LOG_INFO, HM_CPU_FFT_ALWAYS, HM_CPU_FFT_NEVER);
    run_fft_cases(ctx, hm_device_host(), hm_execution_cpu(3), 0, "cpu split, 3 threads");
    /* the cases that split did (n1: a multiple of a cache line's elements near the root) */
    CHECK_CONTAINS(g_log.text, "FFTW: 360 points split 18 x 20, two passes");
    CHECK_CONTAINS(g_log.text, "FFTW: 4096 points split 64 x 64, two passes");
    CHECK_CONTAINS(g_log.text, "FFTW: 1000 points split 20 x 50, two passes");
    CHECK_CONTAINS(g_log.text, "FFTW: 2304 points split 48 x 48, two passes");
    CHECK_CONTAINS(g_log.text, "FFTW: 1024 points split 32 x 32, two passes");
    CHECK_CONTAINS(g_log.text, "FFTW: 576 points split 24 x 24, two passes");
    hm_context_set_log_level(ctx, HM_LOG_WARN);
    run_fft_cases(ctx, hm_device_host(), hm_execution_cpu(1), 0, "cpu split, 1 thread");
    run_fft_properties(ctx, hm_device_host(), hm_execution_default(), 20, "cpu split");
    run_fft_properties(ctx, hm_device_host(), hm_execution_cpu(3), 24, "cpu split");
    hm_context_destroy(ctx);
}

/* 2^20 points split 1024 x 1024 (the log says so) against FFTW's own plan: the same transform
 * to f32 rounding, forward and inverse with 1/N; the input untouched; the result the same bit for
 * bit when run again. */
static void split_against_fftw(void)
{
    enum { N = 1 << 20 };
    hm_context *ctx = strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_ALWAYS, HM_CPU_FFT_NEVER);
    float *x = malloc(sizeof(float) * 2 * N), *xs = malloc(sizeof(float) * 2 * N);
    float *ys = malloc(sizeof(float) * 2 * N), *yf = malloc(sizeof(float) * 2 * N);
    unsigned long long seed = 77;
    for (int i = 0; i < 2 * N; i++)
        x[i] = xs[i] = (float)hm_test_rand(&seed);
    int64_t n = N;
    hm_tensor tx, ty;
    hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    for (int dir = 0; dir < 2; dir++) {
        hm_fft_options o;
        hm_fft_options_init(&o);
        o.direction = dir ? HM_FFT_INVERSE : HM_FFT_FORWARD;
        hm_tensor_init(&ty, ys, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
        hm_context_set_log_level(ctx, HM_LOG_INFO);
        hm_test_log_clear(&g_log);
        CHECK_STATUS(hm_fft(ctx, &tx, &ty, &o), HM_STATUS_SUCCESS);
        hm_context_set_log_level(ctx, HM_LOG_WARN);
        if (!dir)
            CHECK_CONTAINS(g_log.text, "FFTW: 1048576 points split 1024 x 1024, two passes");
        CHECK(memcmp(x, xs, sizeof(float) * 2 * N) == 0);
        hm_context *plain =
            strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_NEVER, HM_CPU_FFT_NEVER);
        hm_tensor_init(&ty, yf, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
        CHECK_STATUS(hm_fft(plain, &tx, &ty, &o), HM_STATUS_SUCCESS);
        hm_context_destroy(plain);
        CHECK_NEAR(rel_l2(ys, yf, 2 * N), 1e-6, dir ? "split inverse vs FFTW" : "split vs FFTW");
        memcpy(yf, ys, sizeof(float) * 2 * N);
        hm_tensor_init(&ty, ys, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
        CHECK_STATUS(hm_fft(ctx, &tx, &ty, &o), HM_STATUS_SUCCESS);
        CHECK(memcmp(ys, yf, sizeof(float) * 2 * N) == 0);
    }
    hm_context_destroy(ctx);
    free(x);
    free(xs);
    free(ys);
    free(yf);
}

/* The streamed row blocks forced on, over the table. */
static void row_blocks_streamed(void)
{
    hm_context *ctx = strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_AUTO, HM_CPU_FFT_STREAM);
    run_fft_cases(ctx, hm_device_host(), hm_execution_cpu(3), 0, "cpu streamed row blocks");
    run_fft_properties(ctx, hm_device_host(), hm_execution_cpu(3), 20, "cpu streamed row blocks");
    hm_context_destroy(ctx);
}

/* The CPU FFT's options: statuses and messages. */
static void cpu_fft_options(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    hm_cpu_fft_options o;
    hm_cpu_fft_options_init(&o);
    CHECK_STATUS(hm_context_set_cpu_fft_options(NULL, &o), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    o.split = HM_CPU_FFT_STREAM;
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "split 3 is not auto, never or always");
    hm_cpu_fft_options_init(&o);
    o.row_blocks = 9;
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_INVALID_ARGUMENT);
    hm_cpu_fft_options_init(&o);
    o.row_block_bytes = (size_t)2 << 30;
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_INVALID_ARGUMENT);
    o.size = 3;
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "options size 3");
    hm_cpu_fft_options_init(&o);
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &o), HM_STATUS_SUCCESS);
    hm_context_destroy(ctx);
}

/* A c2r on the CPU copies x (its backend overwrites its input): the spaces line says so, the
 * ledger has the h2h copy, an h2h guard refuses it; with overwrite_input there is no copy, and
 * the same result. An empty batch is an empty result; a 0-d x is returned unchanged. */
static void c2r_copy_and_edges(void)
{
    enum { M = 9, L = 16 };
    static float xh[2 * 4 * M], keep[2 * 4 * M], y1[4 * L], y2[4 * L];
    unsigned long long seed = 12;
    for (int i = 0; i < 2 * 4 * M; i++)
        keep[i] = xh[i] = (float)hm_test_rand(&seed);
    int64_t sx[2] = {4, M}, sy[2] = {4, L};
    hm_tensor x, y;
    hm_tensor_init(&x, xh, hm_device_host(), HM_DTYPE_C64, 2, sx, NULL);
    hm_tensor_init(&y, y1, hm_device_host(), HM_DTYPE_F32, 2, sy, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.type = HM_FFT_C2R;
    o.direction = HM_FFT_INVERSE;
    o.num_axes = 1;
    o.axes[0] = 1;
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_INFO);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(g_log.text, "no copies between spaces; staged within host memory: x (288 B)");
    CHECK_EQ_INT(hm_ledger_count(ctx), 1);
    CHECK(memcmp(xh, keep, sizeof xh) == 0);
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ERROR);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_TRANSFER_REFUSED);
    o.overwrite_input = 1; /* no copy: the guard has nothing to refuse */
    hm_test_log_clear(&g_log);
    hm_ledger_reset(ctx);
    y.data = y2;
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(g_log.text, "execution space: cpu (1 thread) \xe2\x80\x94 no copies\n");
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    CHECK_NEAR(rel_l2(y1, y2, 4 * L), 1e-6, "c2r overwriting its input agrees");
    o.overwrite_input = 2;
    CHECK_STATUS(hm_fft(ctx, &x, &y, &o), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "overwrite_input 2 is neither 0 nor 1");
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ALLOW);

    /* An empty batch (NumPy: fft of a (0, 8) array over axis 1 is (0, 8)). */
    int64_t se[2] = {0, 8};
    hm_tensor xe, ye = {0};
    hm_tensor_init(&xe, xh, hm_device_host(), HM_DTYPE_C64, 2, se, NULL);
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_fft(ctx, &xe, &ye, &o), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(ye.ndim, 2);
    CHECK_EQ_INT(ye.shape[0], 0);
    CHECK_EQ_INT(ye.shape[1], 8);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    hm_tensor_free(ctx, &ye);
    /* ...but a transform of no point is refused, as NumPy does. */
    o.axes[0] = 0;
    CHECK_STATUS(hm_fft(ctx, &xe, &ye, &o), HM_STATUS_INVALID_SHAPE);
    /* A 0-d x: the transform over no axis is the identity. */
    hm_tensor x0, y0 = {0};
    hm_tensor_init(&x0, xh, hm_device_host(), HM_DTYPE_C64, 0, NULL, NULL);
    hm_fft_options_init(&o);
    CHECK_STATUS(hm_fft(ctx, &x0, &y0, &o), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(y0.ndim, 0);
    CHECK(y0.data && memcmp(y0.data, xh, 8) == 0);
    hm_tensor_free(ctx, &y0);
    o.type = HM_FFT_R2C;
    hm_tensor_init(&x0, xh, hm_device_host(), HM_DTYPE_F32, 0, NULL, NULL);
    CHECK_STATUS(hm_fft(ctx, &x0, &y0, &o), HM_STATUS_INVALID_AXES);
    hm_context_destroy(ctx);
}

/* Without measuring, the strategies are taken by rule: a long 1-D transform split, a batch of
 * rows in blocks; each the same transform as FFTW's own plan. */
static void strategies_by_rule(void)
{
    enum { N = 1 << 18, R = 64, L = 1024 };
    float *x = malloc(sizeof(float) * 2 * N), *a = malloc(sizeof(float) * 2 * N),
          *b = malloc(sizeof(float) * 2 * N);
    unsigned long long seed = 31;
    for (int i = 0; i < 2 * N; i++)
        x[i] = (float)hm_test_rand(&seed);
    int64_t n = N, sr[2] = {R, L};
    hm_tensor tx, ta, tb;
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.execution = hm_execution_cpu(2);
    for (int shape = 0; shape < 2; shape++) {
        int nd = shape ? 2 : 1;
        const int64_t *s = shape ? sr : &n;
        hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, nd, s, NULL);
        hm_tensor_init(&ta, a, hm_device_host(), HM_DTYPE_C64, nd, s, NULL);
        hm_tensor_init(&tb, b, hm_device_host(), HM_DTYPE_C64, nd, s, NULL);
        o.num_axes = 1;
        o.axes[0] = nd - 1;
        hm_context *ctx = strategy_context(&g_log, HM_LOG_INFO, HM_CPU_FFT_AUTO, HM_CPU_FFT_AUTO);
        CHECK_STATUS(hm_fft(ctx, &tx, &ta, &o), HM_STATUS_SUCCESS);
        CHECK_CONTAINS(g_log.text, shape ? "FFTW: 64 rows in blocks of 32, copied and transformed "
                                           "in place in y, by rule (not timed)"
                                         : "FFTW: 262144 points split 512 x 512, two passes of "
                                           "blocks, by rule (not timed)");
        hm_context_destroy(ctx);
        ctx = strategy_context(&g_log, HM_LOG_WARN, HM_CPU_FFT_NEVER, HM_CPU_FFT_NEVER);
        CHECK_STATUS(hm_fft(ctx, &tx, &tb, &o), HM_STATUS_SUCCESS);
        hm_context_destroy(ctx);
        CHECK_NEAR(rel_l2(a, b, 2 * (shape ? R * L : N)), 1e-6,
                   shape ? "rows by rule vs FFTW" : "split by rule vs FFTW");
    }
    free(x);
    free(a);
    free(b);
}

/* The per-machine wisdom file: written after a measured plan (naming the machine), read before
 * the first plan of a process; one made elsewhere or not wisdom at all is ignored with a line in
 * the log; never touched when the options say so. */
static void wisdom_file(void)
{
    char dir[] = "/tmp/hetmath-wisdom-XXXXXX", path[320], folder[256];
    CHECK(mkdtemp(dir) != NULL);
    float x[2 * 64] = {1, 2, 3}, y[2 * 64];
    int64_t n = 64;
    hm_tensor tx, ty;
    hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_tensor_init(&ty, y, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.effort = HM_FFT_MEASURE;
    hm_cpu_fft_options fo;
    for (int variant = 0; variant < 4; variant++) {
        snprintf(folder, sizeof folder, "%s/%d", dir, variant);
        snprintf(path, sizeof path, "%s/fftw-wisdom", folder);
        if (variant >= 1) { /* a file there already: another machine's, or no wisdom */
            mkdir(folder, 0700);
            FILE *f = fopen(path, "w");
            CHECK(f != NULL);
            if (f) {
                fputs(variant == 1 ? "hetmath fftw wisdom 1\nmachine: elsewhere\n(fftw-3.3)\n"
                                   : "not wisdom at all\n",
                      f);
                fclose(f);
            }
        }
        hm_context *ctx = hm_test_context(&g_log, HM_LOG_INFO);
        hm_cpu_fft_options_init(&fo);
        fo.wisdom_path = path;
        fo.wisdom_file = variant == 3 ? HM_CPU_FFT_NEVER : HM_CPU_FFT_AUTO;
        CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &fo), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_fft(ctx, &tx, &ty, &o), HM_STATUS_SUCCESS);
        hm_context_destroy(ctx);
        if (variant == 1)
            CHECK_CONTAINS(g_log.text, "was made on another machine or FFTW; ignored");
        if (variant == 2)
            CHECK_CONTAINS(g_log.text, "is not a hetmath wisdom file; ignored");
        FILE *f = fopen(path, "r");
        char head[64] = "";
        if (f) {
            CHECK(fgets(head, sizeof head, f) != NULL);
            fclose(f);
        }
        if (variant == 3)
            CHECK(strcmp(head, "not wisdom at all\n") == 0); /* neither read nor replaced */
        else
            CHECK(strcmp(head, "hetmath fftw wisdom 1\n") == 0);
        remove(path);
        rmdir(folder);
    }
    rmdir(dir);
    hm_cpu_fft_options_init(&fo);
    fo.wisdom_file = 7;
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    CHECK_STATUS(hm_context_set_cpu_fft_options(ctx, &fo), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(strategies_by_rule),      HM_TEST_CASE(wisdom_file),
    HM_TEST_CASE(c2r_copy_and_edges),      HM_TEST_CASE(cases_default),
    HM_TEST_CASE(bad_input_statuses),      HM_TEST_CASE(plans_cache_and_log),
    HM_TEST_CASE(properties_large),        HM_TEST_CASE(row_blocks_forced),
    HM_TEST_CASE(row_blocks_against_fftw), HM_TEST_CASE(split_forced),
    HM_TEST_CASE(split_against_fftw),      HM_TEST_CASE(row_blocks_streamed),
    HM_TEST_CASE(cpu_fft_options),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_fft_cpu", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
