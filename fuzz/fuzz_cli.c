/* libFuzzer target: the hetmath command's argument parsers on arbitrary strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    long long v;
    hm_device dev;
    hm_execution ex;
    int64_t shape[HM_MAX_NDIM];
    int nd;
    hm_dtype dt;
    (void)parse_long(s, &v);
    if (parse_bytes(s, &v) && v <= 0)
        abort();
    if (parse_space(s, &dev) && dev.type != HM_DEVICE_HOST && dev.type != HM_DEVICE_CUDA_HOST &&
        dev.type != HM_DEVICE_CUDA)
        abort();
    (void)parse_exec(s, &ex);
    if (parse_shape(s, shape, &nd)) {
        if (nd < 1 || nd > HM_MAX_NDIM)
            abort();
        for (int i = 0; i < nd; i++)
            if (shape[i] <= 0)
                abort();
    }
    if (parse_dtype(s, &dt) && hm_dtype_size(dt) == 0)
        abort();
    char *argv[3] = {s, s, NULL};
    args a = {2, argv, {0}};
    (void)arg_value(&a, "--m");
    (void)arg_flag(&a, "--json");
    (void)arg_leftover(&a);
    free(s);
    return 0;
}
