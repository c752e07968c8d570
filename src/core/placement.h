/* Where an operation should run (HM_EXEC_AUTO): a calibration of the machine (each backend's
 * time for an operation family at a few sizes, each device's link and planning cost), its file
 * under the user's cache folder, and the decision among the CPU and the devices by modelled time:
 * copies in + planning (shared by the executions of one plan) + computation + the result copied
 * back to where the operands are. Copies and computation are summed, though a pipeline overlaps
 * them: for the operands a pipeline takes the sum is at most twice the time, and the choice is
 * rarely close there.
 *
 * Pure arithmetic and text, tested through the static library (tests/test_placement.c);
 * calibrate.c measures a calibration and keeps its file, auto.c uses it. */
#ifndef HETMATH_CORE_PLACEMENT_H
#define HETMATH_CORE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HM_CAL_POINTS  8 /* sizes a curve is measured at */
#define HM_CAL_DEVICES 8
#define HM_CAL_VERSION 2    /* of the file's format */
#define HM_PLACE_TIE   0.01 /* candidates this close: where the operands are wins */
#define HM_PLACE_SET   (-2) /* hm_place_cost.device of the candidate of every device at once */
#define HM_PLACE_MAX   (2 + HM_CAL_DEVICES) /* candidates: the CPU, each device, the set */

/* The operation families a calibration measures (dtype matters: f64 runs at a fraction of f32's
 * rate on most GPUs), and two shapes of f32 product that run below a square one's rate: K small
 * (M = N, K = 64: little work per output element) and the output small (M = N = 64, K long: few
 * output tiles to share among threads). A product of another dtype in those shapes is modelled
 * at its square rate times the f32 shape's slowdown at its work. */
typedef enum hm_cal_family {
    HM_CAL_MATMUL_F32 = 0,
    HM_CAL_MATMUL_F64 = 1,
    HM_CAL_FFT_C64 = 2,
    HM_CAL_FFT_C128 = 3,
    HM_CAL_MATMUL_THIN_K = 4,
    HM_CAL_MATMUL_SMALL_OUT = 5,
    HM_CAL_FAMILIES = 6
} hm_cal_family;

/* A backend's time for work (flops) measured at a few sizes, and its planning's there: between
 * them, linear in log(work)-log(seconds); below the smallest, its time (a call's fixed cost);
 * above the largest, the largest's rate (planning: the largest's). No point: unknown. */
typedef struct hm_cal_curve {
    int points;
    double work[HM_CAL_POINTS]; /* ascending */
    double seconds[HM_CAL_POINTS];
    double plan[HM_CAL_POINTS];
} hm_cal_curve;

/* The pipelines of host operands a device measures (whose planning measures a schedule). */
enum { HM_CAL_PIPE_NONE = 0, HM_CAL_PIPE_MATMUL = 1, HM_CAL_PIPE_FFT = 2, HM_CAL_PIPES = 3 };

/* One device: its operation curves; its copies with the host (pageable memory) by bytes (a
 * small copy is mostly its fixed cost, a middling one is staged without overlap, a large one
 * reaches the link's rate); what a call costs beyond its copies and its computation, on the
 * device with host operands and on the CPU with this device's operands (staging, waits); its
 * pipelines of host operands, whose planning is theirs. */
typedef struct hm_cal_device {
    hm_cal_curve op[HM_CAL_FAMILIES];
    hm_cal_curve copy[2]; /* [0] host to device, [1] back; work: bytes */
    double staged_call_s, cpu_staged_call_s;
    hm_cal_curve pipe[HM_CAL_PIPES]; /* by HM_CAL_PIPE_* ([HM_CAL_PIPE_NONE] empty) */
} hm_cal_device;

typedef struct hm_calibration {
    char machine[384]; /* what it was measured on: CPU, GPUs, driver, library version */
    hm_cal_curve cpu[HM_CAL_FAMILIES];
    int devices;
    hm_cal_device dev[HM_CAL_DEVICES];
} hm_calibration;

/* Modelled seconds of work on curve c, and of its planning; negative when the curve is empty. */
double hm__cal_seconds(const hm_cal_curve *c, double work);
double hm__cal_plan(const hm_cal_curve *c, double work);

/* Adds a measurement (kept ascending; a size already there replaced; a full curve unchanged). */
void hm__cal_add(hm_cal_curve *c, double work, double seconds, double plan);

/* A call to place: its family (and, a product of a thin shape, that shape's family; else -1) and
 * work, the bytes of its inputs by where they are ([0] the host, [1 + d] cuda:d), its result's
 * bytes and where the result goes (-1: the host; d: cuda:d; the operands' home, which wins ties),
 * which pipeline a device would run its host operands in, whether each candidate has its plan
 * (cached), and how many executions share one plan (≥ 1: its planning is divided among them;
 * copies are every execution's). */
typedef struct hm_place_call {
    hm_cal_family family;
    int shape;
    double work;
    size_t in_bytes[1 + HM_CAL_DEVICES];
    size_t out_bytes;
    int out_device;
    int pipeline; /* the HM_CAL_PIPE_* a device would run it as */
    bool cpu_planned, dev_planned[HM_CAL_DEVICES];
    int reuse;
    bool excluded[1 + HM_CAL_DEVICES]; /* [0] the CPU, [1 + d] cuda:d: not to be chosen (a
                                          CUDA-only operation, copies the guard refuses) */
    /* Of in_bytes[0], what a pipeline divides among devices (the tiled input's rows; the rest
     * goes to every device whole); and whether the devices together may be a candidate (a set:
     * the pipeline's rows divided evenly, each device over its own link). */
    size_t tiled_bytes;
    bool set_allowed, set_planned;
} hm_place_call;

/* A candidate's modelled terms. */
typedef struct hm_place_cost {
    int device; /* -1: the CPU; HM_PLACE_SET: the first `devices` devices together */
    double in_s, plan_s, compute_s, out_s, total_s;
    size_t moved;  /* bytes its copies move between spaces */
    bool known;    /* the calibration has its curve (and link) */
    bool excluded; /* never chosen (hm_place_call.excluded; the set: any of its devices') */
} hm_place_cost;

/* The candidates (the CPU, then each of the first `devices` devices, in order, then, for a
 * pipeline of host operands with set_allowed and two devices or more, the set of them: at most
 * HM_PLACE_MAX into cost[]) and the choice: the least total time; within HM_PLACE_TIE of
 * it, where the result goes. Unknown candidates (a device the calibration lacks among them) and
 * excluded ones (their terms modelled all the same) are never chosen; with none left, where the
 * result goes. Returns the chosen index into cost[],
 * sets *count. */
int hm__place_decide(const hm_calibration *cal, int devices, const hm_place_call *call,
                     hm_place_cost *cost, int *count);

/* The calibration as text (the file's body) into buf; false when it does not fit. */
bool hm__cal_format(const hm_calibration *cal, char *buf, size_t size);

/* Why a calibration file was not used. */
typedef enum hm_cal_verdict {
    HM_CAL_OK = 0,
    HM_CAL_CORRUPT = 1, /* not this format, or a value out of place */
    HM_CAL_STALE = 2,   /* an older or newer format version */
    HM_CAL_FOREIGN = 3  /* made on another machine (or library version) */
} hm_cal_verdict;

/* Parses text made by hm__cal_format into *cal, checking it was made on `machine`. */
hm_cal_verdict hm__cal_parse(const char *text, const char *machine, hm_calibration *cal);

#endif
