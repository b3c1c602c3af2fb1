/* ADD int8, same shapes (mirrors TFLM reference_integer_ops::AddElementwise). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t a = (input1[i] + p->input1_offset) * (1 << p->left_shift);
        const int32_t b = (input2[i] + p->input2_offset) * (1 << p->left_shift);
        const int32_t sa = ilwp_multiply_by_quantized_multiplier_lt_one(a, p->input1_multiplier, p->input1_shift);
        const int32_t sb = ilwp_multiply_by_quantized_multiplier_lt_one(b, p->input2_multiplier, p->input2_shift);
        int32_t r = ilwp_multiply_by_quantized_multiplier_lt_one(sa + sb, p->output_multiplier, p->output_shift);
        r += p->output_offset;
        output[i] = (int8_t)ilwp_clamp_i32(r, p->act_min, p->act_max);
    }
    return ILWP_OK;
}
