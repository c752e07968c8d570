/* The matmul's plan and the checks of its specification (matmul_check.c), shared with the
 * operation's definition (matmul.c). */
#ifndef HETMATH_CORE_MATMUL_CHECK_H
#define HETMATH_CORE_MATMUL_CHECK_H

#include "core/matmul_backend.h"
#include "core/op.h"

enum { MM_A = 0, MM_B = 1, MM_C = 2, MM_D = 3, MM_BIAS = 4, MM_OPERANDS = 5 };

struct hm_matmul_plan {
    hm_op_plan base;
    hm_matmul_options opts;
    int64_t m, n, k, batch;
    bool uniform;     /* one backend call covers the batch */
    int64_t *offsets; /* 3 × batch element offsets of A, B, D when not uniform */
    hm_matmul_desc desc;
};

/* The options: enums, the advanced-only ones on a generic call, autotuning's count. */
hm_status hm__mm_check_options(hm_context *ctx, const char *fn, hm_op_class kind,
                               const hm_matmul_options *o);

/* The operands against each other: dimensions, dtypes, the options that need a dtype, shapes
 * and broadcasting (setting the plan's m, n, k, batch and *result, D's shape row-major), C's
 * and D's shapes, the bias. */
hm_status hm__mm_check_operands(hm_context *ctx, const char *fn, struct hm_matmul_plan *mp,
                                hm_tensor *result);

#endif
