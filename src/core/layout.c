/* The geometry of a tensor view: element counts, extents, contiguity, overlaps, and the checks
 * of shape, strides and size (hm_tensor_init, and every operand). Pure functions: no context. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

void hm__row_major_strides(int ndim, const int64_t *shape, int64_t *out)
{
    /* Saturates instead of overflowing: validation then reports the size overflow. */
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        out[i] = s;
        if (__builtin_mul_overflow(s, shape[i] > 0 ? shape[i] : 1, &s))
            s = INT64_MAX;
    }
}

int64_t hm_tensor_numel(const hm_tensor *t)
{
    if (!t)
        return 0;
    /* Empty first (a zero extent wins over any overflow), then a saturating product. */
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0)
            return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        if (__builtin_mul_overflow(n, t->shape[i], &n))
            return INT64_MAX;
    return n;
}

size_t hm_tensor_nbytes(const hm_tensor *t)
{
    return t ? (size_t)hm_tensor_numel(t) * hm_dtype_size(t->dtype) : 0;
}

int hm_tensor_is_contiguous(const hm_tensor *t)
{
    if (!t)
        return 0;
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 0)
            return 1;
        if (t->shape[i] != 1 && t->strides[i] != expect)
            return 0;
        expect *= t->shape[i];
    }
    return 1;
}

void hm__tensor_extent(const hm_tensor *t, int64_t *lo, int64_t *hi)
{
    *lo = 0;
    *hi = 0;
    if (hm_tensor_numel(t) == 0)
        return;
    int64_t max = 0;
    for (int i = 0; i < t->ndim; i++)
        max += (t->shape[i] - 1) * t->strides[i];
    *hi = max + 1;
}

bool hm__tensor_is_compact(const hm_tensor *t)
{
    int64_t lo, hi;
    hm__tensor_extent(t, &lo, &hi);
    return hi - lo == hm_tensor_numel(t);
}

bool hm__same_shape(const hm_tensor *a, const hm_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

bool hm__same_layout(const hm_tensor *a, const hm_tensor *b)
{
    if (a->dtype != b->dtype || !hm__same_shape(a, b) || !hm__device_equal(a->device, b->device))
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] > 1 && a->strides[i] != b->strides[i])
            return false;
    return true;
}

bool hm__same_view(const hm_tensor *a, const hm_tensor *b)
{
    if (a->data != b->data || !hm__same_shape(a, b) || !hm__device_equal(a->device, b->device))
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] > 1 && a->strides[i] != b->strides[i])
            return false;
    return true;
}

bool hm__tensors_overlap(const hm_tensor *a, const hm_tensor *b)
{
    if (!a->data || !b->data || hm_tensor_numel(a) == 0 || hm_tensor_numel(b) == 0)
        return false;
    if (hm__device_is_host(a->device) != hm__device_is_host(b->device))
        return false;
    if (a->device.type == HM_DEVICE_CUDA && a->device.id != b->device.id)
        return false;
    int64_t alo, ahi, blo, bhi;
    hm__tensor_extent(a, &alo, &ahi);
    hm__tensor_extent(b, &blo, &bhi);
    uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
    uintptr_t a1 = a0 + (uintptr_t)ahi * hm_dtype_size(a->dtype);
    uintptr_t b1 = b0 + (uintptr_t)bhi * hm_dtype_size(b->dtype);
    return a0 < b1 && b0 < a1;
}

/* Sorted-stride test: each dimension's stride must exceed the farthest offset reachable by the
 * dimensions of smaller stride. This accepts every ordinary layout (row/column-major, transposed,
 * sliced, padded) and refuses all overlapping ones. */
static bool layout_overlaps(const hm_tensor *t)
{
    int idx[HM_MAX_NDIM], n = 0;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] > 1)
            idx[n++] = i;
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i;
        while (j > 0 && t->strides[idx[j - 1]] > t->strides[v]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    int64_t reach = 0;
    for (int i = 0; i < n; i++) {
        int64_t s = t->strides[idx[i]];
        if (s <= reach)
            return true;
        reach += (t->shape[idx[i]] - 1) * s;
    }
    return false;
}

hm_status hm__tensor_validate(const hm_tensor *t, char *why, size_t why_size)
{
    size_t es = hm_dtype_size(t->dtype);
    if (es == 0) {
        snprintf(why, why_size, "dtype code %d is not an hm_dtype", (int)t->dtype);
        return HM_STATUS_INVALID_DTYPE;
    }
    if (t->ndim < 0 || t->ndim > HM_MAX_NDIM) {
        snprintf(why, why_size, "ndim %d is outside 0..%d", t->ndim, HM_MAX_NDIM);
        return HM_STATUS_INVALID_SHAPE;
    }
    bool empty = false;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0) {
            snprintf(why, why_size, "extent %lld of axis %d is negative", (long long)t->shape[i],
                     i);
            return HM_STATUS_INVALID_SHAPE;
        }
        if (t->strides[i] < 0) {
            snprintf(why, why_size, "stride %lld of axis %d is negative (not supported)",
                     (long long)t->strides[i], i);
            return HM_STATUS_INVALID_LAYOUT;
        }
        empty |= t->shape[i] == 0;
    }
    if (empty)
        return HM_STATUS_SUCCESS;
    /* Both the element count and the farthest offset, in bytes, must fit. */
    uint64_t numel = 1, reach = 0;
    for (int i = 0; i < t->ndim; i++) {
        uint64_t step;
        if (__builtin_mul_overflow(numel, (uint64_t)t->shape[i], &numel) ||
            __builtin_mul_overflow((uint64_t)(t->shape[i] - 1), (uint64_t)t->strides[i], &step) ||
            __builtin_add_overflow(reach, step, &reach)) {
            snprintf(why, why_size, "its size overflows at axis %d", i);
            return HM_STATUS_SIZE_OVERFLOW;
        }
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(reach + 1, (uint64_t)es, &bytes) || bytes > (uint64_t)INT64_MAX ||
        bytes > (uint64_t)SIZE_MAX || numel > (uint64_t)INT64_MAX / es) {
        snprintf(why, why_size, "its extent in bytes overflows");
        return HM_STATUS_SIZE_OVERFLOW;
    }
    if (layout_overlaps(t)) {
        snprintf(why, why_size, "its strides make elements overlap");
        return HM_STATUS_INVALID_LAYOUT;
    }
    return HM_STATUS_SUCCESS;
}

hm_status hm_tensor_init(hm_tensor *out, void *data, hm_device device, hm_dtype dtype, int ndim,
                         const int64_t *shape, const int64_t *strides)
{
    if (!out || (ndim > 0 && !shape))
        return HM_STATUS_INVALID_ARGUMENT;
    hm_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.device = device;
    t.dtype = dtype;
    t.ndim = ndim;
    if (ndim < 0 || ndim > HM_MAX_NDIM)
        return HM_STATUS_INVALID_SHAPE;
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    if (strides)
        for (int i = 0; i < ndim; i++)
            t.strides[i] = strides[i];
    else
        hm__row_major_strides(ndim, t.shape, t.strides);
    char why[160];
    hm_status st = hm__tensor_validate(&t, why, sizeof why);
    if (st != HM_STATUS_SUCCESS)
        return st;
    *out = t;
    return HM_STATUS_SUCCESS;
}
