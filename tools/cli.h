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

/* A command's options: its name ("--memory", "-o") and whether it takes a value. A table ends
 * with {NULL, 0}; --help is known to every command. */
typedef struct arg_spec {
    const char *name;
    int takes_value;
} arg_spec;

#define ARGS_MAX 64

/* A command line after args_parse: each option's value ("" for a flag given), the positional
 * words in order. */
typedef struct args {
    int argc;
    char **argv;
    const arg_spec *spec;
    const char *value[ARGS_MAX]; /* by spec entry; NULL when absent */
    const char *pos[ARGS_MAX];
    int npos;
    int help;
} args;

/* Parses a command's words against its options: `--opt value`, `--opt=value`, flags; a word
 * not starting with '-' is positional. Returns 0, or EXIT_USAGE after a message that names the
 * argument and what is wrong with it: an unknown option (and the known one it is closest to), a
 * value missing, a value given to a flag, an option given twice, more than max_positional words.
 * With --help anywhere nothing else is checked (a->help). */
int args_parse(args *a, const char *cmd, const arg_spec *spec, int max_positional);

/* The value of option `name` (NULL when absent), whether a flag was given. */
const char *arg_value(const args *a, const char *name);
int arg_flag(const args *a, const char *name);

/* The name in `names` (NULL-terminated) nearest to `word` by edit distance, when it is near
 * enough to be a slip (at most 2 edits, and less than half the word); else NULL. */
const char *nearest_name(const char *word, const char *const *names);

/* Parsers: 1 on success. Integers must be whole words in [lo, hi] (no overflow). */
int parse_int(const char *s, long long lo, long long hi, long long *out);
int parse_real(const char *s, double *out);       /* a finite number, the whole word */
int parse_bytes(const char *s, long long *out);   /* 4096, 64K, 256M, 1G */
int parse_space(const char *s, hm_device *out);   /* host, pinned, cuda:N */
int parse_exec(const char *s, hm_execution *out); /* cpu, cpu:T, cuda:N, cuda:0,1, auto[:R] */
int parse_shape(const char *s, int64_t *shape, int *ndim);
int parse_axes(const char *s, hm_fft_options *o); /* up to 3 axes such as 0,-1 */
int parse_dtype(const char *s, hm_dtype *out);

/* The usage line's form of --exec, and the option into *exec (left alone when absent): 0, or
 * the usage error's exit code. */
#define EXEC_FORMS "cpu|cpu:T|cuda:N|cuda:0,1|auto[:R]"
int exec_option(const args *a, const char *cmd, hm_execution *exec);

/* --device-memory-limit SIZE into *limit (left alone when absent): 0, or the usage error's
 * exit code. */
int device_limit_option(const args *a, const char *cmd, size_t *limit);

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
int bench_dist(args *a, const char *which); /* cmd_dist.c, with MPI: dist-fft, dist-matmul */
int cmd_fft(args *a);
int cmd_matmul(args *a);
int cmd_estimate_transfer(args *a);
int cmd_calibrate(args *a); /* cmd_auto.c: calibrate, estimate, bench auto */
int cmd_estimate(args *a);
int bench_auto(args *a);

/* The notebook's transfer estimate, shared by estimate-transfer and the demo. */
int estimate_transfer(int64_t m, int64_t n, int64_t k, int repeat, int json);

#endif
