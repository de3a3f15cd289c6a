/*
 * Compiling one file for one instruction set: every function defined between MB_TARGET_BEGIN and
 * MB_TARGET_END may use that instruction set (GCC and Clang). Only the dispatcher calls these
 * functions, after cpuid and xgetbv said the CPU and OS support the set.
 */
#ifndef PYOTP_HW_MB_TARGET_H
#define PYOTP_HW_MB_TARGET_H

#if defined(__clang__)
#define MB_PRAGMA(x) _Pragma(#x)
#define MB_TARGET_BEGIN(isa) MB_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define MB_TARGET_END _Pragma("clang attribute pop")
#else
#define MB_PRAGMA(x) _Pragma(#x)
#define MB_TARGET_BEGIN(isa) _Pragma("GCC push_options") MB_PRAGMA(GCC target(isa))
#define MB_TARGET_END _Pragma("GCC pop_options")
#endif

/*
 * The AVX-512 kernels' instruction set. OTP_WIDE_ON_AVX2 (never set by the normal build) compiles
 * those same files for AVX2 instead, 16 lanes wide in pairs of 256-bit registers, so that a test
 * build can run their code on a CPU without AVX-512 (tests/test_kernels.py does).
 */
#if defined(OTP_WIDE_ON_AVX2)
#define MB_AVX512_TARGET "avx2"
#define MB_AVX512_CPU OTP_CPU_AVX2
#else
/* DQ as well: GCC 12 emits DQ instructions (vextracti64x2) for 64-bit lanes even when only
 * F, VL and BW are enabled, and every CPU with AVX-512 BW also has DQ. */
#define MB_AVX512_TARGET "avx512f,avx512vl,avx512bw,avx512dq"
#define MB_AVX512_CPU OTP_CPU_AVX512
#endif

#endif
