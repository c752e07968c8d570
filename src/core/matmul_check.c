/* The matmul's checks, in the order its specification runs them (matmul.c): options, then the
 * operands against each other. Each returns the status and sentence the public headers
 * document. */
#include "core/matmul_check.h"

static bool is_complex(hm_dtype d)
{
    return d == HM_DTYPE_C64 || d == HM_DTYPE_C128;
}

static bool epilog_has_bias(hm_matmul_epilog e)
{
    return e == HM_EPILOG_BIAS || e == HM_EPILOG_RELU_BIAS || e == HM_EPILOG_GELU_BIAS;
}

hm_status hm__mm_check_options(hm_context *ctx, const char *fn, hm_op_class kind,
                               const hm_matmul_options *o)
{
    if ((int)o->epilog < HM_EPILOG_NONE || o->epilog > HM_EPILOG_GELU_BIAS)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: epilog %d is not an hm_matmul_epilog",
                        fn, (int)o->epilog);
    if (kind == HM_OP_GENERIC && (o->epilog || o->tf32 || o->autotune))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: epilogs, bias, tf32 and autotuning belong to hm_matmul_advanced", fn);
    if (o->autotune < 0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: autotune %d is negative", fn,
                        o->autotune);
    return HM_STATUS_SUCCESS;
}

/* Operands of at least two dimensions; a bias of one. */
static hm_status check_ranks(hm_context *ctx, const char *fn, const hm_op_plan *p)
{
    for (int i = 0; i < MM_OPERANDS; i++) {
        const hm_tensor *t = &p->t[i];
        if (!p->present[i] || (i == MM_D && p->alloc_out))
            continue;
        int min_nd = i == MM_BIAS ? 1 : 2;
        if (t->ndim < min_nd || (i == MM_BIAS && t->ndim != 1))
            return hm__fail(ctx, HM_STATUS_INVALID_SHAPE, "%s: operand %s has %d dimension%s (%s)",
                            fn, p->def->roles[i].name, t->ndim, t->ndim == 1 ? "" : "s",
                            i == MM_BIAS ? "a bias is 1-D" : "matrices need at least 2");
    }
    return HM_STATUS_SUCCESS;
}

static hm_status check_dtypes(hm_context *ctx, const char *fn, const struct hm_matmul_plan *mp)
{
    const hm_op_plan *p = &mp->base;
    const hm_tensor *A = &p->t[MM_A], *B = &p->t[MM_B];
    if (A->dtype != B->dtype)
        return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH, "%s: operand A is %s but B is %s", fn,
                        hm_dtype_name(A->dtype), hm_dtype_name(B->dtype));
    for (int i = MM_C; i < MM_OPERANDS; i++)
        if (p->present[i] && !(i == MM_D && p->alloc_out) && p->t[i].dtype != A->dtype)
            return hm__fail(ctx, HM_STATUS_DTYPE_MISMATCH,
                            "%s: operand %s is %s but A and B are %s", fn, p->def->roles[i].name,
                            hm_dtype_name(p->t[i].dtype), hm_dtype_name(A->dtype));
    if (mp->opts.tf32 && A->dtype != HM_DTYPE_F32)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: tf32 applies to f32 operands, not %s",
                        fn, hm_dtype_name(A->dtype));
    if (mp->opts.epilog && is_complex(A->dtype))
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: epilogs apply to real dtypes, not %s",
                        fn, hm_dtype_name(A->dtype));
    return HM_STATUS_SUCCESS;
}

/* NumPy's matmul shapes: A (..., M, K) times B (..., K, N) is (..., M, N), the batch dimensions
 * broadcast. */
static hm_status check_shapes(hm_context *ctx, const char *fn, struct hm_matmul_plan *mp,
                              hm_tensor *result)
{
    hm_op_plan *p = &mp->base;
    const hm_tensor *A = &p->t[MM_A], *B = &p->t[MM_B];
    mp->m = A->shape[A->ndim - 2];
    mp->k = A->shape[A->ndim - 1];
    mp->n = B->shape[B->ndim - 1];
    if (B->shape[B->ndim - 2] != mp->k)
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: inner dimensions differ: A is %lld x %lld but B is %lld x %lld", fn,
                        (long long)mp->m, (long long)mp->k, (long long)B->shape[B->ndim - 2],
                        (long long)mp->n);
    int nb = (A->ndim > B->ndim ? A->ndim : B->ndim) - 2;
    *result = (hm_tensor){.dtype = A->dtype, .ndim = nb + 2, .device = A->device};
    mp->batch = 1;
    for (int d = 0; d < nb; d++) {
        int ad = d - (nb - (A->ndim - 2)), bd = d - (nb - (B->ndim - 2));
        int64_t a = ad >= 0 ? A->shape[ad] : 1, b = bd >= 0 ? B->shape[bd] : 1;
        if (a != b && a != 1 && b != 1)
            return hm__fail(ctx, HM_STATUS_BROADCAST_MISMATCH,
                            "%s: batch dimension %d is %lld in A but %lld in B", fn, d,
                            (long long)a, (long long)b);
        result->shape[d] = a == 1 ? b : a; /* a 1 repeats; 0 against 1 is empty */
        mp->batch *= result->shape[d];
    }
    result->shape[nb] = mp->m;
    result->shape[nb + 1] = mp->n;
    hm__row_major_strides(result->ndim, result->shape, result->strides);
    for (int i = MM_C; i <= MM_D; i++) {
        if (!p->present[i] || (i == MM_D && p->alloc_out))
            continue;
        if (!hm__same_shape(&p->t[i], result))
            return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                            "%s: operand %s does not have the result's shape (%d dimensions, "
                            "last two %lld x %lld)",
                            fn, p->def->roles[i].name, result->ndim, (long long)mp->m,
                            (long long)mp->n);
    }
    return HM_STATUS_SUCCESS;
}

static hm_status check_bias(hm_context *ctx, const char *fn, const struct hm_matmul_plan *mp)
{
    const hm_op_plan *p = &mp->base;
    if (p->kind == HM_OP_GENERIC && p->present[MM_BIAS])
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: epilogs, bias, tf32 and autotuning belong to hm_matmul_advanced", fn);
    if (epilog_has_bias(mp->opts.epilog) != p->present[MM_BIAS])
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT, "%s: %s", fn,
                        p->present[MM_BIAS] ? "a bias was given but the epilog adds none"
                                            : "the epilog adds a bias but none was given");
    if (!p->present[MM_BIAS])
        return HM_STATUS_SUCCESS;
    hm_device bd = p->t[MM_BIAS].device, ad = p->t[MM_A].device;
    if (hm__device_is_host(bd) != hm__device_is_host(ad) ||
        (bd.type == HM_DEVICE_CUDA && bd.id != ad.id)) {
        char x[32], y[32];
        return hm__fail(ctx, HM_STATUS_SPACE_MISMATCH,
                        "%s: operand bias is in %s but A is in %s; the bias lives with the "
                        "operands",
                        fn, hm_device_format(bd, x, sizeof x), hm_device_format(ad, y, sizeof y));
    }
    if (p->t[MM_BIAS].shape[0] != mp->n)
        return hm__fail(ctx, HM_STATUS_SHAPE_MISMATCH,
                        "%s: operand bias has length %lld but D has %lld columns", fn,
                        (long long)p->t[MM_BIAS].shape[0], (long long)mp->n);
    return HM_STATUS_SUCCESS;
}

/* beta scales C, or D's old values without C: an allocated D has none. */
static hm_status check_beta(hm_context *ctx, const char *fn, const struct hm_matmul_plan *mp)
{
    const hm_op_plan *p = &mp->base;
    if (p->alloc_out && !p->present[MM_C] && mp->opts.beta != 0.0)
        return hm__fail(ctx, HM_STATUS_INVALID_ARGUMENT,
                        "%s: beta is %g but there is no C, and D is allocated by the call, so it "
                        "has no old values to scale; give C, or beta 0",
                        fn, mp->opts.beta);
    return HM_STATUS_SUCCESS;
}

hm_status hm__mm_check_operands(hm_context *ctx, const char *fn, struct hm_matmul_plan *mp,
                                hm_tensor *result)
{
    hm_status st = check_ranks(ctx, fn, &mp->base);
    if (st == HM_STATUS_SUCCESS)
        st = check_dtypes(ctx, fn, mp);
    if (st == HM_STATUS_SUCCESS)
        st = check_shapes(ctx, fn, mp, result);
    if (st == HM_STATUS_SUCCESS)
        st = check_bias(ctx, fn, mp);
    if (st == HM_STATUS_SUCCESS)
        st = check_beta(ctx, fn, mp);
    return st;
}
