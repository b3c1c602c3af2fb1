/* RESHAPE: data is unchanged; copy only when the buffers differ. */
#include <string.h>

#include "ilwp_kernels.h"

int32_t ilwp_reshape_s8(const int8_t *input, int8_t *output, int32_t size)
{
    if (size < 0) {
        return ILWP_ERR_ARG;
    }
    if (input != output) {
        memmove(output, input, (size_t)size);
    }
    return ILWP_OK;
}
