/* cuBLASLt and cuFFT loaded on first use (cuda_libs.h says why). The sonames come from the
 * headers hetmath was built with, so a program never mixes a header and a library of two
 * versions. */
#include "backends/cuda/cuda_libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define HM_STR_(x) #x
#define HM_STR(x)  HM_STR_(x)

hm_lt_api hm__lt_api;
hm_cufft_api hm__cufft_api;

typedef struct lib_load {
    const char *soname;
    pthread_once_t once;
    int ok;
    char why[256];
} lib_load;

static lib_load lt_load = {"libcublasLt.so." HM_STR(CUBLAS_VER_MAJOR), PTHREAD_ONCE_INIT, 0, ""};
static lib_load cufft_load = {"libcufft.so." HM_STR(CUFFT_VER_MAJOR), PTHREAD_ONCE_INIT, 0, ""};

/* dlopen'ed once and never closed: the libraries' own state lives as long as the process. */
static void *open_lib(lib_load *l)
{
    void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(l->why, sizeof l->why, "%s", e ? e : "not found");
    }
    return h;
}

#define HM_LIB_RESOLVE_(f)                                                                         \
    if (h && !(*(void **)&api->f = dlsym(h, #f))) {                                                \
        snprintf(l->why, sizeof l->why, "%s lacks %s", l->soname, #f);                             \
        h = NULL;                                                                                  \
    }

static void load_lt(void)
{
    lib_load *l = &lt_load;
    hm_lt_api *api = &hm__lt_api;
    void *h = open_lib(l);
    HM_LT_FUNCTIONS(HM_LIB_RESOLVE_)
    l->ok = h != NULL;
}

static void load_cufft(void)
{
    lib_load *l = &cufft_load;
    hm_cufft_api *api = &hm__cufft_api;
    void *h = open_lib(l);
    HM_CUFFT_FUNCTIONS(HM_LIB_RESOLVE_)
    l->ok = h != NULL;
}

static hm_status loaded(hm_context *ctx, const lib_load *l)
{
    if (l->ok)
        return HM_STATUS_SUCCESS;
    return hm__fail(ctx, HM_STATUS_CUDA_UNAVAILABLE, "%s cannot be loaded: %s", l->soname, l->why);
}

#ifdef HETMATH_HAVE_NCCL
hm_nccl_api hm__nccl_api;
static lib_load nccl_load = {"libnccl.so." HM_STR(NCCL_MAJOR), PTHREAD_ONCE_INIT, 0, ""};

/* NCCL may sit beside the CUDA toolkit, off the loader's path: then the library CMake found. */
static void load_nccl(void)
{
    lib_load *l = &nccl_load;
    hm_nccl_api *api = &hm__nccl_api;
    void *h = open_lib(l);
#ifdef HM_NCCL_LIBRARY
    if (!h && (h = dlopen(HM_NCCL_LIBRARY, RTLD_NOW | RTLD_LOCAL)) != NULL)
        l->soname = HM_NCCL_LIBRARY;
#endif
    HM_NCCL_FUNCTIONS(HM_LIB_RESOLVE_)
    l->ok = h != NULL;
}

hm_status hm__cuda_load_nccl(hm_context *ctx)
{
    pthread_once(&nccl_load.once, load_nccl);
    return loaded(ctx, &nccl_load);
}
#endif

hm_status hm__cuda_load_lt(hm_context *ctx)
{
    pthread_once(&lt_load.once, load_lt);
    return loaded(ctx, &lt_load);
}

hm_status hm__cuda_load_cufft(hm_context *ctx)
{
    pthread_once(&cufft_load.once, load_cufft);
    return loaded(ctx, &cufft_load);
}
