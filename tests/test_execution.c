/* Execution-space resolution: DESIGN.md's rules and every invalid combination, from a table. */
#include "check.h"

typedef struct {
    const char *what;
    hm_execution req;
    int use_default; /* pass NULL instead of req */
    hm_op_class cls;
    int operands;              /* 0: two host operands, 1: two cuda:0 operands, 2: cuda:0 + cuda:1,
                                  3: host + cuda:0 */
    hm_status expect_cpu_only; /* expected on a machine with no device */
    hm_status expect_one_gpu;  /* expected with exactly one device */
    hm_execution_kind kind;    /* resolved kind on success */
} exec_case;

#define OK     HM_STATUS_SUCCESS
#define INV    HM_STATUS_INVALID_EXECUTION
#define NOCUDA HM_STATUS_CUDA_UNAVAILABLE
#define NODEV  HM_STATUS_DEVICE_NOT_FOUND
#define TWODEV HM_STATUS_OPERANDS_ON_DIFFERENT_DEVICES

static const exec_case cases[] = {
    {"NULL means default, host operands -> cpu",
     {0, 0, 0, 0, 0},
     1,
     HM_OP_GENERIC,
     0,
     OK,
     OK,
     HM_EXEC_CPU},
    {"default, host -> cpu",
     {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     0,
     OK,
     OK,
     HM_EXEC_CPU},
    {"default with a device id",
     {HM_EXEC_DEFAULT, 0, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     0,
     INV,
     INV,
     0},
    {"default with threads", {HM_EXEC_DEFAULT, HM_AUTO, 4, 0, 0}, 0, HM_OP_GENERIC, 0, INV, INV, 0},
    {"cpu with 3 threads",
     {HM_EXEC_CPU, HM_AUTO, 3, 0, 0},
     0,
     HM_OP_GENERIC,
     0,
     OK,
     OK,
     HM_EXEC_CPU},
    {"cpu with a device id", {HM_EXEC_CPU, 0, HM_AUTO, 0, 0}, 0, HM_OP_GENERIC, 0, INV, INV, 0},
    {"cpu with 0 threads", {HM_EXEC_CPU, HM_AUTO, 0, 0, 0}, 0, HM_OP_GENERIC, 0, INV, INV, 0},
    {"cpu with -5 threads", {HM_EXEC_CPU, HM_AUTO, -5, 0, 0}, 0, HM_OP_GENERIC, 0, INV, INV, 0},
    {"cuda with threads", {HM_EXEC_CUDA, 0, 2, 0, 0}, 0, HM_OP_GENERIC, 0, INV, INV, 0},
    {"cuda:0 on host operands",
     {HM_EXEC_CUDA, 0, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     0,
     NOCUDA,
     OK,
     HM_EXEC_CUDA},
    {"cuda:7", {HM_EXEC_CUDA, 7, HM_AUTO, 0, 0}, 0, HM_OP_GENERIC, 0, NOCUDA, NODEV, 0},
    {"cuda:-4", {HM_EXEC_CUDA, -4, HM_AUTO, 0, 0}, 0, HM_OP_GENERIC, 0, NOCUDA, NODEV, 0},
    {"unknown kind",
     {(hm_execution_kind)5, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     0,
     INV,
     INV,
     0},
    {"specialized default on host operands",
     {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_SPECIALIZED,
     0,
     NOCUDA,
     OK,
     HM_EXEC_CUDA},
    {"specialized on cpu",
     {HM_EXEC_CPU, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_SPECIALIZED,
     0,
     INV,
     INV,
     0},
    {"default, cuda:0 operands",
     {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     1,
     NOCUDA,
     OK,
     HM_EXEC_CUDA},
    {"cpu, cuda:0 operands",
     {HM_EXEC_CPU, HM_AUTO, 2, 0, 0},
     0,
     HM_OP_GENERIC,
     1,
     OK,
     OK,
     HM_EXEC_CPU},
    {"default, cuda:0 and cuda:1",
     {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     2,
     TWODEV,
     TWODEV,
     0},
    {"default, host and cuda:0",
     {HM_EXEC_DEFAULT, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     3,
     TWODEV,
     TWODEV,
     0},
    {"cuda auto, host and cuda:0",
     {HM_EXEC_CUDA, HM_AUTO, HM_AUTO, 0, 0},
     0,
     HM_OP_GENERIC,
     3,
     NOCUDA,
     OK,
     HM_EXEC_CUDA},
};

static void execution_spaces(void)
{
    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    float x = 0;
    hm_tensor h, d0, d1;
    int64_t one = 1;
    hm_tensor_init(&h, &x, hm_device_host(), HM_DTYPE_F32, 1, &one, NULL);
    hm_tensor_init(&d0, &x, hm_device_cuda(0), HM_DTYPE_F32, 1, &one, NULL);
    hm_tensor_init(&d1, &x, hm_device_cuda(1), HM_DTYPE_F32, 1, &one, NULL);
    const hm_tensor *sets[4][2] = {{&h, &h}, {&d0, &d0}, {&d0, &d1}, {&h, &d0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const exec_case *c = &cases[i];
        /* Two devices or more resolve as one does: the table names cuda:0 and, in operands
         * only, cuda:1. */
        hm_status expect = ndev == 0 ? c->expect_cpu_only : c->expect_one_gpu;
        hm_execution out = {0, 0, 0, 0, 0};
        hm_status st = hm_execution_resolve(ctx, c->use_default ? NULL : &c->req, c->cls,
                                            sets[c->operands], 2, &out);
        if (st != expect)
            fprintf(stderr, "case '%s': %s\n", c->what, hm_context_last_error(ctx));
        CHECK_STATUS(st, expect);
        if (st == HM_STATUS_SUCCESS) {
            CHECK_EQ_INT(out.kind, c->kind);
            if (out.kind == HM_EXEC_CPU) {
                CHECK(out.num_threads >= 1 && out.device_id == HM_AUTO);
                if (c->req.num_threads > 0)
                    CHECK_EQ_INT(out.num_threads, c->req.num_threads);
            } else {
                CHECK_EQ_INT(out.device_id, 0);
                CHECK_EQ_INT(out.num_threads, HM_AUTO);
            }
        } else {
            CHECK_CONTAINS(hm_context_last_error(ctx), "hm_execution_resolve: ");
        }
    }
    hm_execution out;
    CHECK_STATUS(hm_execution_resolve(ctx, NULL, HM_OP_GENERIC, NULL, 0, &out), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(out.kind, HM_EXEC_CPU);
    CHECK_STATUS(hm_execution_resolve(ctx, NULL, HM_OP_GENERIC, NULL, 1, &out),
                 HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_execution_resolve(ctx, NULL, HM_OP_GENERIC, sets[0], 2, NULL),
                 HM_STATUS_INVALID_ARGUMENT);
    /* The messages say what is wrong. */
    hm_execution bad = hm_execution_cpu(0);
    hm_execution_resolve(ctx, &bad, HM_OP_GENERIC, sets[0], 2, &out);
    CHECK_CONTAINS(hm_context_last_error(ctx), "cpu execution with 0 threads");
    hm_execution_resolve(ctx, NULL, HM_OP_GENERIC, sets[2], 2, &out);
    CHECK_CONTAINS(hm_context_last_error(ctx), "operand 1 is on cuda:1 but 0 is on cuda:0");
    hm_context_destroy(ctx);
}

/* Sets of devices: what hm_execution_cuda_set refuses on any machine, and what resolution makes
 * of a set on this one (none, one or several devices). */
static void device_sets(void)
{
    hm_execution e;
    const int one[] = {0}, two[] = {1, 0}, twice[] = {0, 1, 0}, negative[] = {0, -1}, high[] = {64},
              nine[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_STATUS(hm_execution_cuda_set(NULL, 1, &e), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_execution_cuda_set(one, 1, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_execution_cuda_set(one, 0, &e), HM_STATUS_INVALID_EXECUTION);
    CHECK_STATUS(hm_execution_cuda_set(twice, 3, &e), HM_STATUS_INVALID_EXECUTION);
    CHECK_STATUS(hm_execution_cuda_set(negative, 2, &e), HM_STATUS_INVALID_EXECUTION);
    CHECK_STATUS(hm_execution_cuda_set(high, 1, &e), HM_STATUS_INVALID_EXECUTION);
    CHECK_STATUS(hm_execution_cuda_set(nine, 9, &e), HM_STATUS_INVALID_EXECUTION);
    CHECK_STATUS(hm_execution_cuda_set(two, 2, &e), HM_STATUS_SUCCESS);
    CHECK(e.kind == HM_EXEC_CUDA && e.device_id == HM_AUTO && e.num_threads == HM_AUTO);
    CHECK_EQ_INT(e.device_set, 3);

    hm_context *ctx = hm_test_context(NULL, HM_LOG_OFF);
    int ndev = 0;
    hm_context_device_count(ctx, &ndev);
    float x = 0;
    hm_tensor h, d1;
    int64_t n = 1;
    hm_tensor_init(&h, &x, hm_device_host(), HM_DTYPE_F32, 1, &n, NULL);
    hm_tensor_init(&d1, &x, hm_device_cuda(1), HM_DTYPE_F32, 1, &n, NULL);
    const hm_tensor *host[] = {&h}, *on1[] = {&d1};
    hm_execution out;
    /* A set is a cuda space with no device id. */
    hm_execution bad = e;
    bad.device_id = 0;
    CHECK_STATUS(hm_execution_resolve(ctx, &bad, HM_OP_GENERIC, host, 1, &out),
                 HM_STATUS_INVALID_EXECUTION);
    CHECK_CONTAINS(hm_context_last_error(ctx), "a device set is a cuda execution space");
    bad = hm_execution_cpu(HM_AUTO);
    bad.device_set = 3;
    CHECK_STATUS(hm_execution_resolve(ctx, &bad, HM_OP_GENERIC, host, 1, &out),
                 HM_STATUS_INVALID_EXECUTION);
    /* Raw masks bypass hm_execution_cuda_set: too many devices are still refused. */
    bad = e;
    bad.device_set = 0x1ff;
    hm_status st = hm_execution_resolve(ctx, &bad, HM_OP_GENERIC, host, 1, &out);
    CHECK_STATUS(st, ndev == 0 ? HM_STATUS_CUDA_UNAVAILABLE : HM_STATUS_INVALID_EXECUTION);

    hm_execution single;
    CHECK_STATUS(hm_execution_cuda_set(one, 1, &single), HM_STATUS_SUCCESS);
    st = hm_execution_resolve(ctx, &single, HM_OP_GENERIC, host, 1, &out);
    CHECK_STATUS(st, ndev == 0 ? HM_STATUS_CUDA_UNAVAILABLE : HM_STATUS_SUCCESS);
    if (st == HM_STATUS_SUCCESS) /* a set of one is that device */
        CHECK(out.kind == HM_EXEC_CUDA && out.device_id == 0 && out.device_set == 0);
    st = hm_execution_resolve(ctx, &e, HM_OP_GENERIC, host, 1, &out);
    if (ndev == 0) {
        CHECK_STATUS(st, HM_STATUS_CUDA_UNAVAILABLE);
    } else if (ndev == 1) {
        CHECK_STATUS(st, HM_STATUS_DEVICE_NOT_FOUND);
        CHECK_CONTAINS(hm_context_last_error(ctx), "execution device cuda:1 of the set does not");
    } else {
        CHECK_STATUS(st, HM_STATUS_SUCCESS);
        CHECK(out.device_id == 0 && out.device_set == 3); /* the lowest leads host operands */
        CHECK_STATUS(hm_execution_resolve(ctx, &e, HM_OP_GENERIC, on1, 1, &out), HM_STATUS_SUCCESS);
        CHECK(out.device_id == 1 && out.device_set == 3); /* the operands' device leads */
    }
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(execution_spaces),
    HM_TEST_CASE(device_sets),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_execution", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
