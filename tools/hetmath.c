/* The hetmath command: info, demo, bench. Uses the public API only.
 * Exit codes: 0 success, 1 an operation failed (status name and message on stderr), 2 usage. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hetmath.h"

#define EXIT_OP    1
#define EXIT_USAGE 2

static hm_context *g_ctx;

static int op_failed(const char *what, hm_status st)
{
    fprintf(stderr, "hetmath: %s failed: %s: %s\n", what, hm_status_name(st),
            hm_context_last_error(g_ctx));
    return EXIT_OP;
}

#define TRY(what, call)                                                                            \
    do {                                                                                           \
        hm_status st_ = (call);                                                                    \
        if (st_ != HM_STATUS_SUCCESS)                                                              \
            return op_failed(what, st_);                                                           \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- argument parsing: --key value pairs and --flags ----------------------------------- */

typedef struct args {
    int argc;
    char **argv;
    int used[64];
} args;

static const char *arg_value(args *a, const char *key)
{
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], key) == 0 && i + 1 < a->argc) {
            a->used[i] = a->used[i + 1] = 1;
            return a->argv[i + 1];
        }
    return NULL;
}

static int arg_flag(args *a, const char *key)
{
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], key) == 0) {
            a->used[i] = 1;
            return 1;
        }
    return 0;
}

/* The first argument nothing consumed, or NULL. */
static const char *arg_leftover(const args *a)
{
    for (int i = 0; i < a->argc; i++)
        if (!a->used[i])
            return a->argv[i];
    return NULL;
}

static int parse_long(const char *s, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* "256M", "1G", "4096", "64K". */
static int parse_bytes(const char *s, long long *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return 0;
    long long mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1LL << 10;
    else if (*end == 'M' || *end == 'm')
        mul = 1LL << 20;
    else if (*end == 'G' || *end == 'g')
        mul = 1LL << 30;
    else if (*end)
        return 0;
    if (*end && end[1])
        return 0;
    *out = (long long)(v * (double)mul);
    return 1;
}

/* "host", "pinned", "cuda:N". */
static int parse_space(const char *s, hm_device *out)
{
    if (strcmp(s, "host") == 0) {
        *out = hm_device_host();
        return 1;
    }
    if (strcmp(s, "pinned") == 0) {
        *out = hm_device_pinned();
        return 1;
    }
    long long id;
    if (strncmp(s, "cuda:", 5) == 0 && parse_long(s + 5, &id)) {
        *out = hm_device_cuda((int)id);
        return 1;
    }
    return 0;
}

/* "cpu", "cpu:N" (threads), "cuda:N". */
static int parse_exec(const char *s, hm_execution *out)
{
    long long v;
    if (strcmp(s, "cpu") == 0) {
        *out = hm_execution_cpu(HM_AUTO);
        return 1;
    }
    if (strncmp(s, "cpu:", 4) == 0 && parse_long(s + 4, &v)) {
        *out = hm_execution_cpu((int)v);
        return 1;
    }
    if (strncmp(s, "cuda:", 5) == 0 && parse_long(s + 5, &v)) {
        *out = hm_execution_cuda((int)v);
        return 1;
    }
    return 0;
}

static int usage_error(const char *cmd, const char *msg, const char *detail)
{
    fprintf(stderr, "hetmath %s: %s%s%s\nTry 'hetmath %s --help'.\n", cmd, msg, detail ? ": " : "",
            detail ? detail : "", cmd);
    return EXIT_USAGE;
}

/* ---- timing statistics -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double min, median, max;
} stats;

static stats stats_of(const double *t, int n)
{
    double *s = malloc(sizeof *s * (size_t)n);
    memcpy(s, t, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    stats r = {s[0], n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]), s[n - 1]};
    free(s);
    return r;
}

static void json_times(FILE *f, const char *key, const double *t, int n)
{
    fprintf(f, "\"%s\": [", key);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.9g", i ? ", " : "", t[i]);
    fprintf(f, "]");
}

/* ---- hetmath info ---------------------------------------------------------------------------- */

static int cmd_info(args *a)
{
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath info [--json]\n  Version, backends and CUDA devices.\n");
        return 0;
    }
    int json = arg_flag(a, "--json");
    if (arg_leftover(a))
        return usage_error("info", "unknown argument", arg_leftover(a));
    int n = 0;
    hm_context_device_count(g_ctx, &n);
    if (json)
        printf("{\"version\": \"%s\", \"devices\": [", hm_version_string());
    else
        printf("hetmath %s\nbackends: cpu (FFTW3, CBLAS)%s\nCUDA devices: %d\n",
               hm_version_string(), n > 0 ? ", cuda (cuFFT, cuBLASLt)" : "", n);
    for (int i = 0; i < n; i++) {
        hm_device_info info;
        TRY("hm_context_device_info", hm_context_device_info(g_ctx, i, &info));
        if (json)
            printf(
                "%s{\"id\": %d, \"name\": \"%s\", \"memory_bytes\": %zu, \"compute\": \"%d.%d\", "
                "\"multiprocessors\": %d, \"pcie_gen\": %d, \"pcie_width\": %d}",
                i ? ", " : "", i, info.name, info.total_memory, info.compute_major,
                info.compute_minor, info.multiprocessors, info.pcie_generation, info.pcie_width);
        else
            printf("  cuda:%d  %s, %.1f GiB, compute %d.%d, %d SMs, PCIe gen %d x%d\n", i,
                   info.name, (double)info.total_memory / (1 << 30), info.compute_major,
                   info.compute_minor, info.multiprocessors, info.pcie_generation, info.pcie_width);
    }
    if (json)
        printf("]}\n");
    return 0;
}

/* ---- hetmath bench -------------------------------------------------------------------------- */

typedef struct bench_opts {
    int repeat, warmup, json;
} bench_opts;

static int bench_common(args *a, const char *cmd, bench_opts *b)
{
    long long v;
    const char *s;
    b->repeat = 10;
    b->warmup = 2;
    b->json = arg_flag(a, "--json");
    if ((s = arg_value(a, "--repeat"))) {
        if (!parse_long(s, &v) || v < 1)
            return usage_error(cmd, "--repeat takes a positive count", s);
        b->repeat = (int)v;
    }
    if ((s = arg_value(a, "--warmup"))) {
        if (!parse_long(s, &v))
            return usage_error(cmd, "--warmup takes a count", s);
        b->warmup = (int)v;
    }
    return 0;
}

static int bench_copy(args *a)
{
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath bench copy [--bytes SIZE] --from SPACE --to SPACE [--repeat R]\n"
               "                          [--warmup W] [--json]\n"
               "  SPACE is host, pinned or cuda:N; SIZE like 4096, 64K, 256M, 1G (default 64M).\n");
        return 0;
    }
    bench_opts b;
    int rc = bench_common(a, "bench copy", &b);
    if (rc)
        return rc;
    long long bytes = 64LL << 20;
    const char *s;
    hm_device from, to;
    if ((s = arg_value(a, "--bytes")) && !parse_bytes(s, &bytes))
        return usage_error("bench copy", "--bytes takes a size such as 256M", s);
    s = arg_value(a, "--from");
    if (!s || !parse_space(s, &from))
        return usage_error("bench copy", "--from takes host, pinned or cuda:N", s);
    s = arg_value(a, "--to");
    if (!s || !parse_space(s, &to))
        return usage_error("bench copy", "--to takes host, pinned or cuda:N", s);
    if (arg_leftover(a))
        return usage_error("bench copy", "unknown argument", arg_leftover(a));
    int64_t n = bytes / 4;
    hm_tensor src, dst;
    TRY("allocating the source", hm_tensor_alloc(g_ctx, from, HM_DTYPE_F32, 1, &n, &src));
    hm_status st = hm_tensor_alloc(g_ctx, to, HM_DTYPE_F32, 1, &n, &dst);
    if (st != HM_STATUS_SUCCESS) {
        hm_tensor_free(g_ctx, &src);
        return op_failed("allocating the destination", st);
    }
    if (from.type != HM_DEVICE_CUDA)
        memset(src.data, 1, (size_t)n * 4); /* touch every page before timing */
    if (to.type != HM_DEVICE_CUDA)
        memset(dst.data, 2, (size_t)n * 4);
    double *t = malloc(sizeof *t * (size_t)b.repeat);
    for (int i = 0; i < b.warmup + b.repeat && st == HM_STATUS_SUCCESS; i++) {
        double t0 = now();
        st = hm_copy(g_ctx, &src, &dst);
        if (i >= b.warmup)
            t[i - b.warmup] = now() - t0;
    }
    if (st == HM_STATUS_SUCCESS) {
        stats s2 = stats_of(t, b.repeat);
        char fs[32], ts[32];
        hm_device_format(from, fs, sizeof fs);
        hm_device_format(to, ts, sizeof ts);
        double gbps = (double)n * 4 / s2.median / 1e9;
        if (b.json) {
            printf("{\"operation\": \"copy\", \"bytes\": %lld, \"from\": \"%s\", \"to\": \"%s\", ",
                   (long long)n * 4, fs, ts);
            json_times(stdout, "cpu_times_s", t, b.repeat);
            printf(", \"gpu_times_s\": [], \"min_s\": %.9g, \"median_s\": %.9g, \"max_s\": %.9g, "
                   "\"gbps\": %.4f}\n",
                   s2.min, s2.median, s2.max, gbps);
        } else {
            printf("copy %s -> %s, %lld bytes: median %.3f ms (min %.3f, max %.3f), %.2f GB/s\n",
                   fs, ts, (long long)n * 4, s2.median * 1e3, s2.min * 1e3, s2.max * 1e3, gbps);
        }
    }
    free(t);
    hm_tensor_free(g_ctx, &dst);
    hm_tensor_free(g_ctx, &src);
    return st == HM_STATUS_SUCCESS ? 0 : op_failed("hm_copy", st);
}

static int parse_shape(const char *s, int64_t *shape, int *ndim)
{
    *ndim = 0;
    while (*s && *ndim < HM_MAX_NDIM) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v <= 0)
            return 0;
        shape[(*ndim)++] = v;
        if (*end == ',')
            end++;
        else if (*end)
            return 0;
        s = end;
    }
    return *ndim > 0 && !*s;
}

static int parse_dtype(const char *s, hm_dtype *out)
{
    static const hm_dtype all[] = {HM_DTYPE_F16, HM_DTYPE_BF16, HM_DTYPE_F32,
                                   HM_DTYPE_F64, HM_DTYPE_C64,  HM_DTYPE_C128};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, hm_dtype_name(all[i])) == 0) {
            *out = all[i];
            return 1;
        }
    return 0;
}

static int bench_fft(args *a)
{
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath bench fft [--shape N1,N2,..] [--axes A,..] [--dtype c64|c128|f32|f64]\n"
            "                         [--inverse] [--real] [--memory host|pinned|cuda:N]\n"
            "                         [--exec cpu|cpu:T|cuda:N] [--measure] [--repeat R]\n"
            "                         [--warmup W] [--json]\n"
            "  Default: --shape 1048576 --dtype c64 --memory host. --real makes it r2c (f32/f64\n"
            "  input), or c2r with --inverse.\n");
        return 0;
    }
    bench_opts b;
    int rc = bench_common(a, "bench fft", &b);
    if (rc)
        return rc;
    int64_t shape[HM_MAX_NDIM] = {1 << 20};
    int ndim = 1;
    hm_dtype dtype = HM_DTYPE_C64;
    hm_device memory = hm_device_host();
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.blocking = 1;
    const char *s;
    if ((s = arg_value(a, "--shape")) && !parse_shape(s, shape, &ndim))
        return usage_error("bench fft", "--shape takes positive lengths such as 4096,4096", s);
    if ((s = arg_value(a, "--axes"))) {
        int64_t ax[HM_MAX_NDIM];
        int na;
        if (!parse_shape(s, ax, &na) && strcmp(s, "0") != 0)
            return usage_error("bench fft", "--axes takes axis numbers such as 0,1", s);
        if (strcmp(s, "0") == 0) {
            na = 1;
            ax[0] = 0;
        }
        o.num_axes = na > HM_FFT_MAX_RANK ? HM_FFT_MAX_RANK + 1 : na;
        for (int i = 0; i < na && i < HM_FFT_MAX_RANK; i++)
            o.axes[i] = (int)ax[i];
    }
    if ((s = arg_value(a, "--dtype")) && !parse_dtype(s, &dtype))
        return usage_error("bench fft", "--dtype takes c64, c128, f32 or f64", s);
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("bench fft", "--memory takes host, pinned or cuda:N", s);
    if ((s = arg_value(a, "--exec")) && !parse_exec(s, &o.execution))
        return usage_error("bench fft", "--exec takes cpu, cpu:THREADS or cuda:N", s);
    int inverse = arg_flag(a, "--inverse"), real = arg_flag(a, "--real");
    if (arg_flag(a, "--measure"))
        o.effort = HM_FFT_MEASURE;
    if (arg_leftover(a))
        return usage_error("bench fft", "unknown argument", arg_leftover(a));
    o.direction = inverse ? HM_FFT_INVERSE : HM_FFT_FORWARD;
    o.type = real ? (inverse ? HM_FFT_C2R : HM_FFT_R2C) : HM_FFT_C2C;

    hm_tensor x, y;
    TRY("allocating x", hm_tensor_alloc(g_ctx, memory, dtype, ndim, shape, &x));
    /* random input, made on the host and copied in */
    hm_tensor h;
    hm_status st = hm_tensor_alloc(g_ctx, hm_device_host(), dtype, ndim, shape, &h);
    if (st == HM_STATUS_SUCCESS) {
        size_t nreal =
            hm_tensor_nbytes(&h) / (dtype == HM_DTYPE_F64 || dtype == HM_DTYPE_C128 ? 8 : 4);
        unsigned long long r = 88172645463325252ULL;
        for (size_t i = 0; i < nreal; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            double v = (double)(r >> 11) / 9007199254740992.0 - 0.5;
            if (dtype == HM_DTYPE_F64 || dtype == HM_DTYPE_C128)
                ((double *)h.data)[i] = v;
            else
                ((float *)h.data)[i] = (float)v;
        }
        st = hm_copy(g_ctx, &h, &x);
        hm_tensor_free(g_ctx, &h);
    }
    /* The first call allocates y; the timed ones reuse it, as a caller with its own output. */
    memset(&y, 0, sizeof y);
    double *t = malloc(sizeof *t * (size_t)b.repeat);
    hm_transfer_totals before, after;
    for (int i = 0; i < 1 + b.warmup + b.repeat && st == HM_STATUS_SUCCESS; i++) {
        if (i == 1 + b.warmup)
            hm_ledger_totals(g_ctx, &before);
        double t0 = now();
        st = hm_fft(g_ctx, &x, &y, &o);
        if (i > b.warmup)
            t[i - 1 - b.warmup] = now() - t0;
    }
    hm_tensor_free(g_ctx, &y);
    if (st == HM_STATUS_SUCCESS) {
        hm_ledger_totals(g_ctx, &after);
        stats s2 = stats_of(t, b.repeat);
        double n = 1, batch = 1;
        int na = o.num_axes ? o.num_axes : ndim;
        for (int i = 0; i < ndim; i++) {
            int is_axis = !o.num_axes;
            for (int k = 0; k < o.num_axes; k++)
                is_axis |= o.axes[k] == i || o.axes[k] + ndim == i;
            if (is_axis)
                n *= (double)shape[i];
            else
                batch *= (double)shape[i];
        }
        (void)na;
        double gflops = 5.0 * n * log2(n) * batch / s2.median / 1e9 / (real ? 2 : 1);
        long long h2d = (long long)((after.bytes[HM_TRANSFER_H2D] - before.bytes[HM_TRANSFER_H2D]) /
                                    (unsigned)b.repeat);
        long long d2h = (long long)((after.bytes[HM_TRANSFER_D2H] - before.bytes[HM_TRANSFER_D2H]) /
                                    (unsigned)b.repeat);
        char ms[32], es[32];
        hm_device_format(memory, ms, sizeof ms);
        if (o.execution.kind == HM_EXEC_CPU)
            snprintf(es, sizeof es, "cpu");
        else if (o.execution.kind == HM_EXEC_CUDA)
            snprintf(es, sizeof es, "cuda:%d", o.execution.device_id);
        else
            snprintf(es, sizeof es, "default");
        if (b.json) {
            printf("{\"operation\": \"fft\", \"shape\": [");
            for (int i = 0; i < ndim; i++)
                printf("%s%lld", i ? ", " : "", (long long)shape[i]);
            printf("], \"dtype\": \"%s\", \"type\": \"%s\", \"inverse\": %d, \"memory\": \"%s\", "
                   "\"execution\": \"%s\", ",
                   hm_dtype_name(dtype), real ? (inverse ? "c2r" : "r2c") : "c2c", inverse, ms, es);
            json_times(stdout, "cpu_times_s", t, b.repeat);
            printf(", \"gpu_times_s\": [], \"min_s\": %.9g, \"median_s\": %.9g, \"max_s\": %.9g, "
                   "\"bytes_h2d\": %lld, \"bytes_d2h\": %lld, \"gflops\": %.3f}\n",
                   s2.min, s2.median, s2.max, h2d, d2h, gflops);
        } else {
            printf("fft %s %s, memory %s, execution %s: median %.3f ms (min %.3f, max %.3f), "
                   "%.1f GFLOP/s, %lld B in, %lld B out per call\n",
                   hm_dtype_name(dtype), real ? (inverse ? "c2r" : "r2c") : "c2c", ms, es,
                   s2.median * 1e3, s2.min * 1e3, s2.max * 1e3, gflops, h2d, d2h);
        }
    }
    free(t);
    hm_tensor_free(g_ctx, &x);
    return st == HM_STATUS_SUCCESS ? 0 : op_failed("hm_fft", st);
}

/* Fills a host tensor with uniform values in [-0.5, 0.5) in its dtype. */
static void fill_random(hm_tensor *h, unsigned long long seed)
{
    int64_t n = hm_tensor_numel(h);
    int comps = (h->dtype == HM_DTYPE_C64 || h->dtype == HM_DTYPE_C128) ? 2 : 1;
    for (int64_t i = 0; i < n * comps; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        double v = (double)(seed >> 11) / 9007199254740992.0 - 0.5;
        float f = (float)v;
        uint32_t x;
        switch (h->dtype) {
        case HM_DTYPE_F16: /* v is well inside the normal range of f16 or 0 */
            memcpy(&x, &f, 4);
            ((uint16_t *)h->data)[i] =
                (uint16_t)(((x >> 16) & 0x8000) |
                           (((x >> 23) & 0xff) < 113
                                ? 0
                                : ((((x >> 23) & 0xff) - 112) << 10) | ((x >> 13) & 0x3ff)));
            break;
        case HM_DTYPE_BF16:
            memcpy(&x, &f, 4);
            ((uint16_t *)h->data)[i] = (uint16_t)(x >> 16);
            break;
        case HM_DTYPE_F32:
        case HM_DTYPE_C64:
            ((float *)h->data)[i] = f;
            break;
        default:
            ((double *)h->data)[i] = v;
            break;
        }
    }
}

/* A random tensor of `shape` in `memory`: made on the host and copied in. */
static hm_status random_tensor(hm_device memory, hm_dtype dtype, int ndim, const int64_t *shape,
                               unsigned long long seed, hm_tensor *out)
{
    hm_tensor h;
    hm_status st = hm_tensor_alloc(g_ctx, hm_device_host(), dtype, ndim, shape, &h);
    if (st != HM_STATUS_SUCCESS)
        return st;
    fill_random(&h, seed);
    if (memory.type == HM_DEVICE_HOST) {
        *out = h;
        return HM_STATUS_SUCCESS;
    }
    st = hm_tensor_alloc(g_ctx, memory, dtype, ndim, shape, out);
    if (st == HM_STATUS_SUCCESS)
        st = hm_copy(g_ctx, &h, out);
    if (st != HM_STATUS_SUCCESS)
        hm_tensor_free(g_ctx, out);
    hm_tensor_free(g_ctx, &h);
    return st;
}

static int bench_matmul(args *a)
{
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath bench matmul [--m M --n N --k K] [--batch B]\n"
               "                            [--dtype f16|bf16|f32|f64|c64|c128] [--advanced] "
               "[--tf32]\n"
               "                            [--autotune N] [--memory host|pinned|cuda:N]\n"
               "                            [--exec cpu|cpu:T|cuda:N] [--repeat R] [--warmup W] "
               "[--json]\n"
               "  D = A·B with A (B, M, K) and B (B, K, N) (no batch dimension when B is 1).\n"
               "  Default: 1024 x 1024 x 1024 f32 in host memory.\n");
        return 0;
    }
    bench_opts b;
    int rc = bench_common(a, "bench matmul", &b);
    if (rc)
        return rc;
    long long m = 1024, n = 1024, k = 1024, batch = 1, tune = 0;
    hm_dtype dtype = HM_DTYPE_F32;
    hm_device memory = hm_device_host();
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.blocking = 1;
    const char *s;
    struct {
        const char *flag;
        long long *v;
    } ints[] = {{"--m", &m}, {"--n", &n}, {"--k", &k}, {"--batch", &batch}, {"--autotune", &tune}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if ((s = arg_value(a, ints[i].flag)) && (!parse_long(s, ints[i].v) || *ints[i].v < 1))
            return usage_error("bench matmul", "sizes take positive integers", s);
    if ((s = arg_value(a, "--dtype")) && !parse_dtype(s, &dtype))
        return usage_error("bench matmul", "--dtype takes f16, bf16, f32, f64, c64 or c128", s);
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("bench matmul", "--memory takes host, pinned or cuda:N", s);
    if ((s = arg_value(a, "--exec")) && !parse_exec(s, &o.execution))
        return usage_error("bench matmul", "--exec takes cpu, cpu:THREADS or cuda:N", s);
    int advanced = arg_flag(a, "--advanced");
    o.tf32 = arg_flag(a, "--tf32");
    o.autotune = (int)tune;
    if (arg_leftover(a))
        return usage_error("bench matmul", "unknown argument", arg_leftover(a));
    int nd = batch > 1 ? 3 : 2;
    int64_t sa[3], sb[3];
    int64_t *pa = sa + (3 - nd), *pb = sb + (3 - nd);
    sa[0] = sb[0] = batch;
    sa[1] = m;
    sa[2] = k;
    sb[1] = k;
    sb[2] = n;
    hm_tensor A, B, D;
    memset(&A, 0, sizeof A);
    memset(&B, 0, sizeof B);
    memset(&D, 0, sizeof D);
    hm_status st = random_tensor(memory, dtype, nd, pa, 1, &A);
    if (st == HM_STATUS_SUCCESS)
        st = random_tensor(memory, dtype, nd, pb, 2, &B);
    double *t = malloc(sizeof *t * (size_t)b.repeat);
    hm_transfer_totals before, after;
    /* The first call allocates D; the timed ones reuse it. */
    for (int i = 0; i < 1 + b.warmup + b.repeat && st == HM_STATUS_SUCCESS; i++) {
        if (i == 1 + b.warmup)
            hm_ledger_totals(g_ctx, &before);
        double t0 = now();
        st = advanced ? hm_matmul_advanced(g_ctx, &A, &B, NULL, &D, NULL, &o)
                      : hm_matmul(g_ctx, &A, &B, NULL, &D, &o);
        if (i > b.warmup)
            t[i - 1 - b.warmup] = now() - t0;
    }
    if (st == HM_STATUS_SUCCESS) {
        hm_ledger_totals(g_ctx, &after);
        stats s2 = stats_of(t, b.repeat);
        int cplx = dtype == HM_DTYPE_C64 || dtype == HM_DTYPE_C128;
        double flops = 2.0 * (double)m * (double)n * (double)k * (double)batch * (cplx ? 4 : 1);
        long long h2d = (long long)((after.bytes[HM_TRANSFER_H2D] - before.bytes[HM_TRANSFER_H2D]) /
                                    (unsigned)b.repeat);
        long long d2h = (long long)((after.bytes[HM_TRANSFER_D2H] - before.bytes[HM_TRANSFER_D2H]) /
                                    (unsigned)b.repeat);
        char ms[32], es[32] = "default";
        hm_device_format(memory, ms, sizeof ms);
        if (o.execution.kind == HM_EXEC_CPU)
            snprintf(es, sizeof es, "cpu");
        else if (o.execution.kind == HM_EXEC_CUDA)
            snprintf(es, sizeof es, "cuda:%d", o.execution.device_id);
        if (b.json) {
            printf("{\"operation\": \"matmul\", \"m\": %lld, \"n\": %lld, \"k\": %lld, \"batch\": "
                   "%lld, "
                   "\"dtype\": \"%s\", \"advanced\": %d, \"tf32\": %d, \"memory\": \"%s\", "
                   "\"execution\": \"%s\", ",
                   m, n, k, batch, hm_dtype_name(dtype), advanced, o.tf32, ms, es);
            json_times(stdout, "cpu_times_s", t, b.repeat);
            printf(", \"gpu_times_s\": [], \"min_s\": %.9g, \"median_s\": %.9g, \"max_s\": %.9g, "
                   "\"bytes_h2d\": %lld, \"bytes_d2h\": %lld, \"tflops\": %.4f}\n",
                   s2.min, s2.median, s2.max, h2d, d2h, flops / s2.median / 1e12);
        } else {
            printf("matmul %s %lldx%lldx%lld batch %lld%s%s, memory %s, execution %s: median %.3f "
                   "ms (min %.3f, max %.3f), %.2f TFLOP/s, %lld B in, %lld B out per call\n",
                   hm_dtype_name(dtype), m, n, k, batch, advanced ? " advanced" : "",
                   o.tf32 ? " tf32" : "", ms, es, s2.median * 1e3, s2.min * 1e3, s2.max * 1e3,
                   flops / s2.median / 1e12, h2d, d2h);
        }
    }
    free(t);
    hm_tensor_free(g_ctx, &D);
    hm_tensor_free(g_ctx, &B);
    hm_tensor_free(g_ctx, &A);
    return st == HM_STATUS_SUCCESS ? 0
                                   : op_failed(advanced ? "hm_matmul_advanced" : "hm_matmul", st);
}

static int cmd_bench(args *a)
{
    if (a->argc < 1 || strcmp(a->argv[0], "--help") == 0) {
        printf("usage: hetmath bench copy|fft|matmul [options]   (each has --help)\n");
        return a->argc < 1 ? EXIT_USAGE : 0;
    }
    args sub = {a->argc - 1, a->argv + 1, {0}};
    if (strcmp(a->argv[0], "copy") == 0)
        return bench_copy(&sub);
    if (strcmp(a->argv[0], "fft") == 0)
        return bench_fft(&sub);
    if (strcmp(a->argv[0], "matmul") == 0)
        return bench_matmul(&sub);
    return usage_error("bench", "unknown benchmark", a->argv[0]);
}

/* ---- hetmath demo -----------------------------------------------------------------------------
 */

static void demo_log(hm_log_level level, const char *message, void *user)
{
    (void)user;
    printf("    %s%s\n", level <= HM_LOG_WARN ? "warning: " : "", message);
}

static void demo_ledger_summary(void)
{
    hm_transfer_totals t;
    hm_ledger_totals(g_ctx, &t);
    printf("\n== Ledger: what crossed between memory spaces in this demo ==\n");
    for (int d = 0; d < HM_TRANSFER_DIRECTION_COUNT; d++)
        printf("  %s: %llu copies, %.1f MB, %.3f ms\n",
               hm_transfer_direction_name((hm_transfer_direction)d),
               (unsigned long long)t.copies[d], (double)t.bytes[d] / 1e6, t.seconds[d] * 1e3);
}

static int cmd_demo(args *a)
{
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath demo\n"
               "  Walks through memory spaces, execution spaces, copies and the ledger: a copy\n"
               "  round trip, and the generic FFT on host and on device data, with the log on.\n"
               "  Without a GPU it runs the CPU half and says what it skipped.\n");
        return 0;
    }
    if (arg_leftover(a))
        return usage_error("demo", "unknown argument", arg_leftover(a));
    hm_context_set_logger(g_ctx, demo_log, NULL);
    hm_context_set_log_level(g_ctx, HM_LOG_INFO);
    int ndev = 0;
    hm_context_device_count(g_ctx, &ndev);
    printf("hetmath %s demo\n\n== Spaces ==\n", hm_version_string());
    printf("  memory spaces: host (pageable), pinned%s", ndev ? "" : " (needs CUDA)");
    for (int i = 0; i < ndev; i++)
        printf(", cuda:%d", i);
    printf("\n  execution spaces: cpu%s\n", ndev ? ", cuda:0" : "");
    if (!ndev)
        printf(
            "  No CUDA device here: the GPU half of this demo is skipped (the library was %s).\n",
            "built and probed for one");

    enum { N = 1 << 16 };
    int64_t n = N;
    hm_tensor hx, hy;
    TRY("allocating", hm_tensor_alloc(g_ctx, hm_device_host(), HM_DTYPE_C64, 1, &n, &hx));
    float *p = hx.data;
    for (int i = 0; i < N; i++) {
        p[2 * i] = (float)cos(2 * M_PI * 440.0 * i / N);
        p[2 * i + 1] = 0;
    }
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.blocking = 1;

    printf("\n== FFT of host data: execution follows the data (CPU, FFTW3) ==\n");
    memset(&hy, 0, sizeof hy);
    TRY("hm_fft", hm_fft(g_ctx, &hx, &hy, &o));
    const float *Y = hy.data;
    printf("  peak |Y[440]| = %.1f (expected %d): the 440-cycle tone\n",
           hypot(Y[2 * 440], Y[2 * 440 + 1]), N / 2);
    hm_tensor_free(g_ctx, &hy);

    if (ndev) {
        hm_tensor dx;
        printf("\n== A copy to the GPU, through the transfer layer ==\n");
        TRY("allocating", hm_tensor_alloc(g_ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &dx));
        TRY("hm_copy", hm_copy(g_ctx, &hx, &dx));
        printf("\n== FFT of device data: execution follows the data (cuda:0, cuFFT) ==\n");
        memset(&hy, 0, sizeof hy);
        TRY("hm_fft", hm_fft(g_ctx, &dx, &hy, &o));
        hm_tensor back;
        TRY("allocating", hm_tensor_alloc(g_ctx, hm_device_host(), HM_DTYPE_C64, 1, &n, &back));
        TRY("hm_copy", hm_copy(g_ctx, &hy, &back));
        Y = back.data;
        printf("  peak |Y[440]| = %.1f, computed on the GPU and copied back\n",
               hypot(Y[2 * 440], Y[2 * 440 + 1]));
        hm_tensor_free(g_ctx, &hy);
        printf("\n== FFT of host data with execution named cuda:0: copies in and out ==\n");
        o.execution = hm_execution_cuda(0);
        memset(&hy, 0, sizeof hy);
        TRY("hm_fft", hm_fft(g_ctx, &hx, &hy, &o));
        hm_tensor_free(g_ctx, &hy);
        printf("\n== The guard: forbid implicit host-to-device copies, and the same call is "
               "refused ==\n");
        hm_transfer_set_guard(g_ctx, HM_TRANSFER_H2D, HM_GUARD_ERROR);
        hm_status st = hm_fft(g_ctx, &hx, &hy, &o);
        printf("  status %s: %s\n", hm_status_name(st), hm_context_last_error(g_ctx));
        hm_transfer_set_guard(g_ctx, HM_TRANSFER_H2D, HM_GUARD_ALLOW);
        hm_tensor_free(g_ctx, &back);
        hm_tensor_free(g_ctx, &dx);
    } else {
        printf("\n== Skipped without a GPU: the copy to cuda:0, the FFT of device data, the FFT\n"
               "   of host data on cuda:0 and the guard refusing its copy ==\n");
        o.execution = hm_execution_cuda(0);
        memset(&hy, 0, sizeof hy);
        hm_status st = hm_fft(g_ctx, &hx, &hy, &o);
        printf("  asking for cuda:0 anyway gives %s: %s\n", hm_status_name(st),
               hm_context_last_error(g_ctx));
    }
    demo_ledger_summary();
    hm_tensor_free(g_ctx, &hx);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: hetmath COMMAND [options]\n"
               "commands:\n"
               "  info    version, backends and CUDA devices\n"
               "  demo    memory and execution spaces, copies and the ledger, the generic FFT\n"
               "  bench   copy | fft | matmul benchmarks (table, or --json)\n"
               "Each command takes --help.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (argc > 60) {
        fprintf(stderr, "hetmath: too many arguments\n");
        return EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*fn)(args *);
    } cmds[] = {{"info", cmd_info}, {"demo", cmd_demo}, {"bench", cmd_bench}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        hm_status st = hm_context_create(NULL, &g_ctx);
        if (st != HM_STATUS_SUCCESS) {
            fprintf(stderr, "hetmath: cannot create a context: %s\n", hm_status_name(st));
            return EXIT_OP;
        }
        args a = {argc - 2, argv + 2, {0}};
        int rc = cmds[i].fn(&a);
        hm_context_destroy(g_ctx);
        return rc;
    }
    fprintf(stderr, "hetmath: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
