/* hetmath fft | matmul on .npy files, and hetmath estimate-transfer. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

/* Places a host array in `memory` (a copy unless it is host memory). */
static hm_status place(const hm_tensor *h, hm_device memory, hm_tensor *out, int *owned)
{
    *owned = 0;
    if (memory.type == HM_DEVICE_HOST) {
        *out = *h;
        return HM_STATUS_SUCCESS;
    }
    hm_status st = hm_tensor_alloc(g_ctx, memory, h->dtype, h->ndim, h->shape, out);
    if (st == HM_STATUS_SUCCESS && (st = hm_copy(g_ctx, h, out)) != HM_STATUS_SUCCESS)
        hm_tensor_free(g_ctx, out);
    *owned = st == HM_STATUS_SUCCESS;
    return st;
}

/* Refuses, before any work, an output that could not be written (exit 1, with the reason). */
static int check_output(const char *cmd, const char *path)
{
    char why[300];
    if (npy_check_writable(path, why, sizeof why))
        return 0;
    fprintf(stderr, "hetmath %s: %s\n", cmd, why);
    return EXIT_OP;
}

/* Writes any tensor as a C-order .npy file. */
static int write_result(const char *path, const hm_tensor *t)
{
    hm_tensor h;
    TRY("allocating the result on the host",
        hm_tensor_alloc(g_ctx, hm_device_host(), t->dtype, t->ndim, t->shape, &h));
    hm_status st = hm_copy(g_ctx, t, &h);
    char why[300];
    int ok = st == HM_STATUS_SUCCESS &&
             npy_write(path, h.dtype, h.ndim, h.shape, h.data, why, sizeof why);
    hm_tensor_free(g_ctx, &h);
    if (st != HM_STATUS_SUCCESS)
        return op_failed("hm_copy", st);
    if (!ok) {
        fprintf(stderr, "hetmath: %s\n", why);
        return EXIT_OP;
    }
    return 0;
}

static int read_input(const char *cmd, const char *path, npy_array *a)
{
    char why[300];
    if (!npy_read(path, a, why, sizeof why)) {
        fprintf(stderr, "hetmath %s: %s: %s\n", cmd, path, why);
        return EXIT_OP;
    }
    return 0;
}

/* A real array widened to complex (NumPy's fft of real input is complex). */
static int to_complex(npy_array *a)
{
    size_t n = a->nbytes / hm_dtype_size(a->dtype);
    int dbl = a->dtype == HM_DTYPE_F64;
    size_t es = dbl ? 16 : 8;
    void *c = calloc(n ? n : 1, es);
    if (!c)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (dbl)
            ((double *)c)[2 * i] = ((double *)a->data)[i];
        else
            ((float *)c)[2 * i] = ((float *)a->data)[i];
    }
    free(a->data);
    a->data = c;
    a->nbytes = n * es;
    a->dtype = dbl ? HM_DTYPE_C128 : HM_DTYPE_C64;
    return 1;
}

int cmd_fft(args *a)
{
    static const arg_spec spec[] = {{"-o", 1},       {"--inverse", 0}, {"--real", 0},
                                    {"--n", 1},      {"--axes", 1},    {"--norm", 1},
                                    {"--memory", 1}, {"--exec", 1},    {"--device-memory-limit", 1},
                                    {NULL, 0}};
    int rc = args_parse(a, "fft", spec, 1);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath fft IN.npy -o OUT.npy [--inverse] [--real] [--n N] [--axes A,B,..]\n"
            "                  [--norm backward|ortho|forward|none] [--memory host|pinned|cuda:N]\n"
            "                  [--exec " EXEC_FORMS "] [--device-memory-limit SIZE]\n"
            "  Axes default to all axes (at most 3; a 0-d array is returned unchanged). --real is\n"
            "  the real-to-complex transform; with --inverse, complex-to-real with last-axis\n"
            "  length N (default 2*(m-1)). --norm as NumPy (backward: inverse scaled by 1/n);\n"
            "  none: never scaled. --memory places the operand before the call; --exec names the\n"
            "  execution space; --device-memory-limit its device memory budget (such as 2G).\n"
            "  OUT.npy is written whole and then put in place: on any failure an existing\n"
            "  OUT.npy is left as it was.\n");
        return 0;
    }
    const char *out = arg_value(a, "-o"), *s;
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.blocking = 1;
    hm_device memory = hm_device_host();
    long long n = 0;
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("fft", "--memory takes host, pinned or cuda:N", s);
    if ((rc = exec_option(a, "fft", &o.execution)) != 0)
        return rc;
    if ((s = arg_value(a, "--n")) && !parse_int(s, 1, INT64_MAX / 2, &n))
        return usage_error("fft", "--n takes a positive length", s);
    if ((rc = device_limit_option(a, "fft", &o.device_memory_limit)))
        return rc;
    if ((s = arg_value(a, "--axes")) && !parse_axes(s, &o))
        return usage_error("fft", "--axes takes up to 3 axis numbers such as 0,-1", s);
    if ((s = arg_value(a, "--norm"))) {
        static const char *const names[] = {"backward", "none", "ortho", "forward"};
        int k = 0;
        while (k < 4 && strcmp(s, names[k]) != 0)
            k++;
        if (k == 4)
            return usage_error("fft", "--norm takes backward, ortho, forward or none", s);
        o.norm = (hm_fft_norm)k;
    }
    int inverse = arg_flag(a, "--inverse"), real = arg_flag(a, "--real");
    const char *in = a->npos ? a->pos[0] : NULL;
    if (!in)
        return usage_error("fft", "needs the input file (hetmath fft IN.npy -o OUT.npy)", NULL);
    if (!out)
        return usage_error("fft", "needs -o OUT.npy, the file for the result", NULL);
    if (n && !(real && inverse))
        return usage_error("fft", "--n applies to --real --inverse", NULL);
    o.direction = inverse ? HM_FFT_INVERSE : HM_FFT_FORWARD;
    o.type = real ? (inverse ? HM_FFT_C2R : HM_FFT_R2C) : HM_FFT_C2C;
    o.last_length = n;
    if ((rc = check_output("fft", out)) != 0)
        return rc;

    npy_array arr;
    rc = read_input("fft", in, &arr);
    if (rc)
        return rc;
    if (!real && (arr.dtype == HM_DTYPE_F32 || arr.dtype == HM_DTYPE_F64) && !to_complex(&arr)) {
        npy_free(&arr);
        fprintf(stderr, "hetmath fft: no memory\n");
        return EXIT_OP;
    }
    hm_tensor h = npy_tensor(&arr), x, y;
    memset(&y, 0, sizeof y);
    int owned = 0;
    hm_status st = place(&h, memory, &x, &owned);
    if (st == HM_STATUS_SUCCESS)
        st = hm_fft(g_ctx, &x, &y, &o);
    if (st == HM_STATUS_SUCCESS) {
        rc = write_result(out, &y);
        hm_tensor_free(g_ctx, &y);
    } else {
        rc = op_failed("hm_fft", st);
    }
    if (owned)
        hm_tensor_free(g_ctx, &x);
    npy_free(&arr);
    return rc;
}

int cmd_matmul(args *a)
{
    static const arg_spec spec[] = {{"-o", 1},
                                    {"--c", 1},
                                    {"--bias", 1},
                                    {"--alpha", 1},
                                    {"--beta", 1},
                                    {"--advanced", 0},
                                    {"--tf32", 0},
                                    {"--epilog", 1},
                                    {"--memory", 1},
                                    {"--exec", 1},
                                    {"--device-memory-limit", 1},
                                    {NULL, 0}};
    int rc = args_parse(a, "matmul", spec, 2);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf("usage: hetmath matmul A.npy B.npy -o D.npy [--c C.npy] [--alpha X] [--beta Y]\n"
               "                     [--advanced [--tf32] [--epilog relu|gelu|bias|relu_bias|"
               "gelu_bias]\n"
               "                     [--bias BIAS.npy]] [--memory host|pinned|cuda:N]\n"
               "                     [--exec " EXEC_FORMS "] [--device-memory-limit SIZE]\n"
               "  D = alpha*A@B + beta*C with NumPy's matmul semantics for batch dimensions\n"
               "  (operands of at least 2 dimensions). --beta needs --c: D is a new array.\n"
               "  --tf32, --epilog and --bias belong to --advanced (a GPU). D.npy is written\n"
               "  whole and then put in place: on any failure an existing D.npy is left as it "
               "was.\n");
        return 0;
    }
    const char *out = arg_value(a, "-o"), *cpath = arg_value(a, "--c"),
               *bpath = arg_value(a, "--bias"), *s;
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.blocking = 1;
    hm_device memory = hm_device_host();
    if ((s = arg_value(a, "--memory")) && !parse_space(s, &memory))
        return usage_error("matmul", "--memory takes host, pinned or cuda:N", s);
    if ((rc = exec_option(a, "matmul", &o.execution)) != 0)
        return rc;
    if ((rc = device_limit_option(a, "matmul", &o.device_memory_limit)))
        return rc;
    struct {
        const char *flag;
        double *v;
    } reals[] = {{"--alpha", &o.alpha}, {"--beta", &o.beta}};
    for (int i = 0; i < 2; i++) {
        if ((s = arg_value(a, reals[i].flag)) && !parse_real(s, reals[i].v))
            return usage_error("matmul", "--alpha and --beta take finite numbers", s);
    }
    if ((s = arg_value(a, "--epilog"))) {
        static const char *const names[] = {"none", "relu",      "gelu",
                                            "bias", "relu_bias", "gelu_bias"};
        int k = 0;
        while (k < 6 && strcmp(s, names[k]) != 0)
            k++;
        if (k == 6)
            return usage_error("matmul", "--epilog takes relu, gelu, bias, relu_bias, gelu_bias",
                               s);
        o.epilog = (hm_matmul_epilog)k;
    }
    int advanced = arg_flag(a, "--advanced");
    o.tf32 = arg_flag(a, "--tf32");
    const char *paths[2] = {a->npos > 0 ? a->pos[0] : NULL, a->npos > 1 ? a->pos[1] : NULL};
    if (!paths[0] || !paths[1])
        return usage_error("matmul", "needs two input files (hetmath matmul A.npy B.npy -o D.npy)",
                           NULL);
    if (!out)
        return usage_error("matmul", "needs -o D.npy, the file for the result", NULL);
    if (!advanced && (o.epilog || o.tf32 || bpath))
        return usage_error("matmul", "--epilog, --tf32 and --bias need --advanced",
                           bpath      ? "--bias"
                           : o.epilog ? "--epilog"
                                      : "--tf32");
    if (o.beta != 0 && !cpath)
        return usage_error("matmul",
                           "--beta scales C: give --c C.npy (D is a new array, with no values "
                           "of its own)",
                           NULL);
    if ((rc = check_output("matmul", out)) != 0)
        return rc;

    npy_array arrs[4];
    memset(arrs, 0, sizeof arrs);
    const char *all[4] = {paths[0], paths[1], cpath, bpath};
    hm_tensor host[4], dev[4], *ops[4] = {NULL, NULL, NULL, NULL};
    int owned[4] = {0, 0, 0, 0};
    hm_status st = HM_STATUS_SUCCESS;
    for (int i = 0; i < 4 && !rc && st == HM_STATUS_SUCCESS; i++) {
        if (!all[i])
            continue;
        if ((rc = read_input("matmul", all[i], &arrs[i])) != 0)
            break;
        host[i] = npy_tensor(&arrs[i]);
        st = place(&host[i], memory, &dev[i], &owned[i]);
        ops[i] = &dev[i];
    }
    hm_tensor D;
    memset(&D, 0, sizeof D);
    if (!rc && st == HM_STATUS_SUCCESS) {
        st = advanced ? hm_matmul_advanced(g_ctx, ops[0], ops[1], ops[2], &D, ops[3], &o)
                      : hm_matmul(g_ctx, ops[0], ops[1], ops[2], &D, &o);
        if (st == HM_STATUS_SUCCESS) {
            rc = write_result(out, &D);
            hm_tensor_free(g_ctx, &D);
        }
    }
    if (!rc && st != HM_STATUS_SUCCESS)
        rc = op_failed(advanced ? "hm_matmul_advanced" : "hm_matmul", st);
    for (int i = 0; i < 4; i++) {
        if (owned[i])
            hm_tensor_free(g_ctx, &dev[i]);
        npy_free(&arrs[i]);
    }
    return rc;
}

/* ---- the notebook's transfer estimate ------------------------------------------------------ */

typedef struct est_job {
    hm_tensor A, B, D, Ad, Bd, Dd;
    hm_matmul_options o;
    int which; /* 0 host operands, 1 device operands, 2 copies in, 3 copy out */
} est_job;

static hm_status est_run(hm_context *ctx, void *user)
{
    est_job *j = user;
    hm_status st;
    switch (j->which) {
    case 0:
        return hm_matmul_advanced(ctx, &j->A, &j->B, NULL, &j->D, NULL, &j->o);
    case 1:
        return hm_matmul(ctx, &j->Ad, &j->Bd, NULL, &j->Dd, &j->o);
    case 2:
        st = hm_copy(ctx, &j->A, &j->Ad);
        return st == HM_STATUS_SUCCESS ? hm_copy(ctx, &j->B, &j->Bd) : st;
    default:
        return hm_copy(ctx, &j->Dd, &j->D);
    }
}

int estimate_transfer(int64_t m, int64_t n, int64_t k, int repeat, int json)
{
    int ndev = 0;
    hm_context_device_count(g_ctx, &ndev);
    if (ndev == 0) {
        fprintf(stderr, "hetmath estimate-transfer: needs a CUDA device (%s)\n",
                "there is none here");
        return EXIT_OP;
    }
    est_job j;
    memset(&j, 0, sizeof j);
    hm_matmul_options_init(&j.o);
    j.o.blocking = 1;
    int64_t sa[2] = {m, k}, sb[2] = {k, n}, sd[2] = {m, n};
    hm_device dev = hm_device_cuda(0);
    hm_status st = random_tensor(hm_device_host(), HM_DTYPE_F32, 2, sa, 1, &j.A);
    if (st == HM_STATUS_SUCCESS)
        st = random_tensor(hm_device_host(), HM_DTYPE_F32, 2, sb, 2, &j.B);
    if (st == HM_STATUS_SUCCESS)
        st = hm_tensor_alloc(g_ctx, hm_device_host(), HM_DTYPE_F32, 2, sd, &j.D);
    if (st == HM_STATUS_SUCCESS)
        st = hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sa, &j.Ad);
    if (st == HM_STATUS_SUCCESS)
        st = hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sb, &j.Bd);
    if (st == HM_STATUS_SUCCESS)
        st = hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sd, &j.Dd);
    if (st == HM_STATUS_SUCCESS)
        st = hm_copy(g_ctx, &j.A, &j.Ad);
    if (st == HM_STATUS_SUCCESS)
        st = hm_copy(g_ctx, &j.B, &j.Bd);
    hm_bench_result r[4];
    memset(r, 0, sizeof r);
    hm_bench_options b;
    hm_bench_options_init(&b);
    b.repeat = repeat;
    for (int i = 0; i < 4 && st == HM_STATUS_SUCCESS; i++) {
        j.which = i;
        st = hm_bench_run(g_ctx, est_run, &j, &b, &r[i]);
    }
    if (st == HM_STATUS_SUCCESS) {
        double host = r[0].cpu_median_s, device = r[1].cpu_median_s;
        double in = r[2].cpu_median_s, outc = r[3].cpu_median_s;
        double est1 = host - device, est2 = in + outc;
        double hidden = est2 - est1;
        int agree = fabs(est1 - est2) <= 0.25 * est2;
        if (json) {
            printf("{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"host_operands_s\": %.9g, "
                   "\"device_operands_s\": %.9g, \"estimate_difference_s\": %.9g, "
                   "\"copy_in_s\": %.9g, \"copy_out_s\": %.9g, \"estimate_copies_s\": %.9g, "
                   "\"agree\": %d, \"hidden_by_overlap_s\": %.9g, \"copy_share\": %.4f}\n",
                   (long long)m, (long long)n, (long long)k, host, device, est1, in, outc, est2,
                   agree, hidden, host > 0 ? est1 / host : 0.0);
        } else {
            printf(
                "transfer estimate, f32 matmul %lld x %lld x %lld, operands A, B in host memory:\n",
                (long long)m, (long long)n, (long long)k);
            printf("  (1) host operands, advanced matmul on cuda:0:   %9.3f ms\n", host * 1e3);
            printf("  (2) device operands, matmul on cuda:0:          %9.3f ms\n", device * 1e3);
            printf("      (1) - (2), what copying adds to the call:   %9.3f ms\n", est1 * 1e3);
            printf("  (3) copies in (A and B), measured by hm_copy:   %9.3f ms\n", in * 1e3);
            printf("  (4) copy out (D), measured by hm_copy:          %9.3f ms\n", outc * 1e3);
            printf("      (3) + (4), the copies themselves:           %9.3f ms\n", est2 * 1e3);
            if (agree)
                printf("  The two estimates agree within 25%%: the copies are %.0f%% of the "
                       "host-operand time.\n",
                       host > 0 ? 100 * est1 / host : 0.0);
            else
                printf("  The estimates differ by %.3f ms: hetmath pipelines host operands, so "
                       "that much copying\n  ran while the GPU multiplied; copying adds %.0f%% "
                       "to the host-operand time instead of %.0f%%.\n",
                       hidden * 1e3, host > 0 ? 100 * est1 / host : 0.0,
                       host > 0 ? 100 * est2 / (device + est2) : 0.0);
        }
    }
    for (int i = 0; i < 4; i++)
        hm_bench_result_free(&r[i]);
    hm_tensor *all[6] = {&j.A, &j.B, &j.D, &j.Ad, &j.Bd, &j.Dd};
    for (int i = 0; i < 6; i++)
        hm_tensor_free(g_ctx, all[i]);
    return st == HM_STATUS_SUCCESS ? 0 : op_failed("the transfer estimate", st);
}

int cmd_estimate_transfer(args *a)
{
    static const arg_spec spec[] = {{"--m", 1},      {"--n", 1},    {"--k", 1}, {"--size", 1},
                                    {"--repeat", 1}, {"--json", 0}, {NULL, 0}};
    int rc = args_parse(a, "estimate-transfer", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath estimate-transfer [--m M --n N --k K] [--size notebook] [--repeat R]\n"
            "                                [--json]\n"
            "  The notebook's exercise: (1) host-operand matmul time, (2) device-operand time,\n"
            "  their difference; (3) copies in and (4) out measured directly, their sum; and\n"
            "  whether the two agree (they need not: hetmath overlaps copies with compute).\n"
            "  Default 2048 x 1024 x 1536; --size notebook is 8000 x 2000 x 4000. Needs a GPU.\n");
        return 0;
    }
    long long m = 2048, n = 1024, k = 1536, repeat = 5;
    const char *s;
    if ((s = arg_value(a, "--size"))) {
        if (strcmp(s, "notebook") != 0)
            return usage_error("estimate-transfer", "--size takes notebook", s);
        m = 8000;
        n = 2000;
        k = 4000;
    }
    struct {
        const char *flag;
        long long *v, hi;
    } ints[] = {{"--m", &m, 1LL << 20},
                {"--n", &n, 1LL << 20},
                {"--k", &k, 1LL << 20},
                {"--repeat", &repeat, 100000}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if ((s = arg_value(a, ints[i].flag)) && !parse_int(s, 1, ints[i].hi, ints[i].v)) {
            char msg[80];
            snprintf(msg, sizeof msg, "%s takes an integer from 1 to %lld", ints[i].flag,
                     ints[i].hi);
            return usage_error("estimate-transfer", msg, s);
        }
    return estimate_transfer(m, n, k, (int)repeat, arg_flag(a, "--json"));
}
