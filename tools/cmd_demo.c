/* hetmath demo: the notebook's walk-through. Matmul on host and on device operands with the log
 * on, the benchmark of one against the other, the transfer estimate, the generic FFT on host and
 * device data, the guard, and what crossed between spaces. Without a GPU it runs the CPU half
 * and says what it skipped. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void demo_log(hm_log_level level, const char *message, void *user)
{
    (void)user;
    printf("    %s%s\n", level <= HM_LOG_WARN ? "warning: " : "", message);
}

typedef struct mm_job {
    hm_tensor *A, *B, *D;
    hm_matmul_options o;
    int advanced;
} mm_job;

static hm_status run_mm(hm_context *ctx, void *user)
{
    mm_job *j = user;
    return j->advanced ? hm_matmul_advanced(ctx, j->A, j->B, NULL, j->D, NULL, &j->o)
                       : hm_matmul(ctx, j->A, j->B, NULL, j->D, &j->o);
}

static int demo_matmul(int ndev, int64_t m, int64_t n, int64_t k)
{
    int64_t sa[2] = {m, k}, sb[2] = {k, n}, sd[2] = {m, n};
    hm_tensor A, B, D, Ad, Bd, Dd;
    TRY("making A", random_tensor(hm_device_host(), HM_DTYPE_F32, 2, sa, 1, &A));
    TRY("making B", random_tensor(hm_device_host(), HM_DTYPE_F32, 2, sb, 2, &B));
    TRY("allocating D", hm_tensor_alloc(g_ctx, hm_device_host(), HM_DTYPE_F32, 2, sd, &D));
    mm_job j = {&A, &B, &D, {0}, 0};
    hm_matmul_options_init(&j.o);
    j.o.blocking = 1;
    printf("\n== Matmul of host operands, f32 %lld x %lld x %lld: execution follows the data "
           "(CPU, CBLAS) ==\n",
           (long long)m, (long long)n, (long long)k);
    TRY("hm_matmul", hm_matmul(g_ctx, &A, &B, NULL, &D, &j.o));
    if (!ndev) {
        printf("\n== Skipped without a GPU: matmul of device operands, the advanced matmul of "
               "host operands\n   (copied in and back), their benchmark and the transfer "
               "estimate ==\n");
        hm_status st = hm_matmul_advanced(g_ctx, &A, &B, NULL, &D, NULL, &j.o);
        printf("  asking for the advanced matmul anyway gives %s: %s\n", hm_status_name(st),
               hm_context_last_error(g_ctx));
    } else {
        hm_device dev = hm_device_cuda(0);
        TRY("allocating", hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sa, &Ad));
        TRY("allocating", hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sb, &Bd));
        TRY("allocating", hm_tensor_alloc(g_ctx, dev, HM_DTYPE_F32, 2, sd, &Dd));
        hm_log_level quiet = HM_LOG_WARN;
        hm_context_set_log_level(g_ctx, quiet);
        TRY("hm_copy", hm_copy(g_ctx, &A, &Ad));
        TRY("hm_copy", hm_copy(g_ctx, &B, &Bd));
        hm_context_set_log_level(g_ctx, HM_LOG_INFO);
        printf("\n== The same matmul on device operands: execution follows the data (cuda:0, "
               "cuBLASLt) ==\n");
        TRY("hm_matmul", hm_matmul(g_ctx, &Ad, &Bd, NULL, &Dd, &j.o));
        printf("\n== The advanced matmul of the host operands: copied in, multiplied, copied "
               "back (pipelined) ==\n");
        TRY("hm_matmul_advanced", hm_matmul_advanced(g_ctx, &A, &B, NULL, &D, NULL, &j.o));

        printf("\n== Benchmark: host operands (advanced, pipelined) against device operands ==\n");
        hm_context_set_log_level(g_ctx, quiet);
        hm_bench_options bo;
        hm_bench_options_init(&bo);
        bo.repeat = 5;
        hm_bench_result host, device;
        j.advanced = 1;
        TRY("hm_bench_run", hm_bench_run(g_ctx, run_mm, &j, &bo, &host));
        mm_job jd = {&Ad, &Bd, &Dd, j.o, 0};
        bo.device = 0;
        hm_status st = hm_bench_run(g_ctx, run_mm, &jd, &bo, &device);
        if (st != HM_STATUS_SUCCESS) {
            hm_bench_result_free(&host);
            return op_failed("hm_bench_run", st);
        }
        double flops = 2.0 * (double)m * (double)n * (double)k;
        printf("  host operands:   median %8.3f ms (%.1f TFLOP/s), %.1f MB in and %.1f MB out a "
               "call\n",
               host.cpu_median_s * 1e3, flops / host.cpu_median_s / 1e12, host.bytes_h2d / 1e6,
               host.bytes_d2h / 1e6);
        printf("  device operands: median %8.3f ms (%.1f TFLOP/s; GPU time %.3f ms), no copies\n",
               device.cpu_median_s * 1e3, flops / device.cpu_median_s / 1e12,
               device.gpu_median_s * 1e3);
        printf("  device operands are %.1fx faster: keep the data where the work runs.\n",
               hm_bench_speedup(&host, &device));
        hm_bench_result_free(&host);
        hm_bench_result_free(&device);

        printf("\n== The transfer-cost estimate ==\n");
        int rc = estimate_transfer(m, n, k, 5, 0);
        hm_context_set_log_level(g_ctx, HM_LOG_INFO);
        hm_tensor_free(g_ctx, &Dd);
        hm_tensor_free(g_ctx, &Bd);
        hm_tensor_free(g_ctx, &Ad);
        if (rc)
            return rc;
    }
    hm_tensor_free(g_ctx, &D);
    hm_tensor_free(g_ctx, &B);
    hm_tensor_free(g_ctx, &A);
    return 0;
}

static int demo_fft(int ndev)
{
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
        hm_tensor dx, back;
        printf("\n== A copy to the GPU, through the transfer layer ==\n");
        TRY("allocating", hm_tensor_alloc(g_ctx, hm_device_cuda(0), HM_DTYPE_C64, 1, &n, &dx));
        TRY("hm_copy", hm_copy(g_ctx, &hx, &dx));
        printf("\n== FFT of device data: execution follows the data (cuda:0, cuFFT) ==\n");
        memset(&hy, 0, sizeof hy);
        TRY("hm_fft", hm_fft(g_ctx, &dx, &hy, &o));
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
        memset(&hy, 0, sizeof hy);
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
    hm_tensor_free(g_ctx, &hx);
    return 0;
}

int cmd_demo(args *a)
{
    static const arg_spec spec[] = {{"--size", 1}, {NULL, 0}};
    int rc = args_parse(a, "demo", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath demo [--size small|notebook]\n"
            "  Walks through memory and execution spaces with the log on: matmul of host and\n"
            "  device operands, their benchmark, the transfer estimate, the generic FFT on host\n"
            "  and device data, the guard, and a summary of the bytes moved. small (default)\n"
            "  finishes in seconds on a laptop CPU; notebook is 8000 x 2000 x 4000. Without a\n"
            "  GPU it runs the CPU half and says what it skipped.\n");
        return 0;
    }
    const char *size = arg_value(a, "--size");
    if (size && strcmp(size, "small") != 0 && strcmp(size, "notebook") != 0)
        return usage_error("demo", "--size takes small or notebook", size);
    int notebook = size && strcmp(size, "notebook") == 0;
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
        printf("  No CUDA device here: the GPU half of this demo is skipped.\n");
    rc = notebook ? demo_matmul(ndev, 8000, 2000, 4000) : demo_matmul(ndev, 1024, 512, 768);
    if (!rc)
        rc = demo_fft(ndev);
    if (rc)
        return rc;
    hm_transfer_totals t;
    hm_ledger_totals(g_ctx, &t);
    printf("\n== Ledger: what crossed between memory spaces in this demo ==\n");
    for (int d = 0; d < HM_TRANSFER_DIRECTION_COUNT; d++)
        printf("  %s: %llu copies, %.1f MB, %.3f ms\n",
               hm_transfer_direction_name((hm_transfer_direction)d),
               (unsigned long long)t.copies[d], (double)t.bytes[d] / 1e6, t.seconds[d] * 1e3);
    return 0;
}
