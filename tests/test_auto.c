/* The auto execution space (HM_EXEC_AUTO): on a machine without a GPU it always takes the CPU
 * and measures nothing; bad requests get their statuses; the calibration file is written, read
 * back exactly, and ignored (with its reason in the log) when damaged, of another version or of
 * another machine, and never written in the read-only and fresh modes. On a GPU (cuda_ cases):
 * the choice is the model's least time (ties to the operands' space), tiny host products stay on
 * the CPU and large ones go to the GPU, a cached plan costs nothing, a guard that refuses copies
 * keeps the work where the operands are, and results match the CPU's with values that change
 * between calls. Built twice: test_auto (the api cases) and test_auto_cuda (the cuda_ ones). The
 * calibration's internals come from the static library. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/calibrate.h"
#include "core/op.h" /* HM_PIPELINE_MIN_BYTES */
#include "hetmath.h"

static char cache_dir[64];

/* Removes the cache folder and what hetmath may have written there. */
static void remove_cache(void)
{
    static const char *const files[] = {"hetmath/calibration", "hetmath/fftw-wisdom", "hetmath",
                                        ""};
    char path[128];
    for (size_t i = 0; i < HM_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/%s", cache_dir, files[i]);
        if (remove(path) != 0 && i + 1 == HM_ARRAY_LEN(files))
            perror(path);
    }
}

/* A fresh cache folder for this process's files, removed at exit. */
static void private_cache(void)
{
    if (cache_dir[0])
        return;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/hm_test_auto.XXXXXX");
    if (!mkdtemp(cache_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    setenv("XDG_CACHE_HOME", cache_dir, 1);
    atexit(remove_cache);
}

static hm_context *auto_context(hm_test_log *log, hm_log_level level, int mode)
{
    private_cache();
    hm_context_options o;
    hm_context_options_init(&o);
    o.calibration = mode;
    return hm_test_context_of(o, log, level);
}

static int devices_of(hm_context *ctx)
{
    int n = 0;
    hm_context_device_count(ctx, &n);
    return n;
}

/* Values in [-0.5, 0.5) from seed, into a host f32 or c64 tensor. */
static void fill(hm_tensor *t, unsigned seed)
{
    float *f = t->data;
    size_t n = hm_tensor_nbytes(t) / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        f[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
    }
}

static hm_tensor host(hm_context *ctx, hm_dtype dt, int ndim, int64_t a, int64_t b)
{
    int64_t shape[2] = {a, b};
    hm_tensor t;
    if (hm_tensor_alloc(ctx, hm_device_host(), dt, ndim, shape, &t) != HM_STATUS_SUCCESS) {
        fprintf(stderr, "no host memory\n");
        exit(1);
    }
    return t;
}

/* max |D - A·B| / (K · max|A| · max|B|), the product in double. */
static double product_error(const hm_tensor *A, const hm_tensor *B, const hm_tensor *D)
{
    int64_t m = A->shape[0], k = A->shape[1], n = B->shape[1];
    const float *a = A->data, *b = B->data, *d = D->data;
    double worst = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < k; l++)
                s += (double)a[i * k + l] * (double)b[l * n + j];
            double e = fabs(s - d[i * n + j]);
            worst = e > worst ? e : worst;
        }
    return worst / ((double)k * 0.25);
}

/* max |y - DFT(x)| / (n max|x|), a 1-D c64 transform in double. */
static double dft_error(const hm_tensor *x, const hm_tensor *y)
{
    int64_t n = x->shape[0];
    const float *a = x->data, *b = y->data;
    double worst = 0;
    for (int64_t f = 0; f < n; f++) {
        double re = 0, im = 0;
        for (int64_t t = 0; t < n; t++) {
            double w = -2.0 * M_PI * (double)((f * t) % n) / (double)n;
            re += a[2 * t] * cos(w) - a[2 * t + 1] * sin(w);
            im += a[2 * t] * sin(w) + a[2 * t + 1] * cos(w);
        }
        double e = hypot(re - b[2 * f], im - b[2 * f + 1]);
        worst = e > worst ? e : worst;
    }
    return worst / ((double)n * 0.5);
}

/* The rule the estimate must follow: the chosen candidate is known and within the tie margin of
 * every other known one. */
static void check_rule(const hm_estimate *e)
{
    CHECK(e->chosen >= 0 && e->chosen < e->count);
    double chosen = e->candidate[e->chosen].total_s;
    CHECK(chosen > 0);
    CHECK(!e->candidate[e->chosen].excluded);
    for (int i = 0; i < e->count; i++)
        if (e->candidate[i].total_s > 0 && !e->candidate[i].excluded)
            CHECK(chosen <= 1.0101 * e->candidate[i].total_s);
}

/* ---- any machine -------------------------------------------------------------------------- */

static void no_device(void)
{
    hm_test_log log;
    hm_context *ctx = auto_context(&log, HM_LOG_INFO, HM_CALIBRATION_CACHED);
    if (devices_of(ctx) > 0) {
        printf("no_device: skipped, this machine has a CUDA device\n");
        hm_context_destroy(ctx);
        return;
    }
    hm_tensor A = host(ctx, HM_DTYPE_F32, 2, 17, 23), B = host(ctx, HM_DTYPE_F32, 2, 23, 19),
              D = host(ctx, HM_DTYPE_F32, 2, 17, 19);
    fill(&A, 1);
    fill(&B, 2);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.execution = hm_execution_auto(1);
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &mo), HM_STATUS_SUCCESS);
    CHECK_NEAR(product_error(&A, &B, &D), 1e-6, "auto's product on the CPU");
    CHECK_CONTAINS(log.text, "execution space: cpu (");
    CHECK_CONTAINS(log.text, " (auto: the only execution space here, ");
    CHECK(strstr(log.text, "auto: measured") == NULL); /* nothing calibrated */
    hm_estimate e;
    CHECK_STATUS(hm_matmul_estimate(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, NULL, &e),
                 HM_STATUS_SUCCESS);
    CHECK_EQ_INT(e.count, 1);
    CHECK_EQ_INT(e.chosen, 0);
    CHECK_EQ_INT(e.calibrated, 0);
    CHECK_EQ_INT(e.candidate[0].execution.kind, HM_EXEC_CPU);

    hm_tensor x = host(ctx, HM_DTYPE_C64, 1, 64, 0), y = host(ctx, HM_DTYPE_C64, 1, 64, 0);
    fill(&x, 3);
    hm_fft_options fo;
    hm_fft_options_init(&fo);
    fo.execution = hm_execution_auto(1);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &fo), HM_STATUS_SUCCESS);
    CHECK_NEAR(dft_error(&x, &y), 1e-6, "auto's FFT on the CPU");
    char path[1100];
    snprintf(path, sizeof path, "%s/hetmath/calibration", getenv("XDG_CACHE_HOME"));
    CHECK(access(path, F_OK) != 0); /* no file made */
    hm_tensor *all[] = {&A, &B, &D, &x, &y};
    for (size_t i = 0; i < HM_ARRAY_LEN(all); i++)
        hm_tensor_free(ctx, all[i]);
    hm_context_destroy(ctx);
}

static void bad_requests(void)
{
    hm_test_log log;
    hm_context *ctx = auto_context(&log, HM_LOG_WARN, HM_CALIBRATION_FRESH);
    hm_tensor A = host(ctx, HM_DTYPE_F32, 2, 4, 4), B = host(ctx, HM_DTYPE_F32, 2, 4, 4),
              D = host(ctx, HM_DTYPE_F32, 2, 4, 4);
    fill(&A, 1);
    fill(&B, 2);
    fill(&D, 9);
    float before = ((float *)D.data)[5];
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    hm_execution bad[4] = {hm_execution_auto(1), hm_execution_auto(1), hm_execution_auto(-1),
                           hm_execution_auto(1)};
    bad[0].device_id = 0;
    bad[1].num_threads = 2;
    bad[3].device_set = 1;
    for (int i = 0; i < 4; i++) {
        mo.execution = bad[i];
        CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &mo), HM_STATUS_INVALID_EXECUTION);
        if (i != 3)
            CHECK_CONTAINS(hm_context_last_error(ctx), "hm_matmul: the auto execution space");
    }
    CHECK(((float *)D.data)[5] == before); /* untouched */
    hm_estimate e;
    mo.execution = hm_execution_auto(1);
    CHECK_STATUS(hm_matmul_estimate(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &mo, NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_matmul_estimate(ctx, (hm_op_class)7, &A, &B, NULL, &D, NULL, &mo, &e),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_fft_estimate(NULL, &A, &D, NULL, &e), HM_STATUS_INVALID_ARGUMENT);
    /* the estimate refuses what the call refuses: a product of mismatched shapes */
    hm_tensor B3 = host(ctx, HM_DTYPE_F32, 2, 3, 4);
    CHECK_STATUS(hm_matmul_estimate(ctx, HM_OP_GENERIC, &A, &B3, NULL, &D, NULL, &mo, &e),
                 HM_STATUS_SHAPE_MISMATCH);
    /* hm_execution_resolve: auto resolves as the default (host operands: the CPU) */
    const hm_tensor *ops[2] = {&A, &B};
    hm_execution out, req = hm_execution_auto(3);
    CHECK_STATUS(hm_execution_resolve(ctx, &req, HM_OP_GENERIC, ops, 2, &out), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(out.kind, HM_EXEC_CPU);
    req.reuse = -2;
    CHECK_STATUS(hm_execution_resolve(ctx, &req, HM_OP_GENERIC, ops, 2, &out),
                 HM_STATUS_INVALID_EXECUTION);
    if (devices_of(ctx) == 0) { /* a CUDA-only operation: auto is CUDA, and there is none */
        mo.execution = hm_execution_auto(1);
        CHECK_STATUS(hm_matmul_advanced(ctx, &A, &B, NULL, &D, NULL, &mo),
                     HM_STATUS_CUDA_UNAVAILABLE);
    }
    hm_context_options o;
    hm_context_options_init(&o);
    o.calibration = 3;
    hm_context *none = NULL;
    CHECK_STATUS(hm_context_create(&o, &none), HM_STATUS_INVALID_ARGUMENT);
    hm_tensor *all[] = {&A, &B, &D, &B3};
    for (size_t i = 0; i < HM_ARRAY_LEN(all); i++)
        hm_tensor_free(ctx, all[i]);
    hm_context_destroy(ctx);
}

/* The calibration file's text now, or "" (a static buffer). */
static const char *file_text(void)
{
    static char text[1 << 16];
    char path[1100];
    snprintf(path, sizeof path, "%s/hetmath/calibration", getenv("XDG_CACHE_HOME"));
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

static void write_file(const char *text)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/hetmath/calibration", getenv("XDG_CACHE_HOME"));
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A context of `mode` asks for its calibration; the log says what happened. */
static void ask(int mode, hm_test_log *log, char *text, size_t size)
{
    hm_context *ctx = auto_context(log, HM_LOG_INFO, mode);
    const hm_calibration *cal = hm__calibration(ctx, "test");
    CHECK(cal != NULL);
    if (cal && text)
        CHECK(hm__cal_format(cal, text, size));
    hm_context_destroy(ctx);
}

static void calibration_file(void)
{
    hm_test_log log;
    hm_context *ctx = auto_context(&log, HM_LOG_INFO, HM_CALIBRATION_CACHED);
    hm_calibration_report r;
    CHECK_STATUS(hm_context_calibrate(ctx, &r), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(r.devices, devices_of(ctx));
    CHECK(r.seconds > 0);
    CHECK_CONTAINS(r.path, "/hetmath/calibration");
    CHECK_CONTAINS(log.text, "auto: calibration written to ");
    static char written[1 << 16], back[1 << 16];
    snprintf(written, sizeof written, "%s", file_text());
    CHECK(strncmp(written, "hetmath calibration 2\nmachine ", 30) == 0);
    CHECK_CONTAINS(written, "\ncpu matmul-f32 points 4 ");
    CHECK_CONTAINS(written, "\ncpu matmul-f32-small-out points 4 ");
    hm_context_destroy(ctx);

    /* read back, exactly */
    ask(HM_CALIBRATION_CACHED, &log, back, sizeof back);
    CHECK_CONTAINS(log.text, "auto: calibration read from ");
    CHECK(strcmp(written, back) == 0);

    /* ignored, each with its reason, and measured again */
    char edited[1 << 16];
    static const struct {
        const char *from, *to, *why;
    } edits[] = {{"hetmath calibration 2", "hetmath calibration 9", "of another format version"},
                 {"\nmachine ", "\nmachine another ", "made on another machine"},
                 {"\ncpu matmul-f32 points ", "\ncpu matmul-f16 points ", "not a calibration"}};
    for (size_t i = 0; i < HM_ARRAY_LEN(edits); i++) {
        const char *at = strstr(written, edits[i].from);
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - written), written, edits[i].to,
                 at + strlen(edits[i].from));
        write_file(edited);
        ask(HM_CALIBRATION_CACHED, &log, NULL, 0);
        CHECK_CONTAINS(log.text, edits[i].why);
        CHECK_CONTAINS(log.text, "measuring again");
        CHECK_CONTAINS(log.text, "auto: calibration written to "); /* replaced */
        CHECK(strncmp(file_text(), "hetmath calibration 2\nmachine ", 30) == 0);
        CHECK(strstr(file_text(), "matmul-f16") == NULL && strstr(file_text(), "another") == NULL);
    }

    /* read-only: measures past a damaged file, leaves it; fresh: never reads a good one */
    write_file("not a calibration\n");
    ask(HM_CALIBRATION_READ_ONLY, &log, NULL, 0);
    CHECK_CONTAINS(log.text, "auto: measured the CPU");
    CHECK(strstr(log.text, "written") == NULL);
    CHECK(strcmp(file_text(), "not a calibration\n") == 0);
    write_file(written);
    ask(HM_CALIBRATION_FRESH, &log, NULL, 0);
    CHECK(strstr(log.text, "read from") == NULL);
    CHECK_CONTAINS(log.text, "auto: measured the CPU");
    CHECK(strcmp(file_text(), written) == 0);

    /* no cache folder: measured, not written, and said so */
    char *xdg = strdup(getenv("XDG_CACHE_HOME")), *home = getenv("HOME");
    char *home_copy = home ? strdup(home) : NULL;
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    ctx = auto_context(&log, HM_LOG_INFO, HM_CALIBRATION_CACHED);
    CHECK_STATUS(hm_context_calibrate(ctx, &r), HM_STATUS_SUCCESS);
    CHECK(r.path[0] == '\0');
    CHECK_CONTAINS(log.text, "could not be written (no cache folder");
    hm_context_destroy(ctx);
    setenv("XDG_CACHE_HOME", xdg, 1);
    if (home_copy)
        setenv("HOME", home_copy, 1);
    free(xdg);
    free(home_copy);
}

/* ---- on a GPU ----------------------------------------------------------------------------- */

/* Under compute-sanitizer (HETMATH_TEST_QUICK), where measuring is slow: a calibration made by
 * hand instead, of a CPU at 100 GFLOP/s (1 us a call, 50 us planning) and GPUs at 50 TFLOP/s
 * (10 us a call, 1 ms planning) on 25 GB/s links (10 us a copy). */
static bool quick(void)
{
    return getenv("HETMATH_TEST_QUICK") != NULL;
}

static void install_calibration(hm_context *ctx)
{
    hm_calibration *cal = calloc(1, sizeof *cal);
    CHECK(cal != NULL);
    if (!cal)
        return;
    cal->devices = devices_of(ctx) < HM_CAL_DEVICES ? devices_of(ctx) : HM_CAL_DEVICES;
    for (int f = 0; f < HM_CAL_FAMILIES; f++) {
        hm__cal_add(&cal->cpu[f], 1e5, 1e-6, 50e-6);
        hm__cal_add(&cal->cpu[f], 1e11, 1.0, 50e-6);
        for (int d = 0; d < cal->devices; d++) {
            hm__cal_add(&cal->dev[d].op[f], 5e8, 1e-5, 1e-3);
            hm__cal_add(&cal->dev[d].op[f], 5e13, 1.0, 1e-3);
        }
    }
    for (int d = 0; d < cal->devices; d++) {
        for (int k = 0; k < 2; k++) {
            hm__cal_add(&cal->dev[d].copy[k], 1e3, 1e-5 + 1e3 / 25e9, 0);
            hm__cal_add(&cal->dev[d].copy[k], 1e9, 1e-5 + 1e9 / 25e9, 0);
        }
    }
    free(ctx->calibration);
    ctx->calibration = cal;
}

static hm_context *cuda_context(hm_test_log *log)
{
    hm_context *ctx = auto_context(log, HM_LOG_INFO, HM_CALIBRATION_FRESH);
    hm_test_require_cuda(ctx, "test_auto_cuda");
    if (quick())
        install_calibration(ctx);
    return ctx;
}

/* A product of host f32 operands with auto, checked against the double reference (small) or
 * the CPU's own product (large); returns the estimate made before the call. */
static hm_estimate auto_product(hm_context *ctx, hm_test_log *log, int64_t m, int64_t n, int64_t k,
                                unsigned seed, const char *expect_space)
{
    hm_tensor A = host(ctx, HM_DTYPE_F32, 2, m, k), B = host(ctx, HM_DTYPE_F32, 2, k, n),
              D = host(ctx, HM_DTYPE_F32, 2, m, n), R = host(ctx, HM_DTYPE_F32, 2, m, n);
    fill(&A, seed);
    fill(&B, seed + 1);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.execution = hm_execution_auto(1);
    hm_estimate e;
    hm_test_log_clear(log);
    CHECK_STATUS(hm_matmul_estimate(ctx, HM_OP_GENERIC, &A, &B, NULL, &D, NULL, &mo, &e),
                 HM_STATUS_SUCCESS);
    check_rule(&e);
    CHECK_EQ_INT(e.calibrated, 1);
    /* the CPU, each device, and on two devices or more the set of them (a pipelined input) */
    int devices = devices_of(ctx);
    bool pipelined = hm_tensor_nbytes(&A) >= HM_PIPELINE_MIN_BYTES;
    CHECK_EQ_INT(e.count, 1 + devices + (devices >= 2 && pipelined));
    CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &D, &mo), HM_STATUS_SUCCESS);
    char line[96];
    snprintf(line, sizeof line, "execution space: %s", expect_space);
    CHECK_CONTAINS(log->text, line);
    CHECK_CONTAINS(log->text, "(auto: cpu (");
    CHECK_CONTAINS(log->text, ", cuda:0 ");
    if (m * n * k <= 1 << 21) {
        CHECK_NEAR(product_error(&A, &B, &D), 1e-6, "auto's product");
    } else { /* against the CPU's, element by element */
        mo.execution = hm_execution_cpu(HM_AUTO);
        CHECK_STATUS(hm_matmul(ctx, &A, &B, NULL, &R, &mo), HM_STATUS_SUCCESS);
        double worst = 0;
        for (int64_t i = 0; i < m * n; i++) {
            double d = fabs((double)((float *)D.data)[i] - ((float *)R.data)[i]);
            worst = d > worst ? d : worst;
        }
        CHECK_NEAR(worst / ((double)k * 0.25), 1e-5, "auto's product against the CPU's");
    }
    hm_tensor *all[] = {&A, &B, &D, &R};
    for (size_t i = 0; i < HM_ARRAY_LEN(all); i++)
        hm_tensor_free(ctx, all[i]);
    return e;
}

static void cuda_choices(void)
{
    hm_test_log log;
    hm_context *ctx = cuda_context(&log);
    /* a tiny product stays on the CPU: copies alone cost more than it */
    hm_estimate e = auto_product(ctx, &log, 8, 8, 8, 11, "cpu");
    CHECK_EQ_INT(e.candidate[e.chosen].execution.kind, HM_EXEC_CPU);
    if (!quick())
        CHECK_CONTAINS(log.text, "auto: measured the CPU and"); /* calibrated on first use */
    /* a large one goes to the GPU, copies and all */
    int64_t n = quick() ? 512 : 2048;
    e = auto_product(ctx, &log, n, n, n, 21, "cuda:0");
    CHECK_EQ_INT(e.candidate[e.chosen].execution.kind, HM_EXEC_CUDA);
    CHECK(e.candidate[e.chosen].plan_s > 0); /* not cached before the call */
    CHECK(e.candidate[e.chosen].copy_bytes == 3u * (size_t)(n * n) * 4);
    /* the second time, its plan is cached: the model counts no planning */
    e = auto_product(ctx, &log, n, n, n, 31, "cuda:0");
    CHECK(e.candidate[e.chosen].plan_s == 0);
    CHECK(strstr(log.text, "auto: measured") == NULL); /* calibrated once */

    /* a guard refusing host-to-device copies keeps the work on the CPU */
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2D, HM_GUARD_ERROR);
    e = auto_product(ctx, &log, 512, 512, 512, 41, "cpu");
    CHECK(e.candidate[1].total_s > 0 && e.candidate[1].excluded); /* still modelled */
    CHECK_CONTAINS(log.text, "cuda:0 excluded, ");
    hm_transfer_set_guard(ctx, HM_TRANSFER_H2D, HM_GUARD_ALLOW);
    hm_context_destroy(ctx);
}

static void cuda_device_operands(void)
{
    hm_test_log log;
    hm_context *ctx = cuda_context(&log);
    int64_t shape[2] = {256, 256};
    hm_tensor A = host(ctx, HM_DTYPE_F32, 2, 256, 256), B = host(ctx, HM_DTYPE_F32, 2, 256, 256),
              D = host(ctx, HM_DTYPE_F32, 2, 256, 256), dA, dB, dD;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, shape, &dA),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, shape, &dB),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, shape, &dD),
                 HM_STATUS_SUCCESS);
    hm_matmul_options mo;
    hm_matmul_options_init(&mo);
    mo.execution = hm_execution_auto(10);
    mo.blocking = 1;
    hm_matmul_plan *plan = NULL;
    CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &dA, &dB, NULL, &dD, NULL, &mo, &plan),
                 HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log.text, "execution space: cuda:0 (auto: ");
    /* a plan of the auto space runs where it chose, on new values each time */
    for (unsigned call = 0; call < 2 && plan; call++) {
        fill(&A, 50 + call);
        fill(&B, 60 + call);
        CHECK_STATUS(hm_copy(ctx, &A, &dA), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(ctx, &B, &dB), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_matmul_execute(ctx, plan, &dA, &dB, NULL, &dD, NULL), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(ctx, &dD, &D), HM_STATUS_SUCCESS);
        CHECK_NEAR(product_error(&A, &B, &D), 1e-6, "the auto plan's product");
    }
    hm_matmul_plan_destroy(plan);
    /* an FFT of host operands: whichever it chose, the model's least time and the right values */
    hm_tensor x = host(ctx, HM_DTYPE_C64, 1, 1 << 12, 0),
              y = host(ctx, HM_DTYPE_C64, 1, 1 << 12, 0);
    fill(&x, 70);
    hm_fft_options fo;
    hm_fft_options_init(&fo);
    fo.execution = hm_execution_auto(1);
    hm_estimate e;
    CHECK_STATUS(hm_fft_estimate(ctx, &x, &y, &fo, &e), HM_STATUS_SUCCESS);
    check_rule(&e);
    CHECK_STATUS(hm_fft(ctx, &x, &y, &fo), HM_STATUS_SUCCESS);
    CHECK_NEAR(dft_error(&x, &y), 1e-5, "auto's FFT");
    hm_tensor *all[] = {&A, &B, &D, &dA, &dB, &dD, &x, &y};
    for (size_t i = 0; i < HM_ARRAY_LEN(all); i++)
        hm_tensor_free(ctx, all[i]);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(no_device),    HM_TEST_CASE(bad_requests),         HM_TEST_CASE(calibration_file),
    HM_TEST_CASE(cuda_choices), HM_TEST_CASE(cuda_device_operands),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_auto", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
