/* Shared by the hetmath command's subcommands (the tools folder). Public API only. */
#ifndef HETMATH_TOOLS_CLI_H
#define HETMATH_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hetmath.h"

#define EXIT_OP    1 /* an operation failed: status name and message on stderr */
#define EXIT_USAGE 2 /* the command line is wrong */

/* The context every subcommand uses (created by main). */
extern hm_context *g_ctx;

/* Reports "hetmath: WHAT failed: STATUS: message" and returns EXIT_OP. */
int op_failed(const char *what, hm_status st);

#define TRY(what, call)                                                                            \
    do {                                                                                           \
        hm_status st_ = (call);                                                                    \
        if (st_ != HM_STATUS_SUCCESS)                                                              \
            return op_failed(what, st_);                                                           \
    } while (0)

double now(void);

/* --key value pairs and --flags; each argument consumed is marked, the rest are errors. */
typedef struct args {
    int argc;
    char **argv;
    int used[64];
} args;

const char *arg_value(args *a, const char *key);
int arg_flag(args *a, const char *key);
const char *arg_leftover(const args *a);

/* Parsers: 1 on success. */
int parse_long(const char *s, long long *out);
int parse_bytes(const char *s, long long *out);   /* 4096, 64K, 256M, 1G */
int parse_space(const char *s, hm_device *out);   /* host, pinned, cuda:N */
int parse_exec(const char *s, hm_execution *out); /* cpu, cpu:T, cuda:N */
int parse_shape(const char *s, int64_t *shape, int *ndim);
int parse_dtype(const char *s, hm_dtype *out);

/* "hetmath CMD: MSG: DETAIL" and the --help hint; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *msg, const char *detail);

/* Random operands in [-0.5, 0.5), made on the host and copied to `memory`. */
void fill_random(hm_tensor *h, unsigned long long seed);
hm_status random_tensor(hm_device memory, hm_dtype dtype, int ndim, const int64_t *shape,
                        unsigned long long seed, hm_tensor *out);

const char *exec_name(const hm_execution *e, char *buf, size_t size);

/* --repeat, --warmup, --json of every benchmark. */
int bench_common(args *a, const char *cmd, hm_bench_options *b, int *json);

/* Progress on stderr when the run will take more than a couple of seconds, judged by the first,
 * untimed call. */
void bench_progress(const char *what, double first_call_s, const hm_bench_options *b);

/* One benchmark result as a table line or a JSON object (head_json: its leading fields). */
void print_bench(const char *head_json, const char *head_text, const hm_bench_result *r,
                 const char *rate_name, double rate_work, int json);

/* The subcommands. */
int cmd_info(args *a);
int cmd_demo(args *a);
int cmd_bench(args *a);
int cmd_fft(args *a);
int cmd_matmul(args *a);
int cmd_estimate_transfer(args *a);

/* The notebook's transfer estimate, shared by estimate-transfer and the demo. */
int estimate_transfer(int64_t m, int64_t n, int64_t k, int repeat, int json);

#endif
