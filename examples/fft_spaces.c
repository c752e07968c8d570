/* The README's example: an FFT of host data runs on the CPU; the same call with a CUDA execution
 * space copies the operand in and the result back, and the ledger says how many bytes moved.
 * Every call's status is checked. */
#include <stdio.h>

#include "hetmath.h"

/* Prints why a call failed and returns 1, or returns 0. */
static int failed(hm_context *ctx, hm_status st, const char *what)
{
    if (st == HM_STATUS_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, hm_status_name(st), hm_context_last_error(ctx));
    return 1;
}

int main(void)
{
    hm_context *ctx;
    hm_status st = hm_context_create(NULL, &ctx);
    if (st != HM_STATUS_SUCCESS) {
        fprintf(stderr, "hm_context_create: %s\n", hm_status_name(st));
        return 1;
    }
    int rc = 1;
    float x[2 * 1024] = {0};
    x[2] = 1.0f; /* an impulse at 1: y[k] = exp(-2 pi i k / 1024) */
    int64_t n = 1024;
    hm_tensor tx, ty = {0}; /* ty: no data, ndim 0: hetmath allocates the result */
    hm_fft_options opts;
    hm_fft_options_init(&opts); /* forward c2c over all axes, execution where the data is */
    if (failed(ctx, hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL),
               "hm_tensor_init") ||
        failed(ctx, hm_context_set_log_level(ctx, HM_LOG_INFO), "hm_context_set_log_level") ||
        failed(ctx, hm_fft(ctx, &tx, &ty, &opts), "hm_fft on the cpu"))
        goto done;
    const float *y = ty.data;
    printf("cpu: y[256] = (%.3f, %.3f)\n", y[512], y[513]);
    hm_tensor_free(ctx, &ty); /* ty is an empty view again: reusable as an output */

    int devices = 0;
    if (failed(ctx, hm_context_device_count(ctx, &devices), "hm_context_device_count"))
        goto done;
    if (devices > 0) {
        opts.execution = hm_execution_cuda(0); /* host operand, GPU execution */
        if (failed(ctx, hm_fft(ctx, &tx, &ty, &opts), "hm_fft on cuda:0"))
            goto done;
        y = ty.data; /* the result is in the operand's memory space: host */
        printf("cuda:0: y[256] = (%.3f, %.3f)\n", y[512], y[513]);
        hm_tensor_free(ctx, &ty);
    } else {
        printf("cuda:0: no CUDA device here, skipped\n");
    }
    hm_transfer_totals t;
    if (failed(ctx, hm_ledger_totals(ctx, &t), "hm_ledger_totals"))
        goto done;
    printf("host->device %llu bytes, device->host %llu bytes\n",
           (unsigned long long)t.bytes[HM_TRANSFER_H2D],
           (unsigned long long)t.bytes[HM_TRANSFER_D2H]);
    rc = 0;
done:
    hm_context_destroy(ctx);
    return rc;
}
