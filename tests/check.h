/* Minimal test helpers: checks that print both sides and count failures, a quiet logger that
 * keeps the last messages, and the skip code for tests that need a GPU. */
#ifndef HETMATH_TESTS_CHECK_H
#define HETMATH_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetmath.h"

#define HM_TEST_SKIP 77

static int hm_test_checks;
static int hm_test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        hm_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            hm_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, expected)                                                               \
    do {                                                                                           \
        hm_status s_ = (expr);                                                                     \
        hm_status e_ = (expected);                                                                 \
        hm_test_checks++;                                                                          \
        if (s_ != e_) {                                                                            \
            fprintf(stderr, "%s:%d: %s\n  returned %s, expected %s\n", __FILE__, __LINE__, #expr,  \
                    hm_status_name(s_), hm_status_name(e_));                                       \
            hm_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        hm_test_checks++;                                                                          \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %s\n  %lld != %lld\n", __FILE__, __LINE__, #a, #b, a_,   \
                    b_);                                                                           \
            hm_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (haystack);                                                               \
        hm_test_checks++;                                                                          \
        if (!h_ || !strstr(h_, (needle))) {                                                        \
            fprintf(stderr, "%s:%d: \"%s\"\n  does not contain \"%s\"\n", __FILE__, __LINE__,      \
                    h_ ? h_ : "(null)", (needle));                                                 \
            hm_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(value, limit, what)                                                             \
    do {                                                                                           \
        double v_ = (value), l_ = (limit);                                                         \
        hm_test_checks++;                                                                          \
        if (!(v_ <= l_)) {                                                                         \
            fprintf(stderr, "%s:%d: %s: error %.3e exceeds %.3e\n", __FILE__, __LINE__, (what),    \
                    v_, l_);                                                                       \
            hm_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

/* Ends main(): the summary line ctest shows, and the exit code. */
static inline int hm_test_finish(const char *name)
{
    if (hm_test_failures) {
        printf("%s: %d of %d checks failed\n", name, hm_test_failures, hm_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, hm_test_checks);
    return 0;
}

/* A named case of a test program (libuv's test-list.h): tests/CMakeLists.txt registers each
 * HM_TEST_CASE(name) of a test's case table as the ctest test `program.name`. */
typedef struct hm_test_case {
    const char *name;
    void (*fn)(void);
} hm_test_case;
#define HM_TEST_CASE(fn)                                                                           \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define HM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* main() of a test program: runs every case, or only the one named in argv[1] (`--list`
 * prints the names). A failing case names the command that runs it alone. */
static inline int hm_test_main(int argc, char **argv, const char *program,
                               const hm_test_case *cases, int count)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < count; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    int ran = 0;
    for (int i = 0; i < count; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        int before = hm_test_failures;
        cases[i].fn();
        ran++;
        if (hm_test_failures > before)
            printf("%s: case %s FAILED (run it alone: tests/%s %s)\n", program, cases[i].name,
                   program, cases[i].name);
    }
    if (ran == 0) {
        fprintf(stderr, "%s: no case named %s (--list lists them)\n", program, argv[1]);
        return 2;
    }
    return hm_test_finish(program);
}

/* A logger that keeps everything it is given, for assertions on the log. */
typedef struct hm_test_log {
    char text[1 << 16];
    size_t len;
    int lines;
} hm_test_log;

static inline void hm_test_log_fn(hm_log_level level, const char *message, void *user)
{
    hm_test_log *l = (hm_test_log *)user;
    (void)level;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", message);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
    l->lines++;
}

static inline void hm_test_log_clear(hm_test_log *l)
{
    l->len = 0;
    l->text[0] = '\0';
    l->lines = 0;
}

/* A context of options `o` (their logger replaced) that logs into `log` (or nowhere, with NULL)
 * at `level`, and reads and writes no FFTW wisdom. */
static inline hm_context *hm_test_context_of(hm_context_options o, hm_test_log *log,
                                             hm_log_level level)
{
    o.log_fn = hm_test_log_fn;
    static hm_test_log sink;
    o.log_user_data = log ? log : &sink;
    o.log_level = level;
    hm_context *ctx = NULL;
    if (hm_context_create(&o, &ctx) != HM_STATUS_SUCCESS) {
        fprintf(stderr, "cannot create a context\n");
        exit(1);
    }
    /* Tests keep to their own files: no per-machine FFTW wisdom read or written. */
    hm_cpu_fft_options fo;
    hm_cpu_fft_options_init(&fo);
    fo.wisdom_file = HM_CPU_FFT_NEVER;
    hm_context_set_cpu_fft_options(ctx, &fo);
    if (log)
        hm_test_log_clear(log);
    return ctx;
}

/* A context that logs into `log` (or nowhere, with NULL) at `level`, with pipelines scheduled
 * as `schedule` says (an hm_pipeline_schedule). */
static inline hm_context *hm_test_context_scheduled(hm_test_log *log, hm_log_level level,
                                                    int schedule)
{
    hm_context_options o;
    hm_context_options_init(&o);
    o.pipeline_schedule = schedule;
    return hm_test_context_of(o, log, level);
}

/* A context with the defaults, logging into `log` (or nowhere, with NULL) at `level`. */
static inline hm_context *hm_test_context(hm_test_log *log, hm_log_level level)
{
    return hm_test_context_scheduled(log, level, HM_PIPELINE_MEASURED);
}

/* The number after `prefix` in the log, or -1 when the log has no such text. */
static inline long long hm_test_log_number(const hm_test_log *log, const char *prefix)
{
    const char *at = strstr(log->text, prefix);
    long long n = -1;
    if (!at || sscanf(at + strlen(prefix), "%lld", &n) != 1)
        return -1;
    return n;
}

/* Exits with the skip code when the context sees no CUDA device. */
static inline void hm_test_require_cuda(hm_context *ctx, const char *name)
{
    int n = 0;
    hm_context_device_count(ctx, &n);
    if (n == 0) {
        printf("%s: skipped, no CUDA device\n", name);
        hm_context_destroy(ctx);
        exit(HM_TEST_SKIP);
    }
}

/* The ledger's most recent record of @p operand; 0 when there is none. */
static inline int hm_test_last_record(const hm_context *ctx, const char *operand,
                                      hm_transfer_record *out)
{
    for (size_t i = hm_ledger_count(ctx); i-- > 0;) {
        hm_ledger_record(ctx, i, out);
        if (strcmp(out->operand, operand) == 0)
            return 1;
    }
    return 0;
}

/* Deterministic pseudo-random numbers in [-1, 1) (xorshift), seeded per test. */
static inline double hm_test_rand(unsigned long long *state)
{
    unsigned long long x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

#endif
