/* Matmul on the GPU through cuBLASLt: one handle and one workspace per device and context (as
 * large as the largest any plan may use, at most HM_LT_WORKSPACE, grown on demand),
 * descriptors made at planning, the algorithm from cuBLASLt's heuristic or, with autotuning,
 * the fastest of the top candidates timed on the plan's operands. Epilogs (ReLU, GELU, bias) are
 * cuBLASLt's own, fused into the kernel. The scalars and the bias pointer arrive with every
 * execution. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/cuda_libs.h"
#include "core/matmul_backend.h"

#define HM_LT_WORKSPACE      ((size_t)32 << 20)
#define HM_LT_MAX_CANDIDATES 16
#define HM_LT_TUNE_ROUNDS    3    /* timed rounds of autotuning */
#define HM_LT_TUNE_MS        10.0 /* a candidate's time in a round, back to back (ms) */

/* The cuBLASLt boundary: in a function with `hm_status st` and a `fail:` label. */
#define HM_CUBLAS_TRY(ctx, expr, what)                                                             \
    do {                                                                                           \
        cublasStatus_t s_ = (expr);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                         \
            st = hm__fail((ctx),                                                                   \
                          s_ == CUBLAS_STATUS_ALLOC_FAILED ? HM_STATUS_OUT_OF_DEVICE_MEMORY        \
                                                           : HM_STATUS_CUBLAS_ERROR,               \
                          "cuBLASLt, %s: %s (%s)", (what), HM_LT(cublasLtGetStatusString)(s_),     \
                          HM_LT(cublasLtGetStatusName)(s_));                                       \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

typedef struct lt_plan {
    hm_matmul_desc d;
    int device;
    cublasLtHandle_t handle;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
    size_t workspace_bytes; /* what its algorithm may use of the device's workspace */
    float waves;            /* the heuristic's wave count for the chosen algorithm */
} lt_plan;

static cudaDataType_t data_type(hm_dtype t)
{
    switch (t) {
    case HM_DTYPE_F16:
        return CUDA_R_16F;
    case HM_DTYPE_BF16:
        return CUDA_R_16BF;
    case HM_DTYPE_F32:
        return CUDA_R_32F;
    case HM_DTYPE_F64:
        return CUDA_R_64F;
    case HM_DTYPE_C64:
        return CUDA_C_32F;
    default:
        return CUDA_C_64F;
    }
}

static void compute_types(const hm_matmul_desc *d, cublasComputeType_t *ct, cudaDataType_t *st)
{
    switch (d->dtype) {
    case HM_DTYPE_F64:
        *ct = CUBLAS_COMPUTE_64F;
        *st = CUDA_R_64F;
        break;
    case HM_DTYPE_C64:
        *ct = CUBLAS_COMPUTE_32F;
        *st = CUDA_C_32F;
        break;
    case HM_DTYPE_C128:
        *ct = CUBLAS_COMPUTE_64F;
        *st = CUDA_C_64F;
        break;
    default: /* f16, bf16, f32: f32 accumulation (TF32 tensor cores on request) */
        *ct = d->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
        *st = CUDA_R_32F;
        break;
    }
}

static cublasLtEpilogue_t epilogue(hm_matmul_epilog e)
{
    switch (e) {
    case HM_EPILOG_RELU:
        return CUBLASLT_EPILOGUE_RELU;
    case HM_EPILOG_GELU:
        return CUBLASLT_EPILOGUE_GELU;
    case HM_EPILOG_BIAS:
        return CUBLASLT_EPILOGUE_BIAS;
    case HM_EPILOG_RELU_BIAS:
        return CUBLASLT_EPILOGUE_RELU_BIAS;
    case HM_EPILOG_GELU_BIAS:
        return CUBLASLT_EPILOGUE_GELU_BIAS;
    default:
        return CUBLASLT_EPILOGUE_DEFAULT;
    }
}

/* An execution's scalars in the plan's scale type: float, double, or their complex pairs. */
static void scalars(const lt_plan *p, const hm_mm_args *a, void *alpha, void *beta)
{
    cublasComputeType_t ct;
    cudaDataType_t sty;
    compute_types(&p->d, &ct, &sty);
    if (sty == CUDA_R_64F || sty == CUDA_C_64F) {
        memcpy(alpha, a->alpha, sizeof a->alpha);
        memcpy(beta, a->beta, sizeof a->beta);
    } else {
        float fa[2] = {(float)a->alpha[0], (float)a->alpha[1]};
        float fb[2] = {(float)a->beta[0], (float)a->beta[1]};
        memcpy(alpha, fa, sizeof fa);
        memcpy(beta, fb, sizeof fb);
    }
}

static hm_status layout(hm_context *ctx, cublasLtMatrixLayout_t *l, hm_dtype t, int64_t rows,
                        int64_t cols, const hm_mm_matrix *m, int64_t batch)
{
    hm_status st = HM_STATUS_SUCCESS;
    int64_t r = m->trans ? cols : rows, c = m->trans ? rows : cols;
    HM_CUBLAS_TRY(
        ctx, HM_LT(cublasLtMatrixLayoutCreate)(l, data_type(t), (uint64_t)r, (uint64_t)c, m->ld),
        "describing a matrix");
    if (batch > 1) {
        int32_t count = (int32_t)batch;
        int64_t stride = m->batch_stride;
        HM_CUBLAS_TRY(ctx,
                      HM_LT(cublasLtMatrixLayoutSetAttribute)(
                          *l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count),
                      "setting the batch count");
        HM_CUBLAS_TRY(ctx,
                      HM_LT(cublasLtMatrixLayoutSetAttribute)(
                          *l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
                      "setting the batch stride");
    }
fail:
    return st;
}

static void lt_destroy(void *plan)
{
    lt_plan *p = plan;
    if (!p)
        return;
    if (p->la)
        HM_LT(cublasLtMatrixLayoutDestroy)(p->la);
    if (p->lb)
        HM_LT(cublasLtMatrixLayoutDestroy)(p->lb);
    if (p->lc)
        HM_LT(cublasLtMatrixLayoutDestroy)(p->lc);
    if (p->op)
        HM_LT(cublasLtMatmulDescDestroy)(p->op);
    free(p);
}

/* The device's cuBLASLt handle, made on first use. */
static hm_status device_lt(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_device *dev = NULL;
    hm_status st = hm__cuda_load_lt(ctx);
    if (st == HM_STATUS_SUCCESS)
        st = hm__cuda_device(ctx, id, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!dev->lt_handle) {
        cublasLtHandle_t h;
        HM_CUBLAS_TRY(ctx, HM_LT(cublasLtCreate)(&h), "creating the cuBLASLt handle");
        dev->lt_handle = h;
    }
    *out = dev;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

void hm__cuda_matmul_release_device(hm_cuda_device *d)
{
    if (d->lt_handle)
        HM_LT(cublasLtDestroy)((cublasLtHandle_t)d->lt_handle);
    d->lt_handle = NULL;
}

static cublasStatus_t run_algo(const lt_plan *p, const hm_cuda_device *dev, cudaStream_t stream,
                               const cublasLtMatmulAlgo_t *algo, const hm_mm_args *a)
{
    double alpha[2], beta[2];
    scalars(p, a, alpha, beta);
    return HM_LT(cublasLtMatmul)(
        p->handle, p->op, alpha, a->first, p->la, a->second, p->lb, beta, a->out, p->lc, a->out,
        p->lc, algo, p->workspace_bytes ? dev->workspace : NULL, p->workspace_bytes, stream);
}

/* The chosen algorithm, as cuBLASLt describes it: what a reader needs to compare two plans. */
static void log_algo(hm_context *ctx, const cublasLtMatmulAlgo_t *algo, float waves)
{
    int32_t id = -1;
    uint32_t tile = 0, stages = 0, splitk = 1, swizzle = 0;
    size_t got;
    HM_LT(cublasLtMatmulAlgoConfigGetAttribute)
    (algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &got);
    HM_LT(cublasLtMatmulAlgoConfigGetAttribute)
    (algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, &got);
    HM_LT(cublasLtMatmulAlgoConfigGetAttribute)
    (algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages, sizeof stages, &got);
    HM_LT(cublasLtMatmulAlgoConfigGetAttribute)
    (algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk, sizeof splitk, &got);
    HM_LT(cublasLtMatmulAlgoConfigGetAttribute)
    (algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &swizzle, sizeof swizzle, &got);
    hm__log(ctx, HM_LOG_DEBUG,
            "cuBLASLt algorithm %d: tile id %u, stages id %u, split-K %u, swizzle %u, %.2f waves",
            (int)id, (unsigned)tile, (unsigned)stages, (unsigned)splitk, (unsigned)swizzle,
            (double)waves);
}

/* The operation descriptor and the three matrix layouts of p->d. */
static hm_status describe(hm_context *ctx, lt_plan *p)
{
    const hm_matmul_desc *d = &p->d;
    hm_status st = HM_STATUS_SUCCESS;
    cublasComputeType_t ct;
    cudaDataType_t sty;
    compute_types(d, &ct, &sty);
    HM_CUBLAS_TRY(ctx, HM_LT(cublasLtMatmulDescCreate)(&p->op, ct, sty),
                  "creating the matmul descriptor");
    cublasOperation_t ta = d->first.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t tb = d->second.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    HM_CUBLAS_TRY(
        ctx,
        HM_LT(cublasLtMatmulDescSetAttribute)(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta),
        "setting transa");
    HM_CUBLAS_TRY(
        ctx,
        HM_LT(cublasLtMatmulDescSetAttribute)(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb),
        "setting transb");
    cublasLtEpilogue_t ep = epilogue(d->epilog);
    if (ep != CUBLASLT_EPILOGUE_DEFAULT)
        HM_CUBLAS_TRY(ctx,
                      HM_LT(cublasLtMatmulDescSetAttribute)(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                            &ep, sizeof ep),
                      "setting the epilog");
    if ((st = layout(ctx, &p->la, d->dtype, d->m, d->k, &d->first, d->batch)) ==
            HM_STATUS_SUCCESS &&
        (st = layout(ctx, &p->lb, d->dtype, d->k, d->n, &d->second, d->batch)) == HM_STATUS_SUCCESS)
        st = layout(ctx, &p->lc, d->dtype, d->m, d->n, &d->out, d->batch);
fail:
    return st;
}

/* The heuristic's candidates, best first (at least one, or HM_STATUS_NOT_SUPPORTED). */
static hm_status candidates(hm_context *ctx, lt_plan *p, const void *bias,
                            cublasLtMatmulHeuristicResult_t *cand, int want, int *got)
{
    hm_status st = HM_STATUS_SUCCESS;
    cublasLtMatmulPreference_t pref = NULL;
    *got = 0;
    /* The bias pointer must be set for the query to match the executions. */
    if (bias)
        HM_CUBLAS_TRY(ctx,
                      HM_LT(cublasLtMatmulDescSetAttribute)(
                          p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
                      "setting the bias");
    HM_CUBLAS_TRY(ctx, HM_LT(cublasLtMatmulPreferenceCreate)(&pref), "creating a preference");
    HM_CUBLAS_TRY(
        ctx,
        HM_LT(cublasLtMatmulPreferenceSetAttribute)(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                    &p->workspace_bytes, sizeof p->workspace_bytes),
        "setting the workspace limit");
    HM_CUBLAS_TRY(ctx,
                  HM_LT(cublasLtMatmulAlgoGetHeuristic)(p->handle, p->op, p->la, p->lb, p->lc,
                                                        p->lc, pref, want, cand, got),
                  "asking for an algorithm");
    if (*got == 0)
        st = hm__fail(ctx, HM_STATUS_NOT_SUPPORTED, "cuBLASLt has no algorithm for this %s product",
                      hm_dtype_name(p->d.dtype));
fail:
    if (pref)
        HM_LT(cublasLtMatmulPreferenceDestroy)(pref);
    return st;
}

/* A candidate's time, the median of its rounds (sorted in place). */
static float median(float *t, int n)
{
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && t[b] < t[b - 1]; b--) {
            float x = t[b];
            t[b] = t[b - 1];
            t[b - 1] = x;
        }
    return t[n / 2];
}

/* Times candidate i: `reps` calls back to back on the plan's operands. */
static hm_status time_candidate(hm_context *ctx, const lt_plan *p, const hm_cuda_device *dev,
                                const cublasLtMatmulAlgo_t *algo, const hm_mm_args *a, int reps,
                                cudaEvent_t e[2], float *ms, bool *ok)
{
    hm_status st = HM_STATUS_SUCCESS;
    cudaStream_t stream = dev->stream;
    cublasStatus_t res = CUBLAS_STATUS_SUCCESS;
    HM_CUDA_TRY(ctx, cudaEventRecord(e[0], stream), "autotuning: timing");
    for (int r = 0; r < reps && res == CUBLAS_STATUS_SUCCESS; r++)
        res = run_algo(p, dev, stream, algo, a);
    HM_CUDA_TRY(ctx, cudaEventRecord(e[1], stream), "autotuning: timing");
    HM_CUDA_TRY(ctx, cudaEventSynchronize(e[1]), "autotuning: timing");
    HM_CUDA_TRY(ctx, cudaEventElapsedTime(ms, e[0], e[1]), "autotuning: timing");
    *ms /= (float)reps;
    *ok = res == CUBLAS_STATUS_SUCCESS;
fail:
    return st;
}

/* Autotuning: each candidate timed on the plan's operands, one untimed call each (it also brings
 * the clocks up and sizes a round), then HM_LT_TUNE_ROUNDS rounds in turns, so that a drift of
 * the clocks or the temperature touches every candidate alike. In a round a candidate runs back
 * to back for about HM_LT_TUNE_MS, as a long computation would (single calls between other
 * candidates misjudge power-hungry algorithms: docs/TUNING.md). A candidate's time is its median
 * over the rounds. Sets *best. */
static hm_status autotune(hm_context *ctx, const lt_plan *p, const hm_cuda_device *dev,
                          const cublasLtMatmulHeuristicResult_t *cand, int got, const hm_mm_args *a,
                          int *best)
{
    hm_status st = HM_STATUS_SUCCESS;
    cudaEvent_t e[2] = {NULL, NULL};
    float times[HM_LT_MAX_CANDIDATES][HM_LT_TUNE_ROUNDS], best_ms = -1;
    int reps[HM_LT_MAX_CANDIDATES];
    bool ok[HM_LT_MAX_CANDIDATES];
    HM_CUDA_TRY(ctx, cudaEventCreate(&e[0]), "autotuning: creating an event");
    HM_CUDA_TRY(ctx, cudaEventCreate(&e[1]), "autotuning: creating an event");
    for (int i = 0; i < got && st == HM_STATUS_SUCCESS; i++) {
        float ms = 0;
        st = time_candidate(ctx, p, dev, &cand[i].algo, a, 1, e, &ms, &ok[i]);
        reps[i] = ms > 0 ? (int)(HM_LT_TUNE_MS / ms) + 1 : 1;
        reps[i] = reps[i] > 100 ? 100 : reps[i];
    }
    for (int round = 0; round < HM_LT_TUNE_ROUNDS && st == HM_STATUS_SUCCESS; round++)
        for (int i = 0; i < got && st == HM_STATUS_SUCCESS; i++)
            if (ok[i])
                st = time_candidate(ctx, p, dev, &cand[i].algo, a, reps[i], e, &times[i][round],
                                    &ok[i]);
    for (int i = 0; i < got && st == HM_STATUS_SUCCESS; i++) {
        if (!ok[i]) {
            hm__log(ctx, HM_LOG_DEBUG, "autotune: candidate %d of %d failed", i + 1, got);
            continue;
        }
        float med = median(times[i], HM_LT_TUNE_ROUNDS);
        hm__log(ctx, HM_LOG_DEBUG, "autotune: candidate %d of %d: %.4f ms (%d calls a round)",
                i + 1, got, (double)med, reps[i]);
        if (best_ms < 0 || med < best_ms) {
            best_ms = med;
            *best = i;
        }
    }
    if (st == HM_STATUS_SUCCESS)
        hm__log(ctx, HM_LOG_INFO, "autotune: of %d cuBLASLt candidates timed, chose %d (%.4f ms)",
                got, *best + 1, (double)best_ms);
fail:
    for (int i = 0; i < 2; i++)
        if (e[i])
            cudaEventDestroy(e[i]);
    return st;
}

static hm_status lt_plan_create(hm_context *ctx, const void *desc, const void *args, void **plan)
{
    const hm_matmul_desc *d = desc;
    const hm_mm_args *a = args;
    hm_cuda_device *dev = NULL;
    hm_status st = device_lt(ctx, d->exec.device_id, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    lt_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "no memory for a matmul plan");
    p->d = *d;
    p->device = d->exec.device_id;
    p->handle = dev->lt_handle;
    p->workspace_bytes =
        d->workspace && d->workspace < HM_LT_WORKSPACE ? d->workspace : HM_LT_WORKSPACE;
    if ((st = hm__cuda_grow(ctx, p->device, &dev->workspace, &dev->workspace_bytes,
                            p->workspace_bytes, "cuBLASLt workspace")) != HM_STATUS_SUCCESS) {
        free(p);
        return st;
    }
    cublasLtMatmulHeuristicResult_t cand[HM_LT_MAX_CANDIDATES];
    int want = d->autotune > 1 ? d->autotune : 1, got = 0, best = 0;
    want = want > HM_LT_MAX_CANDIDATES ? HM_LT_MAX_CANDIDATES : want;
    if ((st = describe(ctx, p)) == HM_STATUS_SUCCESS)
        st = candidates(ctx, p, a ? a->bias : NULL, cand, want, &got);
    if (st == HM_STATUS_SUCCESS && d->autotune > 1 && got > 1 && a)
        st = autotune(ctx, p, dev, cand, got, a, &best);
    else if (st == HM_STATUS_SUCCESS)
        hm__log(ctx, HM_LOG_DEBUG, "cuBLASLt: the heuristic's first of %d candidate%s", got,
                got == 1 ? "" : "s");
    if (st != HM_STATUS_SUCCESS) {
        lt_destroy(p);
        return st;
    }
    p->algo = cand[best].algo;
    p->waves = cand[best].wavesCount;
    log_algo(ctx, &p->algo, p->waves);
    *plan = p;
    return HM_STATUS_SUCCESS;
}

static hm_status lt_execute(hm_context *ctx, void *plan, const void *args)
{
    lt_plan *p = plan;
    const hm_mm_args *a = args;
    hm_cuda_device *dev = NULL;
    hm_status st = hm__cuda_device(ctx, p->device, &dev);
    if (st != HM_STATUS_SUCCESS ||
        (st = hm__cuda_grow(ctx, p->device, &dev->workspace, &dev->workspace_bytes,
                            p->workspace_bytes, "cuBLASLt workspace")) != HM_STATUS_SUCCESS)
        return st;
    if (a->bias)
        HM_CUBLAS_TRY(ctx,
                      HM_LT(cublasLtMatmulDescSetAttribute)(
                          p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &a->bias, sizeof a->bias),
                      "setting the bias");
    HM_CUBLAS_TRY(ctx, run_algo(p, dev, hm__cuda_stream(dev), &p->algo, a), "executing");
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

const hm_op_backend hm__cuda_matmul = {
    .error = HM_STATUS_CUBLAS_ERROR,
    .plan = lt_plan_create,
    .execute = lt_execute,
    .destroy = lt_destroy,
    .workspace = HM_LT_WORKSPACE,
};

int hm__cuda_lt_version(hm_context *ctx)
{
    if (hm__cuda_load_lt(ctx) != HM_STATUS_SUCCESS) {
        hm__clear_error(ctx);
        return 0;
    }
    return (int)HM_LT(cublasLtGetVersion)();
}
