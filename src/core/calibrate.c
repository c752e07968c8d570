/* The machine's calibration for the auto execution space (core/placement.h has the model):
 * measured with hetmath's own calls on a private context (its log off, its plans its own), kept
 * by the context and in a file under the user's cache folder, named for the machine and library
 * versions it was measured with. */
#include "core/calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/cache_file.h"
#include "hetmath/fft.h"
#include "hetmath/matmul.h"
#include "hetmath/transfer.h"

#define CAL_FILE     "calibration"
#define CAL_TEXT_MAX (64 * 1024)
#define COPY_SIZES                                                                                 \
    {                                                                                              \
        4096, 65536, 1 << 20, 8 << 20, 64 << 20                                                    \
    } /* bytes of the copies timed */
#define MAX_RUNS    50
#define MIN_TIMED_S 0.01 /* runs go on to this much time (MAX_RUNS at most) */
#define SIZES       5    /* at most, by family; a 0 ends a shorter list */

/* The sizes measured, by family: n of a product n×n×n (K-thin: n×n×64; small output: 64×64×n),
 * points of a 1-D transform; the CPU's smaller (its rate is reached sooner, and its time is
 * longer). The largest reaches the rate that larger calls are modelled at: the CPU's transforms
 * go past its caches. */
static const int64_t cpu_sizes[HM_CAL_FAMILIES][SIZES] = {
    {32, 128, 512, 1024},
    {32, 128, 384, 768},
    {1 << 8, 1 << 12, 1 << 16, 1 << 20, 1 << 22},
    {1 << 8, 1 << 12, 1 << 16, 1 << 20, 1 << 22},
    {128, 512, 2048, 4096},
    {1024, 16384, 65536, 262144}};
static const int64_t gpu_sizes[HM_CAL_FAMILIES][SIZES] = {{64, 512, 2048, 8192},
                                                          {64, 512, 2048, 4096},
                                                          {1 << 10, 1 << 16, 1 << 22, 1 << 25},
                                                          {1 << 10, 1 << 16, 1 << 22, 1 << 24},
                                                          {256, 1024, 4096, 8192},
                                                          {4096, 65536, 262144, 1 << 19}};

#define THIN          64   /* the small dimensions of the thin shapes */
#define STAGED_POINTS 4096 /* the transform whose host-operand call is timed against its own */

/* What one trial computes: a product M×N×K (d[0], d[1], d[2]), or d[0] transforms of d[1]
 * points (over the last axis). */
typedef struct trial_shape {
    bool fft;
    hm_dtype dtype;
    int64_t d[3];
} trial_shape;

/* The pipelines of host operands measured on a device (their planning measures a schedule):
 * products from the smallest A pipelined (8 MiB) up, and batches of transforms. */
static const trial_shape pipe_shapes[HM_CAL_PIPES][3] = {
    {{0}},
    {{false, HM_DTYPE_F32, {512, 512, 4096}},
     {false, HM_DTYPE_F32, {2048, 2048, 2048}},
     {false, HM_DTYPE_F32, {4096, 4096, 4096}}},
    {{true, HM_DTYPE_C64, {1024, 1024, 0}}, {true, HM_DTYPE_C64, {2048, 2048, 0}}}};

static const hm_dtype family_dtype[HM_CAL_FAMILIES] = {HM_DTYPE_F32,  HM_DTYPE_F64, HM_DTYPE_C64,
                                                       HM_DTYPE_C128, HM_DTYPE_F32, HM_DTYPE_F32};

static bool is_fft(int family)
{
    return family == HM_CAL_FFT_C64 || family == HM_CAL_FFT_C128;
}

/* Size n of a family. */
static trial_shape family_shape(int family, int64_t n)
{
    trial_shape t = {is_fft(family), family_dtype[family], {1, n, 0}};
    if (!t.fft) {
        t.d[0] = t.d[1] = family == HM_CAL_MATMUL_SMALL_OUT ? THIN : n;
        t.d[2] = family == HM_CAL_MATMUL_THIN_K ? THIN : n;
    }
    return t;
}

/* Its flops (the work curves are in). */
static double shape_work(const trial_shape *t)
{
    if (t->fft)
        return 5.0 * (double)t->d[0] * (double)t->d[1] * log2((double)t->d[1]);
    return 2.0 * (double)t->d[0] * (double)t->d[1] * (double)t->d[2];
}

/* ---- measuring -------------------------------------------------------------------------- */

typedef struct meter {
    hm_context *m; /* the private context */
    const char *what;
    char where[16];
} meter;

/* An operand in `space`: host memory zeroed (the CPU's time can depend on values: denormals),
 * a device's left as it is (a GPU's cannot, and zeroing it costs a copy). */
static hm_status operand(meter *mt, hm_device space, hm_dtype dtype, int ndim, const int64_t *shape,
                         hm_tensor *out)
{
    hm_status st = hm_tensor_alloc(mt->m, space, dtype, ndim, shape, out);
    if (st == HM_STATUS_SUCCESS && space.type != HM_DEVICE_CUDA)
        memset(out->data, 0, hm_tensor_nbytes(out));
    return st;
}

/* One operation: x (and w, a product's B) in, y out, a plan. */
typedef struct trial {
    hm_tensor x, w, y;
    hm_matmul_plan *mm;
    hm_fft_plan *fft;
} trial;

static hm_status trial_run(meter *mt, trial *t)
{
    return t->mm ? hm_matmul_execute(mt->m, t->mm, &t->x, &t->w, NULL, &t->y, NULL)
                 : hm_fft_execute(mt->m, t->fft, &t->x, &t->y);
}

static hm_status trial_plan(meter *mt, const trial_shape *sh, hm_execution exec, trial *t)
{
    if (sh->fft) {
        hm_fft_options o;
        hm_fft_options_init(&o);
        o.execution = exec;
        o.blocking = 1;
        o.num_axes = 1;
        o.axes[0] = 1;
        return hm_fft_plan_create(mt->m, &t->x, &t->y, &o, &t->fft);
    }
    hm_matmul_options o;
    hm_matmul_options_init(&o);
    o.execution = exec;
    o.blocking = 1;
    return hm_matmul_plan_create(mt->m, HM_OP_GENERIC, &t->x, &t->w, NULL, &t->y, NULL, &o, &t->mm);
}

/* Operands of shape sh in `space`, planned for `exec` (blocking: a run's time is its work's);
 * *plan_s the planning's time, the lesser of two (the first may pay for what the second finds
 * done: a library's first use, the staging pool). */
static hm_status trial_make(meter *mt, const trial_shape *sh, hm_device space, hm_execution exec,
                            trial *t, double *plan_s)
{
    memset(t, 0, sizeof *t);
    hm_status st;
    if (sh->fft) {
        int64_t x[2] = {sh->d[0], sh->d[1]};
        if ((st = operand(mt, space, sh->dtype, 2, x, &t->x)) != HM_STATUS_SUCCESS ||
            (st = operand(mt, space, sh->dtype, 2, x, &t->y)) != HM_STATUS_SUCCESS)
            return st;
    } else {
        int64_t a[2] = {sh->d[0], sh->d[2]}, b[2] = {sh->d[2], sh->d[1]},
                c[2] = {sh->d[0], sh->d[1]};
        if ((st = operand(mt, space, sh->dtype, 2, a, &t->x)) != HM_STATUS_SUCCESS ||
            (st = operand(mt, space, sh->dtype, 2, b, &t->w)) != HM_STATUS_SUCCESS ||
            (st = operand(mt, space, sh->dtype, 2, c, &t->y)) != HM_STATUS_SUCCESS)
            return st;
    }
    for (int i = 0; i < 2 && st == HM_STATUS_SUCCESS; i++) {
        hm_matmul_plan_destroy(t->mm);
        hm_fft_plan_destroy(t->fft);
        t->mm = NULL;
        t->fft = NULL;
        double t0 = hm__now();
        st = trial_plan(mt, sh, exec, t);
        double s = hm__now() - t0;
        *plan_s = i == 0 || s < *plan_s ? s : *plan_s;
    }
    return st;
}

static void trial_free(meter *mt, trial *t)
{
    hm_matmul_plan_destroy(t->mm);
    hm_fft_plan_destroy(t->fft);
    hm_tensor_free(mt->m, &t->x);
    hm_tensor_free(mt->m, &t->w);
    hm_tensor_free(mt->m, &t->y);
}

/* The least time of a call after a warm one: runs on to MIN_TIMED_S (MAX_RUNS at most), one at
 * least. */
typedef hm_status (*timed_fn)(meter *mt, void *arg);

static hm_status least_time(meter *mt, timed_fn fn, void *arg, double *least)
{
    hm_status st = fn(mt, arg);
    double spent = 0;
    *least = 0;
    for (int r = 0; st == HM_STATUS_SUCCESS && r < MAX_RUNS && (r == 0 || spent < MIN_TIMED_S);
         r++) {
        double t0 = hm__now();
        st = fn(mt, arg);
        double s = hm__now() - t0;
        spent += s;
        *least = r == 0 || s < *least ? s : *least;
    }
    return st;
}

static hm_status run_trial(meter *mt, void *arg)
{
    return trial_run(mt, arg);
}

/* One shape on `space` with `exec`: its run's least time and its planning's. */
static hm_status measure_one(meter *mt, const trial_shape *sh, hm_device space, hm_execution exec,
                             double *run_s, double *plan_s)
{
    trial t;
    hm_status st = trial_make(mt, sh, space, exec, &t, plan_s);
    if (st == HM_STATUS_SUCCESS)
        st = least_time(mt, run_trial, &t, run_s);
    trial_free(mt, &t);
    return st;
}

/* A family's curve on a backend (device -1: the CPU), operands in its own memory. */
static hm_status measure_family(meter *mt, int family, int device, hm_cal_curve *curve)
{
    const int64_t *sizes = device < 0 ? cpu_sizes[family] : gpu_sizes[family];
    hm_device space = device < 0 ? hm_device_host() : hm_device_cuda(device);
    hm_execution exec = device < 0 ? hm_execution_cpu(HM_AUTO) : hm_execution_cuda(device);
    hm_status st = HM_STATUS_SUCCESS;
    memset(curve, 0, sizeof *curve);
    snprintf(mt->where, sizeof mt->where, device < 0 ? "cpu" : "cuda:%d", device);
    mt->what = is_fft(family) ? "an FFT" : "a matmul";
    for (int i = 0; i < SIZES && sizes[i] && st == HM_STATUS_SUCCESS; i++) {
        trial_shape sh = family_shape(family, sizes[i]);
        double run = 0, plan = 0;
        st = measure_one(mt, &sh, space, exec, &run, &plan);
        if (st == HM_STATUS_SUCCESS)
            hm__cal_add(curve, shape_work(&sh), run, plan);
    }
    return st;
}

typedef struct copy_arg {
    hm_tensor *src, *dst;
} copy_arg;

static hm_status run_copy(meter *mt, void *arg)
{
    copy_arg *c = arg;
    return hm_copy(mt->m, c->src, c->dst);
}

/* Device d's copies with the host, pageable memory both ways (what a host operand usually is),
 * at COPY_SIZES bytes. */
static hm_status measure_link(meter *mt, int d, hm_cal_device *dev)
{
    static const int64_t sizes[] = COPY_SIZES;
    snprintf(mt->where, sizeof mt->where, "cuda:%d", d);
    mt->what = "copies";
    hm_status st = HM_STATUS_SUCCESS;
    memset(dev->copy, 0, sizeof dev->copy);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && st == HM_STATUS_SUCCESS; i++) {
        hm_tensor h = {0}, g = {0};
        int64_t n = sizes[i] / 4; /* f32 elements */
        st = operand(mt, hm_device_host(), HM_DTYPE_F32, 1, &n, &h);
        if (st == HM_STATUS_SUCCESS)
            st = operand(mt, hm_device_cuda(d), HM_DTYPE_F32, 1, &n, &g);
        copy_arg c[2] = {{&h, &g}, {&g, &h}};
        for (int k = 0; k < 2 && st == HM_STATUS_SUCCESS; k++) {
            double s = 0;
            st = least_time(mt, run_copy, &c[k], &s);
            hm__cal_add(&dev->copy[k], (double)sizes[i], s, 0);
        }
        hm_tensor_free(mt->m, &h);
        hm_tensor_free(mt->m, &g);
    }
    return st;
}

/* What a call costs beyond its copies and its computation (a small transform's, timed in place
 * and across): on device d with host operands, on the CPU with d's; and the pipelines of host
 * operands: their runs and planning. Needs the copies. */
static hm_status measure_staging(meter *mt, int d, hm_cal_device *dev)
{
    double on_host = 0, on_device = 0, to_device = 0, to_host = 0, plan = 0;
    trial_shape small = family_shape(HM_CAL_FFT_C64, STAGED_POINTS);
    hm_device host = hm_device_host(), device = hm_device_cuda(d);
    hm_execution cpu = hm_execution_cpu(HM_AUTO), gpu = hm_execution_cuda(d);
    mt->what = "a call across spaces";
    hm_status st = measure_one(mt, &small, host, gpu, &to_device, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = measure_one(mt, &small, device, gpu, &on_device, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = measure_one(mt, &small, device, cpu, &to_host, &plan);
    if (st == HM_STATUS_SUCCESS)
        st = measure_one(mt, &small, host, cpu, &on_host, &plan);
    double bytes = (double)STAGED_POINTS * 8;
    double copies = hm__cal_seconds(&dev->copy[0], bytes) + hm__cal_seconds(&dev->copy[1], bytes);
    dev->staged_call_s = to_device - on_device - copies > 0 ? to_device - on_device - copies : 0;
    dev->cpu_staged_call_s = to_host - on_host - copies > 0 ? to_host - on_host - copies : 0;
    mt->what = "a pipeline of host operands";
    for (int k = HM_CAL_PIPE_MATMUL; k < HM_CAL_PIPES && st == HM_STATUS_SUCCESS; k++) {
        memset(&dev->pipe[k], 0, sizeof dev->pipe[k]);
        for (int i = 0; i < 3 && pipe_shapes[k][i].d[0] && st == HM_STATUS_SUCCESS; i++) {
            double run = 0;
            st = measure_one(mt, &pipe_shapes[k][i], hm_device_host(), hm_execution_cuda(d), &run,
                             &plan);
            if (st == HM_STATUS_SUCCESS)
                hm__cal_add(&dev->pipe[k], shape_work(&pipe_shapes[k][i]), run, plan);
        }
    }
    return st;
}

/* A backend's first product and transform, untimed: what the first call of a library pays once
 * (its handles, its workspace, its threads) is no size's cost. */
static hm_status warm_up(meter *mt, int device)
{
    hm_device space = device < 0 ? hm_device_host() : hm_device_cuda(device);
    hm_execution exec = device < 0 ? hm_execution_cpu(HM_AUTO) : hm_execution_cuda(device);
    trial_shape mm = family_shape(HM_CAL_MATMUL_F32, 64), fft = family_shape(HM_CAL_FFT_C64, 1024);
    double run = 0, plan = 0;
    snprintf(mt->where, sizeof mt->where, device < 0 ? "cpu" : "cuda:%d", device);
    mt->what = "a first call";
    hm_status st = measure_one(mt, &mm, space, exec, &run, &plan);
    return st == HM_STATUS_SUCCESS ? measure_one(mt, &fft, space, exec, &run, &plan) : st;
}

/* Every measurement into cal, on the private context mt->m. */
static hm_status measure(meter *mt, int devices, hm_calibration *cal)
{
    hm_status st = warm_up(mt, -1);
    for (int f = 0; f < HM_CAL_FAMILIES && st == HM_STATUS_SUCCESS; f++)
        st = measure_family(mt, f, -1, &cal->cpu[f]);
    for (int d = 0; d < devices && st == HM_STATUS_SUCCESS; d++) {
        st = warm_up(mt, d);
        if (st == HM_STATUS_SUCCESS)
            st = measure_link(mt, d, &cal->dev[d]);
        for (int f = 0; f < HM_CAL_FAMILIES && st == HM_STATUS_SUCCESS; f++)
            st = measure_family(mt, f, d, &cal->dev[d].op[f]);
        if (st == HM_STATUS_SUCCESS)
            st = measure_staging(mt, d, &cal->dev[d]);
        cal->devices = d + 1;
    }
    return st;
}

/* ---- the machine, the file ------------------------------------------------------------- */

/* What a calibration is valid on: CPU and threads, devices, driver, library versions. */
static void machine_key(hm_context *ctx, char *buf, size_t size)
{
    char cpu[256];
    hm_library_versions v;
    memset(&v, 0, sizeof v);
    for (int slot = 0; slot < HM_BACKEND_SLOTS; slot++) {
        const hm_backend_ops *b = hm__backend(slot);
        if (b && b->versions)
            b->versions(ctx, &v);
    }
    hm__machine_cpu(cpu, sizeof cpu);
    size_t n = (size_t)snprintf(buf, size,
                                "%s, %d threads; hetmath %s; BLAS %s; %s; CUDA %d, driver %d, "
                                "cuBLASLt %d, cuFFT %d",
                                cpu, ctx->cpu_threads, HETMATH_VERSION_STRING, v.blas, v.fftw,
                                v.cuda_runtime, v.cuda_driver, v.cublaslt, v.cufft);
    const hm_backend_ops *cuda = hm__backend_for_execution(HM_EXEC_CUDA);
    for (int d = 0; d < ctx->device_count && cuda && n < size; d++) {
        hm_device_info info;
        if (cuda->device_info(ctx, d, &info) == HM_STATUS_SUCCESS)
            n += (size_t)snprintf(buf + n, size - n, "; cuda:%d %s", d, info.name);
    }
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = ' ';
}

static void save(hm_context *ctx, const hm_calibration *cal, char *path, size_t path_size)
{
    char *text = malloc(CAL_TEXT_MAX);
    bool ok = text && hm__cal_format(cal, text, CAL_TEXT_MAX) &&
              hm__cache_path(CAL_FILE, path, path_size) && hm__file_write(path, "", text);
    if (ok)
        hm__log(ctx, HM_LOG_INFO, "auto: calibration written to %s", path);
    else
        hm__log(ctx, HM_LOG_WARN, "auto: the calibration could not be written%s%s",
                path[0] ? " to " : " (no cache folder: neither XDG_CACHE_HOME nor HOME)", path);
    if (!ok)
        path[0] = '\0';
    free(text);
}

/* The calibration file, when it was made here; the log says why not. */
static bool load(hm_context *ctx, const char *machine, hm_calibration *cal)
{
    char path[1024];
    if (!hm__cache_path(CAL_FILE, path, sizeof path))
        return false;
    char *text = hm__file_read(path);
    if (!text) {
        hm__log(ctx, HM_LOG_INFO, "auto: no calibration file at %s: measuring", path);
        return false;
    }
    hm_cal_verdict v = hm__cal_parse(text, machine, cal);
    free(text);
    static const char *const why[] = {"", "not a calibration, or damaged",
                                      "of another format version",
                                      "made on another machine or library version"};
    if (v != HM_CAL_OK) {
        hm__log(ctx, HM_LOG_INFO, "auto: calibration file %s ignored (%s): measuring again", path,
                why[v]);
        return false;
    }
    hm__log(ctx, HM_LOG_INFO, "auto: calibration read from %s", path);
    return true;
}

/* Measures into a new calibration on a private context: ctx keeps its own on failure. */
static hm_status calibrate(hm_context *ctx, const char *fn, hm_calibration_report *report)
{
    double t0 = hm__now();
    hm_calibration *cal = calloc(1, sizeof *cal);
    if (!cal)
        return hm__fail(ctx, HM_STATUS_OUT_OF_HOST_MEMORY, "%s: no memory for a calibration", fn);
    machine_key(ctx, cal->machine, sizeof cal->machine);
    hm_context_options o;
    hm_context_options_init(&o);
    o.log_level = HM_LOG_OFF;
    o.allocator = ctx->allocator.size ? &ctx->allocator : NULL; /* its memory is the caller's too */
    meter mt = {NULL, "a context", "cpu"};
    hm_status st = hm_context_create(&o, &mt.m);
    int devices = ctx->device_count < HM_CAL_DEVICES ? ctx->device_count : HM_CAL_DEVICES;
    if (st == HM_STATUS_SUCCESS)
        st = measure(&mt, devices, cal);
    if (st != HM_STATUS_SUCCESS) {
        hm_status failed = hm__fail(ctx, st, "%s: measuring %s on %s failed: %s", fn, mt.what,
                                    mt.where, mt.m ? hm_context_last_error(mt.m) : "");
        hm_context_destroy(mt.m);
        free(cal);
        return failed;
    }
    hm_context_destroy(mt.m);
    free(ctx->calibration);
    ctx->calibration = cal;
    double s = hm__now() - t0;
    hm__log(ctx, HM_LOG_INFO, "auto: measured the CPU and %d device%s in %.2f s", devices,
            devices == 1 ? "" : "s", s);
    char path[1024] = "";
    if (ctx->calibration_mode == HM_CALIBRATION_CACHED)
        save(ctx, cal, path, sizeof path);
    if (report) {
        report->seconds = s;
        report->devices = devices;
        snprintf(report->path, sizeof report->path, "%s", path);
    }
    return HM_STATUS_SUCCESS;
}

const hm_calibration *hm__calibration(hm_context *ctx, const char *fn)
{
    if (ctx->calibration)
        return ctx->calibration;
    if (ctx->calibration_mode != HM_CALIBRATION_FRESH) {
        hm_calibration *cal = calloc(1, sizeof *cal);
        char machine[sizeof cal->machine];
        if (!cal)
            return NULL;
        machine_key(ctx, machine, sizeof machine);
        if (load(ctx, machine, cal))
            return ctx->calibration = cal;
        free(cal);
    }
    return calibrate(ctx, fn, NULL) == HM_STATUS_SUCCESS ? ctx->calibration : NULL;
}

hm_status hm_context_calibrate(hm_context *ctx, hm_calibration_report *report)
{
    HM_ENTER(ctx, "hm_context_calibrate");
    if (report)
        memset(report, 0, sizeof *report);
    return calibrate(ctx, "hm_context_calibrate", report);
}
