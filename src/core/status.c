/* Names and messages of hm_status, generated from the one list in hetmath/status.h. */
#include "hetmath/status.h"

const char *hm_status_name(hm_status status)
{
    switch (status) {
#define HM_STATUS_NAME_(name, value, msg)                                                          \
    case HM_STATUS_##name:                                                                         \
        return #name;
        HM_STATUS_MAP(HM_STATUS_NAME_)
#undef HM_STATUS_NAME_
    default:
        return "UNKNOWN";
    }
}

const char *hm_status_string(hm_status status)
{
    switch (status) {
#define HM_STATUS_STRING_(name, value, msg)                                                        \
    case HM_STATUS_##name:                                                                         \
        return msg;
        HM_STATUS_MAP(HM_STATUS_STRING_)
#undef HM_STATUS_STRING_
    default:
        return "unknown status";
    }
}
