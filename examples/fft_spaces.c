/* The README's example: an FFT of host data runs on the CPU; the same call with a CUDA execution
 * space copies the operand in and the result back, and the ledger says how many bytes moved. */
#include <stdio.h>

#include "hetmath.h"

int main(void)
{
    hm_context *ctx;
    if (hm_context_create(NULL, &ctx) != HM_STATUS_SUCCESS)
        return 1;
    hm_context_set_log_level(ctx, HM_LOG_INFO); /* banners, spaces line, one line per copy */

    float x[2 * 1024] = {0};
    x[2] = 1.0f; /* an impulse at 1 */
    int64_t n = 1024;
    hm_tensor tx, ty = {0};
    hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);

    hm_fft_options opts;
    hm_fft_options_init(&opts); /* forward c2c over all axes, execution where the data is */
    hm_status st = hm_fft(ctx, &tx, &ty, &opts); /* ty.data NULL: hetmath allocates it */
    if (st != HM_STATUS_SUCCESS) {
        fprintf(stderr, "%s: %s\n", hm_status_name(st), hm_context_last_error(ctx));
        return 1;
    }
    hm_tensor_free(ctx, &ty);

    int devices = 0;
    hm_context_device_count(ctx, &devices);
    if (devices > 0) {
        opts.execution = hm_execution_cuda(0); /* host operand, GPU execution */
        if (hm_fft(ctx, &tx, &ty, &opts) == HM_STATUS_SUCCESS)
            hm_tensor_free(ctx, &ty);
    }
    hm_transfer_totals t;
    hm_ledger_totals(ctx, &t);
    printf("host->device %llu bytes, device->host %llu bytes\n",
           (unsigned long long)t.bytes[HM_TRANSFER_H2D],
           (unsigned long long)t.bytes[HM_TRANSFER_D2H]);
    hm_context_destroy(ctx);
    return 0;
}
