/* DLPack round trip: devices and dtypes map one to one, strides and byte_offset are honoured. */
#include <dlpack/dlpack.h>

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

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(dlpack_bridge),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_dlpack", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
