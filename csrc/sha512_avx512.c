/* HOTP-SHA512 with AVX-512 (F, DQ, BW, VL): 8 codes per 512-bit register (multi-buffer template
 * mb_sha512.h, the same source as the AVX2 kernel with twice the lanes). Selected only when cpuid and
 * xgetbv report AVX-512 and the OS saves the ZMM state. */
#include <string.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS
#include "mb_target.h"
#if defined(OTP_WIDE_ON_AVX2)
/* Test build only: 64-byte vectors on AVX2 pass through memory, which GCC notes as an ABI
 * difference; nothing outside this file sees them. */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
MB_TARGET_BEGIN(MB_AVX512_TARGET)
#define MB_LANES 8
#define MB_SUFFIX avx512
#include "mb_sha512.h"
MB_TARGET_END
#else
typedef int otp_sha512_avx512_unused; /* ISO C wants a translation unit to declare something */
#endif
