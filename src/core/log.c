/* The logger, the phase banners and the one spaces line every operation uses. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"

static const char *level_name(hm_log_level level)
{
    switch (level) {
    case HM_LOG_ERROR:
        return "ERROR";
    case HM_LOG_WARN:
        return "WARN";
    case HM_LOG_INFO:
        return "INFO";
    case HM_LOG_DEBUG:
        return "DEBUG";
    default:
        return "?";
    }
}

void hm_log_stderr(hm_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000L, level_name(level),
            message);
}

double hm__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool hm__log_enabled(const hm_context *ctx, hm_log_level level)
{
    return ctx && ctx->log_fn && level != HM_LOG_OFF && level <= ctx->log_level;
}

void hm__vlog(hm_context *ctx, hm_log_level level, const char *fmt, va_list ap)
{
    if (!hm__log_enabled(ctx, level))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ctx->log_fn(level, msg, ctx->log_user_data);
}

void hm__log(hm_context *ctx, hm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hm__vlog(ctx, level, fmt, ap);
    va_end(ap);
}

void hm__log_phase(hm_context *ctx, hm_phase phase)
{
    static const char *const banners[] = {
        "= SPECIFICATION PHASE =", "= PLANNING PHASE =", "= EXECUTION PHASE ="};
    hm__log(ctx, HM_LOG_INFO, "%s", banners[phase]);
}

const char *hm__format_bytes(size_t bytes, char *buf, size_t size)
{
    double b = (double)bytes;
    if (b >= 1e9)
        snprintf(buf, size, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, size, "%.1f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, size, "%.1f kB", b / 1e3);
    else
        snprintf(buf, size, "%zu B", bytes);
    return buf;
}

const char *hm__format_execution(const hm_execution *exec, char *buf, size_t size)
{
    switch (exec->kind) {
    case HM_EXEC_CPU:
        snprintf(buf, size, "cpu (%d thread%s)", exec->num_threads,
                 exec->num_threads == 1 ? "" : "s");
        break;
    case HM_EXEC_CUDA:
        if (exec->device_set == 0) {
            snprintf(buf, size, "cuda:%d", exec->device_id);
            break;
        }
        size_t n = (size_t)snprintf(buf, size, "cuda:");
        for (int i = 0; i < 64 && n < size; i++)
            if (exec->device_set >> i & 1)
                n += (size_t)snprintf(buf + n, size - n, "%s%d", n > 5 ? "," : "", i);
        break;
    default:
        snprintf(buf, size, "default");
        break;
    }
    return buf;
}

/* Appends ", name" (or "name" first) to a list, and its bytes to a total. */
static void list_add(char *list, size_t size, size_t *len, const char *name)
{
    if (*len < size)
        *len += (size_t)snprintf(list + *len, size - *len, "%s%s", *len ? ", " : "", name);
}

void hm__log_spaces(hm_context *ctx, hm_device memory, const hm_execution *exec, const char *why,
                    const hm_planned_copy *copies, int count)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    char mem[32], ex[48], tail[512], in[96] = "", back[96] = "", staged[96] = "";
    char inb[32], backb[32], stagedb[32];
    size_t nin = 0, nback = 0, nstaged = 0, bin = 0, bback = 0, bstaged = 0;
    for (int i = 0; i < count; i++) {
        const hm_planned_copy *c = &copies[i];
        bool within = (hm__device_is_host(c->src) && hm__device_is_host(c->dst)) ||
                      hm__device_equal(c->src, c->dst);
        if (within) {
            list_add(staged, sizeof staged, &nstaged, c->operand);
            bstaged += c->bytes;
        } else if (c->back) {
            list_add(back, sizeof back, &nback, c->operand);
            bback += c->bytes;
        } else {
            list_add(in, sizeof in, &nin, c->operand);
            bin += c->bytes;
        }
    }
    hm_device_format(memory, mem, sizeof mem);
    hm__format_execution(exec, ex, sizeof ex);
    hm__format_bytes(bin, inb, sizeof inb);
    hm__format_bytes(bback, backb, sizeof backb);
    hm__format_bytes(bstaged, stagedb, sizeof stagedb);
    size_t n = 0;
    if (nin && nback)
        n = (size_t)snprintf(tail, sizeof tail,
                             "operands %s (%s) will be copied in, result %s (%s) copied back", in,
                             inb, back, backb);
    else if (nin)
        n = (size_t)snprintf(tail, sizeof tail, "operands %s (%s) will be copied in", in, inb);
    else if (nback)
        n = (size_t)snprintf(tail, sizeof tail, "result %s (%s) will be copied back", back, backb);
    else
        n = (size_t)snprintf(tail, sizeof tail, "no copies%s", nstaged ? " between spaces" : "");
    if (nstaged && n < sizeof tail)
        snprintf(tail + n, sizeof tail - n, "; staged within %s memory: %s (%s)",
                 exec->kind == HM_EXEC_CPU ? "host" : ex, staged, stagedb);
    bool said = why && *why;
    hm__log(ctx, HM_LOG_INFO, "memory space: %s; execution space: %s%s%s%s \xe2\x80\x94 %s", mem,
            ex, said ? " (" : "", said ? why : "", said ? ")" : "", tail);
}

void hm__log_operand(hm_context *ctx, const char *name, const hm_tensor *t)
{
    if (!hm__log_enabled(ctx, HM_LOG_INFO))
        return;
    char shape[160] = "", strides[160] = "", mem[32];
    size_t ns = 0, nt = 0;
    for (int i = 0; i < t->ndim; i++) {
        ns += (size_t)snprintf(shape + ns, sizeof shape - ns, "%s%lld", i ? ", " : "",
                               (long long)t->shape[i]);
        nt += (size_t)snprintf(strides + nt, sizeof strides - nt, "%s%lld", i ? ", " : "",
                               (long long)t->strides[i]);
        if (ns >= sizeof shape || nt >= sizeof strides)
            break;
    }
    hm__log(ctx, HM_LOG_INFO, "operand %s: %s [%s] strides [%s] in %s", name,
            hm_dtype_name(t->dtype), shape, strides, hm_device_format(t->device, mem, sizeof mem));
}
