/* A long 1-D c2c transform split into two passes of short ones (the "four-step" algorithm):
 * with N = n1 * n2, input index j = j1 * n2 + j2 and output index k = k1 + n1 * k2,
 *
 *     X[k1 + n1 k2] = sum_j2 W_n2^(j2 k2) * [ W_N^(j2 k1) * sum_j1 x[j1 n2 + j2] W_n1^(j1 k1) ].
 *
 * Pass A takes blocks of columns j2: gathers them into a thread's scratch, transforms each
 * (n1 points, a one-thread FFTW plan), and writes them times the twiddles W_N^(j2 k1) (and the
 * normalisation) as segments of the rows of a work array T[k1][j2]. Pass B takes blocks of T's
 * rows k1: transforms each (n2 points) into scratch and scatters it to X[k1 + n1 k2].
 *
 * Why: FFTW's threaded plan of one long transform divides it among the threads at every stage
 * and synchronises them in between (docs/TUNING.md has what that costs). Here each pass reads
 * and writes the data once, the threads meet twice, and every block is a short transform in
 * cache.
 * Blocks are claimed from a shared counter, so a thread the host delays holds up one block,
 * not a fixed share. The planner keeps the split only when it times faster than FFTW's plan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "backends/cpu/cpu_fft.h"
#include "core/pool.h"

/* A block takes HM_SPLIT_SEGMENT bytes of every row it gathers or scatters (32 c64 points). The
 * gathers read rows a whole block apart, which no hardware prefetcher follows, so each thread
 * asks for the row HM_SPLIT_PREFETCH rows ahead. Scratch and work rows are padded by a cache
 * line: rows 2^k bytes apart would share a cache set. docs/TUNING.md has the measurements. */
#define HM_SPLIT_SEGMENT    256
#define HM_SPLIT_PREFETCH   16
#define HM_SPLIT_MIN_FACTOR 16

struct hm_fft_split {
    hm_fft_desc d;
    int64_t n1, n2;
    int64_t n1p, n2p;         /* padded row lengths of the pass-A scratch and of T */
    int64_t block_a, block_b; /* columns in a pass-A block, rows in a pass-B block */
    void *plan_a, *tail_a;    /* block_a rows of n1 points, scratch -> scratch; the last block */
    void *plan_b, *tail_b;    /* block_b rows of n2 points, T -> scratch; the last block */
    /* W_N^(j2 k1) * scale = hi[j2][k1 / s] * lo[j2][k1 % s], complex numbers in the transform's
     * precision, each rounded once from double: n2 * (n1 / s + s) entries rather than N. */
    void *tw_hi, *tw_lo;
    int64_t s, hi_per_col;
    char *work;            /* T[k1][j2], rows n2p apart */
    char *scratch;         /* two blocks for each thread */
    size_t scratch_stride; /* bytes of one block, a multiple of 64 */
    int threads;
    size_t bytes; /* work + tables + scratch */
};

/* n1: the divisor of n closest to sqrt(n) from below, or, when one of at least
 * HM_SPLIT_MIN_FACTOR lies within a quarter of that, the closest multiple of `line` elements.
 * Pass B writes blocks of the output's rows of n1 points, so with rows of whole cache lines no
 * two threads write one line. */
static int64_t inner_factor(int64_t n, int64_t line)
{
    int64_t root = (int64_t)sqrt((double)n), f = root;
    while (f > 1 && n % f)
        f--;
    for (int64_t g = root - root % line; g >= HM_SPLIT_MIN_FACTOR && 4 * g >= root; g -= line)
        if (n % g == 0)
            return g;
    return f;
}

/* table[at] = exp(sign * 2 pi i * m / n) * scale, with m reduced mod n first so the angle stays
 * exact; computed in double, stored in the table's precision. */
static void twiddle(void *table, int64_t at, int64_t m, int64_t n, double sign, double scale,
                    bool dbl)
{
    double a = 2.0 * 3.14159265358979323846 * (double)(m % n) / (double)n;
    double re = scale * cos(a), im = scale * sign * sin(a);
    if (dbl) {
        ((double *)table)[2 * at] = re;
        ((double *)table)[2 * at + 1] = im;
    } else {
        ((float *)table)[2 * at] = (float)re;
        ((float *)table)[2 * at + 1] = (float)im;
    }
}

static bool make_tables(hm_fft_split *s)
{
    int64_t n1 = s->n1, n2 = s->n2, n = n1 * n2;
    s->s = (int64_t)ceil(sqrt((double)n1));
    s->hi_per_col = (n1 + s->s - 1) / s->s;
    size_t e = hm__fftw_elem_out(&s->d);
    s->tw_hi = malloc(e * (size_t)(n2 * s->hi_per_col));
    s->tw_lo = malloc(e * (size_t)(n2 * s->s));
    if (!s->tw_hi || !s->tw_lo)
        return false;
    double sign = (double)s->d.direction; /* HM_FFT_FORWARD is FFTW's -1 */
    for (int64_t j2 = 0; j2 < n2; j2++) {
        for (int64_t h = 0; h < s->hi_per_col; h++)
            twiddle(s->tw_hi, j2 * s->hi_per_col + h, j2 * h * s->s, n, sign, 1.0,
                    s->d.double_precision);
        for (int64_t l = 0; l < s->s; l++)
            twiddle(s->tw_lo, j2 * s->s + l, j2 * l, n, sign, s->d.scale, s->d.double_precision);
    }
    s->bytes += e * (size_t)(n2 * (s->hi_per_col + s->s));
    return true;
}

hm_fft_split *hm__fft_split_create(const hm_fft_desc *d, int threads)
{
    if (d->type != HM_FFT_C2C || d->rank != 1 || d->batch_rank > 1 || threads < 1)
        return NULL;
    size_t e = hm__fftw_elem_out(d);
    int64_t line = (int64_t)(64 / e), b = (int64_t)(HM_SPLIT_SEGMENT / e);
    int64_t n1 = inner_factor(d->n[0], line), n2 = n1 > 0 ? d->n[0] / n1 : 0;
    if (n1 < HM_SPLIT_MIN_FACTOR || n2 < HM_SPLIT_MIN_FACTOR)
        return NULL;
    hm_fft_split *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Narrower blocks when the wide ones would leave threads without two blocks each; whole
     * cache lines of T's rows either way (a line shared by two threads' blocks would move back
     * and forth between their cores). */
    int64_t share = (n1 < n2 ? n1 : n2) / (2 * (int64_t)threads);
    b = b < share ? b : share;
    b = b < line ? line : b - b % line;
    s->d = *d;
    s->n1 = n1;
    s->n2 = n2;
    s->n1p = n1 + line;
    s->n2p = (n2 + line - 1) / line * line + line;
    s->block_a = b < n2 ? b : n2;
    s->block_b = b < n1 ? b : n1;
    s->threads = threads;
    int64_t longer = s->n1p > s->n2p ? s->n1p : s->n2p;
    s->scratch_stride = ((size_t)(b * longer) * e + 63) & ~(size_t)63;
    s->work = fftw_malloc((size_t)(n1 * s->n2p) * e);
    s->scratch = fftw_malloc(s->scratch_stride * 2 * (size_t)threads);
    s->bytes = (size_t)(n1 * s->n2p) * e + s->scratch_stride * 2 * (size_t)threads;
    if (!s->work || !s->scratch || !make_tables(s))
        goto fail;
    /* Touched now, not in the first run; and no garbage (subnormals) for the planner to time. */
    memset(s->work, 0, (size_t)(n1 * s->n2p) * e);
    memset(s->scratch, 0, s->scratch_stride * 2 * (size_t)threads);
    /* Plans on the first thread's blocks and T's first rows; every thread's blocks and every
     * block of T's rows start as aligned (64 bytes), as FFTW's new-array execution needs. */
    char *s1 = s->scratch, *s2 = s->scratch + s->scratch_stride;
    int64_t tail_a = n2 % s->block_a, tail_b = n1 % s->block_b;
    s->plan_a = hm__fftw_rows_plan(d, n1, s->block_a, s->n1p, s1, s2);
    s->plan_b = hm__fftw_rows_plan(d, n2, s->block_b, s->n2p, s->work, s1);
    s->tail_a = tail_a ? hm__fftw_rows_plan(d, n1, tail_a, s->n1p, s1, s2) : NULL;
    s->tail_b = tail_b ? hm__fftw_rows_plan(d, n2, tail_b, s->n2p, s->work, s1) : NULL;
    if (!s->plan_a || !s->plan_b || (tail_a && !s->tail_a) || (tail_b && !s->tail_b))
        goto fail;
    return s;
fail:
    hm__fft_split_destroy(s);
    return NULL;
}

void hm__fft_split_destroy(hm_fft_split *s)
{
    if (!s)
        return;
    hm__fftw_destroy(&s->d, s->plan_a);
    hm__fftw_destroy(&s->d, s->tail_a);
    hm__fftw_destroy(&s->d, s->plan_b);
    hm__fftw_destroy(&s->d, s->tail_b);
    free(s->tw_hi);
    free(s->tw_lo);
    fftw_free(s->work);
    fftw_free(s->scratch);
    free(s);
}

void hm__fft_split_shape(const hm_fft_split *s, int64_t *n1, int64_t *n2, size_t *bytes)
{
    *n1 = s->n1;
    *n2 = s->n2;
    *bytes = s->bytes;
}

/* dst[i * d_row + j * d_col] = src[i * s_row + j * s_col] for i < rows, j < cols (byte strides),
 * elements of e bytes (8: c64, 16: c128). The gathers and scatters of both passes: rows a block
 * apart on the side in memory, which no hardware prefetcher follows, so that side's row
 * HM_SPLIT_PREFETCH rows on is asked for first (`ahead`: 1 the source, 2 the destination). */
static void move_block(char *dst, size_t d_row, size_t d_col, const char *src, size_t s_row,
                       size_t s_col, int64_t rows, int64_t cols, size_t e, int ahead)
{
    size_t seg = (size_t)cols * e;
    for (int64_t i = 0; i < rows; i++) {
        char *to = dst + (size_t)i * d_row;
        const char *from = src + (size_t)i * s_row;
        if (i + HM_SPLIT_PREFETCH < rows) {
            if (ahead == 1 && s_col == e)
                for (size_t o = 0; o < seg; o += 64)
                    __builtin_prefetch(from + HM_SPLIT_PREFETCH * s_row + o, 0);
            if (ahead == 2 && d_col == e)
                for (size_t o = 0; o < seg; o += 64)
                    __builtin_prefetch(to + HM_SPLIT_PREFETCH * d_row + o, 1);
        }
        if (e == 8)
            for (int64_t j = 0; j < cols; j++, to += d_col, from += s_col)
                memcpy(to, from, 8);
        else
            for (int64_t j = 0; j < cols; j++, to += d_col, from += s_col)
                memcpy(to, from, 16);
    }
}

/* z[k] *= hi[k / step] * lo[k % step] for k < n, complex, in one precision: a loop the compiler
 * vectorises. */
#define HM_SPLIT_TWIDDLE(name, real)                                                               \
    static void name(real *restrict z, const real *restrict hi, const real *restrict lo,           \
                     int64_t n, int64_t step)                                                      \
    {                                                                                              \
        for (int64_t k0 = 0, h = 0; k0 < n; k0 += step, h++) {                                     \
            real ar = hi[2 * h], ai = hi[2 * h + 1];                                               \
            int64_t len = n - k0 < step ? n - k0 : step;                                           \
            real *restrict v = z + 2 * k0;                                                         \
            for (int64_t l = 0; l < len; l++) {                                                    \
                real wr = ar * lo[2 * l] - ai * lo[2 * l + 1];                                     \
                real wi = ar * lo[2 * l + 1] + ai * lo[2 * l], vr = v[2 * l];                      \
                v[2 * l] = vr * wr - v[2 * l + 1] * wi;                                            \
                v[2 * l + 1] = vr * wi + v[2 * l + 1] * wr;                                        \
            }                                                                                      \
        }                                                                                          \
    }
HM_SPLIT_TWIDDLE(twiddle_f, float)
HM_SPLIT_TWIDDLE(twiddle_d, double)

/* The block's rows t (columns j2 = c + t) times W_N^(j2 k1) * scale. */
static void apply_twiddles(const hm_fft_split *s, char *blk, int64_t c, int64_t count)
{
    size_t e = hm__fftw_elem_out(&s->d);
    for (int64_t t = 0; t < count; t++) {
        char *z = blk + (size_t)(t * s->n1p) * e;
        const char *hi = (const char *)s->tw_hi + (size_t)((c + t) * s->hi_per_col) * e;
        const char *lo = (const char *)s->tw_lo + (size_t)((c + t) * s->s) * e;
        if (s->d.double_precision)
            twiddle_d((double *)z, (const double *)hi, (const double *)lo, s->n1, s->s);
        else
            twiddle_f((float *)z, (const float *)hi, (const float *)lo, s->n1, s->s);
    }
}

/* Pass A, block `blk_i`: columns c .. c+count of x (j = j1 n2 + j2), gathered into s1,
 * transformed into s2, twiddled there, and written into T's rows. */
static void column_block(const hm_fft_split *s, const char *x, char *s1, char *s2, int64_t blk_i)
{
    const hm_fft_desc *d = &s->d;
    size_t e = hm__fftw_elem_out(d), sx = (size_t)d->in_stride[0] * e, row1 = (size_t)s->n1p * e;
    int64_t n1 = s->n1, n2 = s->n2, c = blk_i * s->block_a;
    int64_t count = n2 - c < s->block_a ? n2 - c : s->block_a;
    move_block(s1, e, row1, x + (size_t)c * sx, (size_t)n2 * sx, sx, n1, count, e, 1);
    hm__fftw_run(d, count == s->block_a ? s->plan_a : s->tail_a, s1, s2);
    apply_twiddles(s, s2, c, count);
    move_block(s->work + (size_t)c * e, (size_t)s->n2p * e, e, s2, e, row1, n1, count, e, 2);
}

/* Pass B, block `blk_i`: rows r .. r+count of T transformed into s1, scattered to
 * y[(k1 + n1 k2) * stride]. */
static void row_block(const hm_fft_split *s, char *y, char *s1, int64_t blk_i)
{
    const hm_fft_desc *d = &s->d;
    size_t e = hm__fftw_elem_out(d), sy = (size_t)d->out_stride[0] * e, row2 = (size_t)s->n2p * e;
    int64_t n1 = s->n1, r = blk_i * s->block_b;
    int64_t count = n1 - r < s->block_b ? n1 - r : s->block_b;
    hm__fftw_run(d, count == s->block_b ? s->plan_b : s->tail_b, s->work + (size_t)r * row2, s1);
    move_block(y + (size_t)r * sy, (size_t)n1 * sy, sy, s1, e, row2, s->n2, count, e, 2);
}

typedef struct split_job {
    const hm_fft_split *s;
    const char *x;
    char *y;
} split_job;

/* Thread i's two scratch blocks. */
static char *scratch_of(const hm_fft_split *s, int i)
{
    return s->scratch + (size_t)(2 * i) * s->scratch_stride;
}

static void pass_a(void *v, int i, int64_t b)
{
    const split_job *j = v;
    char *s1 = scratch_of(j->s, i);
    column_block(j->s, j->x, s1, s1 + j->s->scratch_stride, b);
}

static void pass_b(void *v, int i, int64_t b)
{
    const split_job *j = v;
    row_block(j->s, j->y, scratch_of(j->s, i), b);
}

void hm__fft_split_run(hm_context *ctx, const hm_fft_split *s, const void *in, void *out)
{
    const hm_fft_desc *d = &s->d;
    size_t e = hm__fftw_elem_out(d);
    int64_t entries = d->batch_rank ? d->batch_n[0] : 1;
    for (int64_t b = 0; b < entries; b++) {
        size_t in_off = (size_t)(d->batch_rank ? b * d->batch_in_stride[0] : 0) * e;
        size_t out_off = (size_t)(d->batch_rank ? b * d->batch_out_stride[0] : 0) * e;
        split_job j = {s, (const char *)in + in_off, (char *)out + out_off};
        /* In place, pass A has read all of x into T before pass B writes y. */
        hm__pool_run_blocks(ctx, s->threads, (s->n2 + s->block_a - 1) / s->block_a, pass_a, &j);
        hm__pool_run_blocks(ctx, s->threads, (s->n1 + s->block_b - 1) / s->block_b, pass_b, &j);
    }
}
