/* Context life cycle, options, the logger and its level, last error, devices. */
#include <stdlib.h>

#include "check.h"

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
    CHECK(hm_context_last_error(NULL) != NULL);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(contexts_and_logger),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_context", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
