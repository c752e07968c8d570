/* Per-machine files under the user's cache folder (cache_file.h). */
#define _DEFAULT_SOURCE /* mkstemp */
#include "core/cache_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hm__cache_path(const char *name, char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/')
        return snprintf(buf, size, "%s/hetmath/%s", xdg, name) < (int)size;
    if (home && *home)
        return snprintf(buf, size, "%s/.cache/hetmath/%s", home, name) < (int)size;
    return false;
}

char *hm__file_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
            size_t len = fread(text, 1, (size_t)n, f);
            text[len] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* mkdir -p of path's folder (0700 for what it makes). */
static void make_folder(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(dir, 0700);
            *p = '/';
        }
}

bool hm__file_write(const char *path, const char *head, const char *text)
{
    char tmp[1100];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return false;
    }
    make_folder(path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "w");
    bool ok = f && fprintf(f, "%s%s", head, text) >= 0;
    ok = (f ? fclose(f) == 0 : close(fd) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    return ok;
}

void hm__machine_cpu(char *buf, size_t size)
{
    char model[160] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    snprintf(buf, size, "%s; %ld cpus", model, sysconf(_SC_NPROCESSORS_ONLN));
}
