/* The auto execution space at the command line: hetmath calibrate, hetmath estimate (the model's
 * candidates for one operation, --measure to run them) and hetmath bench auto (the suite that
 * judges the choice: every case on the CPU, on the GPU and with auto). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One operation on operands of one layout: an FFT over `axes` of x (c2c forward), or a product
 * M×K by K×N; `reuse` executions of one plan (1: a stateless call, planned afresh). */
typedef struct op_case {
    const char *name;
    int fft;
    hm_dtype dtype;
    int ndim, num_axes, axes[3];
    int64_t shape[3];
    int64_t m, n, k;
    hm_device memory;
    int reuse;
} op_case;

typedef struct operands {
    hm_tensor in[2], out;
} operands;

static void describe(const op_case *c, char *buf, size_t size)
{
    char mem[32];
    hm_device_format(c->memory, mem, sizeof mem);
    if (c->fft) {
        size_t n = (size_t)snprintf(buf, size, "fft %s [", hm_dtype_name(c->dtype));
        for (int i = 0; i < c->ndim && n < size; i++)
            n +=
                (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)c->shape[i]);
        if (n < size)
            snprintf(buf + n, size - n, "]%s %s%s", c->num_axes < c->ndim ? " rows" : "", mem,
                     c->reuse > 1 ? " reused" : "");
    } else {
        snprintf(buf, size, "matmul %s %lldx%lldx%lld %s%s", hm_dtype_name(c->dtype),
                 (long long)c->m, (long long)c->n, (long long)c->k, mem,
                 c->reuse > 1 ? " reused" : "");
    }
}

static hm_status make_operands(const op_case *c, operands *o)
{
    memset(o, 0, sizeof *o);
    int64_t a[2] = {c->m, c->k}, b[2] = {c->k, c->n}, d[2] = {c->m, c->n};
    hm_status st = c->fft ? random_tensor(c->memory, c->dtype, c->ndim, c->shape, 1, &o->in[0])
                          : random_tensor(c->memory, c->dtype, 2, a, 1, &o->in[0]);
    if (st == HM_STATUS_SUCCESS && !c->fft)
        st = random_tensor(c->memory, c->dtype, 2, b, 2, &o->in[1]);
    if (st == HM_STATUS_SUCCESS)
        st = c->fft ? hm_tensor_alloc(g_ctx, c->memory, c->dtype, c->ndim, c->shape, &o->out)
                    : hm_tensor_alloc(g_ctx, c->memory, c->dtype, 2, d, &o->out);
    return st;
}

static void free_operands(operands *o)
{
    hm_tensor_free(g_ctx, &o->in[0]);
    hm_tensor_free(g_ctx, &o->in[1]);
    hm_tensor_free(g_ctx, &o->out);
}

static void fft_opts(const op_case *c, hm_execution e, hm_fft_options *o)
{
    hm_fft_options_init(o);
    o->execution = e;
    o->blocking = 1;
    o->num_axes = c->num_axes;
    for (int i = 0; i < c->num_axes; i++)
        o->axes[i] = c->axes[i];
}

static void mm_opts(hm_execution e, hm_matmul_options *o)
{
    hm_matmul_options_init(o);
    o->execution = e;
    o->blocking = 1;
}

static hm_status estimate(const op_case *c, operands *o, hm_estimate *est)
{
    hm_fft_options fo;
    hm_matmul_options mo;
    hm_execution e = hm_execution_auto(c->reuse);
    if (c->fft) {
        fft_opts(c, e, &fo);
        return hm_fft_estimate(g_ctx, &o->in[0], &o->out, &fo, est);
    }
    mm_opts(e, &mo);
    return hm_matmul_estimate(g_ctx, HM_OP_GENERIC, &o->in[0], &o->in[1], NULL, &o->out, NULL, &mo,
                              est);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The time of the case on each of the n spaces e[] as a caller would see it: one-shot, a
 * stateless call with no plan cached; reused, a plan made and executed `reuse` times, per
 * execution. Each space in turn: a call untimed (what a first call pays once: pages touched, a
 * thread pool woken after the others ran), then the median of its calls, 5 at least and on to
 * 50 ms (101 at most), fewer past a second. */
static hm_status time_case(const op_case *c, operands *o, const hm_execution *e, int n,
                           double *seconds)
{
    static double t[101];
    hm_status st = HM_STATUS_SUCCESS;
    double work = c->fft ? (double)c->shape[0] * (double)(c->ndim > 1 ? c->shape[1] : 1)
                         : (double)c->m * (double)c->n * (double)c->k;
    for (int k = 0; k < n && st == HM_STATUS_SUCCESS; k++) {
        hm_fft_options fo;
        hm_matmul_options mo;
        hm_fft_plan *fp = NULL;
        hm_matmul_plan *mp = NULL;
        double spent = 0, plan_s = 0;
        fft_opts(c, e[k], &fo);
        mm_opts(e[k], &mo);
        if (work <= (c->fft ? 1 << 22 : 1 << 30))
            st = c->fft ? hm_fft(g_ctx, &o->in[0], &o->out, &fo)
                        : hm_matmul(g_ctx, &o->in[0], &o->in[1], NULL, &o->out, &mo);
        if (c->reuse > 1 && st == HM_STATUS_SUCCESS) {
            hm_context_clear_plan_cache(g_ctx);
            double t0 = now();
            st = c->fft ? hm_fft_plan_create(g_ctx, &o->in[0], &o->out, &fo, &fp)
                        : hm_matmul_plan_create(g_ctx, HM_OP_GENERIC, &o->in[0], &o->in[1], NULL,
                                                &o->out, NULL, &mo, &mp);
            plan_s = now() - t0;
        }
        int runs = 0;
        for (; st == HM_STATUS_SUCCESS && runs < 101 &&
               (runs == 0 || (spent < 1.0 && (runs < 5 || spent < 0.05)));
             runs++) {
            if (c->reuse == 1)
                hm_context_clear_plan_cache(g_ctx);
            double t0 = now();
            if (c->reuse > 1)
                st = c->fft
                         ? hm_fft_execute(g_ctx, fp, &o->in[0], &o->out)
                         : hm_matmul_execute(g_ctx, mp, &o->in[0], &o->in[1], NULL, &o->out, NULL);
            else
                st = c->fft ? hm_fft(g_ctx, &o->in[0], &o->out, &fo)
                            : hm_matmul(g_ctx, &o->in[0], &o->in[1], NULL, &o->out, &mo);
            t[runs] = now() - t0;
            spent += t[runs];
        }
        hm_fft_plan_destroy(fp);
        hm_matmul_plan_destroy(mp);
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        seconds[k] = runs ? t[runs / 2] + plan_s / c->reuse : 0;
    }
    return st;
}

static const char *ms(double s, char *buf, size_t size)
{
    if (s < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.4g", s * 1e3);
    return buf;
}

/* ---- hetmath calibrate ------------------------------------------------------------------ */

int cmd_calibrate(args *a)
{
    static const arg_spec spec[] = {{"--json", 0}, {NULL, 0}};
    int rc = args_parse(a, "calibrate", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath calibrate [--json]\n"
               "  Measures this machine for the auto execution space (--exec auto): the CPU's\n"
               "  and each GPU's matmul and FFT at a few sizes, each GPU's link and planning\n"
               "  cost; writes $XDG_CACHE_HOME/hetmath/calibration (else\n"
               "  ~/.cache/hetmath/calibration), which auto reads from then on. Auto measures on\n"
               "  its first use when the file is missing or made elsewhere.\n");
        return 0;
    }
    hm_calibration_report r;
    TRY("hm_context_calibrate", hm_context_calibrate(g_ctx, &r));
    if (arg_flag(a, "--json"))
        printf("{\"seconds\": %.6f, \"devices\": %d, \"path\": \"%s\"}\n", r.seconds, r.devices,
               r.path);
    else
        printf("measured the CPU and %d GPU%s in %.2f s; %s%s\n", r.devices,
               r.devices == 1 ? "" : "s", r.seconds, r.path[0] ? "written to " : "not written",
               r.path);
    return 0;
}

/* ---- hetmath estimate ------------------------------------------------------------------- */

/* The candidates' terms (and, measured, each one's time and the model's error). */
static void print_estimate(const op_case *c, const hm_estimate *e, const double *measured, int json)
{
    char name[160], ex[32], t[6][24];
    describe(c, name, sizeof name);
    if (json)
        printf("{\"case\": \"%s\", \"calibrated\": %d, \"chosen\": %d, \"candidates\": [", name,
               e->calibrated, e->chosen);
    else
        printf("%s, reuse %d%s\n  %-8s %10s %10s %10s %10s %10s %10s%s\n", name, c->reuse,
               e->calibrated ? "" : " (no calibration: the CPU alone)", "space", "in ms", "plan ms",
               "compute ms", "back ms", "total ms", "copies MB",
               measured ? "  measured ms  model/measured" : "");
    for (int i = 0; i < e->count; i++) {
        const hm_estimate_candidate *k = &e->candidate[i];
        exec_name(&k->execution, ex, sizeof ex);
        if (json) {
            printf("%s{\"execution\": \"%s\", \"copy_in_s\": %.9g, \"plan_s\": %.9g, "
                   "\"compute_s\": %.9g, \"copy_out_s\": %.9g, \"total_s\": %.9g, "
                   "\"copy_bytes\": %zu, \"excluded\": %d",
                   i ? ", " : "", ex, k->copy_in_s, k->plan_s, k->compute_s, k->copy_out_s,
                   k->total_s, k->copy_bytes, k->excluded);
            if (measured)
                printf(", \"measured_s\": %.9g", measured[i]);
            printf("}");
            continue;
        }
        printf("  %-8s %10s %10s %10s %10s %10s %10.3g", ex, ms(k->copy_in_s, t[0], 24),
               ms(k->plan_s, t[1], 24), ms(k->compute_s, t[2], 24), ms(k->copy_out_s, t[3], 24),
               ms(k->total_s, t[4], 24), (double)k->copy_bytes / 1e6);
        if (measured)
            printf("  %11s  %14.3g", ms(measured[i], t[5], 24),
                   k->total_s > 0 && measured[i] > 0 ? k->total_s / measured[i] : 0.0);
        printf("%s\n", i == e->chosen ? "  <- auto" : k->excluded ? "  (excluded)" : "");
    }
    if (json)
        printf("]}\n");
}

static int estimate_usage(void)
{
    printf("usage: hetmath estimate matmul --m M --n N --k K [common options]\n"
           "       hetmath estimate fft --shape S [--axes A] [common options]\n"
           "  common: [--dtype f32|f64|c64|c128] [--memory host|pinned|cuda:N] [--reuse R]\n"
           "          [--measure] [--json]\n"
           "  What the auto execution space would choose for the operation on operands of\n"
           "  that layout in that memory: each candidate's modelled copies in, planning (shared\n"
           "  by R executions of one plan), computation, copy back and total. --measure runs\n"
           "  the operation on each candidate (planned afresh, then R executions) and prints\n"
           "  the model's time over the measured one.\n");
    return 0;
}

int cmd_estimate(args *a)
{
    static const arg_spec spec[] = {{"--m", 1},      {"--n", 1},     {"--k", 1},
                                    {"--shape", 1},  {"--axes", 1},  {"--dtype", 1},
                                    {"--memory", 1}, {"--reuse", 1}, {"--measure", 0},
                                    {"--json", 0},   {NULL, 0}};
    int rc = args_parse(a, "estimate", spec, 1);
    if (rc)
        return rc;
    if (arg_flag(a, "--help"))
        return estimate_usage();
    op_case c = {.memory = hm_device_host(), .reuse = 1, .m = 1024, .n = 1024, .k = 1024};
    const char *s, *op = a->npos ? a->pos[0] : "";
    if (strcmp(op, "fft") != 0 && strcmp(op, "matmul") != 0)
        return usage_error("estimate", "the operation is fft or matmul", op);
    c.fft = strcmp(op, "fft") == 0;
    c.dtype = c.fft ? HM_DTYPE_C64 : HM_DTYPE_F32;
    long long v;
    if ((s = arg_value(a, "--dtype")) &&
        (!parse_dtype(s, &c.dtype) || c.dtype == HM_DTYPE_F16 || c.dtype == HM_DTYPE_BF16 ||
         (c.fft && (c.dtype == HM_DTYPE_F32 || c.dtype == HM_DTYPE_F64))))
        return usage_error(
            "estimate", c.fft ? "--dtype takes c64 or c128" : "--dtype takes f32, f64, c64 or c128",
            s);
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &c.memory))
        return usage_error("estimate", "--memory takes host, pinned or cuda:N", s);
    if ((s = arg_value(a, "--reuse"))) {
        if (!parse_int(s, 1, 1 << 30, &v))
            return usage_error("estimate", "--reuse takes a count from 1", s);
        c.reuse = (int)v;
    }
    int64_t *dims[3] = {&c.m, &c.n, &c.k};
    const char *flags[3] = {"--m", "--n", "--k"};
    for (int i = 0; i < 3; i++)
        if ((s = arg_value(a, flags[i]))) {
            if (!parse_int(s, 1, 1 << 24, &v))
                return usage_error("estimate", "--m, --n and --k take a size from 1", s);
            *dims[i] = v;
        }
    if (c.fft) {
        hm_fft_options o;
        if (!(s = arg_value(a, "--shape")) || !parse_shape(s, c.shape, &c.ndim) || c.ndim > 3)
            return usage_error("estimate", "fft needs --shape of 1 to 3 sizes, such as 4096,4096",
                               s ? s : "(none)");
        c.num_axes = c.ndim;
        for (int i = 0; i < c.ndim; i++)
            c.axes[i] = i;
        if ((s = arg_value(a, "--axes"))) {
            if (!parse_axes(s, &o))
                return usage_error("estimate", "--axes takes up to 3 axes such as 0,-1", s);
            c.num_axes = o.num_axes;
            memcpy(c.axes, o.axes, sizeof c.axes);
        }
    }
    operands o;
    hm_estimate e;
    double measured[1 + HM_MAX_DEVICE_SET];
    hm_status st = make_operands(&c, &o);
    if (st == HM_STATUS_SUCCESS)
        st = estimate(&c, &o, &e);
    hm_execution spaces[1 + HM_MAX_DEVICE_SET];
    for (int i = 0; st == HM_STATUS_SUCCESS && i < e.count; i++)
        spaces[i] = e.candidate[i].execution;
    for (int i = 0; arg_flag(a, "--measure") && st == HM_STATUS_SUCCESS && i < e.count; i += 3)
        st = time_case(&c, &o, spaces + i, e.count - i < 3 ? e.count - i : 3, measured + i);
    free_operands(&o);
    if (st != HM_STATUS_SUCCESS)
        return op_failed("the estimate", st);
    print_estimate(&c, &e, arg_flag(a, "--measure") ? measured : NULL, arg_flag(a, "--json"));
    return 0;
}

/* ---- hetmath bench auto ----------------------------------------------------------------- */

#define FFT1(dt, n, mem, r)                                                                        \
    {                                                                                              \
        .fft = 1, .dtype = dt, .ndim = 1, .num_axes = 1, .shape = {n}, .memory = mem, .reuse = r   \
    }
#define ROWS(dt, b, n, mem)                                                                        \
    {                                                                                              \
        .fft = 1, .dtype = dt, .ndim = 2, .num_axes = 1, .axes = {1}, .shape = {b, n},             \
        .memory = mem, .reuse = 1                                                                  \
    }
#define MM(dt, M, N, K, mem, r)                                                                    \
    {                                                                                              \
        .dtype = dt, .m = M, .n = N, .k = K, .memory = mem, .reuse = r                             \
    }

/* The suite: FFTs from 2^8 to 2^26 points, single and batched; products from 64^3 to 16384^3
 * and skinny ones; f32, f64, c64, c128; host and device operands; one-shot and reused. */
static int suite(int device, int quick, op_case *out)
{
    hm_device h = {HM_DEVICE_HOST, 0}, g = {HM_DEVICE_CUDA, device};
    const op_case all[] = {
        FFT1(HM_DTYPE_C64, 1 << 8, h, 1),         FFT1(HM_DTYPE_C64, 1 << 12, h, 1),
        FFT1(HM_DTYPE_C64, 1 << 16, h, 1),        FFT1(HM_DTYPE_C64, 1 << 20, h, 1),
        FFT1(HM_DTYPE_C64, 1 << 24, h, 1),        FFT1(HM_DTYPE_C64, 1 << 26, h, 1),
        FFT1(HM_DTYPE_C128, 1 << 12, h, 1),       FFT1(HM_DTYPE_C128, 1 << 20, h, 1),
        ROWS(HM_DTYPE_C64, 256, 256, h),          ROWS(HM_DTYPE_C64, 1024, 1024, h),
        FFT1(HM_DTYPE_C64, 1 << 14, h, 100),      FFT1(HM_DTYPE_C64, 1 << 12, g, 1),
        FFT1(HM_DTYPE_C64, 1 << 22, g, 1),        MM(HM_DTYPE_F32, 64, 64, 64, h, 1),
        MM(HM_DTYPE_F32, 256, 256, 256, h, 1),    MM(HM_DTYPE_F32, 1024, 1024, 1024, h, 1),
        MM(HM_DTYPE_F32, 4096, 4096, 4096, h, 1), MM(HM_DTYPE_F32, 16384, 16384, 16384, h, 1),
        MM(HM_DTYPE_F64, 256, 256, 256, h, 1),    MM(HM_DTYPE_F64, 2048, 2048, 2048, h, 1),
        MM(HM_DTYPE_C64, 512, 512, 512, h, 1),    MM(HM_DTYPE_F32, 65536, 64, 64, h, 1),
        MM(HM_DTYPE_F32, 64, 64, 65536, h, 1),    MM(HM_DTYPE_F32, 8192, 8192, 32, h, 1),
        MM(HM_DTYPE_F32, 384, 384, 384, h, 100),  MM(HM_DTYPE_F32, 64, 64, 64, g, 1),
        MM(HM_DTYPE_F32, 2048, 2048, 2048, g, 1),
    };
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const op_case *c = &all[i];
        double work = c->fft ? (double)c->shape[0] * (double)(c->ndim > 1 ? c->shape[1] : 1)
                             : (double)c->m * (double)c->n * (double)c->k;
        if (quick && work > (c->fft ? 1e6 : 1.1e9)) /* --quick: the small half, CPU-friendly */
            continue;
        out[n++] = *c;
    }
    return n;
}

int bench_auto(args *a)
{
    static const arg_spec spec[] = {{"--device", 1}, {"--quick", 0}, {"--json", 0}, {NULL, 0}};
    int rc = args_parse(a, "bench auto", spec, 1);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath bench auto [--device N] [--quick] [--json]\n"
               "  The auto execution space's suite: each case (FFTs of 2^8 to 2^26 points, single\n"
               "  and batched; products of 64^3 to 16384^3 and skinny ones; f32, f64, c64, c128;\n"
               "  host and device operands; one-shot and reused) timed on the CPU, on cuda:N and\n"
               "  with auto, as a caller sees it (copies and planning included). Prints auto's\n"
               "  time over the better of the two, and the suite's total for auto, for 'follow\n"
               "  the operands' (the default) and for 'always the GPU'. Without a GPU, the CPU\n"
               "  and auto alone. --quick: the smaller cases only.\n");
        return 0;
    }
    long long v = 0;
    const char *s;
    if ((s = arg_value(a, "--device")) && !parse_int(s, 0, 63, &v))
        return usage_error("bench auto", "--device takes a device number", s);
    int json = arg_flag(a, "--json"), devices = 0;
    hm_context_device_count(g_ctx, &devices);
    int gpu = devices > (int)v;
    op_case cases[64];
    int n = suite((int)v, arg_flag(a, "--quick"), cases);
    hm_execution space[3] = {hm_execution_cpu(HM_AUTO), hm_execution_cuda((int)v),
                             hm_execution_auto(1)};
    double total[4] = {0}, ratio_sum = 0, worst = 0;
    int counted = 0;
    if (!json)
        printf("%-42s %10s %10s %10s %8s %9s\n", "case", "cpu ms", "gpu ms", "auto ms", "chose",
               "auto/best");
    for (int i = 0; i < n; i++) {
        const op_case *c = &cases[i];
        if (!gpu && c->memory.type == HM_DEVICE_CUDA)
            continue;
        operands o;
        hm_estimate e;
        double t[3] = {-1, -1, -1};
        char name[160], chose[32], x[3][24];
        describe(c, name, sizeof name);
        hm_status st = make_operands(c, &o);
        if (st == HM_STATUS_SUCCESS)
            st = estimate(c, &o, &e);
        space[2].reuse = c->reuse;
        hm_execution order[3] = {space[0], space[2], space[1]}; /* the GPU last: maybe none */
        double took[3] = {-1, -1, -1};
        if (st == HM_STATUS_SUCCESS)
            st = time_case(c, &o, order, gpu ? 3 : 2, took);
        t[0] = took[0];
        t[1] = gpu ? took[2] : -1;
        t[2] = took[1];
        free_operands(&o);
        if (st != HM_STATUS_SUCCESS)
            return op_failed(name, st);
        exec_name(&e.candidate[e.chosen].execution, chose, sizeof chose);
        double best = gpu && t[1] < t[0] ? t[1] : t[0];
        double follow = c->memory.type == HM_DEVICE_CUDA ? t[1] : t[0];
        total[0] += t[2];
        total[1] += follow;
        total[2] += gpu ? t[1] : 0;
        ratio_sum += t[2] / best;
        worst = t[2] / best > worst ? t[2] / best : worst;
        counted++;
        if (json)
            printf("{\"case\": \"%s\", \"cpu_s\": %.9g, \"gpu_s\": %.9g, \"auto_s\": %.9g, "
                   "\"chose\": \"%s\", \"model_chosen_s\": %.9g, \"auto_over_best\": %.4f}\n",
                   name, t[0], t[1], t[2], chose, e.candidate[e.chosen].total_s, t[2] / best);
        else
            printf("%-42s %10s %10s %10s %8s %9.3f\n", name, ms(t[0], x[0], 24), ms(t[1], x[1], 24),
                   ms(t[2], x[2], 24), chose, t[2] / best);
        fflush(stdout);
    }
    double mean = counted ? ratio_sum / counted : 0;
    char gpu_total[24] = "-";
    if (gpu)
        snprintf(gpu_total, sizeof gpu_total, "%.3f", total[2]);
    if (json)
        printf("{\"summary\": true, \"cases\": %d, \"mean_auto_over_best\": %.4f, "
               "\"worst_auto_over_best\": %.4f, \"total_auto_s\": %.6f, \"total_follow_s\": %.6f, "
               "\"total_gpu_s\": %.6f}\n",
               counted, mean, worst, total[0], total[1], gpu ? total[2] : -1.0);
    else
        printf("%d cases: auto over the better of cpu and gpu: mean %.3f, worst %.3f; suite "
               "total: auto %.3f s, follow the operands %.3f s, always the GPU %s s\n",
               counted, mean, worst, total[0], total[1], gpu_total);
    return 0;
}
