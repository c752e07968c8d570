/* DLPack round trip: devices and dtypes map one to one, strides and byte_offset are honoured;
 * DLPack 1.0 managed tensors in and out: versions, the read-only flag, the deleter and who owns
 * what (a transferred allocation freed by the consumer's deleter, exactly once: the sanitizers
 * see a leak or a double free), views used by an operation without a copy. */
#include <complex.h>
#include <dlpack/dlpack.h>
#include <math.h>

#include "check.h"
#include "hetmath/dlpack.h"

static void dlpack_bridge(void)
{
    float buf[64];
    int64_t shape[3] = {2, 3, 4}, strides[3] = {1, 2, 6};
    DLTensor dl;
    memset(&dl, 0, sizeof dl);
    dl.data = buf;
    dl.byte_offset = 8;
    dl.device.device_type = kDLCPU;
    dl.ndim = 3;
    dl.dtype.code = kDLFloat;
    dl.dtype.bits = 32;
    dl.dtype.lanes = 1;
    dl.shape = shape;
    dl.strides = strides;
    hm_tensor t;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_SUCCESS);
    CHECK(t.data == (void *)(buf + 2));
    CHECK(t.device.type == HM_DEVICE_HOST && t.dtype == HM_DTYPE_F32 && t.ndim == 3);
    CHECK(t.strides[2] == 6 && t.shape[1] == 3);

    static const struct {
        uint8_t code, bits;
        hm_dtype dtype;
    } dtypes[] = {{kDLFloat, 16, HM_DTYPE_F16},
                  {kDLBfloat, 16, HM_DTYPE_BF16},
                  {kDLFloat, 64, HM_DTYPE_F64},
                  {kDLComplex, 64, HM_DTYPE_C64},
                  {kDLComplex, 128, HM_DTYPE_C128}};
    static const struct {
        DLDeviceType dl;
        int id;
        hm_device_type hm;
    } devices[] = {{kDLCPU, 0, HM_DEVICE_HOST},
                   {kDLCUDA, 3, HM_DEVICE_CUDA},
                   {kDLCUDAHost, 0, HM_DEVICE_CUDA_HOST}};
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        for (size_t j = 0; j < sizeof devices / sizeof devices[0]; j++) {
            dl.dtype.code = dtypes[i].code;
            dl.dtype.bits = dtypes[i].bits;
            dl.device.device_type = devices[j].dl;
            dl.device.device_id = devices[j].id;
            CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_SUCCESS);
            CHECK(t.dtype == dtypes[i].dtype && t.device.type == devices[j].hm);
            CHECK_EQ_INT(t.device.id, devices[j].id);
            DLTensor back;
            CHECK_STATUS(hm_tensor_to_dlpack(&t, &back), HM_STATUS_SUCCESS);
            CHECK(back.dtype.code == dtypes[i].code && back.dtype.bits == dtypes[i].bits);
            CHECK(back.device.device_type == devices[j].dl);
            CHECK_EQ_INT(back.device.device_id, devices[j].id);
            CHECK(back.ndim == 3 && back.shape[2] == 4 && back.strides[1] == 2);
            CHECK(back.data == t.data && back.byte_offset == 0);
        }
    }
    /* NULL strides mean row-major. */
    dl.strides = NULL;
    dl.dtype.code = kDLFloat;
    dl.dtype.bits = 32;
    dl.device.device_type = kDLCPU;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_SUCCESS);
    CHECK(t.strides[0] == 12 && t.strides[1] == 4 && t.strides[2] == 1);
    /* Refusals. */
    dl.dtype.lanes = 2;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_INVALID_DTYPE);
    dl.dtype.lanes = 1;
    dl.dtype.code = kDLInt;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_INVALID_DTYPE);
    dl.dtype.code = kDLFloat;
    dl.device.device_type = kDLVulkan;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_NOT_SUPPORTED);
    dl.device.device_type = kDLCPU;
    dl.ndim = 9;
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    dl.shape = nine;
    CHECK_STATUS(hm_tensor_from_dlpack(&dl, &t), HM_STATUS_INVALID_SHAPE);
    CHECK_STATUS(hm_tensor_from_dlpack(NULL, &t), HM_STATUS_INVALID_ARGUMENT);
    t.dtype = (hm_dtype)0;
    CHECK_STATUS(hm_tensor_to_dlpack(&t, &dl), HM_STATUS_INVALID_DTYPE);
}

static int deleted;

static void count_delete(struct DLManagedTensorVersioned *self)
{
    (void)self;
    deleted++;
}

static void dlpack_versioned(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_WARN);
    /* a producer's 1.0 tensor: a view of its memory, its deleter left to the caller */
    float complex x[4 * 8], y[4 * 8];
    int64_t shape[2] = {4, 8};
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i % 5) - 2.0f + (float)(i % 3) * I;
    struct DLManagedTensorVersioned m;
    memset(&m, 0, sizeof m);
    m.version.major = 1;
    m.version.minor = 1;
    m.deleter = count_delete;
    m.flags = DLPACK_FLAG_BITMASK_READ_ONLY;
    m.dl_tensor.data = x;
    m.dl_tensor.device.device_type = kDLCPU;
    m.dl_tensor.ndim = 2;
    m.dl_tensor.dtype.code = kDLComplex;
    m.dl_tensor.dtype.bits = 64;
    m.dl_tensor.dtype.lanes = 1;
    m.dl_tensor.shape = shape;
    hm_tensor tx, ty;
    int read_only = -1;
    CHECK_STATUS(hm_tensor_from_dlpack_versioned(&m, &tx, &read_only), HM_STATUS_SUCCESS);
    CHECK(read_only == 1 && tx.data == (void *)x && tx.dtype == HM_DTYPE_C64);
    CHECK_EQ_INT(deleted, 0);
    /* the view as an operation's input, read in place: y against the DFT of x's rows */
    hm_tensor_init(&ty, y, hm_device_host(), HM_DTYPE_C64, 2, shape, NULL);
    hm_fft_options o;
    hm_fft_options_init(&o);
    o.num_axes = 1;
    o.axes[0] = 1;
    CHECK_STATUS(hm_fft(ctx, &tx, &ty, &o), HM_STATUS_SUCCESS);
    double worst = 0;
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 8; k++) {
            double complex s = 0;
            for (int t = 0; t < 8; t++)
                s += x[r * 8 + t] * cexp(-2 * M_PI * I * k * t / 8.0);
            worst = fmax(worst, cabs(s - y[r * 8 + k]));
        }
    CHECK(worst < 1e-5);
    m.deleter(&m);
    CHECK_EQ_INT(deleted, 1);
    m.version.major = 2; /* another ABI */
    CHECK_STATUS(hm_tensor_from_dlpack_versioned(&m, &tx, NULL), HM_STATUS_NOT_SUPPORTED);
    CHECK_STATUS(hm_tensor_from_dlpack_versioned(NULL, &tx, NULL), HM_STATUS_INVALID_ARGUMENT);

    /* out, the allocation handed over: the consumer's deleter frees it (once) */
    hm_tensor t;
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F64, 2, shape, &t),
                 HM_STATUS_SUCCESS);
    ((double *)t.data)[5] = 42.0;
    struct DLManagedTensorVersioned *out = NULL;
    CHECK_STATUS(hm_tensor_to_dlpack_versioned(
                     ctx, &t, HM_DLPACK_TRANSFER_OWNERSHIP | HM_DLPACK_READ_ONLY, &out),
                 HM_STATUS_SUCCESS);
    CHECK(out && out->version.major == 1 && out->version.minor == 0);
    CHECK(out->flags == DLPACK_FLAG_BITMASK_READ_ONLY && out->deleter);
    t.shape[0] = 99; /* the export has its own shape */
    CHECK(out->dl_tensor.shape[0] == 4 && out->dl_tensor.strides[1] == 1);
    hm_tensor back;
    CHECK_STATUS(hm_tensor_from_dlpack_versioned(out, &back, &read_only), HM_STATUS_SUCCESS);
    CHECK(back.data == t.data && read_only == 1 && back.dtype == HM_DTYPE_F64);
    CHECK(((double *)back.data)[5] == 42.0);
    out->deleter(out); /* frees the data too; t is not freed again */

    /* out, the data kept: the deleter frees only the managed tensor */
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 2, shape, &t),
                 HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_to_dlpack_versioned(NULL, &t, 0, &out), HM_STATUS_SUCCESS);
    CHECK(out->flags == 0 && out->dl_tensor.data == t.data);
    CHECK_STATUS(hm_tensor_from_dlpack_versioned(out, &back, &read_only), HM_STATUS_SUCCESS);
    CHECK(read_only == 0);
    out->deleter(out);
    hm_tensor_free(ctx, &t);

    CHECK_STATUS(hm_tensor_to_dlpack_versioned(NULL, &t, HM_DLPACK_TRANSFER_OWNERSHIP, &out),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_tensor_to_dlpack_versioned(ctx, &t, 8, &out), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_tensor_to_dlpack_versioned(ctx, NULL, 0, &out), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(dlpack_bridge),
    HM_TEST_CASE(dlpack_versioned),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_dlpack", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
