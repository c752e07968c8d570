/* The .npy format: magic "\x93NUMPY", a version, a header length (2 bytes in 1.0, 4 in 2.0 and
 * 3.0), and a Python dict literal with 'descr', 'fortran_order' and 'shape', padded so the data
 * starts on a 64-byte boundary. Everything the header claims is checked against the file. */
#define _DEFAULT_SOURCE /* mkstemp, fchmod, fsync */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

static const struct {
    const char *descr;
    hm_dtype dtype;
} descrs[] = {{"<f2", HM_DTYPE_F16}, {"<f4", HM_DTYPE_F32},   {"<f8", HM_DTYPE_F64},
              {"<c8", HM_DTYPE_C64}, {"<c16", HM_DTYPE_C128}, {"|f2", HM_DTYPE_F16}};

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(why, why_size, __VA_ARGS__);                                                      \
        return 0;                                                                                  \
    } while (0)

/* The value text after 'key': in the dict, or NULL. */
static const char *dict_value(const char *hdr, size_t len, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 < len; i++) {
        if ((hdr[i] == '\'' || hdr[i] == '"') && memcmp(hdr + i + 1, key, kl) == 0 &&
            hdr[i + 1 + kl] == hdr[i]) {
            const char *p = hdr + i + kl + 2;
            while (p < hdr + len && (*p == ' ' || *p == ':'))
                p++;
            return p < hdr + len ? p : NULL;
        }
    }
    return NULL;
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        FAIL("not a .npy file (bad magic)");
    int major = buf[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            FAIL("truncated header");
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        start = 12;
    } else {
        FAIL("unsupported .npy version %d.%d", major, buf[7]);
    }
    if (hlen > len - start)
        FAIL("truncated header (%zu bytes claimed, %zu present)", hlen, len - start);
    const char *hdr = (const char *)buf + start;
    if (hlen < 2 || hdr[0] != '{' || memchr(hdr, '}', hlen) == NULL)
        FAIL("the header is not a dict");

    const char *d = dict_value(hdr, hlen, "descr");
    if (d && *d == '[')
        FAIL("a structured dtype (a list of fields) is not supported; hetmath reads <f2, <f4, "
             "<f8, <c8, <c16");
    if (!d || (*d != '\'' && *d != '"'))
        FAIL("the header has no 'descr'");
    char descr[16] = "";
    const char *e = memchr(d + 1, *d, (size_t)(hdr + hlen - d - 1));
    if (!e || e - d - 1 >= (long)sizeof descr)
        FAIL("the header's 'descr' is malformed");
    memcpy(descr, d + 1, (size_t)(e - d - 1));
    out->dtype = (hm_dtype)0;
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
        if (strcmp(descr, descrs[i].descr) == 0)
            out->dtype = descrs[i].dtype;
    if (!out->dtype)
        FAIL("unsupported dtype '%s' (hetmath reads <f2, <f4, <f8, <c8, <c16)", descr);

    const char *f = dict_value(hdr, hlen, "fortran_order");
    if (!f)
        FAIL("the header has no 'fortran_order'");
    if (hdr + hlen - f >= 4 && memcmp(f, "True", 4) == 0)
        out->fortran_order = 1;
    else if (hdr + hlen - f >= 5 && memcmp(f, "False", 5) == 0)
        out->fortran_order = 0;
    else
        FAIL("the header's 'fortran_order' is neither True nor False");

    const char *s = dict_value(hdr, hlen, "shape");
    if (!s || *s != '(')
        FAIL("the header has no 'shape' tuple");
    const char *end = memchr(s, ')', (size_t)(hdr + hlen - s));
    if (!end)
        FAIL("the header's 'shape' is not closed");
    s++;
    uint64_t count = 1, nonzero = 1;
    while (s < end) {
        while (s < end && (*s == ' ' || *s == ','))
            s++;
        if (s >= end)
            break;
        if (out->ndim == HM_MAX_NDIM)
            FAIL("more than %d dimensions", HM_MAX_NDIM);
        char *stop;
        errno = 0;
        long long v = strtoll(s, &stop, 10);
        if (stop == s || stop > end || v < 0 || errno)
            FAIL("the header's 'shape' has a bad extent");
        out->shape[out->ndim++] = v;
        /* Extents past the others' zero still have to multiply out (strides are made of them). */
        if (v && nonzero > (uint64_t)INT64_MAX / (uint64_t)v)
            FAIL("the shape's size overflows");
        if (v)
            nonzero *= (uint64_t)v;
        count *= (uint64_t)v;
        s = stop;
    }
    size_t es = hm_dtype_size(out->dtype);
    if (count > SIZE_MAX / es)
        FAIL("the shape's size overflows");
    out->nbytes = (size_t)count * es;
    size_t data_at = start + hlen;
    if (len - data_at != out->nbytes)
        FAIL("the header promises %zu bytes of data but the file has %zu", out->nbytes,
             len - data_at);
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    if (!out->data)
        FAIL("no memory for %zu bytes", out->nbytes);
    memcpy(out->data, buf + data_at, out->nbytes);
    return 1;
}

int npy_read(const char *path, npy_array *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        FAIL("cannot open %s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                FAIL("no memory to read %s", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    int ok = npy_parse(buf, len, out, why, why_size);
    free(buf);
    return ok;
}

/* The folder of path, into dir ("." for a bare name). */
static void folder_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

int npy_check_writable(const char *path, char *why, size_t why_size)
{
    struct stat st;
    char dir[4096];
    if (!*path)
        FAIL("the output path is empty");
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            FAIL("%s is a folder", path);
        if (!S_ISREG(st.st_mode)) { /* a device or a pipe: written in place */
            if (access(path, W_OK) != 0)
                FAIL("cannot write %s: %s", path, strerror(errno));
            return 1;
        }
    }
    folder_of(path, dir, sizeof dir);
    if (stat(dir, &st) != 0)
        FAIL("cannot write %s: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        FAIL("cannot write %s: %s is not a folder", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        FAIL("cannot write %s: folder %s: %s", path, dir, strerror(errno));
    return 1;
}

/* Writes the file's bytes to f; 0 with errno set on failure. */
static int write_all(FILE *f, const unsigned char *pre, const char *dict, size_t dl, size_t pad,
                     const void *data, size_t bytes)
{
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, dl, f) == dl;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
    return ok && fflush(f) == 0;
}

int npy_write(const char *path, hm_dtype dtype, int ndim, const int64_t *shape, const void *data,
              char *why, size_t why_size)
{
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0] && !descr; i++)
        if (descrs[i].dtype == dtype)
            descr = descrs[i].descr;
    if (!descr)
        FAIL("NumPy has no %s", hm_dtype_name(dtype));
    char dict[256], shp[160] = "";
    size_t n = 0;
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += (size_t)snprintf(shp + n, sizeof shp - n, "%lld,%s", (long long)shape[i],
                              i + 1 < ndim ? " " : "");
        count *= (uint64_t)shape[i];
    }
    if (ndim > 1)
        shp[n - 1] = '\0'; /* (a, b) not (a, b,) */
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                      descr, shp);
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dl + pad + 1;
    const unsigned char pre[10] = {0x93,
                                   'N',
                                   'U',
                                   'M',
                                   'P',
                                   'Y',
                                   1,
                                   0,
                                   (unsigned char)(hlen & 0xff),
                                   (unsigned char)(hlen >> 8)};
    size_t bytes = (size_t)count * hm_dtype_size(dtype);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) { /* a device or a pipe: there is nothing to replace */
        FILE *f = fopen(path, "wb");
        if (!f)
            FAIL("cannot write %s: %s", path, strerror(errno));
        int ok = write_all(f, pre, dict, (size_t)dl, pad, data, bytes), e = errno;
        if (fclose(f) != 0 && ok) {
            ok = 0;
            e = errno;
        }
        if (!ok)
            FAIL("cannot write %s: %s", path, strerror(e));
        return 1;
    }
    /* A file: written whole beside the target, then renamed over it, so that a failure (a full
     * disk, a signal) leaves the target as it was and no truncated file behind. */
    char dir[4096], tmp[4096 + 224];
    folder_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(tmp, sizeof tmp, "%s/.%.200s.XXXXXX", dir, base);
    int fd = mkstemp(tmp);
    if (fd < 0)
        FAIL("cannot write %s: creating a file in %s: %s", path, dir, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, exists ? (st.st_mode & 07777) : (0666 & ~mask));
    FILE *f = fdopen(fd, "wb");
    int ok = f && write_all(f, pre, dict, (size_t)dl, pad, data, bytes) && fsync(fd) == 0;
    int e = errno;
    if (f ? fclose(f) != 0 : close(fd) != 0) {
        if (ok)
            e = errno;
        ok = 0;
    }
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        unlink(tmp);
        FAIL("cannot write %s: %s", path, strerror(e));
    }
    return 1;
}

hm_tensor npy_tensor(const npy_array *a)
{
    hm_tensor t;
    int64_t strides[HM_MAX_NDIM];
    if (a->fortran_order) {
        int64_t s = 1;
        for (int i = 0; i < a->ndim; i++) {
            strides[i] = s;
            s *= a->shape[i] > 0 ? a->shape[i] : 1;
        }
    }
    hm_tensor_init(&t, a->data, hm_device_host(), a->dtype, a->ndim, a->shape,
                   a->fortran_order ? strides : NULL);
    return t;
}

void npy_free(npy_array *a)
{
    free(a->data);
    a->data = NULL;
}
