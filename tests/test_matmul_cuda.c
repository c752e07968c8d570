/* Matmul on a GPU (cuBLASLt): the case table with device operands, host operands on the GPU and
 * device operands on the CPU (exact ledger figures), the advanced matmul (f16, bf16, TF32,
 * epilogs, autotuning, host operands copied in and D copied back), the guard, and residuals at
 * a large size. Skipped (77) without a device. */
#include "matmul_cases.h"

static double gelu(double x)
{
    return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/* D = epilog(A·B + bias) with operands in `memory`, advanced, against a double reference. */
static void run_epilogs(hm_context *ctx, hm_device memory, hm_dtype dt)
{
    enum { M = 37, N = 29, K = 45 };
    static const hm_matmul_epilog eps[] = {HM_EPILOG_RELU, HM_EPILOG_GELU, HM_EPILOG_BIAS,
                                           HM_EPILOG_RELU_BIAS, HM_EPILOG_GELU_BIAS};
    unsigned long long seed = 4242;
    double complex va[M * K], vb[K * N], vbias[N];
    for (int i = 0; i < M * K; i++)
        va[i] = hm_test_rand(&seed);
    for (int i = 0; i < K * N; i++)
        vb[i] = hm_test_rand(&seed);
    for (int i = 0; i < N; i++)
        vbias[i] = hm_test_rand(&seed);
    unsigned char cell[16];
    for (int i = 0; i < M * K; i++) {
        mm_put(cell, dt, 0, va[i]);
        va[i] = mm_get(cell, dt, 0);
    }
    for (int i = 0; i < K * N; i++) {
        mm_put(cell, dt, 0, vb[i]);
        vb[i] = mm_get(cell, dt, 0);
    }
    for (int i = 0; i < N; i++) {
        mm_put(cell, dt, 0, vbias[i]);
        vbias[i] = mm_get(cell, dt, 0);
    }
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N}, sn[1] = {N};
    void *ha, *hb, *hd, *hbias, *da, *db, *dd, *dbias;
    hm_tensor ta = mm_host(dt, 2, sa, MM_ROW, va, &ha), tb = mm_host(dt, 2, sb, MM_COL, vb, &hb);
    hm_tensor td = mm_host(dt, 2, sd, MM_ROW, NULL, &hd);
    hbias = malloc((size_t)N * hm_dtype_size(dt));
    for (int i = 0; i < N; i++)
        mm_put(hbias, dt, i, vbias[i]);
    hm_tensor tbias;
    hm_tensor_init(&tbias, hbias, hm_device_host(), dt, 1, sn, NULL);
    hm_tensor A = mm_place(ctx, &ta, memory, &da), B = mm_place(ctx, &tb, memory, &db);
    hm_tensor D = mm_place(ctx, &td, memory, &dd), bias = mm_place(ctx, &tbias, memory, &dbias);
    for (size_t e = 0; e < sizeof eps / sizeof eps[0]; e++) {
        hm_matmul_options o;
        hm_matmul_options_init(&o);
        o.epilog = eps[e];
        o.blocking = 1;
        o.autotune = e == 0 ? 4 : 0;
        int with_bias = eps[e] >= HM_EPILOG_BIAS;
        hm_ledger_reset(ctx);
        hm_status st = hm_matmul_advanced(ctx, &A, &B, NULL, &D, with_bias ? &bias : NULL, &o);
        if (st != HM_STATUS_SUCCESS)
            fprintf(stderr, "epilog %d %s: %s\n", (int)eps[e], hm_dtype_name(dt),
                    hm_context_last_error(ctx));
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        if (st != HM_STATUS_SUCCESS)
            continue;
        hm_transfer_totals tot;
        hm_ledger_totals(ctx, &tot);
        size_t es = hm_dtype_size(dt);
        if (memory.type == HM_DEVICE_HOST) { /* exactly A, B (and bias) in, D out */
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], (M * K + K * N + (with_bias ? N : 0)) * es);
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2H], M * N * es);
        } else {
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D] + tot.bytes[HM_TRANSFER_D2H], 0);
        }
        double complex *got = mm_fetch(ctx, &D);
        double num = 0, den = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < K; k++)
                    s += creal(va[i * K + k]) * creal(vb[k * N + j]);
                if (with_bias)
                    s += creal(vbias[j]);
                if (eps[e] == HM_EPILOG_RELU || eps[e] == HM_EPILOG_RELU_BIAS)
                    s = s > 0 ? s : 0;
                if (eps[e] == HM_EPILOG_GELU || eps[e] == HM_EPILOG_GELU_BIAS)
                    s = gelu(s);
                double diff = creal(got[i * N + j]) - s;
                num += diff * diff;
                den += s * s;
            }
        char what[96];
        snprintf(what, sizeof what, "epilog %d %s in %s", (int)eps[e], hm_dtype_name(dt),
                 memory.type == HM_DEVICE_HOST ? "host" : "cuda:0");
        CHECK_NEAR(sqrt(num / den), mm_tolerance(dt, 0) * 2, what);
        free(got);
    }
    mm_free(ctx, memory, da);
    mm_free(ctx, memory, db);
    mm_free(ctx, memory, dd);
    mm_free(ctx, memory, dbias);
    free(ha);
    free(hb);
    free(hd);
    free(hbias);
}

/* A long-lived plan with register_host over pageable host operands (the pipelined case, odd
 * sizes): the first execution stages A, B and D; the second, on the same buffers, registers them
 * and copies direct; a new A is staged and the old one unregistered; destroying the plan
 * unregisters the rest. D is bit-identical across the executions (the same tile plans), and
 * stateless calls refuse the option. */
static void run_registration(hm_context *ctx, hm_test_log *log)
{
    const int64_t M = 3001, K = 1003, N = 517;
    int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
    hm_device host = hm_device_host();
    hm_tensor A, A2, B, D;
    CHECK_STATUS(hm_tensor_alloc(ctx, host, HM_DTYPE_F32, 2, sa, &A), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, host, HM_DTYPE_F32, 2, sa, &A2), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, host, HM_DTYPE_F32, 2, sb, &B), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, host, HM_DTYPE_F32, 2, sd, &D), HM_STATUS_SUCCESS);
    unsigned long long seed = 31;
    for (int64_t i = 0; i < M * K; i++)
        ((float *)A.data)[i] = ((float *)A2.data)[i] = (float)hm_test_rand(&seed);
    for (int64_t i = 0; i < K * N; i++)
        ((float *)B.data)[i] = (float)hm_test_rand(&seed);
    size_t dbytes = hm_tensor_nbytes(&D);
    float *first = malloc(dbytes);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.register_host = 1;

    /* Stateless calls refuse it, before any work. */
    memset(D.data, 0x55, dbytes);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx),
                   "hm_matmul_advanced: register_host needs a plan (hm_matmul_plan_create)");
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    CHECK_EQ_INT(((unsigned char *)D.data)[dbytes - 1], 0x55);
    o.register_host = 2;
    hm_matmul_plan *plan = NULL;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_SPECIALIZED, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "register_host 2 is neither 0 nor 1");
    CHECK(plan == NULL);

    o.register_host = 1;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_SPECIALIZED, &A, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_SUCCESS);
    hm_transfer_record ra, rb, rd;
    for (int call = 0; call < 4 && plan; call++) {
        const hm_tensor *a = call == 3 ? &A2 : &A;
        hm_context_set_log_level(ctx, HM_LOG_INFO);
        hm_test_log_clear(log);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, a, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        hm_context_set_log_level(ctx, HM_LOG_WARN);
        CHECK(hm_test_last_record(ctx, "A", &ra) && hm_test_last_record(ctx, "B", &rb) &&
              hm_test_last_record(ctx, "D", &rd));
        hm_transfer_totals tot;
        hm_ledger_totals(ctx, &tot);
        CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], (M * K + K * N) * 4);
        CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2H], M * N * 4);
        if (call == 0) { /* first sight of the buffers: staged */
            CHECK(strstr(log->text, "registered operand") == NULL);
            CHECK_EQ_INT(ra.path, HM_PATH_STAGED);
            CHECK_EQ_INT(ra.src_pinned, 0);
            CHECK_EQ_INT(rd.dst_pinned, 0);
            memcpy(first, D.data, dbytes);
        } else if (call == 1) { /* the same buffers again: registered, then direct */
            CHECK_CONTAINS(log->text, "hm_matmul_advanced: registered operand A (12.0 MB at");
            CHECK_CONTAINS(log->text, "registered operand B (");
            CHECK_CONTAINS(log->text, "registered operand D (");
            CHECK_CONTAINS(log->text, "host (registered) -> cuda:0");
            CHECK_EQ_INT(ra.path, HM_PATH_DIRECT);
            CHECK_EQ_INT(ra.src_pinned, 1);
            CHECK_EQ_INT(rb.src_pinned, 1);
            CHECK_EQ_INT(rd.dst_pinned, 1);
            CHECK_EQ_INT(rd.path, HM_PATH_DIRECT);
        } else if (call == 2) { /* still registered: nothing to do */
            CHECK(strstr(log->text, "registered operand") == NULL);
            CHECK_EQ_INT(ra.src_pinned, 1);
        } else { /* another A: the old one unregistered, the new one staged; B and D stay */
            CHECK_CONTAINS(log->text, "unregistered 12.0 MB of host memory");
            CHECK_EQ_INT(ra.path, HM_PATH_STAGED);
            CHECK_EQ_INT(ra.src_pinned, 0);
            CHECK_EQ_INT(rb.src_pinned, 1);
            CHECK_EQ_INT(rd.dst_pinned, 1);
        }
        CHECK(memcmp(first, D.data, dbytes) == 0);
    }
    /* Registration and unregistration, 50 times over: A twice (registered at the second), then
     * A2 twice (A unregistered at the first, A2 registered at the second). D stays right. */
    for (int cycle = 0; cycle < 50 && plan; cycle++) {
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A2, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &A2, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
    }
    CHECK(memcmp(first, D.data, dbytes) == 0);
    /* The old A is pageable again; destroying the plan unpins B and A2. */
    hm_tensor Ad;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sa, &Ad),
                 HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_copy(ctx, &A, &Ad), HM_STATUS_SUCCESS);
    CHECK(hm_test_last_record(ctx, "src", &ra));
    CHECK_EQ_INT(ra.src_pinned, 0);
    hm_matmul_plan_destroy(plan);
    hm_tensor Bd;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, sb, &Bd),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &B, &Bd), HM_STATUS_SUCCESS);
    CHECK(hm_test_last_record(ctx, "src", &rb));
    CHECK_EQ_INT(rb.src_pinned, 0);
    CHECK_STATUS(hm_copy(ctx, &A2, &Ad), HM_STATUS_SUCCESS);
    CHECK(hm_test_last_record(ctx, "src", &ra));
    CHECK_EQ_INT(ra.src_pinned, 0);

    /* Pinned operands are left alone: nothing registered, copies direct as always. */
    hm_tensor P;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_F32, 2, sa, &P),
                 HM_STATUS_SUCCESS);
    memcpy(P.data, A.data, hm_tensor_nbytes(&A));
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_SPECIALIZED, &P, &B, NULL, &D, NULL, &o, &plan),
                 HM_STATUS_SUCCESS);
    for (int call = 0; call < 2 && plan; call++) {
        hm_context_set_log_level(ctx, HM_LOG_INFO);
        hm_test_log_clear(log);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &P, &B, NULL, &D, NULL), HM_STATUS_SUCCESS);
        hm_context_set_log_level(ctx, HM_LOG_WARN);
        CHECK(strstr(log->text, "registered operand A") == NULL);
    }
    CHECK_CONTAINS(log->text, "registered operand B (");
    /* another plan: its measured tiles may differ, and so D's low bits */
    double num = 0, den = 0;
    for (size_t i = 0; i < dbytes / 4; i++) {
        double diff = (double)((float *)D.data)[i] - first[i];
        num += diff * diff;
        den += (double)first[i] * first[i];
    }
    CHECK_NEAR(sqrt(num / den), 1e-5, "pinned operands' plan vs the registered plan");
    hm_matmul_plan_destroy(plan);
    free(first);
    hm_tensor *all[] = {&A, &A2, &B, &D, &Ad, &Bd, &P};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        hm_tensor_free(ctx, all[i]);
}

static hm_test_log g_log;

/* A context with a device, or the skip. */
static hm_context *gpu_context(void)
{
    hm_context *ctx = hm_test_context(&g_log, HM_LOG_WARN);
    hm_test_require_cuda(ctx, "test_matmul_cuda");
    return ctx;
}

/* The case table on device operands, host operands on cuda:0, device operands on the CPU, and
 * the advanced matmul of both. */
static void cases_all_spaces(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    hm_execution dflt = hm_execution_default(), cuda0 = hm_execution_cuda(0),
                 cpu = hm_execution_cpu(HM_AUTO);
    mm_run runs[] = {
        {dev, dflt, 0, 0, "cuda default"},
        {hm_device_host(), cuda0, 0, 1, "host on cuda:0"},
        {dev, cpu, 0, 1, "cuda:0 on cpu"},
        {dev, dflt, 1, 0, "advanced, device operands"},
        {hm_device_host(), dflt, 1, 1, "advanced, host operands"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        run_mm_cases(ctx, &runs[i]);
    hm_context_destroy(ctx);
}

static void epilogs(void)
{
    hm_context *ctx = gpu_context();
    static const hm_dtype eps_dtypes[] = {HM_DTYPE_F32, HM_DTYPE_F16, HM_DTYPE_BF16};
    for (size_t i = 0; i < 3; i++) {
        run_epilogs(ctx, hm_device_cuda(0), eps_dtypes[i]);
        run_epilogs(ctx, hm_device_host(), eps_dtypes[i]);
    }
    hm_context_destroy(ctx);
}

static void residuals(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    hm_execution dflt = hm_execution_default();
    int64_t big = getenv("HETMATH_TEST_QUICK") ? 512 : 2048; /* quick under compute-sanitizer */
    run_mm_residual(ctx, dev, dflt, 0, 0, big, big * 3 / 4, big / 2, "cuda f32");
    run_mm_residual(ctx, dev, dflt, 1, 1, big, big * 3 / 4, big / 2, "cuda tf32");
    run_mm_residual(ctx, hm_device_host(), dflt, 1, 0, 1000, 999, 517, "advanced host f32");
    hm_context_destroy(ctx);
}

/* Host operands pipelined over row tiles (A ≥ 8 MiB, odd sizes that do not divide into tiles),
 * pageable and pinned, with the tiles the measured model chose and, in a context of fixed
 * schedules, with the tiles from the sizes: D within the f32 threshold of the device-operand
 * product, exactly A and B in and D out, in as many chunks as the log's tiles. */
static void pipelined_host_operands(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    /* Host operands pipelined over row tiles (A ≥ 8 MiB, odd sizes that do not divide into
     * tiles), pageable and pinned, with the tiles the measured model chose and, in a context of
     * fixed schedules, with the tiles from the sizes: D within the f32 threshold of the
     * device-operand product, exactly A and B in and D out, in as many chunks as the log's
     * tiles. */
    {
        const int64_t M = 3001, K = 1003, N = 517;
        int64_t sa[2] = {M, K}, sb[2] = {K, N}, sd[2] = {M, N};
        hm_context *fixed_ctx = hm_test_context_scheduled(&g_log, HM_LOG_WARN, HM_PIPELINE_FIXED);
        for (int variant = 0; variant < 3; variant++) {
            int pinned = variant == 1, fixed = variant == 2;
            hm_context *c = fixed ? fixed_ctx : ctx;
            hm_device hostspace = pinned ? hm_device_pinned() : hm_device_host();
            hm_tensor A, B, D, Ad, Bd, Dd;
            CHECK_STATUS(hm_tensor_alloc(ctx, hostspace, HM_DTYPE_F32, 2, sa, &A),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, sb, &B),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hostspace, HM_DTYPE_F32, 2, sd, &D),
                         HM_STATUS_SUCCESS);
            unsigned long long seed = 11 + (unsigned long long)pinned;
            for (int64_t i = 0; i < M * K; i++)
                ((float *)A.data)[i] = (float)hm_test_rand(&seed);
            for (int64_t i = 0; i < K * N; i++)
                ((float *)B.data)[i] = (float)hm_test_rand(&seed);
            CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_F32, 2, sa, &Ad), HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_F32, 2, sb, &Bd), HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_F32, 2, sd, &Dd), HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_copy(ctx, &A, &Ad), HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_copy(ctx, &B, &Bd), HM_STATUS_SUCCESS);
            hm_matmul_options mo;
            hm_matmul_options_init(&mo);
            mo.blocking = 1;
            CHECK_STATUS(hm_matmul(ctx, &Ad, &Bd, NULL, &Dd, &mo), HM_STATUS_SUCCESS);
            float *ref = malloc(sizeof(float) * (size_t)(M * N));
            hm_tensor href;
            hm_tensor_init(&href, ref, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
            CHECK_STATUS(hm_copy(ctx, &Dd, &href), HM_STATUS_SUCCESS);
            hm_context_set_log_level(c, HM_LOG_DEBUG);
            hm_test_log_clear(&g_log);
            hm_ledger_reset(c);
            hm_status pst = hm_matmul_advanced(c, &A, &B, NULL, &D, NULL, &mo);
            CHECK_STATUS(pst, HM_STATUS_SUCCESS);
            if (pst != HM_STATUS_SUCCESS)
                fputs(g_log.text, stderr);
            hm_context_set_log_level(c, HM_LOG_WARN);
            long long tiles = hm_test_log_number(&g_log, "host operands pipelined over ");
            if (fixed) {
                CHECK_CONTAINS(g_log.text, "tiles from the sizes (the context's fixed schedule)");
                CHECK_CONTAINS(g_log.text,
                               "host operands pipelined over 6 tiles of 301, 301, 602, 748, 748, "
                               "301 rows");
            } else {
                if (!pinned) /* the context's first pipeline */
                    CHECK_CONTAINS(g_log.text, "link of cuda:0 measured in ");
                CHECK_CONTAINS(g_log.text, "pipeline model measured in ");
                CHECK_CONTAINS(g_log.text, "candidate schedules");
                CHECK(tiles >= 2 && tiles <= M / 16);
            }
            CHECK_CONTAINS(g_log.text, "ms wall: A in, compute and D out overlapped");
            hm_transfer_totals tot;
            hm_ledger_totals(c, &tot);
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], (M * K + K * N) * 4);
            CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2H], M * N * 4);
            hm_transfer_record rec;
            int found_a = 0;
            for (size_t i = 0; i < hm_ledger_count(c); i++) {
                hm_ledger_record(c, i, &rec);
                if (strcmp(rec.operand, "A") == 0) {
                    found_a = 1;
                    CHECK_EQ_INT(rec.chunks, tiles);
                    CHECK_EQ_INT(rec.path, pinned ? HM_PATH_DIRECT : HM_PATH_STAGED);
                }
            }
            CHECK(found_a);
            double num = 0, den = 0;
            for (int64_t i = 0; i < M * N; i++) {
                double diff = (double)((float *)D.data)[i] - ref[i];
                num += diff * diff;
                den += (double)ref[i] * ref[i];
            }
            CHECK_NEAR(sqrt(num / den), 1e-5,
                       fixed    ? "pipelined pageable (fixed tiles) vs device operands"
                       : pinned ? "pipelined pinned vs device operands"
                                : "pipelined pageable vs device operands");
            free(ref);
            hm_tensor_free(ctx, &Dd);
            hm_tensor_free(ctx, &Bd);
            hm_tensor_free(ctx, &Ad);
            hm_tensor_free(ctx, &D);
            hm_tensor_free(ctx, &B);
            hm_tensor_free(ctx, &A);
        }
        hm_context_destroy(fixed_ctx);
    }

    hm_context_destroy(ctx);
}

static void registration(void)
{
    hm_context *ctx = gpu_context();
    run_registration(ctx, &g_log);
    hm_context_destroy(ctx);
}

/* The guard, operands on two spaces, a bias in another space. */
static void guard_and_spaces(void)
{
    hm_context *ctx = gpu_context();
    hm_device dev = hm_device_cuda(0);
    /* The guard refuses the advanced matmul of host operands before any work. */
    enum { M = 64 };
    static float a[M * M], d[M * M];
    int64_t s[2] = {M, M};
    hm_tensor A, D;
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, s, NULL);
    hm_tensor_init(&D, d, hm_device_host(), HM_DTYPE_F32, 2, s, NULL);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2D, HM_GUARD_ERROR);
    memset(d, 0x55, sizeof d);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &A, NULL, &D, NULL, &o), HM_STATUS_TRANSFER_REFUSED);
    CHECK_CONTAINS(hm_context_last_error(ctx),
                   "hm_matmul_advanced: operand A would be copied host -> cuda:0");
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    CHECK_EQ_INT(((unsigned char *)d)[0], 0x55);
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2D, HM_GUARD_ALLOW);

    /* Operands on two memory spaces are refused with the default execution space. */
    hm_tensor Ad;
    CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_F32, 2, s, &Ad), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_matmul(ctx, &Ad, &A, NULL, &D, &o), HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES);
    /* A bias in another space than the operands is refused. */
    int64_t n = M;
    hm_tensor hb;
    hm_tensor_init(&hb, d, hm_device_host(), HM_DTYPE_F32, 1, &n, NULL);
    hm_tensor Dd;
    CHECK_STATUS(hm_tensor_alloc(ctx, dev, HM_DTYPE_F32, 2, s, &Dd), HM_STATUS_SUCCESS);
    o.epilog = HM_EPILOG_BIAS;
    CHECK_STATUS(hm_matmul_advanced(ctx, &Ad, &Ad, NULL, &Dd, &hb, &o), HM_STATUS_SPACE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand bias is in host but A is in cuda:0");
    hm_tensor_free(ctx, &Dd);
    hm_tensor_free(ctx, &Ad);
    hm_context_destroy(ctx);
}

/* The cached plan of a stateless call computes with each call's alpha, beta, C, bias and
 * pointers: device operands, host operands on cuda:0, generic and advanced. */
static void cached_plan_takes_call_values(void)
{
    hm_context *ctx = gpu_context();
    run_mm_call_values(ctx, hm_device_cuda(0), hm_execution_default(), 0, "cuda generic");
    run_mm_call_values(ctx, hm_device_cuda(0), hm_execution_default(), 1, "cuda advanced");
    run_mm_call_values(ctx, hm_device_host(), hm_execution_cuda(0), 0, "host on cuda:0");
    run_mm_call_values(ctx, hm_device_host(), hm_execution_default(), 1, "host advanced");
    hm_context_destroy(ctx);
}

/* Empty products and K = 0 on the GPU: every dtype, device and host operands, generic and
 * advanced; and an empty D of host operands large enough to be pipelined. */
static void empty_and_k0(void)
{
    hm_context *ctx = gpu_context();
    static const hm_dtype dts[] = {HM_DTYPE_F32,  HM_DTYPE_F64, HM_DTYPE_C64,
                                   HM_DTYPE_C128, HM_DTYPE_F16, HM_DTYPE_BF16};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        run_mm_edges(ctx, hm_device_cuda(0), hm_execution_default(), 0, dts[i], "cuda generic");
        run_mm_edges(ctx, hm_device_cuda(0), hm_execution_default(), 1, dts[i], "cuda advanced");
        run_mm_edges(ctx, hm_device_host(), hm_execution_cuda(0), 0, dts[i], "host on cuda:0");
        run_mm_edges(ctx, hm_device_host(), hm_execution_default(), 1, dts[i], "host advanced");
    }
    const int64_t M = 4096, K = 1024;
    int64_t sa[2] = {M, K}, sb[2] = {K, 0};
    float *a = calloc((size_t)(M * K), sizeof(float));
    hm_tensor A, B, D;
    hm_tensor_init(&A, a, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&B, a, hm_device_host(), HM_DTYPE_F32, 2, sb, NULL);
    memset(&D, 0, sizeof D);
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &o), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    CHECK_EQ_INT(hm_tensor_numel(&D), 0);
    hm_tensor_free(ctx, &D);
    free(a);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(cases_all_spaces),
    HM_TEST_CASE(epilogs),
    HM_TEST_CASE(residuals),
    HM_TEST_CASE(pipelined_host_operands),
    HM_TEST_CASE(registration),
    HM_TEST_CASE(guard_and_spaces),
    HM_TEST_CASE(cached_plan_takes_call_values),
    HM_TEST_CASE(empty_and_k0),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_matmul_cuda", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
