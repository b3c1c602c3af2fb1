/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ilwp_compiler: the few compiler hints of the firmware's C (kernels, weight decoder), no-ops on
 * compilers without them.
 *  ILWP_NOINLINE  keep a function out of line (a loop that needs every register, a cold path).
 *  ILWP_SMALL     compile one function for size in an optimising build: code run once per call or
 *                 per tensor, beside per-value loops built for speed (runtime flash is budgeted,
 *                 issue #15). GCC only (clang has no per-function optimisation level).
 */
#ifndef ILWP_COMPILER_H
#define ILWP_COMPILER_H

#if defined(__GNUC__)
#define ILWP_NOINLINE __attribute__((noinline))
#else
#define ILWP_NOINLINE
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define ILWP_SMALL __attribute__((optimize("Os")))
#else
#define ILWP_SMALL
#endif

#endif /* ILWP_COMPILER_H */
