/* The transfer layer on the host: strided copies, the ledger's exact figures, its callback and
 * reset, the log line, the guard's settings, and the refusals of hm_copy. */
#include "check.h"

static int callbacks;
static size_t callback_bytes;
static void on_copy(const hm_transfer_record *r, void *user)
{
    (void)user;
    callbacks++;
    callback_bytes += r->bytes;
}

static void host_copies_and_ledger(void)
{
    static hm_test_log log;
    hm_context *ctx = hm_test_context(&log, HM_LOG_INFO);
    CHECK_STATUS(hm_ledger_set_callback(ctx, on_copy, NULL), HM_STATUS_SUCCESS);

    /* A 5x7 f64 matrix copied into a column-major destination: a transpose in memory. */
    enum { R = 5, C = 7 };
    double src[R * C], dst[R * C];
    for (int i = 0; i < R * C; i++) {
        src[i] = i + 0.5;
        dst[i] = -1;
    }
    int64_t shape[2] = {R, C}, colmajor[2] = {1, R};
    hm_tensor s, d;
    CHECK_STATUS(hm_tensor_init(&s, src, hm_device_host(), HM_DTYPE_F64, 2, shape, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_init(&d, dst, hm_device_host(), HM_DTYPE_F64, 2, shape, colmajor),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &s, &d), HM_STATUS_SUCCESS);
    int wrong = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            wrong += dst[j * R + i] != src[i * C + j];
    CHECK_EQ_INT(wrong, 0);

    hm_transfer_totals tot;
    CHECK_STATUS(hm_ledger_totals(ctx, &tot), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H], 1);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2H], R * C * 8);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2D] + tot.copies[HM_TRANSFER_D2H], 0);
    CHECK_EQ_INT(hm_ledger_count(ctx), 1);
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, 0, &r), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(r.sequence, 1);
    CHECK_EQ_INT(r.direction, HM_TRANSFER_H2H);
    CHECK_EQ_INT(r.bytes, R * C * 8);
    CHECK_EQ_INT(r.implicit, 0);
    CHECK(strcmp(r.operation, "hm_copy") == 0 && strcmp(r.operand, "src") == 0);
    CHECK(r.seconds >= 0);
    CHECK_STATUS(hm_ledger_record(ctx, 1, &r), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(callbacks, 1);
    CHECK_EQ_INT(callback_bytes, R * C * 8);
    CHECK_CONTAINS(log.text, "transfer #1 h2h src: host -> host, 280 B in");
    CHECK_CONTAINS(log.text, "[hm_copy, explicit]");

    /* Strided source: every other element of a row into a contiguous vector. */
    double half[4];
    int64_t four = 4, two = 2;
    hm_tensor every_other, contiguous;
    hm_tensor_init(&every_other, src, hm_device_host(), HM_DTYPE_F64, 1, &four, &two);
    hm_tensor_init(&contiguous, half, hm_device_host(), HM_DTYPE_F64, 1, &four, NULL);
    CHECK_STATUS(hm_copy(ctx, &every_other, &contiguous), HM_STATUS_SUCCESS);
    CHECK(half[0] == 0.5 && half[1] == 2.5 && half[2] == 4.5 && half[3] == 6.5);
    CHECK_STATUS(hm_ledger_totals(ctx, &tot), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H], 2);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2H], R * C * 8 + 32);

    /* Reset: counts start again, sequence numbers keep going. */
    hm_ledger_reset(ctx);
    CHECK_EQ_INT(hm_ledger_count(ctx), 0);
    CHECK_STATUS(hm_ledger_totals(ctx, &tot), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H], 0);
    CHECK_STATUS(hm_copy(ctx, &every_other, &contiguous), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_ledger_record(ctx, 0, &r), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(r.sequence, 3);

    /* Refusals: nothing is written, nothing recorded. */
    hm_ledger_reset(ctx);
    for (int i = 0; i < R * C; i++)
        dst[i] = -1;
    hm_tensor wrong_dtype = d;
    wrong_dtype.dtype = HM_DTYPE_C64;
    CHECK_STATUS(hm_copy(ctx, &s, &wrong_dtype), HM_STATUS_DTYPE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_copy: operand src is f64 but dst is c64");
    hm_tensor wrong_shape = d;
    wrong_shape.shape[1] = 6;
    CHECK_STATUS(hm_copy(ctx, &s, &wrong_shape), HM_STATUS_SHAPE_MISMATCH);
    hm_tensor overlapping = s;
    overlapping.data = src + 1;
    overlapping.shape[1] = 6;
    hm_tensor s6 = s;
    s6.shape[1] = 6;
    CHECK_STATUS(hm_copy(ctx, &s6, &overlapping), HM_STATUS_ALIASING);
    CHECK_STATUS(hm_copy(ctx, &s, &s), HM_STATUS_SUCCESS); /* the same view: nothing to do */
    /* the same view described twice, whatever lies beyond ndim and in an extent-1 stride */
    hm_tensor again = s;
    for (int i = again.ndim; i < HM_MAX_NDIM; i++)
        again.shape[i] = again.strides[i] = 12345 + i;
    CHECK_STATUS(hm_copy(ctx, &s, &again), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, NULL, &d), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_copy: operand src is NULL");
    CHECK_STATUS(hm_copy(NULL, &s, &d), HM_STATUS_INVALID_ARGUMENT);
    hm_tensor bad_dst = d;
    bad_dst.strides[1] = 0;
    CHECK_STATUS(hm_copy(ctx, &s, &bad_dst), HM_STATUS_INVALID_LAYOUT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_copy: operand dst is invalid");
    int untouched = 0;
    for (int i = 0; i < R * C; i++)
        untouched += dst[i] == -1;
    CHECK_EQ_INT(untouched, R * C);
    CHECK_STATUS(hm_ledger_totals(ctx, &tot), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H], 0);

    /* The guard: settings per direction, unknown values refused. */
    CHECK_EQ_INT(hm_transfer_guard(ctx, HM_TRANSFER_H2D), HM_GUARD_ALLOW);
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_H2D, HM_GUARD_ERROR), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_transfer_guard(ctx, HM_TRANSFER_H2D), HM_GUARD_ERROR);
    CHECK_EQ_INT(hm_transfer_guard(ctx, HM_TRANSFER_D2H), HM_GUARD_ALLOW);
    CHECK_STATUS(hm_transfer_set_guard(ctx, (hm_transfer_direction)5, HM_GUARD_LOG),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_D2H, (hm_guard_mode)3),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(hm_transfer_direction_name(HM_TRANSFER_D2D), "d2d") == 0);
    /* An explicit copy is never refused by the guard. */
    CHECK_STATUS(hm_transfer_set_guard(ctx, HM_TRANSFER_H2H, HM_GUARD_ERROR), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &s, &d), HM_STATUS_SUCCESS);

    /* Without a device, pinned and cuda memory cannot be had. */
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    if (ndev == 0) {
        hm_tensor p;
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_F32, 2, shape, &p),
                     HM_STATUS_CUDA_UNAVAILABLE);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F32, 2, shape, &p),
                     HM_STATUS_CUDA_UNAVAILABLE);
    }
    CHECK_STATUS(hm_ledger_set_callback(ctx, NULL, NULL), HM_STATUS_SUCCESS);
    hm_context_destroy(ctx);
}

/* Transposes on the host (tiles over the worker threads): 2-, 4-, 8- and 16-byte elements,
 * extents no multiple of the tile, a batch axis, and one large enough for several threads; each
 * byte-exact against the element-wise walk of the test itself. */
static void host_transposes(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    const hm_dtype dtypes[] = {HM_DTYPE_F16, HM_DTYPE_F32, HM_DTYPE_F64, HM_DTYPE_C128};
    const int64_t shapes[][3] = {{1, 67, 33}, {3, 45, 100}, {4, 512, 600}};
    for (size_t t = 0; t < sizeof dtypes / sizeof dtypes[0]; t++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            const int64_t *sh = shapes[k];
            size_t es = hm_dtype_size(dtypes[t]);
            hm_tensor src, dst;
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dtypes[t], 3, sh, &src),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dtypes[t], 3, sh, &dst),
                         HM_STATUS_SUCCESS);
            unsigned char *b = src.data;
            for (size_t i = 0; i < hm_tensor_nbytes(&src); i++)
                b[i] = (unsigned char)(i * 131u + 7u);
            hm_tensor view = dst; /* the last two axes swapped in memory */
            view.strides[1] = 1;
            view.strides[2] = sh[1];
            CHECK_STATUS(hm_copy(ctx, &src, &view), HM_STATUS_SUCCESS);
            long wrong = 0;
            for (int64_t i = 0; i < sh[0]; i++)
                for (int64_t j = 0; j < sh[1]; j++)
                    for (int64_t l = 0; l < sh[2]; l++) {
                        int64_t from = (i * sh[1] + j) * sh[2] + l;
                        int64_t to = i * sh[1] * sh[2] + j + l * sh[1];
                        wrong += memcmp((char *)dst.data + to * (int64_t)es,
                                        (char *)src.data + from * (int64_t)es, es) != 0;
                    }
            CHECK_EQ_INT(wrong, 0);
            hm_tensor_free(ctx, &src);
            hm_tensor_free(ctx, &dst);
        }
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(host_copies_and_ledger),
    HM_TEST_CASE(host_transposes),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_transfer_host", test_cases,
                        (int)HM_ARRAY_LEN(test_cases));
}
