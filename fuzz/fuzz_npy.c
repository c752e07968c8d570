/* libFuzzer target: the .npy reader of the hetmath command on arbitrary bytes. Whatever it
 * accepts must describe exactly the bytes it holds, and a tensor view of it must be valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    npy_array a;
    char why[256];
    if (npy_parse(data, size, &a, why, sizeof why)) {
        hm_tensor t = npy_tensor(&a);
        if ((size_t)hm_tensor_nbytes(&t) != a.nbytes)
            abort();
        npy_free(&a);
    } else if (!why[0]) {
        abort(); /* every refusal says why */
    }
    return 0;
}
