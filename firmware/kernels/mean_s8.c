/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* MEAN int8 (mirrors TFLM reduce: reference QuantizedMeanOrSum, the 1/num_elements factor being
 * folded into multiplier/shift on the host). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_mean_s8(const ilwp_mean_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t *s = p->input_shape;
    int32_t os[4], st[4], lo[4], hi[4], o[4], r[4], d;
    st[3] = 1;
    st[2] = s[3];
    st[1] = s[2] * s[3];
    st[0] = s[1] * s[2] * s[3];
    for (d = 0; d < 4; ++d) {
        os[d] = p->reduce[d] ? 1 : s[d];
    }
    if (p->num_elements <= 0) {
        return ILWP_ERR_ARG;
    }
    for (o[0] = 0; o[0] < os[0]; ++o[0]) {
        for (o[1] = 0; o[1] < os[1]; ++o[1]) {
            for (o[2] = 0; o[2] < os[2]; ++o[2]) {
                for (o[3] = 0; o[3] < os[3]; ++o[3]) {
                    int32_t sum = 0, v;
                    for (d = 0; d < 4; ++d) {
                        lo[d] = p->reduce[d] ? 0 : o[d];
                        hi[d] = p->reduce[d] ? s[d] : o[d] + 1;
                    }
                    for (r[0] = lo[0]; r[0] < hi[0]; ++r[0]) {
                        for (r[1] = lo[1]; r[1] < hi[1]; ++r[1]) {
                            for (r[2] = lo[2]; r[2] < hi[2]; ++r[2]) {
                                const int8_t *row = input + r[0] * st[0] + r[1] * st[1] + r[2] * st[2];
                                for (r[3] = lo[3]; r[3] < hi[3]; ++r[3]) {
                                    sum += row[r[3]];
                                }
                            }
                        }
                    }
                    v = sum - p->input_zero_point * p->num_elements;
                    v = ilwp_multiply_by_quantized_multiplier(v, p->multiplier, p->shift);
                    v += p->output_zero_point;
                    *output++ = (int8_t)ilwp_clamp_i32(v, -128, 127);
                }
            }
        }
    }
    return ILWP_OK;
}
