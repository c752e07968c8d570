/* Helpers shared by the hetmath command's subcommands: argument parsing, failure reporting,
 * random operands, benchmark reports. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "hetmath/debug.h"

hm_context *g_ctx;

int op_failed(const char *what, hm_status st)
{
    fprintf(stderr, "hetmath: %s failed: %s: %s\n", what, hm_status_name(st),
            hm_context_last_error(g_ctx));
    return EXIT_OP;
}

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- argument parsing ------------------------------------------------------------------- */

static int spec_index(const arg_spec *spec, const char *name, size_t len)
{
    for (int i = 0; spec && spec[i].name; i++)
        if (strlen(spec[i].name) == len && strncmp(spec[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Levenshtein distance, for the "did you mean" of a slip; long words count as far. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

const char *nearest_name(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t dist = (size_t)-1;
    for (int i = 0; names[i]; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < dist) {
            dist = d;
            best = names[i];
        }
    }
    return dist <= 2 && 2 * dist < strlen(word) ? best : NULL;
}

int args_parse(args *a, const char *cmd, const arg_spec *spec, int max_positional)
{
    a->spec = spec;
    a->npos = 0;
    a->help = 0;
    memset(a->value, 0, sizeof a->value);
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], "--help") == 0 || strcmp(a->argv[i], "-h") == 0)
            a->help = 1;
    if (a->help)
        return 0;
    const char *names[ARGS_MAX + 1];
    int count = 0;
    while (spec[count].name && count < ARGS_MAX) {
        names[count] = spec[count].name;
        count++;
    }
    names[count] = NULL;
    char msg[160];
    for (int i = 0; i < a->argc; i++) {
        const char *w = a->argv[i];
        if (w[0] != '-' || w[1] == '\0') {
            if (a->npos == max_positional || a->npos == ARGS_MAX)
                return usage_error(cmd, "unexpected argument", w);
            a->pos[a->npos++] = w;
            continue;
        }
        const char *eq = strchr(w, '=');
        size_t len = eq ? (size_t)(eq - w) : strlen(w);
        int k = spec_index(spec, w, len);
        if (k < 0) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), w);
            const char *near = nearest_name(name, names);
            snprintf(msg, sizeof msg, "unknown option %s%s%s%s", name,
                     near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
            return usage_error(cmd, msg, NULL);
        }
        if (a->value[k]) {
            snprintf(msg, sizeof msg, "option %s is given twice", spec[k].name);
            return usage_error(cmd, msg, NULL);
        }
        if (!spec[k].takes_value) {
            if (eq) {
                snprintf(msg, sizeof msg, "option %s takes no value", spec[k].name);
                return usage_error(cmd, msg, w);
            }
            a->value[k] = "";
        } else {
            /* The value: after '=', or the next word unless that is another option (a value
             * may start with one '-': axes such as -1). Empty is missing. */
            const char *v = eq ? eq + 1
                            : i + 1 < a->argc && strncmp(a->argv[i + 1], "--", 2) != 0
                                ? a->argv[++i]
                                : NULL;
            if (!v || !*v) {
                snprintf(msg, sizeof msg, "option %s needs a value", spec[k].name);
                return usage_error(cmd, msg, NULL);
            }
            a->value[k] = v;
        }
    }
    return 0;
}

const char *arg_value(const args *a, const char *name)
{
    int k = spec_index(a->spec, name, strlen(name));
    return k >= 0 ? a->value[k] : NULL;
}

int arg_flag(const args *a, const char *name)
{
    if (strcmp(name, "--help") == 0)
        return a->help;
    return arg_value(a, name) != NULL;
}

int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int parse_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int exec_option(const args *a, const char *cmd, hm_execution *exec)
{
    const char *s = arg_value(a, "--exec");
    if (s && !parse_exec(s, exec))
        return usage_error(cmd,
                           "--exec takes cpu, cpu:THREADS (1 to 4096), cuda:N, a set of devices "
                           "such as cuda:0,1, auto or auto:REUSE",
                           s);
    return 0;
}

int device_limit_option(const args *a, const char *cmd, size_t *limit)
{
    const char *s = arg_value(a, "--device-memory-limit");
    long long v;
    if (!s)
        return 0;
    if (!parse_bytes(s, &v))
        return usage_error(cmd, "--device-memory-limit takes a size such as 2G, 512M or 65536", s);
    *limit = (size_t)v;
    return 0;
}

/* "256M", "1G", "4096", "64K". */
int parse_bytes(const char *s, long long *out)
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
    double bytes = v * (double)mul;
    if (!(bytes >= 1 && bytes <= (double)(1LL << 50)))
        return 0; /* more than a pebibyte is a typo, and would not fit a long long */
    *out = (long long)bytes;
    return 1;
}

/* "host", "pinned", "cuda:N". */
int parse_space(const char *s, hm_device *out)
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
    if (strncmp(s, "cuda:", 5) == 0 && parse_int(s + 5, 0, 1 << 20, &id)) {
        *out = hm_device_cuda((int)id);
        return 1;
    }
    return 0;
}

/* "cpu", "cpu:N" (threads), "cuda:N", "cuda:0,1" (a device set, each named once), "auto",
 * "auto:R" (R executions of one plan). */
int parse_exec(const char *s, hm_execution *out)
{
    long long v;
    if (strcmp(s, "auto") == 0) {
        *out = hm_execution_auto(1);
        return 1;
    }
    if (strncmp(s, "auto:", 5) == 0 && parse_int(s + 5, 1, INT32_MAX, &v)) {
        *out = hm_execution_auto((int)v);
        return 1;
    }
    if (strcmp(s, "cpu") == 0) {
        *out = hm_execution_cpu(HM_AUTO);
        return 1;
    }
    if (strncmp(s, "cpu:", 4) == 0 && parse_int(s + 4, 1, HM_MAX_THREADS, &v)) {
        *out = hm_execution_cpu((int)v);
        return 1;
    }
    if (strncmp(s, "cuda:", 5) != 0)
        return 0;
    if (!strchr(s, ',')) {
        if (!parse_int(s + 5, 0, 1 << 20, &v))
            return 0;
        *out = hm_execution_cuda((int)v);
        return 1;
    }
    /* cuda:0,1: a device set */
    int ids[HM_MAX_DEVICE_SET + 1], n = 0;
    char item[32];
    for (const char *p = s + 5; n <= HM_MAX_DEVICE_SET;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item)
            return 0;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!parse_int(item, 0, 63, &v))
            return 0;
        ids[n++] = (int)v;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return hm_execution_cuda_set(ids, n, out) == HM_STATUS_SUCCESS;
}

int usage_error(const char *cmd, const char *msg, const char *detail)
{
    fprintf(stderr, "hetmath %s: %s%s%s\nTry 'hetmath %s --help'.\n", cmd, msg, detail ? ": " : "",
            detail ? detail : "", cmd);
    return EXIT_USAGE;
}

/* Lengths such as 4096,4096: positive, at most HM_MAX_NDIM, their product within int64. */
int parse_shape(const char *s, int64_t *shape, int *ndim)
{
    *ndim = 0;
    int64_t total = 1;
    while (*s && *ndim < HM_MAX_NDIM) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || v <= 0 || errno == ERANGE || __builtin_mul_overflow(total, v, &total))
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

int parse_axes(const char *s, hm_fft_options *o)
{
    o->num_axes = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno == ERANGE || v < -HM_MAX_NDIM || v >= HM_MAX_NDIM ||
            o->num_axes == HM_FFT_MAX_RANK)
            return 0;
        o->axes[o->num_axes++] = (int)v;
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            return 0;
        s = end;
    }
    return o->num_axes > 0;
}

int parse_dtype(const char *s, hm_dtype *out)
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

/* Fills a host tensor with uniform values in [-0.5, 0.5) in its dtype. */
void fill_random(hm_tensor *h, unsigned long long seed)
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
hm_status random_tensor(hm_device memory, hm_dtype dtype, int ndim, const int64_t *shape,
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

void print_bench(const char *head_json, const char *head_text, const hm_bench_result *r,
                 const char *rate_name, double rate_work, int json)
{
    double rate = r->cpu_median_s > 0 ? rate_work / r->cpu_median_s : 0;
    if (json) {
        printf("{%s, \"cpu_times_s\": [", head_json);
        for (int i = 0; i < r->repeat; i++)
            printf("%s%.9g", i ? ", " : "", r->cpu_times_s[i]);
        printf("], \"gpu_times_s\": [");
        for (int i = 0; r->gpu_times_s && i < r->repeat; i++)
            printf("%s%.9g", i ? ", " : "", r->gpu_times_s[i]);
        printf("], \"min_s\": %.9g, \"median_s\": %.9g, \"max_s\": %.9g, \"gpu_median_s\": %.9g, "
               "\"bytes_h2d\": %.0f, \"bytes_d2h\": %.0f, \"copy_in_s\": %.9g, "
               "\"copy_out_s\": %.9g, \"compute_s\": %.9g, \"%s\": %.4f}\n",
               r->cpu_min_s, r->cpu_median_s, r->cpu_max_s, r->gpu_median_s, r->bytes_h2d,
               r->bytes_d2h, r->copy_in_s, r->copy_out_s, r->compute_s, rate_name, rate);
    } else {
        printf("%s: median %.3f ms (min %.3f, max %.3f)", head_text, r->cpu_median_s * 1e3,
               r->cpu_min_s * 1e3, r->cpu_max_s * 1e3);
        if (r->gpu_times_s)
            printf(", GPU %.3f ms", r->gpu_median_s * 1e3);
        printf(", %.2f %s", rate,
               strcmp(rate_name, "tflops") == 0   ? "TFLOP/s"
               : strcmp(rate_name, "gflops") == 0 ? "GFLOP/s"
                                                  : "GB/s");
        if (r->bytes_h2d + r->bytes_d2h > 0)
            printf("; per call %.1f MB in (%.3f ms), %.1f MB out (%.3f ms)", r->bytes_h2d / 1e6,
                   r->copy_in_s * 1e3, r->bytes_d2h / 1e6, r->copy_out_s * 1e3);
        printf("\n");
    }
}

const char *exec_name(const hm_execution *e, char *buf, size_t size)
{
    if (e->kind == HM_EXEC_CPU)
        snprintf(buf, size, "cpu");
    else if (e->kind == HM_EXEC_CUDA)
        snprintf(buf, size, "cuda:%d", e->device_id);
    else if (e->kind == HM_EXEC_AUTO)
        snprintf(buf, size, "auto");
    else
        snprintf(buf, size, "default");
    return buf;
}

void bench_progress(const char *what, double first_call_s, const hm_bench_options *b)
{
    double total = first_call_s * (b->warmup + b->repeat);
    if (total > 2.0)
        fprintf(stderr, "hetmath bench %s: %d more calls of about %.2f s each (~%.0f s)\n", what,
                b->warmup + b->repeat, first_call_s, total);
}

int bench_common(args *a, const char *cmd, hm_bench_options *b, int *json)
{
    long long v;
    const char *s;
    hm_bench_options_init(b);
    *json = arg_flag(a, "--json");
    if ((s = arg_value(a, "--repeat"))) {
        if (!parse_int(s, 1, 1000000, &v))
            return usage_error(cmd, "--repeat takes a count from 1 to 1000000", s);
        b->repeat = (int)v;
    }
    if ((s = arg_value(a, "--warmup"))) {
        if (!parse_int(s, 0, 1000000, &v))
            return usage_error(cmd, "--warmup takes a count from 0 to 1000000", s);
        b->warmup = (int)v;
    }
    if ((s = arg_value(a, "--tiles"))) {
        if (strcmp(s, "fixed") != 0 && strcmp(s, "measured") != 0)
            return usage_error(cmd, "--tiles takes fixed or measured", s);
        /* the schedule is the context's: a fresh one with it, before any work */
        hm_context_options o;
        hm_context_options_init(&o);
        o.pipeline_schedule = s[0] == 'f' ? HM_PIPELINE_FIXED : HM_PIPELINE_MEASURED;
        hm_context *c = NULL;
        hm_status st = hm_context_create(&o, &c);
        if (st != HM_STATUS_SUCCESS)
            return op_failed("creating a context", st);
        hm_context_destroy(g_ctx);
        g_ctx = c;
    }
    if ((s = arg_value(a, "--pipeline-timing"))) {
        if (strcmp(s, "tiles") != 0 && strcmp(s, "none") != 0)
            return usage_error(cmd, "--pipeline-timing takes tiles or none", s);
        TRY("hm_debug_set_pipeline_timing",
            hm_debug_set_pipeline_timing(g_ctx, strcmp(s, "tiles") == 0));
    }
    return 0;
}
