/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STM32 GPIO alternate-function set-up, the same register layout on F4, F7 and L4+:
 * MODER +0x00 (2 bits/pin, 10 = AF), OTYPER +0x04, OSPEEDR +0x08 (2 bits/pin),
 * PUPDR +0x0C (2 bits/pin, 01 = pull-up), AFRL +0x20 / AFRH +0x24 (4 bits/pin).
 * Ports are 0x400 apart from GPIOA.
 */
#ifndef ILWP_STM32_GPIO_H
#define ILWP_STM32_GPIO_H

#include <stdint.h>

#include "cortexm.h"

static inline void stm32_gpio_af(uint32_t gpioa_base, uint32_t port, uint32_t pin, uint32_t af,
                                 int pull_up)
{
    const uint32_t base = gpioa_base + port * 0x400u;
    REG32(base + 0x00u) = (REG32(base + 0x00u) & ~(3u << (2u * pin))) | (2u << (2u * pin));
    REG32(base + 0x04u) &= ~(1u << pin);
    REG32(base + 0x08u) |= (3u << (2u * pin));
    REG32(base + 0x0Cu) = (REG32(base + 0x0Cu) & ~(3u << (2u * pin))) | ((pull_up ? 1u : 0u) << (2u * pin));
    const uint32_t afr = base + (pin < 8u ? 0x20u : 0x24u);
    const uint32_t shift = 4u * (pin & 7u);
    REG32(afr) = (REG32(afr) & ~(0xFu << shift)) | ((af & 0xFu) << shift);
}

#endif /* ILWP_STM32_GPIO_H */
