/*
 * HOTP-SHA1 with AVX-512, two independent 16-lane groups interleaved round by round
 * (mb_sha1x2.h over the one-group template mb_sha1.h): 32 codes in flight.
 *
 * A SHA-1 round's chain (rotate, then add) is serial. On AMD Zen 5 each of those steps takes
 * 2 cycles (measured: `pyotp-hw bench --bound`) and four 512-bit pipes wait for it, so one group
 * leaves them mostly idle; a second group's rounds fill them. Intel's AVX-512 cores have two
 * 512-bit ports and 1-cycle adds, which one group already keeps busy: dispatch.c prefers this
 * kernel only on CPUs where it was measured faster.
 */
#include <string.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS
#include "mb_target.h"
#if defined(OTP_WIDE_ON_AVX2)
#pragma GCC diagnostic ignored "-Wpsabi" /* test build: see sha1_avx512.c */
#endif
MB_TARGET_BEGIN(MB_AVX512_TARGET)
#define MB_LANES 16
#define MB_SUFFIX avx512x2_one
#define MB_X2_SUFFIX avx512x2
#include "mb_sha1.h"
#include "mb_sha1x2.h"
MB_TARGET_END
#else
typedef int otp_sha1_avx512x2_unused; /* ISO C wants a translation unit to declare something */
#endif
