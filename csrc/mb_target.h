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

#endif
