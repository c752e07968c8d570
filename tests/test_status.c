/* Every status code has a distinct name and a message; unknown codes say so. */
#include "check.h"

static void statuses(void)
{
    static const hm_status codes[] = {
#define CODE_(name, value, msg) HM_STATUS_##name,
        HM_STATUS_MAP(CODE_)
#undef CODE_
    };
    const int n = (int)(sizeof codes / sizeof codes[0]);
    CHECK_EQ_INT(n, HM_STATUS_COUNT_);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(codes[i], i); /* values are dense and append-only */
        CHECK(strcmp(hm_status_name(codes[i]), "UNKNOWN") != 0);
        CHECK(strcmp(hm_status_string(codes[i]), "unknown status") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(hm_status_name(codes[i]), hm_status_name(codes[j])) != 0);
    }
    CHECK(strcmp(hm_status_name(HM_STATUS_SUCCESS), "SUCCESS") == 0);
    CHECK(strcmp(hm_status_name(HM_STATUS_TRANSFER_REFUSED), "TRANSFER_REFUSED") == 0);
    CHECK(strcmp(hm_status_name((hm_status)999), "UNKNOWN") == 0);
    CHECK(strcmp(hm_status_string((hm_status)-1), "unknown status") == 0);
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(statuses),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_status", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
