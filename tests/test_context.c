/* Context life cycle, options, the logger and its level, last error, devices. */
#include <stdlib.h>

#include "check.h"
#include "hetmath/debug.h"

static void contexts_and_logger(void)
{
    hm_context *ctx = NULL;
    CHECK_STATUS(hm_context_create(NULL, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_create(NULL, &ctx), HM_STATUS_SUCCESS);
    CHECK(ctx != NULL);
    CHECK(strcmp(hm_context_last_error(ctx), "") == 0);
    int count = -1;
    CHECK_STATUS(hm_context_device_count(ctx, &count), HM_STATUS_SUCCESS);
    CHECK(count >= 0);
    CHECK_STATUS(hm_context_device_count(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(hm_context_synchronize(ctx), HM_STATUS_SUCCESS);
    hm_device_info info;
    if (count == 0) {
        CHECK_STATUS(hm_context_device_info(ctx, 0, &info), HM_STATUS_CUDA_UNAVAILABLE);
        CHECK_CONTAINS(hm_context_last_error(ctx), "hm_context_device_info");
    } else {
        CHECK_STATUS(hm_context_device_info(ctx, 0, &info), HM_STATUS_SUCCESS);
        CHECK(info.total_memory > 0 && info.compute_major > 0 && info.name[0] != '\0');
        CHECK_STATUS(hm_context_device_info(ctx, count, &info), HM_STATUS_DEVICE_NOT_FOUND);
    }
    CHECK_STATUS(hm_context_device_info(ctx, 0, NULL), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);
    hm_context_destroy(NULL); /* a no-op */

    /* Options: a bad size, level or pipeline schedule is refused. */
    hm_context_options o;
    hm_context_options_init(&o);
    o.size = 1;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    CHECK(ctx == NULL);
    hm_context_options_init(&o);
    o.log_level = 9;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    hm_context_options_init(&o);
    o.pipeline_schedule = 2;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_INVALID_ARGUMENT);
    CHECK(ctx == NULL);

    /* HETMATH_LOG_LEVEL sets the level when the options leave it to the environment. */
    setenv("HETMATH_LOG_LEVEL", "debug", 1);
    hm_context_options_init(&o);
    static hm_test_log log;
    o.log_fn = hm_test_log_fn;
    o.log_user_data = &log;
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_DEBUG);
    CHECK_CONTAINS(log.text, "hm_context_create: hetmath");
    hm_context_destroy(ctx);
    setenv("HETMATH_LOG_LEVEL", "ERROR", 1);
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_ERROR);
    hm_context_destroy(ctx);
    unsetenv("HETMATH_LOG_LEVEL");
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_WARN);

    /* Level changes; an unknown level is refused with a message naming the function. */
    CHECK_STATUS(hm_context_set_log_level(ctx, HM_LOG_INFO), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_INFO);
    CHECK_STATUS(hm_context_set_log_level(ctx, (hm_log_level)7), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(hm_context_last_status(ctx), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_context_set_log_level: level 7");
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_INFO); /* unchanged */
    /* The next successful call clears the last error. */
    CHECK_STATUS(hm_context_set_log_level(ctx, HM_LOG_DEBUG), HM_STATUS_SUCCESS);
    CHECK(strcmp(hm_context_last_error(ctx), "") == 0);
    CHECK_EQ_INT(hm_context_last_status(ctx), HM_STATUS_SUCCESS);

    /* Messages reach the sink only at or above the level. */
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_context_set_log_level(ctx, HM_LOG_OFF), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_context_set_log_level(ctx, (hm_log_level)-3), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(log.lines, 0);
    CHECK_STATUS(hm_context_set_log_level(ctx, HM_LOG_DEBUG), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_context_set_log_level(ctx, (hm_log_level)-3), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(log.lines, 1);
    CHECK_CONTAINS(log.text, "[INVALID_ARGUMENT]");

    /* The sink can be replaced and restored. */
    CHECK_STATUS(hm_context_set_logger(ctx, NULL, NULL), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_context_set_logger(NULL, NULL, NULL), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);

    CHECK(strlen(hm_version_string()) >= 5);
    /* The library's version is the headers': numerically and as its string. */
    CHECK_EQ_INT(hm_version(), HETMATH_VERSION);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", HETMATH_VERSION_MAJOR, HETMATH_VERSION_MINOR,
             HETMATH_VERSION_PATCH);
    CHECK(strcmp(hm_version_string(), want) == 0);
    CHECK(hm_context_last_error(NULL) != NULL);
}

/* One sentence per failure, always fresh and always naming the public function; failures the
 * caller receives as a status are logged at DEBUG only (a WARN logger sees none). */
static void errors_fresh_and_named(void)
{
    static hm_test_log log;
    hm_context *ctx = hm_test_context(&log, HM_LOG_WARN);
    hm_tensor t;
    int64_t n = 8;
    CHECK_STATUS(hm_context_set_log_level(ctx, (hm_log_level)9), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_context_set_log_level: level 9");
    /* a later failure of another function replaces the sentence, even one that used to leave it */
    hm_transfer_record r;
    CHECK_STATUS(hm_ledger_record(ctx, 99, &r), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_ledger_record: the index is past");
    CHECK_STATUS(hm_ledger_totals(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_ledger_totals: the output pointer is NULL");
    CHECK_STATUS(hm_context_device_count(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_context_device_count:");
    int count;
    CHECK_STATUS(hm_context_device_count(ctx, &count), HM_STATUS_SUCCESS);
    CHECK(strcmp(hm_context_last_error(ctx), "") == 0);
    /* an allocation failure names the function that allocated */
    CHECK_STATUS(hm_debug_inject_failure(ctx, HM_FAULT_HOST_ALLOC, 1), HM_STATUS_SUCCESS);
    CHECK_STATUS(hm_tensor_alloc(ctx, hm_device_host(), HM_DTYPE_F32, 1, &n, &t),
                 HM_STATUS_OUT_OF_HOST_MEMORY);
    CHECK_CONTAINS(hm_context_last_error(ctx), "hm_tensor_alloc: allocation of 32 bytes in host");
    CHECK_EQ_INT(log.lines, 0);
    /* at DEBUG the sentence is logged once, with the status */
    CHECK_STATUS(hm_context_set_log_level(ctx, HM_LOG_DEBUG), HM_STATUS_SUCCESS);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_ledger_totals(ctx, NULL), HM_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(log.lines, 1);
    CHECK_CONTAINS(log.text, "hm_ledger_totals: the output pointer is NULL [INVALID_ARGUMENT]");
    hm_context_destroy(ctx);

    /* A HETMATH_LOG_LEVEL that names no level is reported, once, at WARN. */
    setenv("HETMATH_LOG_LEVEL", "verbose", 1);
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_fn = hm_test_log_fn;
    o.log_user_data = &log;
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_context_create(&o, &ctx), HM_STATUS_SUCCESS);
    unsetenv("HETMATH_LOG_LEVEL");
    CHECK_EQ_INT(hm_context_log_level(ctx), HM_LOG_WARN);
    CHECK_EQ_INT(log.lines, 1);
    CHECK_CONTAINS(log.text, "HETMATH_LOG_LEVEL=verbose is not off, error, warn, info or debug");
    hm_context_destroy(ctx);
}

/* The plan cache can be emptied; the next call plans again. */
static void plan_cache_cleared(void)
{
    static hm_test_log log;
    hm_context *ctx = hm_test_context(&log, HM_LOG_INFO);
    float x[16] = {1, 2, 3}, y[16];
    int64_t n = 8;
    hm_tensor tx, ty;
    hm_tensor_init(&tx, x, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    hm_tensor_init(&ty, y, hm_device_host(), HM_DTYPE_C64, 1, &n, NULL);
    CHECK_STATUS(hm_fft(ctx, &tx, &ty, NULL), HM_STATUS_SUCCESS);
    CHECK(hm_debug_live_plans(ctx) > 0);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_fft(ctx, &tx, &ty, NULL), HM_STATUS_SUCCESS);
    CHECK_CONTAINS(log.text, "plan reused from the context's cache");
    CHECK_STATUS(hm_context_clear_plan_cache(ctx), HM_STATUS_SUCCESS);
    CHECK_EQ_INT(hm_debug_live_plans(ctx), 0);
    hm_test_log_clear(&log);
    CHECK_STATUS(hm_fft(ctx, &tx, &ty, NULL), HM_STATUS_SUCCESS);
    CHECK(strstr(log.text, "plan reused") == NULL);
    CHECK_STATUS(hm_context_clear_plan_cache(NULL), HM_STATUS_INVALID_ARGUMENT);
    hm_context_destroy(ctx);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(contexts_and_logger),
    HM_TEST_CASE(errors_fresh_and_named),
    HM_TEST_CASE(plan_cache_cleared),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_context", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
