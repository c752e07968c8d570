/* The placement model, its decision and its file (placement.h says what and why). */
#include "core/placement.h"

#include "core/internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const family_names[HM_CAL_FAMILIES] = {
    "matmul-f32", "matmul-f64", "fft-c64", "fft-c128", "matmul-f32-thin-k", "matmul-f32-small-out"};
static const char *const pipe_names[HM_CAL_PIPES] = {"", "pipe-matmul", "pipe-fft"};
static const char *const copy_names[2] = {"copy-in", "copy-out"};

/* Between the points around work, linear in log-log, of values v; below and above, the end
 * points' (above, scaled by the work when `rate`). */
static double interpolate(const hm_cal_curve *c, const double *v, double work, bool rate)
{
    int n = c->points;
    if (n == 0)
        return -1;
    if (work <= c->work[0])
        return v[0];
    if (work >= c->work[n - 1])
        return rate ? v[n - 1] * work / c->work[n - 1] : v[n - 1];
    int i = 1;
    while (c->work[i] < work)
        i++;
    if (v[i - 1] <= 0 || v[i] <= 0) /* a planning of no measurable time */
        return v[i - 1] +
               (v[i] - v[i - 1]) * (work - c->work[i - 1]) / (c->work[i] - c->work[i - 1]);
    double f = (log(work) - log(c->work[i - 1])) / (log(c->work[i]) - log(c->work[i - 1]));
    return exp(log(v[i - 1]) + f * (log(v[i]) - log(v[i - 1])));
}

double hm__cal_seconds(const hm_cal_curve *c, double work)
{
    return interpolate(c, c->seconds, work, true);
}

double hm__cal_plan(const hm_cal_curve *c, double work)
{
    return interpolate(c, c->plan, work, false);
}

void hm__cal_add(hm_cal_curve *c, double work, double seconds, double plan)
{
    int i = 0;
    while (i < c->points && c->work[i] < work)
        i++;
    if (i < c->points && c->work[i] == work) {
        c->seconds[i] = seconds;
        c->plan[i] = plan;
        return;
    }
    if (c->points == HM_CAL_POINTS)
        return;
    size_t tail = sizeof c->work[0] * (size_t)(c->points - i);
    memmove(&c->work[i + 1], &c->work[i], tail);
    memmove(&c->seconds[i + 1], &c->seconds[i], tail);
    memmove(&c->plan[i + 1], &c->plan[i], tail);
    c->work[i] = work;
    c->seconds[i] = seconds;
    c->plan[i] = plan;
    c->points++;
}

/* The computation's time on a backend's curves: its family's, times a thin shape's slowdown (the
 * f32 shape's time over the f32 square's at this work) when the calibration has both. */
static double compute_s(const hm_cal_curve *curves, const hm_place_call *call)
{
    double s = hm__cal_seconds(&curves[call->family], call->work);
    if (s < 0 || call->shape < 0)
        return s;
    double thin = hm__cal_seconds(&curves[call->shape], call->work);
    double square = hm__cal_seconds(&curves[HM_CAL_MATMUL_F32], call->work);
    return thin > 0 && square > 0 ? s * thin / square : s;
}

/* A copy of `bytes` out of device d (to the host) or into it; negative when its link is
 * unknown. */
static double copy_s(const hm_calibration *cal, int d, size_t bytes, bool into)
{
    return bytes ? hm__cal_seconds(&cal->dev[d].copy[into ? 0 : 1], (double)bytes) : 0;
}

/* Bytes from where the operands are to device `to` (-1: the host): nothing, one copy over a
 * link, or (device to device) through the host, an upper bound of a direct link. */
static double move_s(const hm_calibration *cal, int from, int to, size_t bytes)
{
    if (from == to)
        return 0;
    double out = from >= 0 ? copy_s(cal, from, bytes, false) : 0;
    double in = to >= 0 ? copy_s(cal, to, bytes, true) : 0;
    return out < 0 || in < 0 ? -1 : out + in;
}

/* The terms of one device d (-1: the CPU) computing `share` of the call (1: all of it; a set's
 * part: the tiled input's and the result's share, the other inputs whole), into c. */
static void terms(const hm_calibration *cal, int d, const hm_place_call *call, double share,
                  hm_place_cost *c)
{
    bool measured = d < cal->devices;
    const hm_cal_curve *curves = d < 0 ? cal->cpu : cal->dev[d].op;
    hm_place_call part = *call;
    part.work *= share;
    part.in_bytes[0] -= (size_t)((double)call->tiled_bytes * (1 - share));
    part.out_bytes = (size_t)((double)call->out_bytes * share);
    c->compute_s = measured ? compute_s(curves, &part) : -1;
    c->in_s = 0;
    c->moved = 0;
    for (int from = -1; from < HM_CAL_DEVICES && c->in_s >= 0; from++) {
        size_t bytes = part.in_bytes[from + 1];
        double s = bytes && measured ? move_s(cal, from, d, bytes) : 0;
        c->in_s = s < 0 ? -1 : c->in_s + s;
        c->moved += from == d ? 0 : bytes;
    }
    c->out_s = measured ? move_s(cal, d, call->out_device, part.out_bytes) : -1;
    c->moved += d == call->out_device ? 0 : part.out_bytes;
    bool planned = d < 0 ? call->cpu_planned : call->dev_planned[d];
    bool staged = d >= 0 && (call->in_bytes[0] > 0 || call->out_device < 0);
    /* a pipeline's planning is its own (a schedule measured), where it was measured */
    const hm_cal_curve *plans =
        d >= 0 && call->in_bytes[0] > 0 && cal->dev[d].pipe[call->pipeline].points
            ? &cal->dev[d].pipe[call->pipeline]
            : &curves[call->family];
    c->plan_s = planned || !measured ? 0 : hm__cal_plan(plans, part.work);
    if (measured && staged) /* a call of host operands: its staging and waits */
        c->compute_s += cal->dev[d].staged_call_s;
    for (int from = 0; d < 0 && from < cal->devices; from++) /* the CPU's of device operands */
        if (call->in_bytes[from + 1] > 0 || call->out_device == from) {
            c->compute_s += cal->dev[from].cpu_staged_call_s;
            break;
        }
    c->known = c->compute_s >= 0 && c->in_s >= 0 && c->out_s >= 0;
}

/* The set of the first n devices: each computes its share at once over its own link; the
 * slowest part is the time, the parts' planning (one host thread) adds up. */
static void set_terms(const hm_calibration *cal, int n, const hm_place_call *call, hm_place_cost *c)
{
    memset(c, 0, sizeof *c);
    c->device = HM_PLACE_SET;
    c->known = true;
    double slowest = -1;
    hm_place_call parts = *call; /* the set's plan is its own, cached or not */
    for (int d = 0; d < n; d++)
        parts.dev_planned[d] = call->set_planned;
    for (int d = 0; d < n; d++) {
        hm_place_cost part;
        terms(cal, d, &parts, 1.0 / n, &part);
        c->known &= part.known;
        c->excluded |= call->excluded[d + 1];
        c->plan_s += part.plan_s;
        c->moved += part.moved;
        double run = part.in_s + part.compute_s + part.out_s;
        if (run > slowest) {
            slowest = run;
            c->in_s = part.in_s;
            c->compute_s = part.compute_s;
            c->out_s = part.out_s;
        }
    }
}

int hm__place_decide(const hm_calibration *cal, int devices, const hm_place_call *call,
                     hm_place_cost *cost, int *count)
{
    int n = 0, best = -1, home = -1, reuse = call->reuse > 0 ? call->reuse : 1;
    devices = devices < HM_CAL_DEVICES ? devices : HM_CAL_DEVICES;
    bool set = call->set_allowed && devices >= 2 && call->pipeline != HM_CAL_PIPE_NONE &&
               call->tiled_bytes > 0 && call->out_device < 0;
    for (int d = -1; d < devices + set; d++) {
        hm_place_cost *c = &cost[n];
        if (d == devices) {
            set_terms(cal, devices, call, c);
        } else {
            memset(c, 0, sizeof *c);
            c->device = d;
            c->excluded = call->excluded[d + 1];
            terms(cal, d, call, 1, c);
        }
        c->total_s = c->known ? c->in_s + c->plan_s / reuse + c->compute_s + c->out_s : -1;
        if (c->known && !c->excluded && (best < 0 || c->total_s < cost[best].total_s))
            best = n;
        if (c->device == call->out_device)
            home = n;
        n++;
    }
    *count = n;
    if (best < 0)
        return home >= 0 ? home : 0;
    if (home >= 0 && cost[home].known && !cost[home].excluded &&
        cost[home].total_s <= (1.0 + HM_PLACE_TIE) * cost[best].total_s)
        return home;
    return best;
}

/* ---- the file ------------------------------------------------------------------------------ */

#define HEAD "hetmath calibration "

static bool put(char *buf, size_t size, size_t *used, const char *fmt, ...) HM_PRINTF(4, 5);

static bool put(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = *used < size ? vsnprintf(buf + *used, size - *used, fmt, ap) : -1;
    va_end(ap);
    if (n < 0 || *used + (size_t)n >= size)
        return false;
    *used += (size_t)n;
    return true;
}

static bool put_curve(char *buf, size_t size, size_t *used, const hm_cal_curve *c)
{
    bool ok = put(buf, size, used, " points %d", c->points);
    for (int i = 0; i < c->points && ok; i++)
        ok = put(buf, size, used, " %.17g %.17g %.17g", c->work[i], c->seconds[i], c->plan[i]);
    return ok && put(buf, size, used, "\n");
}

bool hm__cal_format(const hm_calibration *cal, char *buf, size_t size)
{
    size_t used = 0;
    bool ok = put(buf, size, &used, HEAD "%d\nmachine %s\n", HM_CAL_VERSION, cal->machine);
    for (int f = 0; f < HM_CAL_FAMILIES && ok; f++)
        ok = put(buf, size, &used, "cpu %s", family_names[f]) &&
             put_curve(buf, size, &used, &cal->cpu[f]);
    for (int d = 0; d < cal->devices && d < HM_CAL_DEVICES && ok; d++) {
        const hm_cal_device *dev = &cal->dev[d];
        ok = put(buf, size, &used, "device %d staging %.17g %.17g\n", d, dev->staged_call_s,
                 dev->cpu_staged_call_s);
        for (int k = 0; k < 2 && ok; k++)
            ok = put(buf, size, &used, "device %d %s", d, copy_names[k]) &&
                 put_curve(buf, size, &used, &dev->copy[k]);
        for (int f = 0; f < HM_CAL_FAMILIES && ok; f++)
            ok = put(buf, size, &used, "device %d %s", d, family_names[f]) &&
                 put_curve(buf, size, &used, &dev->op[f]);
        for (int k = HM_CAL_PIPE_MATMUL; k < HM_CAL_PIPES && ok; k++)
            ok = put(buf, size, &used, "device %d %s", d, pipe_names[k]) &&
                 put_curve(buf, size, &used, &dev->pipe[k]);
    }
    return ok && put(buf, size, &used, "end\n");
}

static int index_of(const char *name, const char *const *names, int from, int count)
{
    for (int f = from; f < count; f++)
        if (strcmp(name, names[f]) == 0)
            return f;
    return -1;
}

/* " points N w s p ..." at *p into c; advances *p; false when malformed. */
static bool parse_curve(const char **p, hm_cal_curve *c)
{
    int used = 0, n = 0;
    if (sscanf(*p, " points %d%n", &n, &used) != 1 || n < 0 || n > HM_CAL_POINTS)
        return false;
    *p += used;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < n; i++) {
        double w, s, plan;
        if (sscanf(*p, " %lf %lf %lf%n", &w, &s, &plan, &used) != 3 || !(w > 0) || !(s > 0) ||
            !(plan >= 0) || (i > 0 && !(w > c->work[i - 1])))
            return false;
        *p += used;
        c->work[i] = w;
        c->seconds[i] = s;
        c->plan[i] = plan;
    }
    c->points = n;
    return true;
}

hm_cal_verdict hm__cal_parse(const char *text, const char *machine, hm_calibration *cal)
{
    memset(cal, 0, sizeof *cal);
    int version = 0, used = 0;
    if (strncmp(text, HEAD, strlen(HEAD)) != 0)
        return HM_CAL_CORRUPT;
    if (sscanf(text + strlen(HEAD), "%d%n", &version, &used) != 1)
        return HM_CAL_CORRUPT;
    if (version != HM_CAL_VERSION)
        return HM_CAL_STALE;
    const char *p = strchr(text, '\n');
    if (!p || strncmp(p + 1, "machine ", 8) != 0)
        return HM_CAL_CORRUPT;
    p += 9;
    size_t len = strcspn(p, "\n");
    if (len != strlen(machine) || strncmp(p, machine, len) != 0)
        return HM_CAL_FOREIGN;
    snprintf(cal->machine, sizeof cal->machine, "%s", machine);
    p += len;
    for (;;) {
        char word[16], name[32];
        int d = -1;
        if (*p == '\n')
            p++;
        if (strncmp(p, "end\n", 4) == 0 || strcmp(p, "end") == 0)
            return HM_CAL_OK;
        if (sscanf(p, "%15s%n", word, &used) != 1)
            return HM_CAL_CORRUPT; /* truncated: no end line */
        p += used;
        if (strcmp(word, "cpu") == 0) {
            int f = sscanf(p, " %31s%n", name, &used) == 1
                        ? index_of(name, family_names, 0, HM_CAL_FAMILIES)
                        : -1;
            p += used;
            if (f < 0 || !parse_curve(&p, &cal->cpu[f]))
                return HM_CAL_CORRUPT;
        } else if (strcmp(word, "device") == 0) {
            if (sscanf(p, " %d %31s%n", &d, name, &used) != 2 || d < 0 || d >= HM_CAL_DEVICES)
                return HM_CAL_CORRUPT;
            p += used;
            hm_cal_device *dev = &cal->dev[d];
            cal->devices = d + 1 > cal->devices ? d + 1 : cal->devices;
            int f = index_of(name, family_names, 0, HM_CAL_FAMILIES);
            int k = index_of(name, pipe_names, HM_CAL_PIPE_MATMUL, HM_CAL_PIPES);
            int c = index_of(name, copy_names, 0, 2);
            hm_cal_curve *curve = f >= 0   ? &dev->op[f]
                                  : k >= 0 ? &dev->pipe[k]
                                  : c >= 0 ? &dev->copy[c]
                                           : NULL;
            if (strcmp(name, "staging") == 0) {
                if (sscanf(p, " %lf %lf%n", &dev->staged_call_s, &dev->cpu_staged_call_s, &used) !=
                        2 ||
                    !(dev->staged_call_s >= 0) || !(dev->cpu_staged_call_s >= 0))
                    return HM_CAL_CORRUPT;
                p += used;
            } else if (!curve || !parse_curve(&p, curve)) {
                return HM_CAL_CORRUPT;
            }
        } else {
            return HM_CAL_CORRUPT;
        }
        if (*p != '\n')
            return HM_CAL_CORRUPT;
    }
}
