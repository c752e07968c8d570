/* The hetmath command: info, demo, bench, fft, matmul, estimate-transfer. Uses the public API
 * only. Exit codes: 0 success, 1 an operation failed (status name and message on stderr),
 * 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_info(args *a)
{
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath info [--json]\n"
            "  Version, backends and their libraries, CUDA devices (memory, compute capability,\n"
            "  PCIe link).\n");
        return 0;
    }
    int json = arg_flag(a, "--json");
    if (arg_leftover(a))
        return usage_error("info", "unknown argument", arg_leftover(a));
    int n = 0;
    hm_context_device_count(g_ctx, &n);
    hm_library_versions v;
    TRY("hm_context_library_versions", hm_context_library_versions(g_ctx, &v));
    if (json) {
        printf("{\"version\": \"%s\", \"blas\": \"%s\", \"fftw\": \"%s\", \"cuda_runtime\": %d, "
               "\"cuda_driver\": %d, \"cublaslt\": %d, \"cufft\": %d, \"devices\": [",
               hm_version_string(), v.blas, v.fftw, v.cuda_runtime, v.cuda_driver, v.cublaslt,
               v.cufft);
    } else {
        printf("hetmath %s\n", hm_version_string());
        printf("cpu backend:  BLAS %s; %s\n", v.blas, v.fftw);
        if (v.cuda_runtime)
            printf("cuda backend: CUDA runtime %d.%d, driver %d.%d, cuBLASLt %d, cuFFT %d\n",
                   v.cuda_runtime / 1000, v.cuda_runtime % 1000 / 10, v.cuda_driver / 1000,
                   v.cuda_driver % 1000 / 10, v.cublaslt, v.cufft);
        else
            printf("cuda backend: not built in\n");
        printf("CUDA devices: %d\n", n);
    }
    for (int i = 0; i < n; i++) {
        hm_device_info info;
        TRY("hm_context_device_info", hm_context_device_info(g_ctx, i, &info));
        if (json)
            printf(
                "%s{\"id\": %d, \"name\": \"%s\", \"memory_bytes\": %zu, \"compute\": \"%d.%d\", "
                "\"multiprocessors\": %d, \"pcie_gen\": %d, \"pcie_width\": %d}",
                i ? ", " : "", i, info.name, info.total_memory, info.compute_major,
                info.compute_minor, info.multiprocessors, info.pcie_generation, info.pcie_width);
        else
            printf("  cuda:%d  %s, %.1f GiB, compute %d.%d, %d SMs, PCIe gen %d x%d\n", i,
                   info.name, (double)info.total_memory / (1 << 30), info.compute_major,
                   info.compute_minor, info.multiprocessors, info.pcie_generation, info.pcie_width);
    }
    if (json)
        printf("]}\n");
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hetmath COMMAND [options]\n"
               "commands:\n"
               "  info               version, backends and CUDA devices\n"
               "  demo               the notebook's walk-through: spaces, copies, matmul, FFT\n"
               "  bench              copy | fft | matmul benchmarks (table, or --json)\n"
               "  fft                FFT of a .npy file\n"
               "  matmul             matrix product of .npy files\n"
               "  estimate-transfer  what host<->device copies cost a matmul\n"
               "Each command takes --help.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (argc > 60) {
        fprintf(stderr, "hetmath: too many arguments\n");
        return EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*fn)(args *);
    } cmds[] = {{"info", cmd_info},     {"demo", cmd_demo},
                {"bench", cmd_bench},   {"fft", cmd_fft},
                {"matmul", cmd_matmul}, {"estimate-transfer", cmd_estimate_transfer}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        hm_status st = hm_context_create(NULL, &g_ctx);
        if (st != HM_STATUS_SUCCESS) {
            fprintf(stderr, "hetmath: cannot create a context: %s\n", hm_status_name(st));
            return EXIT_OP;
        }
        args a = {argc - 2, argv + 2, {0}};
        int rc = cmds[i].fn(&a);
        hm_context_destroy(g_ctx);
        return rc;
    }
    fprintf(stderr, "hetmath: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
