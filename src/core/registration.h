/* Host registration for long-lived plans (the register_host option of hm_matmul_options and
 * hm_fft_options).
 *
 * A copy of pageable host memory to or from a GPU goes through the context's pinned pool: host
 * threads copy it into pinned buffers, then the copy engine moves those. Registered
 * (page-locked) memory skips that: the copy engine reads or writes it in place, at the link's
 * rate and with no host CPU. Registering costs tens of milliseconds a GiB (cudaHostRegister;
 * docs/TUNING.md), so it pays only for a plan that runs on the same operands again and again.
 *
 * The rule: a plan made with register_host registers a pageable host operand of at least
 * HM_REGISTER_MIN_BYTES that it copies to or from a GPU when an execution sees the same pointer
 * for that operand as the execution before (the second call on the same buffer), and keeps it
 * registered until the plan is destroyed or executed with another pointer for that operand
 * (then it unregisters it). An output the plan allocates is never registered: it is the
 * caller's once returned. Operands already page-locked (pinned allocations, or ranges the
 * caller registered) are left as they are. Registration that fails is logged as a warning and the
 * operand is staged as before: it is an optimisation, never a reason to fail a call. */
#ifndef HETMATH_CORE_REGISTRATION_H
#define HETMATH_CORE_REGISTRATION_H

#include "core/internal.h"

/* Smaller operands gain nothing measurable: their staged copy takes tens of microseconds. */
#define HM_REGISTER_MIN_BYTES ((size_t)1 << 20)

/* One operand's registration, kept by its plan. Zero-initialised: nothing seen, nothing held. */
typedef struct hm_host_pin {
    const void *seen; /* the operand's pointer at the previous execution */
    void *base;       /* the range this plan registered, or NULL */
    size_t bytes;
} hm_host_pin;

/* The option's checks, one message for both operations: @p value must be 0 or 1 (specification),
 * and a stateless call refuses 1, naming @p plan_fn, the plan function to use instead. */
hm_status hm__host_pin_check(hm_context *ctx, const char *fn, int value);
hm_status hm__host_pin_refuse_stateless(hm_context *ctx, const char *fn, const char *plan_fn);

/* Called at each execution of a plan made with register_host, for an operand @p t in host
 * memory that the execution copies to or from a GPU. Applies the rule above. Never fails. */
void hm__host_pin_update(hm_context *ctx, const char *fn, const char *operand, hm_host_pin *pin,
                         const hm_tensor *t);

/* Unregisters what @p pin holds (at plan destruction). */
void hm__host_pin_release(hm_context *ctx, hm_host_pin *pin);

#endif
