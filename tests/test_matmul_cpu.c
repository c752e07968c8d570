/* Matmul on host operands with CPU execution (CBLAS): the case table against a double-precision
 * reference, a large residual check, plans and the cache, the guard, and every bad input. */
#include "matmul_cases.h"

static void bad_inputs(hm_context *ctx)
{
    static float a[64], b[64], d[64], d2[64];
    int64_t s34[2] = {3, 4}, s45[2] = {4, 5}, s35[2] = {3, 5}, s55[2] = {5, 5}, b235[3] = {2, 3, 4},
            b345[3] = {3, 4, 5}, s3[1] = {3};
    hm_tensor A, B, D, Bbad, A3, B3, Dbig, bias, D16, A16, B16;
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, s34, NULL);
    hm_tensor_init(&B, b, hm_device_host(), HM_DTYPE_F32, 2, s45, NULL);
    hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, s35, NULL);
    hm_tensor_init(&Bbad, b, hm_device_host(), HM_DTYPE_F32, 2, s55, NULL);
    hm_tensor_init(&A3, a, hm_device_host(), HM_DTYPE_F32, 3, b235, NULL);
    hm_tensor_init(&B3, b, hm_device_host(), HM_DTYPE_F32, 3, b345, NULL);
    hm_tensor_init(&Dbig, d2, hm_device_host(), HM_DTYPE_F32, 2, s55, NULL);
    hm_tensor_init(&bias, d2, hm_device_host(), HM_DTYPE_F32, 1, s3, NULL);
    hm_tensor_init(&A16, a, hm_device_host(), HM_DTYPE_F16, 2, s34, NULL);
    hm_tensor_init(&B16, b, hm_device_host(), HM_DTYPE_F16, 2, s45, NULL);
    hm_tensor_init(&D16, d2, hm_device_host(), HM_DTYPE_F16, 2, s35, NULL);
    for (int i = 0; i < 64; i++)
        a[i] = b[i] = (float)i;
    hm_matmul_options o;
    hm_matmul_options_init(&o);
#define EXPECT(call, status, text)                                                                 \
    do {                                                                                           \
        memset(d, 0x55, sizeof d);                                                                 \
        CHECK_STATUS(call, status);                                                                \
        CHECK_CONTAINS(hm_context_last_error(ctx), text);                                          \
        int touched_ = 0;                                                                          \
        for (size_t i_ = 0; i_ < sizeof d; i_++)                                                   \
            touched_ += ((unsigned char *)d)[i_] != 0x55;                                          \
        CHECK_EQ_INT(touched_, 0);                                                                 \
    } while (0)
    EXPECT(hm_matmul(ctx, &A, &Bbad, NULL, &D, &o), HM_STATUS_SHAPE_MISMATCH,
           "inner dimensions differ: A is 3 x 4 but B is 5 x 5");
    EXPECT(hm_matmul(ctx, &A3, &B3, NULL, &D, &o), HM_STATUS_BROADCAST_MISMATCH,
           "batch dimension 0 is 2 in A but 3 in B");
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &Dbig, &o), HM_STATUS_SHAPE_MISMATCH,
           "operand D does not have the result's shape");
    EXPECT(hm_matmul(ctx, &A, &B, &Dbig, &D, &o), HM_STATUS_SHAPE_MISMATCH,
           "operand C does not have the result's shape");
    EXPECT(hm_matmul(ctx, &A16, &B, NULL, &D, &o), HM_STATUS_DTYPE_MISMATCH,
           "operand A is f16 but B is f32");
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &D16, &o), HM_STATUS_DTYPE_MISMATCH,
           "operand D is f16 but A and B are f32");
    EXPECT(hm_matmul(ctx, &A16, &B16, NULL, &D16, &o), HM_STATUS_NOT_SUPPORTED,
           "f16 matmul needs a CUDA execution space");
    hm_tensor vec = bias;
    EXPECT(hm_matmul(ctx, &vec, &B, NULL, &D, &o), HM_STATUS_INVALID_SHAPE,
           "operand A has 1 dimension");
    hm_tensor alias = D;
    alias.data = a; /* D over A */
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &alias, &o), HM_STATUS_ALIASING);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand D overlaps A");
    EXPECT(hm_matmul(ctx, NULL, &B, NULL, &D, &o), HM_STATUS_INVALID_ARGUMENT, "operand A is NULL");
    EXPECT(hm_matmul(ctx, &A, &B, NULL, NULL, &o), HM_STATUS_INVALID_ARGUMENT, "operand D is NULL");
    o.epilog = HM_EPILOG_RELU;
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_INVALID_ARGUMENT,
           "belong to hm_matmul_advanced");
    hm_matmul_options_init(&o);
    o.size = 2;
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_INVALID_ARGUMENT, "options size");
    hm_matmul_options_init(&o);
    o.register_host = 1;
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_INVALID_ARGUMENT,
           "hm_matmul: register_host needs a plan (hm_matmul_plan_create)");
    o.register_host = -1;
    hm_matmul_plan *rp = NULL;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &o, &rp),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "register_host -1 is neither 0 nor 1");
    /* On the CPU nothing is copied, so a plan with the option has nothing to register. */
    o.register_host = 1;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &o, &rp),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_matmul_execute(ctx, rp, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_matmul_execute(ctx, rp, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
    hm_matmul_plan_destroy(rp);
    hm_matmul_options_init(&o);
    o.execution = hm_execution_cpu(-3);
    EXPECT(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_INVALID_EXECUTION,
           "cpu execution with -3 threads");
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    hm_matmul_options_init(&o);
    if (ndev == 0) {
        EXPECT(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_CUDA_UNAVAILABLE,
               "this operation needs a CUDA execution space");
        o.execution = hm_execution_cuda(0);
        EXPECT(hm_matmul(ctx, &A, &B, NULL, &D, &o), HM_STATUS_CUDA_UNAVAILABLE, "hm_matmul: ");
        hm_matmul_options_init(&o);
    }
    o.execution = hm_execution_cpu(HM_AUTO);
    EXPECT(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_INVALID_EXECUTION,
           "runs on CUDA only");
    hm_matmul_options_init(&o);
    o.epilog = HM_EPILOG_BIAS;
    o.execution = hm_execution_default();
    if (ndev > 0) {
        EXPECT(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_INVALID_ARGUMENT,
               "the epilog adds a bias but none was given");
        hm_tensor bias4 = bias;
        bias4.shape[0] = 4;
        EXPECT(hm_matmul_advanced(ctx, &A, &B, NULL, &D, &bias4, &o), HM_STATUS_SHAPE_MISMATCH,
               "operand bias has length 4 but D has 5 columns");
    }
    o.epilog = (hm_matmul_epilog)17;
    EXPECT(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_INVALID_ARGUMENT,
           "epilog 17");
    int changed = 0;
    for (int i = 0; i < 64; i++)
        changed += a[i] != (float)i || b[i] != (float)i;
    CHECK_EQ_INT(changed, 0);
#undef EXPECT
}

static void plans_and_guard(hm_context *ctx, hm_test_log *log)
{
    enum { M = 33, N = 17, K = 21 };
    static float a[M * K], b[K * N], c[M * N], d[M * N], d2[M * N];
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
    hm_tensor A, B, C, D, D2;
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&B, b, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    hm_tensor_init(&C, c, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_tensor_init(&D2, d2, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    unsigned long long seed = 3;
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    hm_matmul_plan *plan;
    hm_context_set_log_level(ctx, HM_LOG_DEBUG);
    hm_test_log_clear(log);
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log->text, "matmul: f32 M=33 N=17 K=21 batch 1");
    CHECK_CONTAINS(log->text, "memory space: host; execution space: cpu (");
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < M * K; i++)
            a[i] = (float)hm_test_rand(&seed);
        for (int i = 0; i < K * N; i++)
            b[i] = (float)hm_test_rand(&seed);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D2, &o), HM_STATUS_SUCCESS);
        CHECK(memcmp(d, d2, sizeof d) == 0);
    }
    CHECK_CONTAINS(log->text, "plan cache hit");
    CHECK_CONTAINS(log->text, "FLOP/s");
    CHECK_STATUS(hm_matmul_execute(ctx, plan, &A, &B, &C, &D, NULL), HM_STATUS_PLAN_MISMATCH);
    hm_tensor At = A;
    At.strides[0] = 1;
    At.strides[1] = M;
    CHECK_STATUS(hm_matmul_execute(ctx, plan, &At, &B, NULL, &D, NULL), HM_STATUS_PLAN_MISMATCH);
    hm_matmul_plan_destroy(plan);
    hm_matmul_plan_destroy(NULL);
    CHECK_STATUS(hm_matmul_plan_create(ctx, (hm_op_class)5, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_INVALID_ARGUMENT);

    /* beta with a separate C copies C into D (h2h); forbid h2h and the call is refused. */
    o.beta = 1.0;
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ERROR);
    memset(d, 0x55, sizeof d);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, &C, &D, &o), HM_STATUS_TRANSFER_REFUSED);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_matmul: operand C would be copied host -> host");
    CHECK_EQ_INT(((unsigned char *)d)[0], 0x55);
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ALLOW);
    /* C == D is BLAS's in-place update, no copy. */
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, &D, &D, &o), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    hm_context_set_log_level(ctx, HM_LOG_WARN);
}

static hm_test_log g_log;

static void cases_cpu(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    mm_run runs[] = {
        {hm_device_host(), hm_execution_default(), 0, 0, "cpu default"},
        {hm_device_host(), hm_execution_cpu(1), 0, 0, "cpu 1 thread"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        run_mm_cases(ctx, &runs[i]);
    hm_context_destroy(ctx);
}

static void residual_large(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    run_mm_residual(ctx, hm_device_host(), hm_execution_default(), 0, 0, 512, 384, 256, "cpu");
    hm_context_destroy(ctx);
}

static void bad_input_statuses(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    bad_inputs(ctx);
    hm_context_destroy(ctx);
}

static void plans_cache_and_guard(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    plans_and_guard(ctx, &g_log);
    hm_context_destroy(ctx);
}

/* The cached plan of a stateless call computes with each call's alpha, beta, C and pointers. */
static void cached_plan_takes_call_values(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    run_mm_call_values(ctx, hm_device_host(), hm_execution_default(), 0, "cpu");
    hm_context_destroy(ctx);
}

/* Empty products and K = 0, every dtype the CPU multiplies (and f16/bf16, which need no BLAS
 * there: K = 0 is computed where D is). */
static void empty_and_k0(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    static const hm_dtype dts[] = {HM_DTYPE_F32,  HM_DTYPE_F64, HM_DTYPE_C64,
                                   HM_DTYPE_C128, HM_DTYPE_F16, HM_DTYPE_BF16};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++)
        run_mm_edges(ctx, hm_device_host(), hm_execution_default(), 0, dts[i], "cpu");
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(cases_cpu),
    HM_TEST_CASE(residual_large),
    HM_TEST_CASE(bad_input_statuses),
    HM_TEST_CASE(plans_cache_and_guard),
    HM_TEST_CASE(cached_plan_takes_call_values),
    HM_TEST_CASE(empty_and_k0),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_matmul_cpu", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
