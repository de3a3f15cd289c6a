/* HOTP-SHA512 with AVX2: 4 codes per 256-bit register (multi-buffer template mb_sha512.h). */
#include <string.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS
#include "mb_target.h"
MB_TARGET_BEGIN("avx2")
#define MB_LANES 4
#define MB_SUFFIX avx2
#include "mb_sha512.h"
MB_TARGET_END
#else
typedef int otp_sha512_avx2_unused; /* ISO C wants a translation unit to declare something */
#endif
