/* hetmath bench copy | fft | matmul: one operation timed by the library's benchmark helper
 * (hm_bench_run), as a table line or JSON. GPU times are taken when the operands are on a GPU. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct copy_job {
    hm_tensor src, dst;
} copy_job;

static hm_status run_copy(hm_context *ctx, void *user)
{
    copy_job *j = user;
    return hm_copy(ctx, &j->src, &j->dst);
}

/* The options every benchmark takes (bench_common reads them). */
#define BENCH_COMMON_SPEC                                                                          \
    {"--repeat", 1}, {"--warmup", 1}, {"--json", 0}, {"--tiles", 1},                               \
    {                                                                                              \
        "--pipeline-timing", 1                                                                     \
    }

static int bench_copy(args *a)
{
    static const arg_spec spec[] = {{"--bytes", 1},     {"--from", 1},     {"--to", 1},
                                    {"--transpose", 0}, BENCH_COMMON_SPEC, {NULL, 0}};
    int rc = args_parse(a, "bench copy", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath bench copy [--bytes SIZE] --from SPACE --to SPACE [--transpose]\n"
               "                          [--repeat R] [--warmup W] [--json]\n"
               "  SPACE is host, pinned or cuda:N; SIZE like 4096, 64K, 256M, 1G (default 64M).\n"
               "  --transpose: a square f32 matrix of about SIZE, row-major at the source and\n"
               "  column-major at the destination (a strided copy).\n");
        return 0;
    }
    hm_bench_options b;
    int json;
    if ((rc = bench_common(a, "bench copy", &b, &json)))
        return rc;
    long long bytes = 64LL << 20;
    const char *s;
    hm_device from, to;
    if ((s = arg_value(a, "--bytes")) && !parse_bytes(s, &bytes))
        return usage_error("bench copy", "--bytes takes a size such as 256M", s);
    s = arg_value(a, "--from");
    if (!s)
        return usage_error("bench copy", "needs --from SPACE (host, pinned or cuda:N)", NULL);
    if (!parse_space(s, &from))
        return usage_error("bench copy", "--from takes host, pinned or cuda:N", s);
    s = arg_value(a, "--to");
    if (!s)
        return usage_error("bench copy", "needs --to SPACE (host, pinned or cuda:N)", NULL);
    if (!parse_space(s, &to))
        return usage_error("bench copy", "--to takes host, pinned or cuda:N", s);
    int transpose = arg_flag(a, "--transpose");
    int64_t side = (int64_t)sqrt((double)(bytes / 4));
    int64_t n = transpose ? side * side : bytes / 4, shape[2] = {side, side};
    copy_job j;
    TRY("allocating the source", hm_tensor_alloc(g_ctx, from, HM_DTYPE_F32, transpose ? 2 : 1,
                                                 transpose ? shape : &n, &j.src));
    hm_status st =
        hm_tensor_alloc(g_ctx, to, HM_DTYPE_F32, transpose ? 2 : 1, transpose ? shape : &n, &j.dst);
    if (st != HM_STATUS_SUCCESS) {
        hm_tensor_free(g_ctx, &j.src);
        return op_failed("allocating the destination", st);
    }
    hm_tensor whole = j.dst; /* what hm_tensor_free releases */
    if (transpose) {
        j.dst.strides[0] = 1;
        j.dst.strides[1] = side;
    }
    if (from.type != HM_DEVICE_CUDA)
        memset(j.src.data, 1, (size_t)n * 4); /* touch every page before timing */
    if (to.type != HM_DEVICE_CUDA)
        memset(j.dst.data, 2, (size_t)n * 4);
    hm_bench_result r;
    st = run_copy(g_ctx, &j); /* sets up the staging pool: the second call gives the estimate */
    double t0 = now();
    if (st == HM_STATUS_SUCCESS)
        st = run_copy(g_ctx, &j);
    bench_progress("copy", now() - t0, &b);
    if (st == HM_STATUS_SUCCESS)
        st = hm_bench_run(g_ctx, run_copy, &j, &b, &r);
    if (st == HM_STATUS_SUCCESS) {
        char fs[32], ts[32], hj[320], ht[160];
        hm_device_format(from, fs, sizeof fs);
        hm_device_format(to, ts, sizeof ts);
        snprintf(hj, sizeof hj,
                 "\"operation\": \"copy\", \"bytes\": %lld, \"from\": \"%s\", \"to\": \"%s\", "
                 "\"layout\": \"%s\", \"memory\": \"%s\", \"execution\": \"%s\"",
                 (long long)n * 4, fs, ts, transpose ? "transposed" : "contiguous", fs,
                 from.type == HM_DEVICE_CUDA || to.type == HM_DEVICE_CUDA ? "copy engine" : "cpu");
        snprintf(ht, sizeof ht, "copy %s -> %s, %lld bytes%s", fs, ts, (long long)n * 4,
                 transpose ? ", transposed" : "");
        print_bench(hj, ht, &r, "gbps", (double)n * 4 / 1e9, json);
        hm_bench_result_free(&r);
    }
    hm_tensor_free(g_ctx, &whole);
    hm_tensor_free(g_ctx, &j.src);
    return st == HM_STATUS_SUCCESS ? 0 : op_failed("hm_copy", st);
}

static const char *const call_names[] = {"stateless", "plan", "unchecked"};

/* --call stateless|plan|unchecked into *call (0, 1, 2): 0, or the usage error's exit code. */
static int call_option(const args *a, const char *cmd, int *call)
{
    const char *s = arg_value(a, "--call");
    *call = 0;
    while (s && *call < 3 && strcmp(s, call_names[*call]) != 0)
        (*call)++;
    return *call < 3 ? 0 : usage_error(cmd, "--call takes stateless, plan or unchecked", s);
}

typedef struct fft_job {
    hm_tensor x, y;
    hm_fft_options o;
    hm_fft_plan *plan; /* --call plan|unchecked */
    int unchecked;
} fft_job;

static hm_status run_fft(hm_context *ctx, void *user)
{
    fft_job *j = user;
    if (j->plan && j->unchecked)
        return hm_fft_execute_unchecked(ctx, j->plan, &j->x, &j->y);
    if (j->plan)
        return hm_fft_execute(ctx, j->plan, &j->x, &j->y);
    return hm_fft(ctx, &j->x, &j->y, &j->o);
}

static int bench_fft(args *a)
{
    static const arg_spec spec[] = {
        {"--shape", 1},  {"--axes", 1},     {"--dtype", 1},
        {"--memory", 1}, {"--exec", 1},     {"--inverse", 0},
        {"--real", 0},   {"--measure", 0},  {"--device-memory-limit", 1},
        {"--call", 1},   BENCH_COMMON_SPEC, {NULL, 0}};
    int rc = args_parse(a, "bench fft", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath bench fft [--shape N1,N2,..] [--axes A,..] [--dtype c64|c128|f32|f64]\n"
            "                         [--inverse] [--real] [--memory host|pinned|cuda:N]\n"
            "                         [--exec " EXEC_FORMS "] [--measure] [--repeat R]\n"
            "                         [--warmup W] [--tiles fixed|measured] [--json]\n"
            "                         [--device-memory-limit SIZE] [--call "
            "stateless|plan|unchecked]\n"
            "  Default: --shape 1048576 --dtype c64 --memory host. --real makes it r2c (f32/f64\n"
            "  input), or c2r with --inverse. GFLOP/s by 5·N·log2(N) per transform. --tiles:\n"
            "  how a pipeline of host operands on a GPU cuts the batch (hm_pipeline_schedule).\n"
            "  --pipeline-timing tiles: time every tile of such a pipeline (diagnosis: it slows\n"
            "  the pipeline down; the log at INFO gives the busy times).\n"
            "  --device-memory-limit: the call's device memory budget (hm_fft_options), such\n"
            "  as 2G: host operands larger than it are streamed through it. --call: how each\n"
            "  timed call is made: stateless (default), a plan's execution, or its unchecked\n"
            "  execution (hm_fft_execute_unchecked).\n");
        return 0;
    }
    hm_bench_options b;
    int json;
    if ((rc = bench_common(a, "bench fft", &b, &json)))
        return rc;
    int64_t shape[HM_MAX_NDIM] = {1 << 20};
    int ndim = 1;
    hm_dtype dtype = HM_DTYPE_C64;
    hm_device memory = hm_device_host();
    fft_job j;
    memset(&j, 0, sizeof j);
    hm_fft_options_init(&j.o);
    j.o.blocking = 1;
    const char *s;
    if ((s = arg_value(a, "--shape")) && !parse_shape(s, shape, &ndim))
        return usage_error("bench fft", "--shape takes positive lengths such as 4096,4096", s);
    if ((s = arg_value(a, "--axes")) && !parse_axes(s, &j.o))
        return usage_error("bench fft", "--axes takes up to 3 axis numbers such as 0,-1", s);
    if ((s = arg_value(a, "--dtype")) && !parse_dtype(s, &dtype))
        return usage_error("bench fft", "--dtype takes c64, c128, f32 or f64", s);
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("bench fft", "--memory takes host, pinned or cuda:N", s);
    if ((rc = exec_option(a, "bench fft", &j.o.execution)) != 0)
        return rc;
    int inverse = arg_flag(a, "--inverse"), real = arg_flag(a, "--real");
    if (arg_flag(a, "--measure"))
        j.o.effort = HM_FFT_MEASURE;
    if ((rc = device_limit_option(a, "bench fft", &j.o.device_memory_limit)))
        return rc;
    int call = 0;
    if ((rc = call_option(a, "bench fft", &call)))
        return rc;
    j.unchecked = call == 2;
    j.o.direction = inverse ? HM_FFT_INVERSE : HM_FFT_FORWARD;
    j.o.type = real ? (inverse ? HM_FFT_C2R : HM_FFT_R2C) : HM_FFT_C2C;
    if (memory.type == HM_DEVICE_CUDA)
        b.device = memory.id;

    TRY("making x", random_tensor(memory, dtype, ndim, shape, 88172645463325252ULL, &j.x));
    /* The first call plans (seconds with --measure) and allocates y; the timed ones reuse both,
     * as a caller with its own output. The second call gives the progress estimate. */
    hm_status st = hm_fft(g_ctx, &j.x, &j.y, &j.o);
    if (st == HM_STATUS_SUCCESS && call > 0) /* y allocated by that call: its layout planned */
        st = hm_fft_plan_create(g_ctx, &j.x, &j.y, &j.o, &j.plan);
    double t0 = now();
    if (st == HM_STATUS_SUCCESS)
        st = hm_fft(g_ctx, &j.x, &j.y, &j.o);
    bench_progress("fft", now() - t0, &b);
    hm_bench_result r;
    if (st == HM_STATUS_SUCCESS)
        st = hm_bench_run(g_ctx, run_fft, &j, &b, &r);
    if (st == HM_STATUS_SUCCESS) {
        double n = 1, batch = 1;
        for (int i = 0; i < ndim; i++) {
            int is_axis = !j.o.num_axes;
            for (int k = 0; k < j.o.num_axes; k++)
                is_axis |= j.o.axes[k] == i || j.o.axes[k] + ndim == i;
            if (is_axis)
                n *= (double)shape[i];
            else
                batch *= (double)shape[i];
        }
        char ms[32], es[32], shp[96] = "", hj[320], ht[200];
        size_t k = 0;
        for (int i = 0; i < ndim; i++)
            k += (size_t)snprintf(shp + k, sizeof shp - k, "%s%lld", i ? ", " : "",
                                  (long long)shape[i]);
        const char *type = real ? (inverse ? "c2r" : "r2c") : "c2c";
        hm_device_format(memory, ms, sizeof ms);
        exec_name(&j.o.execution, es, sizeof es);
        snprintf(hj, sizeof hj,
                 "\"operation\": \"fft\", \"shape\": [%s], \"dtype\": \"%s\", "
                 "\"type\": \"%s\", \"inverse\": %d, \"memory\": \"%s\", \"execution\": \"%s\", "
                 "\"device_memory_limit\": %zu, \"call\": \"%s\"",
                 shp, hm_dtype_name(dtype), type, inverse, ms, es, j.o.device_memory_limit,
                 call_names[call]);
        snprintf(ht, sizeof ht, "fft %s %s [%s], memory %s, execution %s", hm_dtype_name(dtype),
                 type, shp, ms, es);
        print_bench(hj, ht, &r, "gflops", 5.0 * n * log2(n) * batch / 1e9 / (real ? 2 : 1), json);
        hm_bench_result_free(&r);
    }
    hm_fft_plan_destroy(j.plan);
    hm_tensor_free(g_ctx, &j.y);
    hm_tensor_free(g_ctx, &j.x);
    return st == HM_STATUS_SUCCESS ? 0 : op_failed("hm_fft", st);
}

typedef struct matmul_job {
    hm_tensor A, B, C, D; /* C: read when beta is not 0 (--beta) */
    hm_matmul_options o;
    int advanced;
    hm_matmul_plan *plan; /* --register or --call plan|unchecked: a plan, not stateless calls */
    int unchecked;        /* --call unchecked: hm_matmul_execute_unchecked */
} matmul_job;

static hm_status run_matmul(hm_context *ctx, void *user)
{
    matmul_job *j = user;
    const hm_tensor *C = j->o.beta != 0.0 ? &j->C : NULL;
    if (j->plan && j->unchecked)
        return hm_matmul_execute_unchecked(ctx, j->plan, &j->A, &j->B, C, &j->D, NULL);
    if (j->plan)
        return hm_matmul_execute(ctx, j->plan, &j->A, &j->B, C, &j->D, NULL);
    return j->advanced ? hm_matmul_advanced(ctx, &j->A, &j->B, C, &j->D, NULL, &j->o)
                       : hm_matmul(ctx, &j->A, &j->B, C, &j->D, &j->o);
}

static int bench_matmul(args *a)
{
    static const arg_spec spec[] = {
        {"--m", 1},        {"--n", 1},     {"--k", 1},        {"--batch", 1},
        {"--autotune", 1}, {"--dtype", 1}, {"--memory", 1},   {"--exec", 1},
        {"--advanced", 0}, {"--tf32", 0},  {"--register", 0}, {"--device-memory-limit", 1},
        {"--call", 1},     {"--beta", 1},  BENCH_COMMON_SPEC, {NULL, 0}};
    int rc = args_parse(a, "bench matmul", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath bench matmul [--m M --n N --k K] [--batch B]\n"
               "                            [--dtype f16|bf16|f32|f64|c64|c128] [--advanced] "
               "[--tf32]\n"
               "                            [--autotune N] [--memory host|pinned|cuda:N] "
               "[--register]\n"
               "                            [--exec " EXEC_FORMS "] [--repeat R] "
               "[--warmup W] "
               "[--json]\n"
               "                            [--tiles fixed|measured] [--device-memory-limit SIZE]\n"
               "                            [--call stateless|plan|unchecked] [--beta BETA]\n"
               "  D = A·B with A (B, M, K) and B (B, K, N) (no batch dimension when B is 1);\n"
               "  with --beta, D = A·B + BETA·C, C in the same memory as A.\n"
               "  Default: 1024 x 1024 x 1024 f32 in host memory. --register: a plan that\n"
               "  registers its host operands (register_host), executed on the same buffers.\n"
               "  --tiles: how a pipeline of host operands on a GPU cuts A's rows\n"
               "  (hm_pipeline_schedule; default measured). --pipeline-timing tiles: time every\n"
               "  tile of such a pipeline (diagnosis: it slows the pipeline down).\n"
               "  --device-memory-limit: the call's device memory budget (hm_matmul_options),\n"
               "  such as 2G: host operands larger than it are streamed through it. --call: how\n"
               "  each timed call is made: stateless (default), a plan's execution, or its\n"
               "  unchecked execution (hm_matmul_execute_unchecked).\n");
        return 0;
    }
    hm_bench_options b;
    int json;
    if ((rc = bench_common(a, "bench matmul", &b, &json)))
        return rc;
    long long m = 1024, n = 1024, k = 1024, batch = 1, tune = 0;
    const long long max_extent = 1LL << 32;
    hm_dtype dtype = HM_DTYPE_F32;
    hm_device memory = hm_device_host();
    matmul_job j;
    memset(&j, 0, sizeof j);
    hm_matmul_options_init(&j.o);
    j.o.blocking = 1;
    const char *s;
    struct {
        const char *flag;
        long long *v, hi;
    } ints[] = {{"--m", &m, max_extent},
                {"--n", &n, max_extent},
                {"--k", &k, max_extent},
                {"--batch", &batch, max_extent},
                {"--autotune", &tune, 16}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if ((s = arg_value(a, ints[i].flag)) && !parse_int(s, 1, ints[i].hi, ints[i].v)) {
            char msg[80];
            snprintf(msg, sizeof msg, "%s takes an integer from 1 to %lld", ints[i].flag,
                     ints[i].hi);
            return usage_error("bench matmul", msg, s);
        }
    if ((s = arg_value(a, "--dtype")) && !parse_dtype(s, &dtype))
        return usage_error("bench matmul", "--dtype takes f16, bf16, f32, f64, c64 or c128", s);
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("bench matmul", "--memory takes host, pinned or cuda:N", s);
    if ((rc = exec_option(a, "bench matmul", &j.o.execution)) != 0)
        return rc;
    j.advanced = arg_flag(a, "--advanced");
    j.o.tf32 = arg_flag(a, "--tf32");
    j.o.autotune = (int)tune;
    j.o.register_host = arg_flag(a, "--register");
    if ((rc = device_limit_option(a, "bench matmul", &j.o.device_memory_limit)))
        return rc;
    int call = 0;
    if ((rc = call_option(a, "bench matmul", &call)))
        return rc;
    j.unchecked = call == 2;
    if ((s = arg_value(a, "--beta")) && !parse_real(s, &j.o.beta))
        return usage_error("bench matmul", "--beta takes a finite number", s);
    if (memory.type == HM_DEVICE_CUDA)
        b.device = memory.id;
    int nd = batch > 1 ? 3 : 2;
    int64_t sa[3] = {batch, m, k}, sb[3] = {batch, k, n};
    hm_status st = random_tensor(memory, dtype, nd, sa + (3 - nd), 1, &j.A);
    if (st == HM_STATUS_SUCCESS)
        st = random_tensor(memory, dtype, nd, sb + (3 - nd), 2, &j.B);
    int64_t sd[3] = {batch, m, n};
    if (st == HM_STATUS_SUCCESS && j.o.beta != 0.0)
        st = random_tensor(memory, dtype, nd, sd + (3 - nd), 3, &j.C);
    if (st == HM_STATUS_SUCCESS && (j.o.register_host || call > 0)) {
        st = hm_tensor_alloc(g_ctx, memory, dtype, nd, sd + (3 - nd), &j.D);
        if (st == HM_STATUS_SUCCESS)
            st = hm_matmul_plan_create(g_ctx, j.advanced ? HM_OP_SPECIALIZED : HM_OP_GENERIC, &j.A,
                                       &j.B, NULL, &j.D, NULL, &j.o, &j.plan);
    }
    /* The first call plans and allocates D (with --register: stages, D being the caller's);
     * the timed ones reuse both. */
    if (st == HM_STATUS_SUCCESS)
        st = run_matmul(g_ctx, &j);
    double t0 = now();
    if (st == HM_STATUS_SUCCESS) /* the second gives the progress estimate */
        st = run_matmul(g_ctx, &j);
    bench_progress("matmul", now() - t0, &b);
    hm_bench_result r;
    if (st == HM_STATUS_SUCCESS)
        st = hm_bench_run(g_ctx, run_matmul, &j, &b, &r);
    if (st == HM_STATUS_SUCCESS) {
        int cplx = dtype == HM_DTYPE_C64 || dtype == HM_DTYPE_C128;
        double flops = 2.0 * (double)m * (double)n * (double)k * (double)batch * (cplx ? 4 : 1);
        char ms[32], es[32], hj[320], ht[200];
        hm_device_format(memory, ms, sizeof ms);
        exec_name(&j.o.execution, es, sizeof es);
        snprintf(hj, sizeof hj,
                 "\"operation\": \"matmul\", \"m\": %lld, \"n\": %lld, \"k\": %lld, "
                 "\"batch\": %lld, \"dtype\": \"%s\", \"advanced\": %d, \"tf32\": %d, "
                 "\"registered\": %d, \"memory\": \"%s\", \"execution\": \"%s\", "
                 "\"device_memory_limit\": %zu, \"call\": \"%s\", \"beta\": %g",
                 m, n, k, batch, hm_dtype_name(dtype), j.advanced, j.o.tf32, j.o.register_host, ms,
                 es, j.o.device_memory_limit, call_names[call], j.o.beta);
        snprintf(ht, sizeof ht,
                 "matmul %s %lldx%lldx%lld batch %lld%s%s, memory %s%s, execution %s",
                 hm_dtype_name(dtype), m, n, k, batch, j.advanced ? " advanced" : "",
                 j.o.tf32 ? " tf32" : "", ms, j.o.register_host ? " (registered)" : "", es);
        print_bench(hj, ht, &r, "tflops", flops / 1e12, json);
        hm_bench_result_free(&r);
    }
    hm_matmul_plan_destroy(j.plan); /* unregisters A, B and D before they are freed */
    hm_tensor_free(g_ctx, &j.D);
    hm_tensor_free(g_ctx, &j.C);
    hm_tensor_free(g_ctx, &j.B);
    hm_tensor_free(g_ctx, &j.A);
    return st == HM_STATUS_SUCCESS ? 0
                                   : op_failed(j.advanced ? "hm_matmul_advanced" : "hm_matmul", st);
}

int cmd_bench(args *a)
{
    if (a->argc < 1 || a->argv[0][0] == '-') {
        FILE *f = a->argc < 1 || strcmp(a->argv[0], "--help") != 0 ? stderr : stdout;
        fprintf(f,
                "usage: hetmath bench copy|fft|matmul|auto|dist-fft|dist-matmul [options]   (each "
                "has --help; the dist ones run under mpirun)\n");
        return f == stdout ? 0 : EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*fn)(args *);
    } subs[] = {
        {"copy", bench_copy}, {"fft", bench_fft}, {"matmul", bench_matmul}, {"auto", bench_auto}};
    args sub = {.argc = a->argc - 1, .argv = a->argv + 1};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(a->argv[0], subs[i].name) == 0)
            return subs[i].fn(&sub);
#ifdef HETMATH_HAVE_MPI
    if (strcmp(a->argv[0], "dist-fft") == 0 || strcmp(a->argv[0], "dist-matmul") == 0)
        return bench_dist(&sub, a->argv[0]);
#endif
    static const char *const names[] = {"copy",     "fft",         "matmul", "auto",
                                        "dist-fft", "dist-matmul", NULL};
    const char *near = nearest_name(a->argv[0], names);
    char msg[64];
    snprintf(msg, sizeof msg, "unknown benchmark '%.20s'%s%s%s", a->argv[0],
             near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    return usage_error("bench", msg, NULL);
}
