/* The transfer layer on a GPU: exact ledger figures for round trips, strided views packed and
 * unpacked on either side, pinned memory, device-to-device copies, and pointers declared in the
 * wrong space. Skipped (77) without a device. */
#include "check.h"

static void fill(double *p, int64_t n, double base)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = base + (double)i;
}

static void copies_across_spaces(void)
{
    static hm_test_log log;
    hm_context *ctx = hm_test_context(&log, HM_LOG_INFO);
    hm_test_require_cuda(ctx, "test_transfer_cuda");
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);

    /* Round trip of N bytes: exactly one h2d and one d2h record of N bytes each. */
    enum { R = 1024, C = 1024 + 3 };
    const int64_t n = (int64_t)R * C;
    int64_t shape[2] = {R, C};
    hm_tensor h, back, dev;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, 2, shape, &h),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, 2, shape, &back),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F64, 2, shape, &dev),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_check(ctx, &dev), HM_STATUS_SUCCESS);
    fill(h.data, n, 0.25);
    fill(back.data, n, -1e9);
    CHECK_STATUS(hm_copy(ctx, &h, &dev), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &dev, &back), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, back.data, (size_t)n * 8) == 0);
    hm_transfer_totals tot;
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2D], 1);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_D2H], 1);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], n * 8);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2H], n * 8);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H] + tot.copies[HM_TRANSFER_D2D], 0);
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, 0, &r), HM_STATUS_SUCCESS);
    CHECK(r.direction == HM_TRANSFER_H2D && r.src.type == HM_DEVICE_HOST && r.src_pinned == 0);
    CHECK(r.dst.type == HM_DEVICE_CUDA && r.dst.id == 0 && r.seconds > 0 && r.gbps > 0);
    CHECK_CONTAINS(log.text, "h2d src: host -> cuda:0");

    /* Strided: host row-major -> device column-major (unpacked on the GPU), then device
     * column-major -> host row-major (packed on the GPU). */
    hm_ledger_reset(ctx);
    int64_t colmajor[2] = {1, R};
    hm_tensor dev_cm = dev;
    dev_cm.strides[0] = colmajor[0];
    dev_cm.strides[1] = colmajor[1];
    fill(back.data, n, -1e9);
    CHECK_STATUS(hm_copy(ctx, &h, &dev_cm), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &dev_cm, &back), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, back.data, (size_t)n * 8) == 0);
    /* and the device really holds the transpose: read it raw */
    hm_tensor raw_dev = dev, raw_back = back;
    raw_dev.shape[0] = C;
    raw_dev.shape[1] = R;
    raw_back.shape[0] = C;
    raw_back.shape[1] = R;
    raw_dev.strides[0] = R;
    raw_dev.strides[1] = 1;
    raw_back.strides[0] = R;
    raw_back.strides[1] = 1;
    CHECK_STATUS(hm_copy(ctx, &raw_dev, &raw_back), HM_STATUS_SUCCESS);
    const double *hb = h.data, *bb = back.data;
    int wrong = 0;
    for (int i = 0; i < R; i += 37)
        for (int j = 0; j < C; j += 11)
            wrong += bb[(int64_t)j * R + i] != hb[(int64_t)i * C + j];
    CHECK_EQ_INT(wrong, 0);
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2D], 1);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_D2H], 2);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_H2D], n * 8);
    hm_ledger_record(ctx, 0, &r);
    CHECK_EQ_INT(r.path, HM_PATH_PACKED);

    /* Strided on both sides: a host sub-block into a device sub-block. */
    int64_t sub[2] = {100, 200};
    hm_tensor hsub = h, dsub = dev, bsub = back;
    hsub.shape[0] = dsub.shape[0] = bsub.shape[0] = sub[0];
    hsub.shape[1] = dsub.shape[1] = bsub.shape[1] = sub[1];
    hsub.data = (double *)h.data + 5 * C + 7;
    dsub.data = (double *)dev.data + 3;
    dsub.strides[0] = 1;
    dsub.strides[1] = 128; /* column-major with padding */
    fill(back.data, n, -1e9);
    CHECK_STATUS(hm_copy(ctx, &hsub, &dsub), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &dsub, &bsub), HM_STATUS_SUCCESS);
    wrong = 0;
    for (int i = 0; i < sub[0]; i++)
        for (int j = 0; j < sub[1]; j++)
            wrong += ((double *)back.data)[i * C + j] != ((double *)h.data)[(i + 5) * C + j + 7];
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(((double *)back.data)[C + sub[1]], -1e9 + C + sub[1]); /* outside: untouched */

    /* Device to device on one GPU, with a transpose: d2d, done by a kernel. */
    hm_ledger_reset(ctx);
    hm_tensor dev2;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F64, 2, shape, &dev2),
                 HM_STATUS_SUCCESS);
    hm_tensor dev2_cm = dev2;
    dev2_cm.strides[0] = 1;
    dev2_cm.strides[1] = R;
    CHECK_STATUS(hm_copy(ctx, &h, &dev), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_copy(ctx, &dev, &dev2_cm), HM_STATUS_SUCCESS);
    fill(back.data, n, -1e9);
    CHECK_STATUS(hm_copy(ctx, &dev2_cm, &back), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, back.data, (size_t)n * 8) == 0);
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_D2D], 1);
    CHECK_EQ_INT(tot.bytes[HM_TRANSFER_D2D], n * 8);

    /* Pinned memory: recognised as pinned in the record. */
    hm_tensor pin;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_pinned(), HM_DTYPE_F64, 2, shape, &pin),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_check(ctx, &pin), HM_STATUS_SUCCESS);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_copy(ctx, &dev, &pin), HM_STATUS_SUCCESS);
    CHECK(memcmp(h.data, pin.data, (size_t)n * 8) == 0);
    hm_ledger_record(ctx, 0, &r);
    CHECK(r.direction == HM_TRANSFER_D2H && r.dst_pinned == 1 && r.dst.type == HM_DEVICE_CUDA_HOST);
    CHECK_STATUS(hm_copy(ctx, &pin, &back), HM_STATUS_SUCCESS); /* pinned -> pageable: h2h */
    hm_ledger_totals(ctx, &tot);
    CHECK_EQ_INT(tot.copies[HM_TRANSFER_H2H], 1);

    /* Pointers declared in the wrong space are refused, naming the operand. */
    hm_tensor lie = dev;
    lie.device = hm_device_host();
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_SPACE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "declared host but its pointer is memory of cuda:0");
    CHECK_STATUS(hm_copy(ctx, &lie, &back), HM_STATUS_SPACE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_copy: operand src");
    lie = h;
    lie.device = hm_device_cuda(0);
    CHECK_STATUS(hm_copy(ctx, &back, &lie), HM_STATUS_SPACE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx),
                   "operand dst is declared cuda:0 but its pointer is host");
    lie = h;
    lie.device = hm_device_pinned();
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_SPACE_MISMATCH);
    CHECK_CONTAINS(hm_context_last_error(ctx), "declared pinned but its pointer is pageable");
    lie = dev;
    lie.device = hm_device_pinned();
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_SPACE_MISMATCH);
    lie = pin;
    lie.device = hm_device_cuda(0);
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_SPACE_MISMATCH);
    lie = dev;
    lie.device = hm_device_cuda(ndev);
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_DEVICE_NOT_FOUND);
    /* pinned memory declared as plain host is fine: it is host memory */
    lie = pin;
    lie.device = hm_device_host();
    CHECK_STATUS(hm_tensor_check(ctx, &lie), HM_STATUS_SUCCESS);

    /* Staged copies of pageable memory: odd sizes that do not divide into chunks, byte-exact,
     * ledgered as staged with their chunk count; pinned memory goes direct. */
    static const int64_t sizes[] = {((int64_t)4 << 20) + 3, ((int64_t)100 << 20) + 13};
    for (size_t si = 0; si < 2; si++) {
        int64_t nb = sizes[si];
        hm_tensor hs, hd, ds;
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F16, 1, &nb, &hs),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F16, 1, &nb, &hd),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F16, 1, &nb, &ds),
                     HM_STATUS_SUCCESS);
        unsigned char *p = hs.data;
        for (int64_t i = 0; i < nb * 2; i++)
            p[i] = (unsigned char)(i * 7 + (i >> 20));
        memset(hd.data, 0, (size_t)nb * 2);
        hm_ledger_reset(ctx);
        CHECK_STATUS(hm_copy(ctx, &hs, &ds), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(ctx, &ds, &hd), HM_STATUS_SUCCESS);
        CHECK(memcmp(hs.data, hd.data, (size_t)nb * 2) == 0);
        /* chunks of an eighth of the copy rounded up to a MiB, 4 MiB to the 32 MiB buffers:
         * 4 MiB (3 chunks) and 26 MiB (8 chunks) here */
        size_t mib = (size_t)1 << 20, len = ((size_t)nb * 2 / 8 + mib - 1) / mib * mib;
        len = len < 4 * mib ? 4 * mib : (len > 32 * mib ? 32 * mib : len);
        int chunks = (int)(((size_t)nb * 2 + len - 1) / len);
        CHECK_EQ_INT(chunks, si == 0 ? 3 : 8);
        for (size_t k = 0; k < 2; k++) {
            CHECK_STATUS(hm_ledger_record(ctx, k, &r), HM_STATUS_SUCCESS);
            CHECK_EQ_INT(r.path, HM_PATH_STAGED);
            CHECK_EQ_INT(r.chunks, chunks);
            CHECK_EQ_INT(r.bytes, nb * 2);
        }
        hm_tensor_free(ctx, &ds);
        hm_tensor_free(ctx, &hd);
        hm_tensor_free(ctx, &hs);
    }
    CHECK_EQ_INT(hm_context_pinned_pool_held(ctx), (size_t)128 << 20);
    hm_ledger_reset(ctx);
    CHECK_STATUS(hm_copy(ctx, &pin, &dev), HM_STATUS_SUCCESS);
    hm_ledger_record(ctx, 0, &r);
    CHECK_EQ_INT(r.path, HM_PATH_DIRECT);

    /* Many staged copies reuse the pool: it never grows past its bound. */
    int reps = getenv("HETMATH_TEST_QUICK") ? 200 : 10000;
    int64_t n4 = (int64_t)2 << 20; /* 4 MiB of f16: the smallest staged copy */
    hm_tensor h4, d4;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F16, 1, &n4, &h4),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), HM_DTYPE_F16, 1, &n4, &d4),
                 HM_STATUS_SUCCESS);
    memset(h4.data, 1, (size_t)n4 * 2);
    hm_status rep_st = HM_STATUS_SUCCESS;
    for (int i = 0; i < reps && rep_st == HM_STATUS_SUCCESS; i++)
        rep_st = hm_copy(ctx, (i & 1) ? &d4 : &h4, (i & 1) ? &h4 : &d4);
    CHECK_STATUS(rep_st, HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_context_pinned_pool_held(ctx), (size_t)128 << 20);
    hm_tensor_free(ctx, &d4);
    hm_tensor_free(ctx, &h4);

    /* A context with a small pool (1 MiB): one buffer, chunks of 1 MiB, still exact. */
    {
        hm_context_options o;
        hm_context_options_init(&o);
        o.pinned_pool_bytes = (size_t)1 << 20;
        o.log_level = HM_LOG_OFF;
        hm_context *small = NULL;
        CHECK_STATUS(hm_context_create(&o, &small), HM_STATUS_SUCCESS);
        int64_t nb = ((int64_t)5 << 20) + 1;
        hm_tensor hs, hd, ds;
        CHECK_STATUS(hm_tensor_alloc(small, hm_device_host(), HM_DTYPE_F16, 1, &nb, &hs),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(small, hm_device_host(), HM_DTYPE_F16, 1, &nb, &hd),
                     HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_tensor_alloc(small, hm_device_cuda(0), HM_DTYPE_F16, 1, &nb, &ds),
                     HM_STATUS_SUCCESS);
        for (int64_t i = 0; i < nb * 2; i++)
            ((unsigned char *)hs.data)[i] = (unsigned char)(i * 13);
        CHECK_STATUS(hm_copy(small, &hs, &ds), HM_STATUS_SUCCESS);
        CHECK_STATUS(hm_copy(small, &ds, &hd), HM_STATUS_SUCCESS);
        CHECK(memcmp(hs.data, hd.data, (size_t)nb * 2) == 0);
        hm_ledger_record(small, 1, &r);
        CHECK_EQ_INT(r.chunks, 11);
        CHECK_EQ_INT(hm_context_pinned_pool_held(small), (size_t)1 << 20);
        hm_tensor_free(small, &ds);
        hm_tensor_free(small, &hd);
        hm_tensor_free(small, &hs);
        hm_context_destroy(small);
    }

    hm_device_info info;
    CHECK_STATUS(hm_context_device_info(ctx, 0, &info), HM_STATUS_SUCCESS);
    printf("device 0: %s, %.1f GiB, sm_%d%d, %d SMs, PCIe gen %d x%d\n", info.name,
           (double)info.total_memory / (1 << 30), info.compute_major, info.compute_minor,
           info.multiprocessors, info.pcie_generation, info.pcie_width);

    hm_tensor_free(ctx, &pin);
    hm_tensor_free(ctx, &dev2);
    hm_tensor_free(ctx, &dev);
    hm_tensor_free(ctx, &back);
    hm_tensor_free(ctx, &h);
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS);
    hm_context_destroy(ctx);
}

/* Transposes on a device (the tiled kernel: a source-contiguous axis and another,
 * destination-contiguous one), for 4-, 8- and 16-byte elements, extents that are no multiple of
 * the tile, and a batch axis: the device's result byte-exact against the host's strided copy. */
static void transposes_on_device(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    hm_test_require_cuda(ctx, "test_transfer_cuda");
    const hm_dtype dtypes[] = {HM_DTYPE_F32, HM_DTYPE_F64, HM_DTYPE_C128};
    const int64_t shapes[][3] = {{1, 67, 33}, {3, 45, 100}, {1, 1024, 1}};
    for (size_t t = 0; t < HM_ARRAY_LEN(dtypes); t++)
        for (size_t k = 0; k < HM_ARRAY_LEN(shapes); k++) {
            const int64_t *sh = shapes[k];
            int64_t n = sh[0] * sh[1] * sh[2];
            size_t bytes = (size_t)n * hm_dtype_size(dtypes[t]);
            hm_tensor h, hd, hh, d0, d1;
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dtypes[t], 3, sh, &h),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dtypes[t], 3, sh, &hd),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), dtypes[t], 3, sh, &hh),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), dtypes[t], 3, sh, &d0),
                         HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(0), dtypes[t], 3, sh, &d1),
                         HM_STATUS_SUCCESS);
            unsigned char *b = h.data;
            for (size_t i = 0; i < bytes; i++)
                b[i] = (unsigned char)(i * 131u + 7u);
            CHECK_STATUS(hm_copy(ctx, &h, &d0), HM_STATUS_SUCCESS);
            /* the last two axes swapped in memory: destination strides [n1*n2, 1, n1] */
            hm_tensor dt = d1, ht = hh;
            dt.strides[1] = ht.strides[1] = 1;
            dt.strides[2] = ht.strides[2] = sh[1];
            CHECK_STATUS(hm_copy(ctx, &d0, &dt), HM_STATUS_SUCCESS);
            CHECK_STATUS(hm_copy(ctx, &h, &ht), HM_STATUS_SUCCESS);  /* the host's version */
            CHECK_STATUS(hm_copy(ctx, &d1, &hd), HM_STATUS_SUCCESS); /* raw device bytes */
            CHECK(memcmp(hd.data, hh.data, bytes) == 0);
            hm_tensor_free(ctx, &h);
            hm_tensor_free(ctx, &hd);
            hm_tensor_free(ctx, &hh);
            hm_tensor_free(ctx, &d0);
            hm_tensor_free(ctx, &d1);
        }
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(copies_across_spaces),
    HM_TEST_CASE(transposes_on_device),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_transfer_cuda", test_cases,
                        (int)HM_ARRAY_LEN(test_cases));
}
