/* The benchmark helper: warm-up, timed repeats, medians, and the ledger's split. */
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"

void hm_bench_options_init(hm_bench_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->warmup = 2;
    opts->repeat = 10;
    opts->device = HM_AUTO;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* min, median, max of n values (n ≥ 1), without reordering them. */
static hm_status summarize(const double *v, int n, double *lo, double *mid, double *hi)
{
    double *s = malloc(sizeof *s * (size_t)n);
    if (!s)
        return HM_STATUS_OUT_OF_HOST_MEMORY;
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *lo = s[0];
    *hi = s[n - 1];
    *mid = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return HM_STATUS_SUCCESS;
}

hm_status hm_bench_run(hm_context *ctx, hm_bench_fn fn, void *user_data,
                       const hm_bench_options *opts, hm_bench_result *out)
{
    static const char *const name = "hm_bench_run";
    HM_ENTER(ctx, name);
    hm_bench_options o;
    hm_bench_options_init(&o);
    if (opts) {
        if (opts->size < sizeof(size_t) || opts->size > sizeof o)
            return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: options size %zu is wrong", name,
                            opts->size);
        memcpy(&o, opts, opts->size);
    }
    if (!fn || !out || o.repeat < 1 || o.warmup < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: %s", name,
                        !fn    ? "the callable is NULL"
                        : !out ? "the result pointer is NULL"
                               : "repeat must be at least 1 and warmup at least 0");
    memset(out, 0, sizeof *out);
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
    bool gpu = o.device != HM_AUTO;
    if (gpu && (!cuda || ctx->device_count == 0))
        return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE, "%s: GPU timing of cuda:%d without CUDA",
                        name, o.device);
    if (gpu && (o.device < 0 || o.device >= ctx->device_count))
        return hm__fail(ctx, HM_STATUS_DEVICE_NOT_FOUND, "%s: cuda:%d does not exist", name,
                        o.device);
    out->repeat = o.repeat;
    out->cpu_times_s = calloc((size_t)o.repeat, sizeof(double));
    out->gpu_times_s = gpu ? calloc((size_t)o.repeat, sizeof(double)) : NULL;
    if (!out->cpu_times_s || (gpu && !out->gpu_times_s)) {
        hm_bench_result_free(out);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for the times", name);
    }
    hm_status st = HM_STATUS_SUCCESS;
    hm_transfer_totals before, after;
    for (int i = 0; i < o.warmup + o.repeat && st == HM_STATUS_SUCCESS; i++) {
        bool timed = i >= o.warmup;
        if (i == o.warmup)
            hm_ledger_totals(ctx, &before);
        void *timer = NULL;
        if (timed && gpu &&
            (st = hm__backend_timer(ctx, cuda, o.device, &timer, NULL)) != HM_STATUS_SUCCESS)
            break;
        double t0 = hm__now();
        st = fn(ctx, user_data);
        if (st == HM_STATUS_SUCCESS && gpu)
            st = hm_context_synchronize(ctx);
        double t1 = hm__now();
        if (timer) {
            double g = 0;
            hm_status ts = hm__backend_timer(ctx, cuda, o.device, &timer, &g);
            if (st == HM_STATUS_SUCCESS)
                st = ts;
            if (timed)
                out->gpu_times_s[i - o.warmup] = g;
        }
        if (timed)
            out->cpu_times_s[i - o.warmup] = t1 - t0;
    }
    if (st != HM_STATUS_SUCCESS) {
        hm_bench_result_free(out);
        return st;
    }
    hm_ledger_totals(ctx, &after);
    double n = (double)o.repeat;
    out->bytes_h2d = (double)(after.bytes[HM_TRANSFER_H2D] - before.bytes[HM_TRANSFER_H2D]) / n;
    out->bytes_d2h = (double)(after.bytes[HM_TRANSFER_D2H] - before.bytes[HM_TRANSFER_D2H]) / n;
    out->copy_in_s = (after.seconds[HM_TRANSFER_H2D] - before.seconds[HM_TRANSFER_H2D]) / n;
    out->copy_out_s = (after.seconds[HM_TRANSFER_D2H] - before.seconds[HM_TRANSFER_D2H]) / n;
    if (summarize(out->cpu_times_s, o.repeat, &out->cpu_min_s, &out->cpu_median_s,
                  &out->cpu_max_s) != HM_STATUS_SUCCESS ||
        (gpu && summarize(out->gpu_times_s, o.repeat, &out->gpu_min_s, &out->gpu_median_s,
                          &out->gpu_max_s) != HM_STATUS_SUCCESS)) {
        hm_bench_result_free(out);
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory", name);
    }
    out->compute_s = out->cpu_median_s - out->copy_in_s - out->copy_out_s;
    if (out->compute_s < 0)
        out->compute_s = 0;
    return HM_STATUS_SUCCESS;
}

void hm_bench_result_free(hm_bench_result *r)
{
    if (!r)
        return;
    free(r->cpu_times_s);
    free(r->gpu_times_s);
    r->cpu_times_s = r->gpu_times_s = NULL;
}

double hm_bench_speedup(const hm_bench_result *baseline, const hm_bench_result *candidate)
{
    if (!baseline || !candidate || baseline->repeat < 1 || candidate->repeat < 1 ||
        candidate->cpu_median_s <= 0)
        return 0.0;
    return baseline->cpu_median_s / candidate->cpu_median_s;
}
