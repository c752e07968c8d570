/* Matmul on the CPU through CBLAS (OpenBLAS by default): column-major calls with per-operand
 * transposes, one call per batch entry, the scalars of each execution. */
#include <cblas.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/cpu/cpu.h"
#include "core/matmul_backend.h"

static bool cpu_supports(const void *desc, char *why, size_t why_size)
{
    const hm_matmul_desc *d = desc;
    if (d->dtype == HM_DTYPE_F16 || d->dtype == HM_DTYPE_BF16) {
        snprintf(why, why_size, "%s matmul needs a CUDA execution space (CBLAS has no %s)",
                 hm_dtype_name(d->dtype), hm_dtype_name(d->dtype));
        return false;
    }
    if (d->m > INT_MAX || d->n > INT_MAX || d->k > INT_MAX || d->first.ld > INT_MAX ||
        d->second.ld > INT_MAX || d->out.ld > INT_MAX) {
        snprintf(why, why_size, "a dimension exceeds CBLAS's int");
        return false;
    }
    if (d->epilog != HM_EPILOG_NONE || d->tf32) {
        snprintf(why, why_size, "epilogs and tf32 need a CUDA execution space");
        return false;
    }
    return true;
}

static hm_status cpu_plan(hm_context *ctx, const void *desc, const void *args, void **plan)
{
    (void)args;
    hm_matmul_desc *p = malloc(sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a matmul plan");
    *p = *(const hm_matmul_desc *)desc;
    *plan = p;
    return HM_STATUS_SUCCESS;
}

static hm_status cpu_execute(hm_context *ctx, void *plan, const void *args)
{
    const hm_matmul_desc *d = plan;
    const hm_mm_args *a = args;
    (void)ctx;
#ifdef HETMATH_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(d->exec.num_threads);
#endif
    enum CBLAS_TRANSPOSE ta = d->first.trans ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = d->second.trans ? CblasTrans : CblasNoTrans;
    size_t es = hm_dtype_size(d->dtype);
    float fa[2] = {(float)a->alpha[0], (float)a->alpha[1]};
    float fb[2] = {(float)a->beta[0], (float)a->beta[1]};
    int m = (int)d->m, n = (int)d->n, k = (int)d->k;
    int lda = (int)d->first.ld, ldb = (int)d->second.ld, ldc = (int)d->out.ld;
    for (int64_t i = 0; i < d->batch; i++) {
        const char *x = (const char *)a->first + i * d->first.batch_stride * (int64_t)es;
        const char *y = (const char *)a->second + i * d->second.batch_stride * (int64_t)es;
        char *c = (char *)a->out + i * d->out.batch_stride * (int64_t)es;
        switch (d->dtype) {
        case HM_DTYPE_F32:
            cblas_sgemm(CblasColMajor, ta, tb, m, n, k, fa[0], (const float *)x, lda,
                        (const float *)y, ldb, fb[0], (float *)c, ldc);
            break;
        case HM_DTYPE_F64:
            cblas_dgemm(CblasColMajor, ta, tb, m, n, k, a->alpha[0], (const double *)x, lda,
                        (const double *)y, ldb, a->beta[0], (double *)c, ldc);
            break;
        case HM_DTYPE_C64:
            cblas_cgemm(CblasColMajor, ta, tb, m, n, k, fa, x, lda, y, ldb, fb, c, ldc);
            break;
        default:
            cblas_zgemm(CblasColMajor, ta, tb, m, n, k, a->alpha, x, lda, y, ldb, a->beta, c, ldc);
            break;
        }
    }
    return HM_STATUS_SUCCESS;
}

static void cpu_destroy(void *plan)
{
    free(plan);
}

const hm_op_backend hm__cpu_matmul = {
    .error = HM_STATUS_INTERNAL,
    .supports = cpu_supports,
    .plan = cpu_plan,
    .execute = cpu_execute,
    .destroy = cpu_destroy,
};

void hm__cpu_blas_version(char *buf, size_t size)
{
#ifdef HETMATH_HAVE_OPENBLAS_THREADS
    snprintf(buf, size, "%s", openblas_get_config());
#else
    snprintf(buf, size, "CBLAS");
#endif
}
