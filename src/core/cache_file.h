/* Files hetmath keeps per machine under the user's cache folder (FFTW's wisdom, the placement
 * calibration): where they go, reading and writing them whole, and the line that says which
 * machine made them. */
#ifndef HETMATH_CORE_CACHE_FILE_H
#define HETMATH_CORE_CACHE_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* $XDG_CACHE_HOME/hetmath/<name> (an absolute XDG_CACHE_HOME only), else
 * $HOME/.cache/hetmath/<name>; false when neither is set or the path does not fit. */
bool hm__cache_path(const char *name, char *buf, size_t size);

/* The file's text, NUL-terminated (free it), or NULL when it cannot be read. */
char *hm__file_read(const char *path);

/* Writes head then text to path whole: a file beside it, renamed over it, after the folders are
 * made (0700); false with errno. */
bool hm__file_write(const char *path, const char *head, const char *text);

/* "<CPU model>; <n> cpus": what the host's files must have been made on. */
void hm__machine_cpu(char *buf, size_t size);

#endif
