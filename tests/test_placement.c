/* The placement model (src/core/placement.h), an internal part tested through the static library:
 * curves through their measured points, the decision on hand-worked calibrations (the notebook's
 * host-operand product, ties, a missing or unmeasured GPU, operands reused, operands on a
 * device), and the calibration file: an exact round trip, and stale, foreign and corrupted files
 * told apart. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/placement.h"

static void curves(void)
{
    hm_cal_curve c;
    memset(&c, 0, sizeof c);
    CHECK(hm__cal_seconds(&c, 1e6) < 0);
    hm__cal_add(&c, 1e9, 1e-2, 1e-3);
    hm__cal_add(&c, 1e6, 1e-3, 1e-5);
    hm__cal_add(&c, 1e9, 2e-2, 1e-4); /* a size again: replaced */
    CHECK_EQ_INT(c.points, 2);
    CHECK(c.work[0] == 1e6 && c.seconds[1] == 2e-2 && c.plan[1] == 1e-4);
    /* planning: the end points' beyond them (not scaled), log-log between */
    CHECK(hm__cal_plan(&c, 1e3) == 1e-5 && hm__cal_plan(&c, 1e12) == 1e-4);
    CHECK_NEAR(fabs(hm__cal_plan(&c, sqrt(1e6 * 1e9)) - sqrt(1e-5 * 1e-4)) / 1e-5, 1e-12,
               "planning's log-log middle");
    CHECK(hm__cal_seconds(&c, 1e3) == 1e-3); /* below: the smallest call's time */
    CHECK(hm__cal_seconds(&c, 1e6) == 1e-3); /* at a point: its time */
    CHECK_NEAR(hm__cal_seconds(&c, 4e9) / 8e-2, 1 + 1e-12, "above: the largest's rate");
    /* between: linear in log-log, so the geometric middle of the sizes takes the geometric
     * middle of the times */
    CHECK_NEAR(fabs(hm__cal_seconds(&c, sqrt(1e6 * 1e9)) - sqrt(1e-3 * 2e-2)) / 1e-2, 1e-12,
               "log-log middle");
    for (int i = 0; i < 20; i++)
        hm__cal_add(&c, 1e10 + i, 1.0, 0);
    CHECK_EQ_INT(c.points, HM_CAL_POINTS);
}

/* One CPU and one GPU: the CPU at 1 TFLOP/s, the GPU at 50 TFLOP/s with 10 us a call, a 25 GB/s
 * link each way with 10 us a copy, planning 1 ms on the CPU and 20 ms on the GPU. */
static void machine(hm_calibration *cal)
{
    memset(cal, 0, sizeof *cal);
    snprintf(cal->machine, sizeof cal->machine, "test machine");
    hm__cal_add(&cal->cpu[HM_CAL_MATMUL_F32], 1e6, 1e-6, 1e-3);
    hm__cal_add(&cal->cpu[HM_CAL_MATMUL_F32], 1e12, 1.0, 1e-3);
    cal->devices = 1;
    hm_cal_device *d = &cal->dev[0];
    hm__cal_add(&d->op[HM_CAL_MATMUL_F32], 5e8, 1e-5, 20e-3);
    hm__cal_add(&d->op[HM_CAL_MATMUL_F32], 5e13, 1.0, 20e-3);
    /* copies at 25 GB/s after 10 us, at the sizes the cases copy (between them the model is
     * log-log, not affine) */
    static const double sizes[] = {640000, 1600000, 64000000, 80000000, 160000000};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < HM_ARRAY_LEN(sizes); i++)
            hm__cal_add(&d->copy[k], sizes[i], 1e-5 + sizes[i] / 25e9, 0);
}

static void decisions(void)
{
    hm_calibration cal;
    machine(&cal);
    hm_place_cost cost[HM_PLACE_MAX];
    int n = 0;
    /* The notebook: 1.28e11 flops, 160 MB in, 64 MB back, both planned. CPU 0.128 s; GPU
     * 6.41 ms in + 2.56 ms + 2.57 ms out = 11.54 ms. */
    hm_place_call nb = {.family = HM_CAL_MATMUL_F32,
                        .shape = -1,
                        .work = 1.28e11,
                        .in_bytes = {160000000},
                        .out_bytes = 64000000,
                        .out_device = -1,
                        .cpu_planned = true,
                        .dev_planned = {true},
                        .reuse = 1};
    int pick = hm__place_decide(&cal, 1, &nb, cost, &n);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK_NEAR(fabs(cost[0].total_s - 0.128) / 0.128, 1e-12, "the CPU's time");
    CHECK_NEAR(fabs(cost[1].in_s - 6.41e-3) / 6.41e-3, 1e-12, "the copies in");
    CHECK_NEAR(fabs(cost[1].compute_s - 2.56e-3) / 2.56e-3, 1e-12, "the GPU's product");
    CHECK_NEAR(fabs(cost[1].total_s - 11.54e-3) / 11.54e-3, 1e-12, "the GPU's time");
    CHECK(cost[0].moved == 0 && cost[1].moved == 224000000);
    /* Not planned on the GPU: 20 ms more there, still the GPU. */
    nb.dev_planned[0] = false;
    pick = hm__place_decide(&cal, 1, &nb, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK_NEAR(fabs(cost[1].total_s - 31.54e-3) / 31.54e-3, 1e-12, "with its planning");

    /* A small product (2e8 flops, 1.6 MB in, 0.64 MB out): CPU 0.2 ms; GPU 74 + 10 + 35.6 us,
     * and 20 ms of planning: the CPU one-shot, the GPU when 1000 executions share its plan
     * (74 + 20 + 10 + 35.6 = 139.6 us: the copies are every execution's). */
    hm_place_call small = {.family = HM_CAL_MATMUL_F32,
                           .work = 2e8,
                           .in_bytes = {1600000},
                           .out_bytes = 640000,
                           .out_device = -1,
                           .reuse = 1};
    small.cpu_planned = true;
    pick = hm__place_decide(&cal, 1, &small, cost, &n);
    CHECK_EQ_INT(cost[pick].device, -1);
    small.reuse = 1000;
    pick = hm__place_decide(&cal, 1, &small, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK_NEAR(fabs(cost[1].total_s - 139.6e-6) / 139.6e-6, 1e-12, "a shared plan");

    /* A tie (within 1%) goes to where the operands are: make the GPU 0.5% faster. */
    hm_calibration tie;
    machine(&tie);
    memset(&tie.dev[0].op[HM_CAL_MATMUL_F32], 0, sizeof(hm_cal_curve));
    hm_place_call t = {.family = HM_CAL_MATMUL_F32,
                       .work = 1e12,
                       .out_device = -1,
                       .reuse = 1,
                       .cpu_planned = true,
                       .dev_planned = {true}};
    hm__cal_add(&tie.dev[0].op[HM_CAL_MATMUL_F32], 1e12, 0.995, 0);
    pick = hm__place_decide(&tie, 1, &t, cost, &n);
    CHECK_EQ_INT(cost[pick].device, -1);
    hm__cal_add(&tie.dev[0].op[HM_CAL_MATMUL_F32], 1e12, 0.98, 0); /* 2%: the GPU */
    pick = hm__place_decide(&tie, 1, &t, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);

    /* No GPU; a GPU the calibration lacks; a GPU never measured for this family: the CPU, the
     * GPU unknown. */
    pick = hm__place_decide(&cal, 0, &nb, cost, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(cost[pick].device, -1);
    cal.devices = 0;
    pick = hm__place_decide(&cal, 1, &nb, cost, &n);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(cost[pick].device, -1);
    CHECK(!cost[1].known);
    machine(&cal);
    nb.family = HM_CAL_FFT_C64;
    hm__cal_add(&cal.cpu[HM_CAL_FFT_C64], 1e6, 1e-4, 0);
    pick = hm__place_decide(&cal, 1, &nb, cost, &n);
    CHECK_EQ_INT(cost[pick].device, -1);
    CHECK(!cost[1].known);
    /* Nothing known at all: where the operands are. */
    nb.family = HM_CAL_MATMUL_F64;
    nb.in_bytes[0] = 0;
    nb.in_bytes[1] = 160000000;
    nb.out_device = 0;
    pick = hm__place_decide(&cal, 1, &nb, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);

    /* Operands on cuda:0: there, no copies; the CPU would copy them out and the result back. */
    hm_place_call ondev = nb;
    ondev.family = HM_CAL_MATMUL_F32;
    pick = hm__place_decide(&cal, 1, &ondev, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK(cost[1].in_s == 0 && cost[1].out_s == 0);
    CHECK_NEAR(fabs(cost[0].in_s - 6.41e-3) / 6.41e-3, 1e-12, "the CPU's copies out of cuda:0");

    /* Half the inputs on the host, half on cuda:0, the result to cuda:0: the GPU copies the
     * host's half in (3.21 ms), the CPU the device's half out (3.21 ms) and the result back
     * (2.57 ms); each moves its own bytes. */
    hm_place_call mixed = ondev;
    mixed.in_bytes[0] = mixed.in_bytes[1] = 80000000;
    pick = hm__place_decide(&cal, 1, &mixed, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK_NEAR(fabs(cost[1].in_s - 3.21e-3) / 3.21e-3, 1e-12, "the host's half in");
    CHECK_NEAR(fabs(cost[0].in_s - 3.21e-3) / 3.21e-3, 1e-12, "the device's half out");
    CHECK_NEAR(fabs(cost[0].out_s - 2.57e-3) / 2.57e-3, 1e-12, "the result back to cuda:0");
    CHECK(cost[1].moved == 80000000 && cost[0].moved == 144000000);
    /* The GPU excluded (a guard refusing its copies): the CPU, the GPU's terms still given;
     * both excluded: where the result goes. */
    mixed.excluded[1] = true;
    pick = hm__place_decide(&cal, 1, &mixed, cost, &n);
    CHECK_EQ_INT(cost[pick].device, -1);
    CHECK(cost[1].known && cost[1].in_s > 0);
    mixed.excluded[0] = true;
    pick = hm__place_decide(&cal, 1, &mixed, cost, &n);
    CHECK_EQ_INT(cost[pick].device, 0);
}

/* The terms beyond the curves: a thin product's slowdown, a host-operand call's staging, a
 * pipeline's planning. */
static void shapes_and_staging(void)
{
    hm_calibration cal;
    machine(&cal);
    hm_place_cost cost[HM_PLACE_MAX];
    int n = 0;
    /* f64 at half f32's rate; K-thin f32 products at a tenth of square ones' on the CPU */
    hm__cal_add(&cal.cpu[HM_CAL_MATMUL_F64], 1e6, 2e-6, 1e-3);
    hm__cal_add(&cal.cpu[HM_CAL_MATMUL_F64], 1e12, 2.0, 1e-3);
    hm__cal_add(&cal.cpu[HM_CAL_MATMUL_THIN_K], 1e6, 1e-5, 1e-3);
    hm__cal_add(&cal.cpu[HM_CAL_MATMUL_THIN_K], 1e12, 10.0, 1e-3);
    hm_place_call c = {.family = HM_CAL_MATMUL_F64,
                       .shape = -1,
                       .work = 1e9,
                       .out_device = -1,
                       .cpu_planned = true,
                       .reuse = 1};
    hm__place_decide(&cal, 1, &c, cost, &n);
    CHECK_NEAR(fabs(cost[0].compute_s - 2e-3) / 2e-3, 1e-12, "f64's square rate");
    c.shape = HM_CAL_MATMUL_THIN_K;
    hm__place_decide(&cal, 1, &c, cost, &n);
    CHECK_NEAR(fabs(cost[0].compute_s - 2e-2) / 2e-2, 1e-12, "f64 square times the thin slowdown");
    CHECK(cost[1].compute_s == hm__cal_seconds(&cal.dev[0].op[HM_CAL_MATMUL_F64], 1e9)); /* -1 */
    CHECK(!cost[1].known); /* the GPU has no f64 curve */

    /* host operands on the GPU: its staging; a pipeline not planned: its planning instead */
    cal.dev[0].staged_call_s = 5e-5;
    hm__cal_add(&cal.dev[0].pipe[HM_CAL_PIPE_MATMUL], 1e9, 1e-3, 3e-2);
    hm_place_call h = {.family = HM_CAL_MATMUL_F32,
                       .shape = -1,
                       .work = 5e8,
                       .in_bytes = {64000000},
                       .out_device = -1,
                       .pipeline = HM_CAL_PIPE_MATMUL,
                       .reuse = 4};
    hm__place_decide(&cal, 1, &h, cost, &n);
    CHECK_NEAR(fabs(cost[1].compute_s - 6e-5) / 6e-5, 1e-12, "computing and staging");
    CHECK_NEAR(fabs(cost[1].plan_s - 3e-2) / 3e-2, 1e-12, "a pipeline's planning");
    CHECK_NEAR(fabs(cost[1].total_s - (2.57e-3 + 3e-2 / 4 + 6e-5)) / 1e-2, 1e-12, "its total");
    h.pipeline = HM_CAL_PIPE_NONE; /* not pipelined: the product's own planning */
    hm__place_decide(&cal, 1, &h, cost, &n);
    CHECK_NEAR(fabs(cost[1].plan_s - 2e-2) / 2e-2, 1e-12, "the product's planning");
    h.pipeline = HM_CAL_PIPE_MATMUL;
    h.dev_planned[0] = true; /* cached: neither planning */
    hm__place_decide(&cal, 1, &h, cost, &n);
    CHECK(cost[1].plan_s == 0);
    /* operands on the device: no staging */
    h.in_bytes[0] = 0;
    h.in_bytes[1] = 25000000;
    h.out_device = 0;
    hm__place_decide(&cal, 1, &h, cost, &n);
    CHECK_NEAR(fabs(cost[1].compute_s - 1e-5) / 1e-5, 1e-12, "no staging on device operands");
    /* ... but the CPU's call of them has its own */
    cal.dev[0].cpu_staged_call_s = 7e-5;
    double before = cost[0].compute_s;
    hm__place_decide(&cal, 1, &h, cost, &n);
    CHECK_NEAR(fabs(cost[0].compute_s - before - 7e-5) / 7e-5, 1e-9, "the CPU's staging");
}

/* Two devices as one set: a pipeline of host operands divided evenly, each part over its own
 * link, the parts' planning added up. */
static void device_sets(void)
{
    hm_calibration cal;
    machine(&cal);
    cal.devices = 2;
    cal.dev[1] = cal.dev[0];
    hm_place_cost cost[HM_PLACE_MAX];
    int n = 0;
    /* 1e12 flops on host operands of 160 MB, all of them rows (an FFT's x), the result 160 MB:
     * one GPU 6.41 + 20 (planning) + 20 + 6.41 ms = 52.82 ms; the set's parts 3.21 + 10 + 3.21 ms
     * each and 2 × 20 ms of planning = 56.42 ms: one GPU, when the plan is made for this call */
    hm_place_call c = {.family = HM_CAL_MATMUL_F32,
                       .shape = -1,
                       .work = 1e12,
                       .in_bytes = {160000000},
                       .out_bytes = 160000000,
                       .out_device = -1,
                       .pipeline = HM_CAL_PIPE_MATMUL,
                       .tiled_bytes = 160000000,
                       .set_allowed = true,
                       .reuse = 1};
    int pick = hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(cost[3].device, HM_PLACE_SET);
    CHECK_EQ_INT(cost[pick].device, 0);
    CHECK_NEAR(fabs(cost[1].total_s - 52.82e-3) / 52.82e-3, 1e-12, "one GPU");
    CHECK_NEAR(fabs(cost[3].total_s - 56.42e-3) / 56.42e-3, 1e-12, "the set");
    CHECK(cost[3].moved == 320000000);
    /* a plan executed 100 times: the set (16.82 ms against one GPU's 33.02) */
    c.reuse = 100;
    pick = hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK_EQ_INT(cost[pick].device, HM_PLACE_SET);
    CHECK_NEAR(fabs(cost[3].total_s - 16.82e-3) / 16.82e-3, 1e-12, "the set, planned once");
    /* the set's plan cached (not a device's alone): no planning */
    c.reuse = 1;
    c.dev_planned[0] = true;
    hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK(cost[1].plan_s == 0 && cost[3].plan_s > 0);
    c.set_planned = true;
    pick = hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK(cost[3].plan_s == 0);
    CHECK_EQ_INT(cost[pick].device, HM_PLACE_SET);
    c.dev_planned[0] = c.set_planned = false;
    c.reuse = 100;
    /* a device whose copies the guard refuses takes the set with it */
    c.excluded[2] = true;
    pick = hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK(cost[3].excluded);
    CHECK_EQ_INT(cost[pick].device, 0);
    c.excluded[2] = false;
    /* no set: not allowed, one device, a result on a device */
    c.set_allowed = false;
    hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK_EQ_INT(n, 3);
    c.set_allowed = true;
    hm__place_decide(&cal, 1, &c, cost, &n);
    CHECK_EQ_INT(n, 2);
    c.out_device = 0;
    hm__place_decide(&cal, 2, &c, cost, &n);
    CHECK_EQ_INT(n, 3);
}

static void calibration_file(void)
{
    hm_calibration cal, back;
    machine(&cal);
    cal.devices = 2;
    cal.dev[1] = cal.dev[0];
    hm__cal_add(&cal.dev[1].copy[0], 1e6, 1.0 / 52.6e3, 0);
    cal.dev[1].cpu_staged_call_s = 1.0 / 19;
    hm__cal_add(&cal.dev[1].op[HM_CAL_FFT_C128], 1234.5, 1.0 / 3, 1.0 / 7);
    cal.dev[1].staged_call_s = 1.0 / 11;
    hm__cal_add(&cal.dev[1].pipe[HM_CAL_PIPE_FFT], 4321.5, 1.0 / 13, 1.0 / 17);
    char text[8192];
    CHECK(hm__cal_format(&cal, text, sizeof text));
    CHECK(strncmp(text, "hetmath calibration 2\nmachine test machine\n", 43) == 0);
    CHECK_EQ_INT(hm__cal_parse(text, "test machine", &back), HM_CAL_OK);
    CHECK(memcmp(&cal, &back, sizeof cal) == 0); /* every value exactly */
    char small[64];
    CHECK(!hm__cal_format(&cal, small, sizeof small));
    CHECK_EQ_INT(hm__cal_parse(text, "another machine", &back), HM_CAL_FOREIGN);
    char edited[8192];
    snprintf(edited, sizeof edited, "%s", text);
    edited[20] = '3'; /* "hetmath calibration 3" */
    CHECK_EQ_INT(hm__cal_parse(edited, "test machine", &back), HM_CAL_STALE);
    /* corrupted: truncated before its end line, a bad family, a negative size, sizes out of
     * order, too many points, a device out of range, not this format at all */
    static const struct {
        const char *from, *to;
    } edits[] = {{"end\n", ""},
                 {"cpu matmul-f32", "cpu matmul-f16"},
                 {"points 2 ", "points 2 -"},
                 {"points 2 1000000", "points 2 1e+13"},
                 {"points 2", "points 99"},
                 {"device 1 staging", "device 9 staging"},
                 {"hetmath calibration", "hetmath wisdom"}};
    for (size_t i = 0; i < HM_ARRAY_LEN(edits); i++) {
        char *at = strstr(text, edits[i].from);
        CHECK(at != NULL);
        if (!at)
            continue;
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, edits[i].to,
                 at + strlen(edits[i].from));
        hm_cal_verdict v = hm__cal_parse(edited, "test machine", &back);
        if (v != HM_CAL_CORRUPT)
            fprintf(stderr, "edit %zu (%s -> %s) read as %d\n", i, edits[i].from, edits[i].to,
                    (int)v);
        CHECK_EQ_INT(v, HM_CAL_CORRUPT);
    }
}

static const hm_test_case test_cases[] = {
    HM_TEST_CASE(curves),      HM_TEST_CASE(decisions),        HM_TEST_CASE(shapes_and_staging),
    HM_TEST_CASE(device_sets), HM_TEST_CASE(calibration_file),
};

int main(int argc, char **argv)
{
    return hm_test_main(argc, argv, "test_placement", test_cases, (int)HM_ARRAY_LEN(test_cases));
}
