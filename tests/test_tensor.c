/* Tensor views: shape, stride and byte-size validation from a table of cases; allocation;
 * pointer checks that need no GPU. */
#include <stdint.h>

#include "check.h"

typedef struct {
    const char *what;
    hm_dtype dtype;
    int ndim;
    int64_t shape[HM_MAX_NDIM + 1];
    int64_t strides[HM_MAX_NDIM + 1]; /* all zero: row-major */
    hm_status expect;
    int contiguous;
} init_case;

static const init_case cases[] = {
    {"scalar", HM_DTYPE_F32, 0, {0}, {0}, HM_STATUS_SUCCESS, 1},
    {"row-major 2x3", HM_DTYPE_F32, 2, {2, 3}, {0}, HM_STATUS_SUCCESS, 1},
    {"column-major 2x3", HM_DTYPE_F64, 2, {2, 3}, {1, 2}, HM_STATUS_SUCCESS, 0},
    {"padded rows", HM_DTYPE_C64, 2, {4, 3}, {8, 1}, HM_STATUS_SUCCESS, 0},
    {"every other element", HM_DTYPE_F16, 1, {5}, {2}, HM_STATUS_SUCCESS, 0},
    {"batched transposed", HM_DTYPE_BF16, 3, {2, 3, 4}, {12, 1, 3}, HM_STATUS_SUCCESS, 0},
    {"extent-1 dims ignore strides", HM_DTYPE_F32, 3, {1, 3, 1}, {99, 1, 7}, HM_STATUS_SUCCESS, 1},
    {"empty", HM_DTYPE_C128, 2, {0, 5}, {0}, HM_STATUS_SUCCESS, 1},
    {"8 dims", HM_DTYPE_F32, 8, {2, 2, 2, 2, 2, 2, 2, 2}, {0}, HM_STATUS_SUCCESS, 1},
    {"9 dims", HM_DTYPE_F32, 9, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {0}, HM_STATUS_INVALID_SHAPE, 0},
    {"negative ndim", HM_DTYPE_F32, -1, {0}, {0}, HM_STATUS_INVALID_SHAPE, 0},
    {"negative extent", HM_DTYPE_F32, 2, {3, -1}, {0}, HM_STATUS_INVALID_SHAPE, 0},
    {"negative stride", HM_DTYPE_F32, 1, {3}, {-1}, HM_STATUS_INVALID_LAYOUT, 0},
    {"zero stride broadcast", HM_DTYPE_F32, 2, {3, 4}, {0, 1}, HM_STATUS_INVALID_LAYOUT, 0},
    {"rows overlap", HM_DTYPE_F32, 2, {3, 4}, {2, 1}, HM_STATUS_INVALID_LAYOUT, 0},
    {"same stride twice", HM_DTYPE_F64, 2, {2, 2}, {1, 1}, HM_STATUS_INVALID_LAYOUT, 0},
    {"bad dtype 0", (hm_dtype)0, 1, {3}, {0}, HM_STATUS_INVALID_DTYPE, 0},
    {"bad dtype 7", (hm_dtype)7, 1, {3}, {0}, HM_STATUS_INVALID_DTYPE, 0},
    {"elements overflow", HM_DTYPE_F32, 2, {INT64_MAX / 2, 4}, {0}, HM_STATUS_SIZE_OVERFLOW, 0},
    {"bytes overflow", HM_DTYPE_C128, 1, {INT64_MAX / 8}, {0}, HM_STATUS_SIZE_OVERFLOW, 0},
    {"stride overflow", HM_DTYPE_F32, 2, {4, 4}, {INT64_MAX / 2, 1}, HM_STATUS_SIZE_OVERFLOW, 0},
};

static void views_and_allocation(void)
{
    static float buf[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const init_case *c = &cases[i];
        int zero = 1;
        for (int k = 0; k < HM_MAX_NDIM + 1; k++)
            zero &= c->strides[k] == 0;
        hm_tensor t;
        memset(&t, 0xab, sizeof t);
        hm_status st = hm_tensor_init(&t, buf, hm_device_host(), c->dtype, c->ndim, c->shape,
                                      (zero || c->ndim == 0) ? NULL : c->strides);
        if (st != c->expect)
            fprintf(stderr, "case '%s'\n", c->what);
        CHECK_STATUS(st, c->expect);
        if (st == HM_STATUS_SUCCESS && c->expect == HM_STATUS_SUCCESS) {
            if (hm_tensor_is_contiguous(&t) != c->contiguous)
                fprintf(stderr, "case '%s'\n", c->what);
            CHECK_EQ_INT(hm_tensor_is_contiguous(&t), c->contiguous);
        }
    }
    hm_tensor t;
    int64_t shape[2] = {3, 4};
    CHECK_STATUS(hm_tensor_init(NULL, buf, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_tensor_init(&t, buf, hm_device_host(), HM_DTYPE_F32, 2, NULL, NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_tensor_init(&t, buf, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL),
                 HM_STATUS_SUCCESS);
    CHECK_EQ_INT(t.strides[0], 4);
    CHECK_EQ_INT(t.strides[1], 1);
    CHECK_EQ_INT(hm_tensor_numel(&t), 12);
    CHECK_EQ_INT(hm_tensor_nbytes(&t), 48);
    CHECK_EQ_INT(hm_dtype_size(HM_DTYPE_C128), 16);
    CHECK_EQ_INT(hm_dtype_size((hm_dtype)42), 0);
    CHECK(strcmp(hm_dtype_name(HM_DTYPE_BF16), "bf16") == 0);
    CHECK(strcmp(hm_dtype_name((hm_dtype)42), "unknown") == 0);
    char name[32];
    CHECK(strcmp(hm_device_format(hm_device_cuda(3), name, sizeof name), "cuda:3") == 0);
    CHECK(strcmp(hm_device_format(hm_device_pinned(), name, sizeof name), "pinned") == 0);

    /* hm_tensor_check: pointer-level checks that hold on any machine. */
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    CHECK_STATUS(hm_tensor_check(ctx, &t), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_check(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_tensor_check(NULL, &t), HM_STATUS_INVALID_ARGUMENT);
    hm_tensor bad = t;
    bad.data = NULL;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_tensor_check: operand t has NULL data");
    bad = t;
    bad.data = (char *)buf + 1;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_MISALIGNED);
    CHECK_CONTAINS(hm_context_last_error(ctx), "not aligned to 4 bytes for f32");
    bad = t;
    bad.device.type = (hm_device_type)7;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_INVALID_ARGUMENT);
    bad = t;
    bad.device.id = 2;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_INVALID_ARGUMENT);
    bad = t;
    bad.strides[0] = 2;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_INVALID_LAYOUT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "overlap");
    bad = t;
    bad.ndim = 12;
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_INVALID_SHAPE);
    bad = t;
    bad.data = NULL;
    bad.shape[0] = 0; /* empty: no data needed */
    CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_SUCCESS);
    if (ndev == 0) {
        /* Without a device a pinned or cuda space cannot be real. */
        bad = t;
        bad.device = hm_device_cuda(0);
        CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_CUDA_UNAVAILABLE);
        bad.device = hm_device_pinned();
        CHECK_STATUS(hm_tensor_check(ctx, &bad), HM_STATUS_CUDA_UNAVAILABLE);
    }

    /* Allocation in host memory (and pinned/cuda refused without a device). */
    hm_tensor a;
    int64_t big[3] = {5, 7, 9};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_C128, 3, big, &a),
                 HM_STATUS_SUCCESS);
    CHECK(a.data != NULL && ((uintptr_t)a.data % 64) == 0);
    CHECK_EQ_INT(a.strides[0], 63);
    CHECK_STATUS(hm_tensor_check(ctx, &a), HM_STATUS_SUCCESS);
    hm_tensor_free(ctx, &a);
    CHECK(a.data == NULL);
    hm_tensor_free(ctx, &a); /* twice: a no-op */
    hm_tensor_free(ctx, NULL);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, shape, NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    int64_t neg[1] = {-4};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 1, neg, &a),
                 HM_STATUS_INVALID_SHAPE);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_tensor_alloc");
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_cuda(ndev), HM_DTYPE_F32, 2, shape, &a),
                 ndev == 0 ? HM_STATUS_CUDA_UNAVAILABLE : HM_STATUS_DEVICE_NOT_FOUND);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), (hm_dtype)9, 2, shape, &a),
                 HM_STATUS_INVALID_DTYPE);
    int64_t huge[2] = {INT64_MAX / 4, INT64_MAX / 4};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, huge, &a),
                 HM_STATUS_SIZE_OVERFLOW);
    int64_t too_much[1] = {(int64_t)1 << 60};
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 1, too_much, &a),
                 HM_STATUS_OUT_OF_HOST_MEMORY);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(views_and_allocation),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_tensor", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
