/* The bad-input catalogue: a table of distinct bad inputs across the public API. Each returns
 * its documented status with a message naming the function and the operand (or argument),
 * writes nothing (outputs are poisoned and compared, inputs compared), and leaves the context
 * usable for a following good call. Cases that depend on a GPU list the status for a machine
 * without one and for one with a device. */
#include <stdint.h>

#include "check.h"
#include "hetmath/debug.h"

enum call {
    CALL_COPY,
    CALL_COPY_ON_STREAM,
    CALL_FFT,
    CALL_MATMUL,
    CALL_MATMUL_ADV,
    CALL_CHECK,
    CALL_ALLOC,
    CALL_RESOLVE,
    CALL_FFT_EXECUTE,
    CALL_MATMUL_EXECUTE,
    CALL_SET_LEVEL,
    CALL_SET_GUARD,
    CALL_LEDGER_RECORD,
    CALL_BENCH,
    CALL_DEVICE_INFO,
    CALL_CPU_FFT_OPTIONS,
    CALL_PIPELINE_TIMING,
    CALL_LEDGER_TOTALS,
};

typedef struct fx {
    hm_context *ctx;
    hm_tensor x, y, A, B, C, D, bias, src, dst;
    hm_tensor *px, *py, *pA, *pB, *pC, *pD, *pbias, *psrc, *pdst;
    hm_fft_options fo;
    hm_matmul_options mo;
    hm_execution exec;
    hm_op_class cls;
    hm_device alloc_dev;
    hm_dtype alloc_dtype;
    int alloc_ndim;
    int64_t alloc_shape[HM_MAX_NDIM + 1];
    int level, guard_dir, guard_mode, ledger_index, device_id, null_ctx, null_out, repeat;
    hm_cpu_fft_options co;
    int per_tile;
    hm_fft_plan *fplan;
    hm_matmul_plan *mplan;
} fx;

static float xb[2 * 32], yb[2 * 32], ab[12], bb[20], cb[15], db[15], biasb[5], sb[42], tb[42];
static float xb0[2 * 32], ab0[12], bb0[20], cb0[15], sb0[42];

static void baseline(fx *f, hm_context *ctx)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    int64_t sx[2] = {4, 8}, sa[2] = {3, 4}, sbm[2] = {4, 5}, sd[2] = {3, 5}, s5[1] = {5},
            sc[2] = {6, 7};
    hm_tensor_init(&f->x, xb, hm_device_host(), HM_DTYPE_C64, 2, sx, NULL);
    hm_tensor_init(&f->y, yb, hm_device_host(), HM_DTYPE_C64, 2, sx, NULL);
    hm_tensor_init(&f->A, ab, hm_device_host(), HM_DTYPE_F32, 2, sa, NULL);
    hm_tensor_init(&f->B, bb, hm_device_host(), HM_DTYPE_F32, 2, sbm, NULL);
    hm_tensor_init(&f->C, cb, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_tensor_init(&f->D, db, hm_device_host(), HM_DTYPE_F32, 2, sd, NULL);
    hm_tensor_init(&f->bias, biasb, hm_device_host(), HM_DTYPE_F32, 1, s5, NULL);
    hm_tensor_init(&f->src, sb, hm_device_host(), HM_DTYPE_F32, 2, sc, NULL);
    hm_tensor_init(&f->dst, tb, hm_device_host(), HM_DTYPE_F32, 2, sc, NULL);
    f->px = &f->x;
    f->py = &f->y;
    f->pA = &f->A;
    f->pB = &f->B;
    f->pD = &f->D;
    f->psrc = &f->src;
    f->pdst = &f->dst;
    hm_fft_options_init(&f->fo);
    hm_matmul_options_init(&f->mo);
    f->exec = hm_execution_default();
    f->cls = HM_OP_GENERIC;
    f->alloc_dev = hm_device_host();
    f->alloc_dtype = HM_DTYPE_F32;
    f->alloc_ndim = 2;
    f->alloc_shape[0] = 3;
    f->alloc_shape[1] = 3;
    f->level = HM_LOG_INFO;
    f->guard_dir = HM_TRANSFER_H2D;
    f->guard_mode = HM_GUARD_ERROR;
    f->repeat = 1;
    hm_cpu_fft_options_init(&f->co);
    f->co.wisdom_file = HM_CPU_FFT_NEVER;
}

#define MUT(name, body)                                                                            \
    static void name(fx *f)                                                                        \
    {                                                                                              \
        body;                                                                                      \
    }
MUT(nothing, (void)f)
MUT(null_ctx, f->null_ctx = 1)
MUT(null_x, f->px = NULL)
MUT(null_y, f->py = NULL)
MUT(null_A, f->pA = NULL)
MUT(null_B, f->pB = NULL)
MUT(null_D, f->pD = NULL)
MUT(null_src, f->psrc = NULL)
MUT(null_dst, f->pdst = NULL)
MUT(null_out, f->null_out = 1)
MUT(x_ndim9, f->x.ndim = 9)
MUT(x_ndim_neg, f->x.ndim = -2)
MUT(x_neg_shape, f->x.shape[1] = -8)
MUT(x_overflow, f->x.shape[0] = INT64_MAX / 4)
MUT(x_overlap, f->x.strides[0] = 4)
MUT(x_neg_stride, f->x.strides[1] = -1)
MUT(x_misaligned, f->x.data = (char *)xb + 2)
MUT(x_dtype_99, f->x.dtype = (hm_dtype)99)
MUT(x_dtype_0, f->x.dtype = (hm_dtype)0)
MUT(x_devtype, f->x.device.type = (hm_device_type)9)
MUT(x_host_id, f->x.device.id = 3)
MUT(x_cuda0, f->x.device = hm_device_cuda(0))
MUT(x_cuda9, f->x.device = hm_device_cuda(9))
MUT(x_pinned_lie, f->x.device = hm_device_pinned())
MUT(x_null_data, f->x.data = NULL)
MUT(x_zero_axis, f->x.shape[1] = 0)
MUT(x_real, f->x.dtype = HM_DTYPE_F32)
MUT(fo_axes4, f->fo.num_axes = 4)
MUT(fo_axes_neg, f->fo.num_axes = -1)
MUT(fo_axis_repeat, (f->fo.num_axes = 2, f->fo.axes[0] = 0, f->fo.axes[1] = -2))
MUT(fo_axis_range, (f->fo.num_axes = 1, f->fo.axes[0] = 2))
MUT(fo_type, f->fo.type = (hm_fft_type)7)
MUT(fo_dir, f->fo.direction = (hm_fft_direction)3)
MUT(fo_norm, f->fo.norm = (hm_fft_norm)-1)
MUT(fo_effort, f->fo.effort = (hm_fft_effort)5)
MUT(fo_size, f->fo.size = 1)
MUT(fo_register, f->fo.register_host = 1)
MUT(fo_r2c_inverse, (f->fo.type = HM_FFT_R2C, f->fo.direction = HM_FFT_INVERSE))
MUT(fo_c2r_forward, f->fo.type = HM_FFT_C2R)
MUT(fo_c2r_len, (f->fo.type = HM_FFT_C2R, f->fo.direction = HM_FFT_INVERSE, f->fo.num_axes = 1,
                 f->fo.axes[0] = 1, f->fo.last_length = 40))
MUT(fo_exec_cpu0, f->fo.execution = hm_execution_cpu(0))
MUT(fo_exec_cpu_dev, (f->fo.execution = hm_execution_cpu(2), f->fo.execution.device_id = 0))
MUT(fo_exec_cuda_thr, (f->fo.execution = hm_execution_cuda(0), f->fo.execution.num_threads = 4))
MUT(fo_exec_kind, f->fo.execution.kind = (hm_execution_kind)8)
MUT(fo_exec_cuda9, f->fo.execution = hm_execution_cuda(9))
MUT(fo_exec_default_id, f->fo.execution.device_id = 0)
MUT(y_dtype, f->y.dtype = HM_DTYPE_C128)
MUT(y_shape, f->y.shape[1] = 7)
MUT(y_ndim, f->y.ndim = 1)
MUT(y_pinned, f->y.device = hm_device_pinned())
MUT(y_overlap, (f->y.data = xb + 2))
MUT(y_real, f->y.dtype = HM_DTYPE_F32)
MUT(mm_inner, f->B.shape[0] = 5)
MUT(mm_batch, (f->A.ndim = 3, f->A.shape[0] = 2, f->A.shape[1] = 3, f->A.shape[2] = 2,
               f->A.strides[0] = 6, f->A.strides[1] = 2, f->A.strides[2] = 1, f->B.ndim = 3,
               f->B.shape[0] = 3, f->B.shape[1] = 2, f->B.shape[2] = 5, f->B.strides[0] = 0,
               f->B.strides[0] = 10, f->B.strides[1] = 5, f->B.strides[2] = 1))
MUT(mm_dtype_ab, f->B.dtype = HM_DTYPE_F64)
MUT(mm_dtype_d, f->D.dtype = HM_DTYPE_C64)
MUT(mm_d_shape, f->D.shape[1] = 4)
MUT(mm_c_shape, (f->pC = &f->C, f->C.shape[0] = 2))
MUT(mm_c_dtype, (f->pC = &f->C, f->C.dtype = HM_DTYPE_F64))
MUT(mm_a_1d, (f->A.ndim = 1, f->A.shape[0] = 4))
MUT(mm_d_aliases_a, f->D.data = ab)
MUT(mm_d_aliases_b, f->D.data = bb + 1)
MUT(mm_f16_cpu, (f->A.dtype = f->B.dtype = f->D.dtype = HM_DTYPE_F16))
MUT(mm_epilog_generic, f->mo.epilog = HM_EPILOG_RELU)
MUT(mm_tf32_generic, f->mo.tf32 = 1)
MUT(mm_epilog_range, f->mo.epilog = (hm_matmul_epilog)6)
MUT(mm_opts_size, f->mo.size = 3)
MUT(mm_autotune_neg, f->mo.autotune = -2)
MUT(mm_register, f->mo.register_host = 1)
MUT(mm_register_2, f->mo.register_host = 2)
MUT(mm_exec_threads, f->mo.execution = hm_execution_cpu(-7))
MUT(mm_spec_cpu, f->mo.execution = hm_execution_cpu(HM_AUTO))
MUT(mm_bias_no_epilog, f->pbias = &f->bias)
MUT(mm_epilog_no_bias, f->mo.epilog = HM_EPILOG_BIAS)
MUT(mm_bias_len, (f->pbias = &f->bias, f->mo.epilog = HM_EPILOG_BIAS, f->bias.shape[0] = 4))
MUT(mm_bias_2d,
    (f->pbias = &f->bias, f->mo.epilog = HM_EPILOG_BIAS, f->bias.ndim = 2, f->bias.shape[0] = 1,
     f->bias.shape[1] = 5, f->bias.strides[0] = 5, f->bias.strides[1] = 1))
MUT(mm_tf32_f64, (f->A.dtype = f->B.dtype = f->D.dtype = HM_DTYPE_F64, f->mo.tf32 = 1))
MUT(mm_epilog_complex,
    (f->A.dtype = f->B.dtype = f->D.dtype = HM_DTYPE_C64, f->mo.epilog = HM_EPILOG_RELU))
MUT(mm_a_cuda, f->A.device = hm_device_cuda(0))
MUT(cp_dtype, f->dst.dtype = HM_DTYPE_F64)
MUT(cp_shape, f->dst.shape[0] = 5)
MUT(cp_ndim, (f->dst.ndim = 1, f->dst.shape[0] = 42))
MUT(cp_overlap, (f->dst.data = sb + 1))
MUT(cp_dst_zero_stride, f->dst.strides[1] = 0)
MUT(cp_src_cuda, f->src.device = hm_device_cuda(0))
MUT(cp_src_misaligned, f->src.data = (char *)sb + 1)
MUT(al_dtype, f->alloc_dtype = (hm_dtype)12)
MUT(al_ndim, f->alloc_ndim = 9)
MUT(al_neg, f->alloc_shape[1] = -3)
MUT(al_overflow, (f->alloc_shape[0] = INT64_MAX / 2, f->alloc_shape[1] = 4))
MUT(al_devtype, f->alloc_dev.type = (hm_device_type)0)
MUT(al_cuda9, f->alloc_dev = hm_device_cuda(9))
MUT(al_pinned, f->alloc_dev = hm_device_pinned())
MUT(rs_spec_cpu, (f->cls = HM_OP_SPECIALIZED, f->exec = hm_execution_cpu(HM_AUTO)))
MUT(rs_two_devices, (f->x.device = hm_device_cuda(0), f->y.device = hm_device_cuda(1)))
MUT(pl_x_layout, (f->x.strides[0] = 1, f->x.strides[1] = 4))
MUT(pl_x_dtype, (f->x.dtype = HM_DTYPE_C128))
MUT(pl_other_ctx, f->null_ctx = 2)
MUT(pl_y_inplace, f->py = &f->x)
MUT(pm_c_given, f->pC = &f->C)
MUT(pm_a_layout, (f->A.strides[0] = 1, f->A.strides[1] = 3))
MUT(lv_high, f->level = 5)
MUT(lv_neg, f->level = -1)
MUT(gd_dir, f->guard_dir = 5)
MUT(gd_mode, f->guard_mode = 3)
MUT(lr_index, f->ledger_index = 1000000)
MUT(bn_repeat, f->repeat = 0)
MUT(di_neg, f->device_id = -1)
MUT(fo_overwrite_2,
    (f->fo.type = HM_FFT_C2R, f->fo.direction = HM_FFT_INVERSE, f->fo.overwrite_input = 2))
MUT(fo_threads_max, f->fo.execution = hm_execution_cpu(HM_MAX_THREADS + 1))
MUT(mm_beta_alloc_d, (f->mo.beta = 2, f->pD = &f->D, f->D.data = NULL, f->D.ndim = 0))
MUT(mm_k0_epilog, (f->A.shape[1] = 0, f->B.shape[0] = 0, f->mo.epilog = HM_EPILOG_RELU))
MUT(co_split, f->co.split = HM_CPU_FFT_STREAM)
MUT(co_rows, f->co.row_blocks = 9)
MUT(co_block, f->co.row_block_bytes = (size_t)2 << 30)
MUT(co_wisdom, f->co.wisdom_file = 7)
MUT(co_size, f->co.size = 3)
MUT(co_null, f->null_out = 1)
MUT(pt_two, f->per_tile = 2)

#define NOGPU HM_STATUS_CUDA_UNAVAILABLE
typedef struct bad_case {
    const char *what;
    enum call call;
    void (*mutate)(fx *);
    hm_status expect_nodev; /* on a machine without a CUDA device */
    hm_status expect_dev;   /* with one device */
    const char *text;       /* in the last error; NULL when no context could record it */
} bad_case;

#define S(x) HM_STATUS_##x
static const bad_case cases[] = {
    {"copy: NULL context", CALL_COPY, null_ctx, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT), NULL},
    {"copy: NULL src", CALL_COPY, null_src, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_copy: operand src is NULL"},
    {"copy: NULL dst", CALL_COPY, null_dst, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_copy: operand dst is NULL"},
    {"copy: dtypes differ", CALL_COPY, cp_dtype, S(DTYPE_MISMATCH), S(DTYPE_MISMATCH),
     "hm_copy: operand src is f32 but dst is f64"},
    {"copy: shapes differ", CALL_COPY, cp_shape, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_copy: operand dst"},
    {"copy: ndim differs", CALL_COPY, cp_ndim, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_copy: operand dst"},
    {"copy: dst overlaps src", CALL_COPY, cp_overlap, S(ALIASING), S(ALIASING),
     "hm_copy: operand dst overlaps src"},
    {"copy: dst zero stride", CALL_COPY, cp_dst_zero_stride, S(INVALID_LAYOUT), S(INVALID_LAYOUT),
     "hm_copy: operand dst is invalid"},
    {"copy: host pointer declared cuda:0", CALL_COPY, cp_src_cuda, NOGPU, S(SPACE_MISMATCH),
     "hm_copy: operand src"},
    {"copy: src misaligned", CALL_COPY, cp_src_misaligned, S(MISALIGNED), S(MISALIGNED),
     "hm_copy: operand src data"},
    {"copy on a stream: NULL context", CALL_COPY_ON_STREAM, null_ctx, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), NULL},
    {"copy on a stream: NULL src", CALL_COPY_ON_STREAM, null_src, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_copy_on_stream: operand src is NULL"},
    {"copy on a stream: dtypes differ", CALL_COPY_ON_STREAM, cp_dtype, S(DTYPE_MISMATCH),
     S(DTYPE_MISMATCH), "hm_copy_on_stream: operand src is f32 but dst is f64"},
    {"copy on a stream: dst overlaps src", CALL_COPY_ON_STREAM, cp_overlap, S(ALIASING),
     S(ALIASING), "hm_copy_on_stream: operand dst overlaps src"},
    {"copy on a stream: host pointer declared cuda:0", CALL_COPY_ON_STREAM, cp_src_cuda, NOGPU,
     S(SPACE_MISMATCH), "hm_copy_on_stream: operand src"},
    {"fft: NULL context", CALL_FFT, null_ctx, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT), NULL},
    {"fft: NULL x", CALL_FFT, null_x, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: operand x is NULL"},
    {"fft: NULL y", CALL_FFT, null_y, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: operand y is NULL"},
    {"fft: ndim 9", CALL_FFT, x_ndim9, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_fft: operand x is invalid: ndim 9"},
    {"fft: ndim negative", CALL_FFT, x_ndim_neg, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_fft: operand x is invalid"},
    {"fft: negative extent", CALL_FFT, x_neg_shape, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_fft: operand x is invalid: extent -8"},
    {"fft: byte size overflows", CALL_FFT, x_overflow, S(SIZE_OVERFLOW), S(SIZE_OVERFLOW),
     "hm_fft: operand x is invalid"},
    {"fft: overlapping strides", CALL_FFT, x_overlap, S(INVALID_LAYOUT), S(INVALID_LAYOUT),
     "hm_fft: operand x is invalid: its strides make elements overlap"},
    {"fft: negative stride", CALL_FFT, x_neg_stride, S(INVALID_LAYOUT), S(INVALID_LAYOUT),
     "hm_fft: operand x is invalid: stride -1"},
    {"fft: misaligned data", CALL_FFT, x_misaligned, S(MISALIGNED), S(MISALIGNED),
     "hm_fft: operand x data"},
    {"fft: dtype code 99", CALL_FFT, x_dtype_99, S(INVALID_DTYPE), S(INVALID_DTYPE),
     "hm_fft: operand x is invalid: dtype code 99"},
    {"fft: dtype code 0", CALL_FFT, x_dtype_0, S(INVALID_DTYPE), S(INVALID_DTYPE),
     "hm_fft: operand x"},
    {"fft: device type 9", CALL_FFT, x_devtype, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: operand x has device type 9"},
    {"fft: host with device id 3", CALL_FFT, x_host_id, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: operand x is host memory with device id 3"},
    {"fft: host pointer declared cuda:0", CALL_FFT, x_cuda0, NOGPU, S(SPACE_MISMATCH),
     "hm_fft: operand x"},
    {"fft: device id out of range", CALL_FFT, x_cuda9, NOGPU, S(DEVICE_NOT_FOUND),
     "hm_fft: operand x"},
    {"fft: pageable declared pinned", CALL_FFT, x_pinned_lie, NOGPU, S(SPACE_MISMATCH),
     "hm_fft: operand x"},
    {"fft: NULL data", CALL_FFT, x_null_data, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: operand x has NULL data"},
    {"fft: zero-length axis", CALL_FFT, x_zero_axis, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_fft: operand x has a zero-length axis 1"},
    {"fft: c2c of real input", CALL_FFT, x_real, S(INVALID_DTYPE), S(INVALID_DTYPE),
     "hm_fft: operand x is f32"},
    {"fft: 4 axes", CALL_FFT, fo_axes4, S(INVALID_AXES), S(INVALID_AXES),
     "hm_fft: 4 transform axes"},
    {"fft: -1 axes", CALL_FFT, fo_axes_neg, S(INVALID_AXES), S(INVALID_AXES),
     "hm_fft: -1 transform axes"},
    {"fft: repeated axis", CALL_FFT, fo_axis_repeat, S(INVALID_AXES), S(INVALID_AXES),
     "hm_fft: axis 0 is repeated"},
    {"fft: axis out of range", CALL_FFT, fo_axis_range, S(INVALID_AXES), S(INVALID_AXES),
     "hm_fft: axis 2 is out of range"},
    {"fft: type 7", CALL_FFT, fo_type, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT), "hm_fft: type 7"},
    {"fft: direction 3", CALL_FFT, fo_dir, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: direction 3"},
    {"fft: norm -1", CALL_FFT, fo_norm, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: norm -1"},
    {"fft: effort 5", CALL_FFT, fo_effort, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: effort 5"},
    {"fft: options size 1", CALL_FFT, fo_size, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: options size 1"},
    {"fft: register_host on a stateless call", CALL_FFT, fo_register, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_fft: register_host needs a plan"},
    {"fft: inverse r2c", CALL_FFT, fo_r2c_inverse, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: a real-to-complex transform is forward"},
    {"fft: forward c2r", CALL_FFT, fo_c2r_forward, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: a complex-to-real transform is inverse"},
    {"fft: c2r length inconsistent", CALL_FFT, fo_c2r_len, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_fft: a c2r output of length 40"},
    {"fft: cpu with 0 threads", CALL_FFT, fo_exec_cpu0, S(INVALID_EXECUTION), S(INVALID_EXECUTION),
     "hm_fft: cpu execution with 0 threads"},
    {"fft: cpu with a device id", CALL_FFT, fo_exec_cpu_dev, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_fft: cpu execution takes no device id"},
    {"fft: cuda with threads", CALL_FFT, fo_exec_cuda_thr, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_fft: cuda execution takes no thread count"},
    {"fft: execution kind 8", CALL_FFT, fo_exec_kind, S(INVALID_EXECUTION), S(INVALID_EXECUTION),
     "hm_fft: execution kind 8"},
    {"fft: execution on cuda:9", CALL_FFT, fo_exec_cuda9, NOGPU, S(DEVICE_NOT_FOUND), "hm_fft: "},
    {"fft: default execution with a device id", CALL_FFT, fo_exec_default_id, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_fft: the default execution space takes no device id"},
    {"fft: y of the wrong dtype", CALL_FFT, y_dtype, S(DTYPE_MISMATCH), S(DTYPE_MISMATCH),
     "hm_fft: operand y is c128"},
    {"fft: y of the wrong shape", CALL_FFT, y_shape, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_fft: operand y does not have the output shape"},
    {"fft: y of the wrong ndim", CALL_FFT, y_ndim, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_fft: operand y"},
    {"fft: y in another space", CALL_FFT, y_pinned, NOGPU, S(SPACE_MISMATCH), "hm_fft: operand y"},
    {"fft: y overlaps x", CALL_FFT, y_overlap, S(ALIASING), S(ALIASING),
     "hm_fft: operand y overlaps x"},
    {"fft: y real for c2c", CALL_FFT, y_real, S(DTYPE_MISMATCH), S(DTYPE_MISMATCH),
     "hm_fft: operand y is f32"},
    {"matmul: NULL context", CALL_MATMUL, null_ctx, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT), NULL},
    {"matmul: NULL A", CALL_MATMUL, null_A, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul: operand A is NULL"},
    {"matmul: NULL B", CALL_MATMUL, null_B, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul: operand B is NULL"},
    {"matmul: NULL D", CALL_MATMUL, null_D, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul: operand D is NULL"},
    {"matmul: inner dimensions differ", CALL_MATMUL, mm_inner, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_matmul: inner dimensions differ"},
    {"matmul: batches do not broadcast", CALL_MATMUL, mm_batch, S(BROADCAST_MISMATCH),
     S(BROADCAST_MISMATCH), "hm_matmul: batch dimension 0 is 2 in A but 3 in B"},
    {"matmul: A and B dtypes differ", CALL_MATMUL, mm_dtype_ab, S(DTYPE_MISMATCH),
     S(DTYPE_MISMATCH), "hm_matmul: operand A is f32 but B is f64"},
    {"matmul: D dtype differs", CALL_MATMUL, mm_dtype_d, S(DTYPE_MISMATCH), S(DTYPE_MISMATCH),
     "hm_matmul: operand D is c64"},
    {"matmul: D of the wrong shape", CALL_MATMUL, mm_d_shape, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_matmul: operand D does not have the result's shape"},
    {"matmul: C of the wrong shape", CALL_MATMUL, mm_c_shape, S(SHAPE_MISMATCH), S(SHAPE_MISMATCH),
     "hm_matmul: operand C does not have the result's shape"},
    {"matmul: C of the wrong dtype", CALL_MATMUL, mm_c_dtype, S(DTYPE_MISMATCH), S(DTYPE_MISMATCH),
     "hm_matmul: operand C is f64"},
    {"matmul: 1-D A", CALL_MATMUL, mm_a_1d, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_matmul: operand A has 1 dimension"},
    {"matmul: D aliases A", CALL_MATMUL, mm_d_aliases_a, S(ALIASING), S(ALIASING),
     "hm_matmul: operand D overlaps A"},
    {"matmul: D aliases B", CALL_MATMUL, mm_d_aliases_b, S(ALIASING), S(ALIASING),
     "hm_matmul: operand D overlaps B"},
    {"matmul: f16 on the CPU", CALL_MATMUL, mm_f16_cpu, S(NOT_SUPPORTED), S(NOT_SUPPORTED),
     "hm_matmul: f16 matmul needs a CUDA execution space"},
    {"matmul: epilog on the generic matmul", CALL_MATMUL, mm_epilog_generic, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul: epilogs, bias, tf32"},
    {"matmul: tf32 on the generic matmul", CALL_MATMUL, mm_tf32_generic, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul: epilogs, bias, tf32"},
    {"matmul: options size 3", CALL_MATMUL, mm_opts_size, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul: options size 3"},
    {"matmul: cpu with -7 threads", CALL_MATMUL, mm_exec_threads, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_matmul: cpu execution with -7 threads"},
    {"matmul: operands in two spaces", CALL_MATMUL, mm_a_cuda, NOGPU, S(SPACE_MISMATCH),
     "hm_matmul: operand A"},
    {"advanced: on the CPU", CALL_MATMUL_ADV, mm_spec_cpu, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_matmul_advanced: this operation runs on CUDA only"},
    {"advanced: epilog 6", CALL_MATMUL_ADV, mm_epilog_range, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul_advanced: epilog 6"},
    {"advanced: autotune -2", CALL_MATMUL_ADV, mm_autotune_neg, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul_advanced: autotune -2"},
    {"matmul: register_host on a stateless call", CALL_MATMUL, mm_register, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul: register_host needs a plan"},
    {"advanced: register_host 2", CALL_MATMUL_ADV, mm_register_2, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul_advanced: register_host 2 is neither 0 nor 1"},
    {"advanced: bias without a bias epilog", CALL_MATMUL_ADV, mm_bias_no_epilog,
     S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul_advanced: a bias was given but the epilog adds none"},
    {"advanced: bias epilog without a bias", CALL_MATMUL_ADV, mm_epilog_no_bias,
     S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_matmul_advanced: the epilog adds a bias but none was given"},
    {"advanced: bias of the wrong length", CALL_MATMUL_ADV, mm_bias_len, S(SHAPE_MISMATCH),
     S(SHAPE_MISMATCH), "hm_matmul_advanced: operand bias has length 4"},
    {"advanced: 2-D bias", CALL_MATMUL_ADV, mm_bias_2d, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_matmul_advanced: operand bias has 2 dimensions"},
    {"advanced: tf32 on f64", CALL_MATMUL_ADV, mm_tf32_f64, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul_advanced: tf32 applies to f32 operands"},
    {"advanced: epilog on complex", CALL_MATMUL_ADV, mm_epilog_complex, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul_advanced: epilogs apply to real dtypes"},
    {"advanced: no GPU", CALL_MATMUL_ADV, nothing, NOGPU, S(SUCCESS),
     "hm_matmul_advanced: this operation needs a CUDA execution space"},
    {"check: NULL tensor", CALL_CHECK, null_x, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_tensor_check: operand t is NULL"},
    {"check: NULL context", CALL_CHECK, null_ctx, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT), NULL},
    {"alloc: dtype 12", CALL_ALLOC, al_dtype, S(INVALID_DTYPE), S(INVALID_DTYPE),
     "hm_tensor_alloc"},
    {"alloc: ndim 9", CALL_ALLOC, al_ndim, S(INVALID_SHAPE), S(INVALID_SHAPE), "hm_tensor_alloc"},
    {"alloc: negative extent", CALL_ALLOC, al_neg, S(INVALID_SHAPE), S(INVALID_SHAPE),
     "hm_tensor_alloc"},
    {"alloc: size overflows", CALL_ALLOC, al_overflow, S(SIZE_OVERFLOW), S(SIZE_OVERFLOW),
     "hm_tensor_alloc"},
    {"alloc: device type 0", CALL_ALLOC, al_devtype, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_tensor_alloc: device type 0"},
    {"alloc: cuda:9", CALL_ALLOC, al_cuda9, NOGPU, S(DEVICE_NOT_FOUND), "allocation in cuda:9"},
    {"alloc: NULL output", CALL_ALLOC, null_out, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_tensor_alloc: output tensor is NULL"},
    {"alloc: pinned without a GPU", CALL_ALLOC, al_pinned, NOGPU, S(SUCCESS),
     "allocation in pinned"},
    {"resolve: specialized on the CPU", CALL_RESOLVE, rs_spec_cpu, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_execution_resolve: this operation runs on CUDA only"},
    {"resolve: operands on two devices", CALL_RESOLVE, rs_two_devices,
     S(OPERANDS_ON_DIFFERENT_DEVICES), S(OPERANDS_ON_DIFFERENT_DEVICES),
     "hm_execution_resolve: operand 1 is on cuda:1"},
    {"resolve: NULL result", CALL_RESOLVE, null_out, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_execution_resolve: resolved or operands is NULL"},
    {"fft plan: x of another layout", CALL_FFT_EXECUTE, pl_x_layout, S(PLAN_MISMATCH),
     S(PLAN_MISMATCH), "hm_fft_execute: operand x differs from the planned layout"},
    {"fft plan: x of another dtype", CALL_FFT_EXECUTE, pl_x_dtype, S(PLAN_MISMATCH),
     S(PLAN_MISMATCH), "hm_fft_execute: operand x differs"},
    {"fft plan: another context", CALL_FFT_EXECUTE, pl_other_ctx, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), NULL},
    {"fft plan: in place on an out-of-place plan", CALL_FFT_EXECUTE, pl_y_inplace, S(PLAN_MISMATCH),
     S(PLAN_MISMATCH), "hm_fft_execute: the plan was made out of place"},
    {"fft plan: NULL y", CALL_FFT_EXECUTE, null_y, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft_execute: operand y is NULL"},
    {"matmul plan: C not planned", CALL_MATMUL_EXECUTE, pm_c_given, S(PLAN_MISMATCH),
     S(PLAN_MISMATCH), "hm_matmul_execute: operand C was absent when planned"},
    {"matmul plan: A of another layout", CALL_MATMUL_EXECUTE, pm_a_layout, S(PLAN_MISMATCH),
     S(PLAN_MISMATCH), "hm_matmul_execute: operand A differs"},
    {"matmul plan: another context", CALL_MATMUL_EXECUTE, pl_other_ctx, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), NULL},
    {"log level 5", CALL_SET_LEVEL, lv_high, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_context_set_log_level: level 5"},
    {"log level -1", CALL_SET_LEVEL, lv_neg, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_context_set_log_level: level -1"},
    {"guard direction 5", CALL_SET_GUARD, gd_dir, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_transfer_set_guard: direction 5"},
    {"guard mode 3", CALL_SET_GUARD, gd_mode, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_transfer_set_guard: mode 3"},
    {"ledger record out of range", CALL_LEDGER_RECORD, lr_index, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_ledger_record: the index is past the records kept"},
    {"bench: repeat 0", CALL_BENCH, bn_repeat, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_bench_run: repeat must be at least 1"},
    {"bench: NULL result", CALL_BENCH, null_out, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_bench_run: the result pointer is NULL"},
    {"device info: id -1", CALL_DEVICE_INFO, di_neg, NOGPU, S(DEVICE_NOT_FOUND),
     "hm_context_device_info"},
    {"fft: overwrite_input 2", CALL_FFT, fo_overwrite_2, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_fft: overwrite_input 2 is neither 0 nor 1"},
    {"fft: threads above HM_MAX_THREADS", CALL_FFT, fo_threads_max, S(INVALID_EXECUTION),
     S(INVALID_EXECUTION), "hm_fft: cpu execution with 4097 threads (must be 1 to 4096"},
    {"matmul: beta with no C and an allocated D", CALL_MATMUL, mm_beta_alloc_d, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_matmul: beta is 2 but there is no C"},
    {"advanced: K = 0 with an epilog", CALL_MATMUL_ADV, mm_k0_epilog, NOGPU, S(NOT_SUPPORTED),
     "hm_matmul_advanced: "},
    {"cpu fft options: split stream", CALL_CPU_FFT_OPTIONS, co_split, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: split 3"},
    {"cpu fft options: row blocks 9", CALL_CPU_FFT_OPTIONS, co_rows, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: row_blocks 9"},
    {"cpu fft options: a 2 GiB block", CALL_CPU_FFT_OPTIONS, co_block, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: a block of 2147483648 bytes"},
    {"cpu fft options: wisdom_file 7", CALL_CPU_FFT_OPTIONS, co_wisdom, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: wisdom_file 7"},
    {"cpu fft options: size 3", CALL_CPU_FFT_OPTIONS, co_size, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: options size 3"},
    {"cpu fft options: NULL", CALL_CPU_FFT_OPTIONS, co_null, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_context_set_cpu_fft_options: the options are NULL"},
    {"pipeline timing 2", CALL_PIPELINE_TIMING, pt_two, S(INVALID_ARGUMENT), S(INVALID_ARGUMENT),
     "hm_debug_set_pipeline_timing: per_tile 2"},
    {"ledger totals: NULL output", CALL_LEDGER_TOTALS, null_out, S(INVALID_ARGUMENT),
     S(INVALID_ARGUMENT), "hm_ledger_totals: the output pointer is NULL"},
};

static hm_status noop(hm_context *ctx, void *user)
{
    (void)ctx;
    (void)user;
    return HM_STATUS_SUCCESS;
}

static hm_status run_case(const bad_case *c, fx *f, hm_context *other)
{
    hm_context *ctx = f->null_ctx == 1 ? NULL : (f->null_ctx == 2 ? other : f->ctx);
    hm_execution out_exec;
    hm_tensor out_t;
    hm_transfer_record rec;
    hm_bench_result br;
    hm_bench_options bo;
    hm_device_info info;
    hm_status st;
    switch (c->call) {
    case CALL_COPY:
        return hm_copy(ctx, f->psrc, f->pdst);
    case CALL_COPY_ON_STREAM: /* no stream: these fail before one would be used */
        return hm_copy_on_stream(ctx, f->psrc, f->pdst, NULL);
    case CALL_FFT:
        return hm_fft(ctx, f->px, f->py, &f->fo);
    case CALL_MATMUL:
        return hm_matmul(ctx, f->pA, f->pB, f->pC, f->pD, &f->mo);
    case CALL_MATMUL_ADV:
        return hm_matmul_advanced(ctx, f->pA, f->pB, f->pC, f->pD, f->pbias, &f->mo);
    case CALL_CHECK:
        return hm_tensor_check(ctx, f->px);
    case CALL_ALLOC:
        st = hm_tensor_alloc(ctx, f->alloc_dev, f->alloc_dtype, f->alloc_ndim, f->alloc_shape,
                             f->null_out ? NULL : &out_t);
        if (st == HM_STATUS_SUCCESS)
            hm_tensor_free(ctx, &out_t);
        return st;
    case CALL_RESOLVE: {
        const hm_tensor *ops[2] = {f->px, f->py};
        return hm_execution_resolve(ctx, &f->exec, f->cls, ops, 2, f->null_out ? NULL : &out_exec);
    }
    case CALL_FFT_EXECUTE:
        return hm_fft_execute(ctx, f->fplan, f->px, f->py);
    case CALL_MATMUL_EXECUTE:
        return hm_matmul_execute(ctx, f->mplan, f->pA, f->pB, f->pC, f->pD, NULL);
    case CALL_SET_LEVEL:
        return hm_context_set_log_level(ctx, (hm_log_level)f->level);
    case CALL_SET_GUARD:
        return hm_transfer_set_guard(ctx, (hm_transfer_direction)f->guard_dir,
                                     (hm_guard_mode)f->guard_mode);
    case CALL_LEDGER_RECORD:
        return hm_ledger_record(ctx, (size_t)f->ledger_index, &rec);
    case CALL_BENCH:
        hm_bench_options_init(&bo);
        bo.repeat = f->repeat;
        st = hm_bench_run(ctx, noop, NULL, &bo, f->null_out ? NULL : &br);
        if (st == HM_STATUS_SUCCESS)
            hm_bench_result_free(&br);
        return st;
    case CALL_DEVICE_INFO:
        return hm_context_device_info(ctx, f->device_id, &info);
    case CALL_CPU_FFT_OPTIONS:
        return hm_context_set_cpu_fft_options(ctx, f->null_out ? NULL : &f->co);
    case CALL_PIPELINE_TIMING:
        return hm_debug_set_pipeline_timing(ctx, f->per_tile);
    case CALL_LEDGER_TOTALS: {
        hm_transfer_totals tot;
        return hm_ledger_totals(ctx, f->null_out ? NULL : &tot);
    }
    }
    return HM_STATUS_INTERNAL;
}

static void snapshot(unsigned char *buf)
{
    size_t o = 0;
#define SNAP(a)                                                                                    \
    memcpy(buf + o, a, sizeof a);                                                                  \
    o += sizeof a;
    SNAP(xb) SNAP(yb) SNAP(ab) SNAP(bb) SNAP(cb) SNAP(db) SNAP(biasb) SNAP(sb) SNAP(tb)
#undef SNAP
}

/* Every row, or only row argv[1] (its number, as a failure prints it). */
int main(int argc, char **argv)
{
    int only = argc > 1 ? atoi(argv[1]) : -1;
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF), *other = hm_test_context(NULL, HM_LOG_OFF);
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    unsigned long long seed = 31;
    float *inputs[] = {xb, ab, bb, cb, sb, biasb};
    size_t counts[] = {sizeof xb / 4, sizeof ab / 4, sizeof bb / 4,
                       sizeof cb / 4, sizeof sb / 4, sizeof biasb / 4};
    for (int k = 0; k < 6; k++)
        for (size_t i = 0; i < counts[k]; i++)
            inputs[k][i] = (float)hm_test_rand(&seed);
    memcpy(xb0, xb, sizeof xb);
    memcpy(ab0, ab, sizeof ab);
    memcpy(bb0, bb, sizeof bb);
    memcpy(cb0, cb, sizeof cb);
    memcpy(sb0, sb, sizeof sb);
    static unsigned char before[4096], after[4096];
    int n = (int)(sizeof cases / sizeof cases[0]), counted = 0;
    for (int i = 0; i < n; i++) {
        const bad_case *c = &cases[i];
        hm_status expect = ndev ? c->expect_dev : c->expect_nodev;
        if (expect == HM_STATUS_SUCCESS || (ndev > 1 && c->mutate == rs_two_devices) ||
            (only >= 0 && i != only))
            continue; /* not a bad input on this machine, or not the row asked for */
        counted++;
        fx f;
        baseline(&f, ctx);
        if (c->call == CALL_FFT_EXECUTE)
            CHECK_STATUS(hm_fft_plan_create(ctx, &f.x, &f.y, &f.fo, &f.fplan), HM_STATUS_SUCCESS);
        if (c->call == CALL_MATMUL_EXECUTE)
            CHECK_STATUS(hm_matmul_plan_create(ctx, HM_OP_GENERIC, &f.A, &f.B, NULL, &f.D, NULL,
                                               &f.mo, &f.mplan),
                         HM_STATUS_SUCCESS);
        c->mutate(&f);
        memset(yb, 0x5a, sizeof yb);
        memset(db, 0x5a, sizeof db);
        memset(tb, 0x5a, sizeof tb);
        snapshot(before);
        hm_status st = run_case(c, &f, other);
        snapshot(after);
        if (st != expect)
            fprintf(stderr, "case %d '%s' (run it alone: tests/test_catalogue %d): %s\n", i,
                    c->what, i, hm_context_last_error(ctx));
        CHECK_STATUS(st, expect);
        if (c->text)
            CHECK_CONTAINS(hm_context_last_error(ctx), c->text);
        if (memcmp(before, after, sizeof before) != 0)
            fprintf(stderr, "case '%s' wrote memory\n", c->what);
        CHECK(memcmp(before, after, sizeof before) == 0);
        hm_fft_plan_destroy(f.fplan);
        hm_matmul_plan_destroy(f.mplan);
        /* the context still works: a good FFT right after */
        baseline(&f, ctx);
        CHECK_STATUS(hm_fft(ctx, &f.x, &f.y, &f.fo), HM_STATUS_SUCCESS);
        CHECK(strcmp(hm_context_last_error(ctx), "") == 0);
    }
    CHECK(memcmp(xb, xb0, sizeof xb) == 0 && memcmp(ab, ab0, sizeof ab) == 0 &&
          memcmp(bb, bb0, sizeof bb) == 0 && memcmp(cb, cb0, sizeof cb) == 0 &&
          memcmp(sb, sb0, sizeof sb) == 0);
    printf("test_catalogue: %d bad inputs checked (%d in the table)\n", counted, n);
    CHECK(only >= 0 || counted >= 60);
    hm_context_destroy(other);
    hm_context_destroy(ctx);
    return hm_test_finish("test_catalogue");
}
