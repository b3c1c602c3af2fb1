/* ADD int8, same shapes (mirrors TFLM reference_integer_ops::AddElementwise). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

#define ILWP_ADD_TABLE 256

int32_t ilwp_add_s8_scratch_size(void)
{
    return 2 * ILWP_ADD_TABLE * (int32_t)sizeof(int32_t);
}

/* The input rescale of TFLM's int8 add: ((x + offset) << left_shift) times a multiplier < 1. */
static int32_t rescale(int32_t x, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return ilwp_multiply_by_quantized_multiplier_lt_one((x + offset) * (1 << left_shift), multiplier, shift);
}

static int8_t finish(const ilwp_add_params_t *p, int32_t sum)
{
    int32_t r = ilwp_multiply_by_quantized_multiplier_lt_one(sum, p->output_multiplier, p->output_shift);
    r += p->output_offset;
    return (int8_t)ilwp_clamp_i32(r, p->act_min, p->act_max);
}

int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size, int32_t *scratch)
{
    int32_t i;
    if (scratch != 0) {
        /* Each input's rescaled value depends on its int8 value only: tabulate both (512 rescales). */
        int32_t *t1 = scratch + 128;
        int32_t *t2 = scratch + ILWP_ADD_TABLE + 128;
        for (i = -128; i < 128; ++i) {
            t1[i] = rescale(i, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
            t2[i] = rescale(i, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
        }
        for (i = 0; i < size; ++i) {
            output[i] = finish(p, t1[input1[i]] + t2[input2[i]]);
        }
        return ILWP_OK;
    }
    for (i = 0; i < size; ++i) {
        const int32_t a = rescale(input1[i], p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
        const int32_t b = rescale(input2[i], p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
        output[i] = finish(p, a + b);
    }
    return ILWP_OK;
}
