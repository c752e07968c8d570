/* The hetmath command: info, demo, bench, fft, matmul, calibrate, estimate, estimate-transfer.
 * Uses the public API only. Exit codes: 0 success, 1 an operation failed (status name and message
 * on stderr), 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_info(args *a)
{
    static const arg_spec spec[] = {{"--json", 0}, {NULL, 0}};
    int rc = args_parse(a, "info", spec, 0);
    if (rc)
        return rc;
    if (arg_flag(a, "--help")) {
        printf(
            "usage: hetmath info [--json]\n"
            "  Version, backends and their libraries, CUDA devices (memory, compute capability,\n"
            "  PCIe link).\n");
        return 0;
    }
    int json = arg_flag(a, "--json");
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
               "  calibrate          measure this machine for --exec auto\n"
               "  estimate           where --exec auto would run an fft or matmul, and why\n"
               "  estimate-transfer  what host<->device copies cost a matmul\n"
               "  help [COMMAND]     this list, or a command's options\n"
               "  version            hetmath's version (also --version, -V)\n"
               "Each command takes --help. Options take their value as --opt value or "
               "--opt=value.\n"
               "Exit status: 0 success, 1 an operation failed, 2 a usage error.\n");
}

static const struct {
    const char *name;
    int (*fn)(args *);
} commands[] = {{"info", cmd_info},         {"demo", cmd_demo},
                {"bench", cmd_bench},       {"fft", cmd_fft},
                {"matmul", cmd_matmul},     {"calibrate", cmd_calibrate},
                {"estimate", cmd_estimate}, {"estimate-transfer", cmd_estimate_transfer}};

/* Runs command `name` on its words; a context is made only when the command will do work (not
 * for --help, which so costs no device probe). */
static int run_command(const char *name, int argc, char **argv)
{
    const char *names[sizeof commands / sizeof commands[0] + 1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        names[i] = commands[i].name;
        if (strcmp(name, commands[i].name) != 0)
            continue;
        int help = 0;
        for (int k = 0; k < argc; k++)
            help |= strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0;
        if (!help) {
            hm_status st = hm_context_create(NULL, &g_ctx);
            if (st != HM_STATUS_SUCCESS) {
                fprintf(stderr, "hetmath: cannot create a context: %s\n", hm_status_name(st));
                return EXIT_OP;
            }
        }
        args a = {.argc = argc, .argv = argv};
        int rc = commands[i].fn(&a);
        hm_context_destroy(g_ctx);
        g_ctx = NULL;
        return rc;
    }
    names[sizeof commands / sizeof commands[0]] = NULL;
    const char *near = nearest_name(name, names);
    if (near)
        fprintf(stderr, "hetmath: unknown command '%s' (did you mean '%s'?)\n", name, near);
    else
        fprintf(stderr, "hetmath: unknown command '%s'\n", name);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        (strcmp(cmd, "help") == 0 && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("hetmath %s\n", hm_version_string());
        return argc == 2 ? 0 : EXIT_USAGE;
    }
    if (argc > ARGS_MAX) {
        fprintf(stderr, "hetmath: too many arguments (at most %d)\n", ARGS_MAX - 2);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "help") == 0) { /* help COMMAND [SUB]: the command's --help */
        char *words[4] = {argc > 3 ? argv[3] : "--help", "--help", NULL, NULL};
        return run_command(argv[2], argc > 3 ? 2 : 1, words);
    }
    return run_command(cmd, argc - 2, argv + 2);
}
