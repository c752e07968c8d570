/* Matmul on the GPU through cuBLASLt: one handle and one workspace per device and context,
 * descriptors made at planning, the algorithm from cuBLASLt's heuristic or, with autotuning,
 * the fastest of the top candidates timed on the plan's operands. Epilogs (ReLU, GELU, bias) are
 * cuBLASLt's own, fused into the kernel. */
#include <cublasLt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"

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
                          "hm_matmul: %s: %s (%s)", (what), cublasLtGetStatusString(s_),           \
                          cublasLtGetStatusName(s_));                                              \
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
    void *workspace;
    size_t workspace_bytes;
    float waves; /* the heuristic's wave count for the chosen algorithm */
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

/* The scalars in the scale type: float, double, or their complex pairs. */
static void scalars(const lt_plan *p, void *alpha, void *beta)
{
    cublasComputeType_t ct;
    cudaDataType_t sty;
    compute_types(&p->d, &ct, &sty);
    if (sty == CUDA_R_64F || sty == CUDA_C_64F) {
        memcpy(alpha, p->d.alpha, sizeof p->d.alpha);
        memcpy(beta, p->d.beta, sizeof p->d.beta);
    } else {
        float a[2] = {(float)p->d.alpha[0], (float)p->d.alpha[1]};
        float b[2] = {(float)p->d.beta[0], (float)p->d.beta[1]};
        memcpy(alpha, a, sizeof a);
        memcpy(beta, b, sizeof b);
    }
}

static bool lt_supports(const hm_matmul_desc *d, char *why, size_t why_size)
{
    (void)d;
    (void)why;
    (void)why_size;
    return true;
}

static hm_status layout(hm_context *ctx, cublasLtMatrixLayout_t *l, hm_dtype t, int64_t rows,
                        int64_t cols, const hm_mm_matrix *m, int64_t batch)
{
    hm_status st = HM_STATUS_SUCCESS;
    int64_t r = m->trans ? cols : rows, c = m->trans ? rows : cols;
    HM_CUBLAS_TRY(ctx, cublasLtMatrixLayoutCreate(l, data_type(t), (uint64_t)r, (uint64_t)c, m->ld),
                  "describing a matrix");
    if (batch > 1) {
        int32_t count = (int32_t)batch;
        int64_t stride = m->batch_stride;
        HM_CUBLAS_TRY(ctx,
                      cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                       &count, sizeof count),
                      "setting the batch count");
        HM_CUBLAS_TRY(ctx,
                      cublasLtMatrixLayoutSetAttribute(
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
        cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb)
        cublasLtMatrixLayoutDestroy(p->lb);
    if (p->lc)
        cublasLtMatrixLayoutDestroy(p->lc);
    if (p->op)
        cublasLtMatmulDescDestroy(p->op);
    free(p);
}

/* The device's cuBLASLt handle and workspace, made on first use. */
static hm_status device_lt(hm_context *ctx, int id, hm_cuda_device **out)
{
    hm_cuda_device *dev = NULL;
    hm_status st = hm__cuda_device(ctx, id, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (!dev->lt_handle) {
        cublasLtHandle_t h;
        HM_CUBLAS_TRY(ctx, cublasLtCreate(&h), "creating the cuBLASLt handle");
        dev->lt_handle = h;
    }
    if (!dev->workspace) {
        HM_CUDA_TRY(ctx, cudaMalloc(&dev->workspace, HM_LT_WORKSPACE),
                    "hm_matmul: allocating the cuBLASLt workspace on cuda:%d", id);
        dev->workspace_bytes = HM_LT_WORKSPACE;
    }
    *out = dev;
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

void hm__cuda_matmul_release_device(hm_cuda_device *d)
{
    if (d->lt_handle)
        cublasLtDestroy((cublasLtHandle_t)d->lt_handle);
    d->lt_handle = NULL;
}

static hm_status run_algo(lt_plan *p, cudaStream_t stream, const cublasLtMatmulAlgo_t *algo,
                          const void *first, const void *second, void *out, cublasStatus_t *res)
{
    double alpha[2], beta[2];
    scalars(p, alpha, beta);
    *res = cublasLtMatmul(p->handle, p->op, alpha, first, p->la, second, p->lb, beta, out, p->lc,
                          out, p->lc, algo, p->workspace, p->workspace_bytes, stream);
    return HM_STATUS_SUCCESS;
}

/* The chosen algorithm, as cuBLASLt describes it: what a reader needs to compare two plans. */
static void log_algo(hm_context *ctx, const cublasLtMatmulAlgo_t *algo, float waves)
{
    int32_t id = -1;
    uint32_t tile = 0, stages = 0, splitk = 1, swizzle = 0;
    size_t got;
    cublasLtMatmulAlgoConfigGetAttribute(algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &got);
    cublasLtMatmulAlgoConfigGetAttribute(algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile,
                                         &got);
    cublasLtMatmulAlgoConfigGetAttribute(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages,
                                         sizeof stages, &got);
    cublasLtMatmulAlgoConfigGetAttribute(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk,
                                         sizeof splitk, &got);
    cublasLtMatmulAlgoConfigGetAttribute(algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &swizzle,
                                         sizeof swizzle, &got);
    hm__log(ctx, HM_LOG_INFO,
            "cuBLASLt algorithm %d: tile id %u, stages id %u, split-K %u, swizzle %u, %.2f waves",
            (int)id, (unsigned)tile, (unsigned)stages, (unsigned)splitk, (unsigned)swizzle,
            (double)waves);
}

static hm_status lt_plan_create(hm_context *ctx, const hm_matmul_desc *d, const void *first,
                                const void *second, void *out, const void *bias, void **plan)
{
    hm_status st = HM_STATUS_SUCCESS;
    hm_cuda_device *dev = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    if ((st = device_lt(ctx, d->exec.device_id, &dev)) != HM_STATUS_SUCCESS)
        return st;
    lt_plan *p = calloc(1, sizeof *p);
    if (!p)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "hm_matmul: no memory for a plan");
    p->d = *d;
    p->device = d->exec.device_id;
    p->handle = dev->lt_handle;
    p->workspace = dev->workspace;
    p->workspace_bytes = dev->workspace_bytes;
    cublasComputeType_t ct;
    cudaDataType_t sty;
    compute_types(d, &ct, &sty);
    HM_CUBLAS_TRY(ctx, cublasLtMatmulDescCreate(&p->op, ct, sty), "creating the matmul descriptor");
    cublasOperation_t ta = d->first.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t tb = d->second.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    HM_CUBLAS_TRY(
        ctx, cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta),
        "setting transa");
    HM_CUBLAS_TRY(
        ctx, cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb),
        "setting transb");
    cublasLtEpilogue_t ep = epilogue(d->epilog);
    if (ep != CUBLASLT_EPILOGUE_DEFAULT)
        HM_CUBLAS_TRY(
            ctx,
            cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep),
            "setting the epilog");
    if ((st = layout(ctx, &p->la, d->dtype, d->m, d->k, &d->first, d->batch)) !=
            HM_STATUS_SUCCESS ||
        (st = layout(ctx, &p->lb, d->dtype, d->k, d->n, &d->second, d->batch)) !=
            HM_STATUS_SUCCESS ||
        (st = layout(ctx, &p->lc, d->dtype, d->m, d->n, &d->out, d->batch)) != HM_STATUS_SUCCESS)
        goto fail;

    /* Candidates from the heuristic; the bias pointer must be set for the query to match. */
    if (bias)
        HM_CUBLAS_TRY(ctx,
                      cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                     &bias, sizeof bias),
                      "setting the bias");
    HM_CUBLAS_TRY(ctx, cublasLtMatmulPreferenceCreate(&pref), "creating a preference");
    HM_CUBLAS_TRY(
        ctx,
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &p->workspace_bytes, sizeof p->workspace_bytes),
        "setting the workspace limit");
    cublasLtMatmulHeuristicResult_t cand[HM_LT_MAX_CANDIDATES];
    int want = d->autotune > 1 ? d->autotune : 1, got = 0;
    if (want > HM_LT_MAX_CANDIDATES)
        want = HM_LT_MAX_CANDIDATES;
    HM_CUBLAS_TRY(ctx,
                  cublasLtMatmulAlgoGetHeuristic(p->handle, p->op, p->la, p->lb, p->lc, p->lc, pref,
                                                 want, cand, &got),
                  "asking for an algorithm");
    if (got == 0) {
        st = hm__fail(ctx, HM_STATUS_NOT_SUPPORTED,
                      "hm_matmul: cuBLASLt has no algorithm for this %s product",
                      hm_dtype_name(d->dtype));
        goto fail;
    }
    p->algo = cand[0].algo;
    if (d->autotune > 1 && got > 1 && first && second && out) {
        /* Time each candidate on the plan's operands: one untimed call each (it also brings the
         * clocks up and gives a first time), then HM_LT_TUNE_ROUNDS timed rounds, so that a
         * drift of the clocks or the temperature touches every candidate alike. In a round a
         * candidate runs back to back for about HM_LT_TUNE_MS, as a long computation would: one
         * call at a time, between other candidates, misjudged power-hungry algorithms on the
         * H100 (2026-11-25: at TF32 8192³ it chose one that runs 8% slower in a loop). A
         * candidate's time is its median over the rounds. */
        HM_CUDA_TRY(ctx, cudaEventCreate(&e0), "hm_matmul: creating an event");
        HM_CUDA_TRY(ctx, cudaEventCreate(&e1), "hm_matmul: creating an event");
        float times[HM_LT_MAX_CANDIDATES][HM_LT_TUNE_ROUNDS];
        int reps[HM_LT_MAX_CANDIDATES];
        bool ok[HM_LT_MAX_CANDIDATES];
        for (int i = 0; i < got; i++) {
            cublasStatus_t res;
            float ms = 0;
            HM_CUDA_TRY(ctx, cudaEventRecord(e0, dev->stream), "hm_matmul: timing");
            run_algo(p, dev->stream, &cand[i].algo, first, second, out, &res);
            HM_CUDA_TRY(ctx, cudaEventRecord(e1, dev->stream), "hm_matmul: timing");
            HM_CUDA_TRY(ctx, cudaEventSynchronize(e1), "hm_matmul: timing");
            HM_CUDA_TRY(ctx, cudaEventElapsedTime(&ms, e0, e1), "hm_matmul: timing");
            ok[i] = res == CUBLAS_STATUS_SUCCESS;
            reps[i] = ms > 0 ? (int)(HM_LT_TUNE_MS / ms) + 1 : 1;
            reps[i] = reps[i] > 100 ? 100 : reps[i];
        }
        for (int round = 0; round < HM_LT_TUNE_ROUNDS; round++)
            for (int i = 0; i < got; i++) {
                if (!ok[i])
                    continue;
                cublasStatus_t res = CUBLAS_STATUS_SUCCESS;
                HM_CUDA_TRY(ctx, cudaEventRecord(e0, dev->stream), "hm_matmul: timing");
                for (int r = 0; r < reps[i] && res == CUBLAS_STATUS_SUCCESS; r++)
                    run_algo(p, dev->stream, &cand[i].algo, first, second, out, &res);
                HM_CUDA_TRY(ctx, cudaEventRecord(e1, dev->stream), "hm_matmul: timing");
                HM_CUDA_TRY(ctx, cudaEventSynchronize(e1), "hm_matmul: timing");
                ok[i] = res == CUBLAS_STATUS_SUCCESS;
                HM_CUDA_TRY(ctx, cudaEventElapsedTime(&times[i][round], e0, e1),
                            "hm_matmul: timing");
                times[i][round] /= (float)reps[i];
            }
        float best = -1;
        int best_i = 0;
        for (int i = 0; i < got; i++) {
            if (!ok[i]) {
                hm__log(ctx, HM_LOG_INFO, "autotune: candidate %d of %d failed", i + 1, got);
                continue;
            }
            float *t = times[i]; /* median of the rounds: sort the few in place */
            for (int a = 1; a < HM_LT_TUNE_ROUNDS; a++)
                for (int b = a; b > 0 && t[b] < t[b - 1]; b--) {
                    float x = t[b];
                    t[b] = t[b - 1];
                    t[b - 1] = x;
                }
            float med = t[HM_LT_TUNE_ROUNDS / 2];
            hm__log(ctx, HM_LOG_INFO, "autotune: candidate %d of %d: %.4f ms (%d calls a round)",
                    i + 1, got, (double)med, reps[i]);
            if (best < 0 || med < best) {
                best = med;
                best_i = i;
            }
        }
        p->algo = cand[best_i].algo;
        hm__log(ctx, HM_LOG_INFO, "autotune: chose candidate %d of %d (%.4f ms)", best_i + 1, got,
                (double)best);
    } else {
        hm__log(ctx, HM_LOG_INFO, "cuBLASLt: heuristic's first of %d candidate%s", got,
                got == 1 ? "" : "s");
    }
    for (int i = 0; i < got; i++)
        if (memcmp(&cand[i].algo, &p->algo, sizeof p->algo) == 0) {
            p->waves = cand[i].wavesCount;
            log_algo(ctx, &p->algo, p->waves);
            break;
        }
    cublasLtMatmulPreferenceDestroy(pref);
    if (e0)
        cudaEventDestroy(e0);
    if (e1)
        cudaEventDestroy(e1);
    *plan = p;
    return HM_STATUS_SUCCESS;
fail:
    if (pref)
        cublasLtMatmulPreferenceDestroy(pref);
    if (e0)
        cudaEventDestroy(e0);
    if (e1)
        cudaEventDestroy(e1);
    lt_destroy(p);
    return st;
}

static hm_status lt_execute(hm_context *ctx, void *plan, const void *first, const void *second,
                            void *out, const void *bias)
{
    lt_plan *p = plan;
    hm_cuda_device *dev = NULL;
    hm_status st = hm__cuda_device(ctx, p->device, &dev);
    if (st != HM_STATUS_SUCCESS)
        return st;
    if (bias)
        HM_CUBLAS_TRY(ctx,
                      cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                     &bias, sizeof bias),
                      "setting the bias");
    cublasStatus_t res;
    run_algo(p, dev->stream, &p->algo, first, second, out, &res);
    HM_CUBLAS_TRY(ctx, res, "executing");
    return HM_STATUS_SUCCESS;
fail:
    return st;
}

/* ---- the pipelined host-operand product ---------------------------------------------------- */

/* One row tile of A and D, with the plan for its size. */
static hm_status lt_tile(hm_context *ctx, void *user, int64_t rows, const void *a_tile,
                         void *d_tile)
{
    const hm_mm_pipeline *j = user;
    void *plan = j->plans[hm__tile_size_index(j->tiles, rows)];
    return lt_execute(ctx, plan, j->b_dev, a_tile, d_tile, j->bias_dev);
}

static hm_status lt_pipelined(hm_context *ctx, const hm_mm_pipeline *j)
{
    hm_cuda_pipeline p = {((const lt_plan *)j->plans[0])->device,
                          j->rows,
                          j->tiles,
                          (size_t)j->k * j->elem_size,
                          (size_t)j->n * j->elem_size,
                          j->a_host,
                          j->a_space,
                          j->d_host,
                          j->d_space,
                          j->a_dev,
                          j->d_dev,
                          lt_tile,
                          (void *)j,
                          j->op,
                          "A",
                          "D"};
    return hm__cuda_pipeline_run(ctx, &p);
}

const hm_matmul_backend hm__cuda_matmul = {
    .supports = lt_supports,
    .plan = lt_plan_create,
    .execute = lt_execute,
    .destroy = lt_destroy,
    .pipelined = lt_pipelined,
};

int hm__cuda_lt_version(void)
{
    return (int)cublasLtGetVersion();
}
