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
    if (parse_int(s, -5, 5, &v) && (v < -5 || v > 5))
        abort();
    if (parse_bytes(s, &v) && v <= 0)
        abort();
    if (parse_space(s, &dev) && dev.type != HM_DEVICE_HOST && dev.type != HM_DEVICE_CUDA_HOST &&
        dev.type != HM_DEVICE_CUDA)
        abort();
    if (parse_exec(s, &ex) && ex.device_set != 0) {
        int n = 0;
        for (uint64_t m = ex.device_set; m; m &= m - 1)
            n++;
        if (ex.kind != HM_EXEC_CUDA || ex.device_id != HM_AUTO || n > HM_MAX_DEVICE_SET)
            abort(); /* a set is cuda devices, at most HM_MAX_DEVICE_SET of them */
    }
    if (parse_shape(s, shape, &nd)) {
        if (nd < 1 || nd > HM_MAX_NDIM)
            abort();
        for (int i = 0; i < nd; i++)
            if (shape[i] <= 0)
                abort();
    }
    if (parse_dtype(s, &dt) && hm_dtype_size(dt) == 0)
        abort();
    hm_fft_options fo;
    hm_fft_options_init(&fo);
    if (parse_axes(s, &fo) && (fo.num_axes < 1 || fo.num_axes > HM_FFT_MAX_RANK))
        abort();
    /* The command-line parser on the string cut into words at spaces. */
    char *argv[ARGS_MAX];
    int argc = 0;
    for (char *w = strtok(s, " "); w && argc < ARGS_MAX; w = strtok(NULL, " "))
        argv[argc++] = w;
    static const arg_spec spec[] = {{"-o", 1}, {"--m", 1}, {"--json", 0}, {NULL, 0}};
    args a = {.argc = argc, .argv = argv};
    if (args_parse(&a, "fuzz", spec, 2) == 0) {
        /* Values are never empty (after '=' they may be anything else; a next word starting
         * with "--" is refused as a missing value: tests/test_cli.sh checks that). */
        const char *m = arg_value(&a, "--m"), *o = arg_value(&a, "-o");
        if ((m && !*m) || (o && !*o) || a.npos > 2)
            abort(); /* a value was missing or too many words were taken */
        (void)arg_flag(&a, "--json");
    }
    free(s);
    return 0;
}
