/* The context's calibration for the auto execution space (core/placement.h has the model, and
 * hetmath/core.h hm_context_calibrate() and hm_calibration_mode the rules). */
#ifndef HETMATH_CORE_CALIBRATE_H
#define HETMATH_CORE_CALIBRATE_H

#include "core/internal.h"
#include "core/placement.h"

/* The calibration ctx holds; else its file's, when it was made on this machine and the mode
 * reads it; else measured now (and written as the mode says). NULL when measuring failed: the
 * failure is recorded on ctx under fn. */
const hm_calibration *hm__calibration(hm_context *ctx, const char *fn);

#endif
