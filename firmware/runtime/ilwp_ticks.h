/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ilwp_ticks.h - the timer the generated model times weight decoding with (ILWP_TICKS()).
 * The harness build includes it at the top of ilwp_model.c; defined in main.c. */
#ifndef ILWP_TICKS_H
#define ILWP_TICKS_H

#include <stdint.h>

uint32_t ilwp_ticks(void); /* low 32 bits of timer_now() */
#define ILWP_TICKS() ilwp_ticks()

#endif
