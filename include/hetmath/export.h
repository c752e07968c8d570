/**
 * @file hetmath/export.h
 * @brief HM_API marks the symbols the shared library exports; everything else is hidden.
 */
#ifndef HETMATH_EXPORT_H
#define HETMATH_EXPORT_H

#if defined(_WIN32) && !defined(HETMATH_STATIC)
#ifdef HETMATH_BUILDING
#define HM_API __declspec(dllexport)
#else
#define HM_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define HM_API __attribute__((visibility("default")))
#else
#define HM_API
#endif

#endif
