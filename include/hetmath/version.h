/**
 * @file hetmath/version.h
 * @brief The version of the headers a program is compiled against (hm_version() gives the
 *        library's at run time).
 *
 * ABI policy: the shared library's SOVERSION is the major version. From 1.0 on, a release with
 * the same major version adds and never breaks (struct options and records grow only at their
 * end, behind their `size` member where they have one); before 1.0, each minor release may break
 * the ABI and says how in CHANGELOG.md, and programs are rebuilt against it.
 */
#ifndef HETMATH_VERSION_H
#define HETMATH_VERSION_H

#define HETMATH_VERSION_MAJOR 0
#define HETMATH_VERSION_MINOR 5
#define HETMATH_VERSION_PATCH 0

/** MAJOR·10000 + MINOR·100 + PATCH, as hm_version() returns it. */
#define HETMATH_VERSION                                                                            \
    (HETMATH_VERSION_MAJOR * 10000 + HETMATH_VERSION_MINOR * 100 + HETMATH_VERSION_PATCH)

#endif
