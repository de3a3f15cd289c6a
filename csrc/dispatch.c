/* The kernel table, CPU feature detection, and kernel selection. No mutable state: the caller
 * (the Python layer) picks a kernel once at import and passes it to every call. */
#include <stddef.h>

#include "mb_target.h"
#include "otp_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define OTP_X86 1
#endif

/*
 * A SIMD kernel with every optional path. Priorities (higher wins among the supported ones):
 * AVX-512 multi-buffer first (16 lanes; the fastest on Intel Xeon by the reference figures).
 * Without it, SHA-NI: on AMD Zen 3, SHA-1 with four SHA-NI streams measured about 10% faster
 * than 8 AVX2 lanes (one process, alternating runs), SHA-256 with SHA-NI about twice as fast.
 */
#define SIMD_KERNEL(digest, isa, lanes, needs, prio)                                             \
    {#digest "-" #isa, OTP_##digest##_ID, lanes, needs, prio, otp_##digest##_trunc_##isa,         \
     otp_##digest##_trunc_shared_##isa, otp_##digest##_match_shared_##isa,                       \
     otp_##digest##_keysched_##isa, 0}
#define SHANI_KERNEL(digest, streams, prio)                                                     \
    {#digest "-shani", OTP_##digest##_ID, streams, OTP_CPU_SHANI | OTP_CPU_SSE41, prio,         \
     otp_##digest##_trunc_shani, otp_##digest##_trunc_shared_shani,                             \
     otp_##digest##_match_shared_shani, otp_##digest##_keysched_shani, 0}
#define OTP_sha1_ID OTP_SHA1
#define OTP_sha256_ID OTP_SHA256
#define OTP_sha512_ID OTP_SHA512

static const otp_kernel kernels[] = {
    {"sha1-portable", OTP_SHA1, 1, 0, 0, otp_sha1_trunc_portable, NULL, NULL, NULL, 0},
    {"sha256-portable", OTP_SHA256, 1, 0, 0, otp_sha256_trunc_portable, NULL, NULL, NULL, 0},
    {"sha512-portable", OTP_SHA512, 1, 0, 0, otp_sha512_trunc_portable, NULL, NULL, NULL, 0},
#if OTP_X86_KERNELS
    SIMD_KERNEL(sha1, avx512, 16, MB_AVX512_CPU, 30),
    /* Two interleaved 16-lane groups: 1.38x the one-group kernel on AMD Zen 5 (one process,
     * alternating runs, 12.1 against 16.7 ns per code), 1.03-1.05x for HOTP and 1.11x for
     * verification on AMD Zen 4; preferred on AMD (family 0x19 and later, where AVX-512 is
     * there at all), not on Intel, whose two 512-bit ports the reference figures favour with
     * one group. */
    {"sha1-avx512x2", OTP_SHA1, 32, MB_AVX512_CPU, 29, otp_sha1_trunc_avx512x2,
     otp_sha1_trunc_shared_avx512x2, otp_sha1_match_shared_avx512x2, otp_sha1_keysched_avx512x2,
     OTP_CPU_AMD_WIDE},
    SIMD_KERNEL(sha256, avx512, 16, MB_AVX512_CPU, 30),
    SIMD_KERNEL(sha512, avx512, 8, MB_AVX512_CPU, 30),
#if !defined(OTP_WIDE_ON_AVX2) /* the test build of the wide kernels holds only those */
    SIMD_KERNEL(sha1, avx2, 8, OTP_CPU_AVX2, 10),
    SHANI_KERNEL(sha1, 4, 20),
    SHANI_KERNEL(sha256, 2, 20),
    SIMD_KERNEL(sha256, avx2, 8, OTP_CPU_AVX2, 10),
    SIMD_KERNEL(sha512, avx2, 4, OTP_CPU_AVX2, 10),
#endif
#endif
};

size_t otp_kernel_count(void) { return sizeof kernels / sizeof kernels[0]; }

const otp_kernel *otp_kernel_at(size_t i) { return i < otp_kernel_count() ? &kernels[i] : NULL; }

const char *otp_kernel_name(const otp_kernel *k) { return k ? k->name : ""; }
int otp_kernel_digest(const otp_kernel *k) { return k ? k->digest : 0; }
unsigned otp_kernel_lanes(const otp_kernel *k) { return k ? k->lanes : 0; }
int otp_kernel_has_shared(const otp_kernel *k) { return k != NULL && k->match_shared != NULL; }

unsigned otp_cpu_features(void)
{
    unsigned f = 0;
#ifdef OTP_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int sse41 = (c >> 19) & 1;
    const int osxsave = (c >> 27) & 1;
    const int avx = (c >> 28) & 1;
    if (sse41) f |= OTP_CPU_SSE41;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        /* xgetbv: which register states the OS saves on context switch. */
        __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    const int os_ymm = (xcr0 & 0x6) == 0x6;
    const int os_zmm = (xcr0 & 0xe6) == 0xe6;
    unsigned family = (a >> 8) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    unsigned vendor_b, vendor_c, vendor_d, top;
    __cpuid(0, top, vendor_b, vendor_c, vendor_d);
    /* "AuthenticAMD" in ebx, edx, ecx. */
    const int amd = vendor_b == 0x68747541u && vendor_d == 0x69746e65u && vendor_c == 0x444d4163u;
    if (amd && family >= 0x19) f |= OTP_CPU_AMD_WIDE;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if ((b >> 29) & 1) f |= OTP_CPU_SHANI;
        if (avx && os_ymm && ((b >> 5) & 1)) f |= OTP_CPU_AVX2;
        /* F (bit 16), DQ (17), BW (30), VL (31): what the AVX-512 kernels are compiled for. */
        const int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) &&
                           ((b >> 31) & 1);
        if (avx512 && os_zmm) f |= OTP_CPU_AVX512;
    }
#endif
    return f;
}

int otp_kernel_supported(const otp_kernel *k)
{
    if (k == NULL) return 0;
    return (otp_cpu_features() & k->cpu_needs) == k->cpu_needs;
}

static int effective_priority(const otp_kernel *k, unsigned have)
{
    return k->priority + (k->prefer_on != 0 && (have & k->prefer_on) == k->prefer_on ? 2 : 0);
}

unsigned otp_kernel_missing(const otp_kernel *k)
{
    if (k == NULL) return 0;
    return k->cpu_needs & ~otp_cpu_features();
}

/* The priority on this CPU: dispatch's ranking (prefer_on counts here). */
int otp_kernel_priority(const otp_kernel *k)
{
    return k ? effective_priority(k, otp_cpu_features()) : 0;
}

const otp_kernel *otp_kernel_best(int digest)
{
    const otp_kernel *best = NULL;
    const unsigned have = otp_cpu_features();
    for (size_t i = 0; i < otp_kernel_count(); i++) {
        const otp_kernel *k = &kernels[i];
        if (k->digest != digest || (have & k->cpu_needs) != k->cpu_needs) continue;
        if (best == NULL || effective_priority(k, have) > effective_priority(best, have)) best = k;
    }
    return best;
}

const otp_kernel *otp_kernel_best_lone(int digest)
{
    const unsigned have = otp_cpu_features();
    for (size_t i = 0; i < otp_kernel_count(); i++) {
        const otp_kernel *k = &kernels[i];
        if (k->digest == digest && (k->cpu_needs & OTP_CPU_SHANI) &&
            (have & k->cpu_needs) == k->cpu_needs)
            return k;
    }
    return otp_kernel_best(digest);
}
