/* Internal interfaces of the C core: key table layout, kernel table, hash primitives. */
#ifndef PYOTP_HW_OTP_INTERNAL_H
#define PYOTP_HW_OTP_INTERNAL_H

#include "otp_core.h"

/* Rows of a key table are padded to a multiple of this many lanes, so that vector kernels may
 * load whole registers past the last key without reading outside the allocation. */
#define OTP_ROW_ALIGN 16
/* Largest HMAC block (SHA-512). */
#define OTP_MAX_BLOCK 128
#define OTP_MAX_DIGEST 64

/*
 * Key table: per key, the chaining state after compressing (key ^ ipad) and (key ^ opad).
 * Structure of arrays: word w of key r lives at inner[w * stride + r], so that consecutive keys'
 * words are adjacent and a vector kernel loads one word of 8 or 16 keys with a single load.
 * SHA-1 and SHA-256 use 32-bit words (5 and 8 of them); SHA-512 uses 8 64-bit words.
 */
struct otp_keytable {
    int digest;
    size_t n;          /* number of keys */
    size_t stride;     /* elements per word row: n rounded up to OTP_ROW_ALIGN */
    unsigned words;    /* state words per key */
    unsigned word_size;/* 4 or 8 bytes */
    void *inner;
    void *outer;
    void *mem;         /* one allocation holding inner then outer */
    size_t mem_size;
    int locked;        /* 1 when mlock() succeeded */
    size_t map_size;   /* mem_size rounded up to whole pages: mem owns these pages alone */
    int lock_errno;    /* errno of a failed mlock(), 0 when locked or not attempted */
};

/*
 * Kernel: computes the 31-bit dynamically truncated HMAC value of counters[i] under key
 * rows[i], for i < n. Rows are already validated; n may be anything (kernels handle tails).
 */
typedef void (*otp_trunc_fn)(const otp_keytable *kt, const uint32_t *rows,
                             const uint64_t *counters, size_t n, uint32_t *out31);

/* Optional: the same at one counter shared by every item (a TOTP time step), where a kernel can
 * compute the inner message schedule once and broadcast it. */
typedef void (*otp_trunc_shared_fn)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, uint32_t *out31);

/* Optional: at one shared counter, hit[i] = all ones when the code of rows[i] reduced to
 * `digits` (6..10) equals codes[i], else 0; truncation, reduction and comparison stay in the
 * vector lanes and take the same time whatever the codes are. */
typedef void (*otp_match_shared_fn)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, const uint32_t *codes,
                                    unsigned digits, uint32_t *hit);

/* Optional: HMAC key schedule. `blocks` holds `count` keys, each already hashed when longer than
 * the block and zero-padded to one block; the kernel stores the midstates of key ^ ipad and
 * key ^ opad into rows first .. first + count - 1 (which the caller checked). */
typedef void (*otp_keysched_fn)(otp_keytable *kt, size_t first, const uint8_t *blocks,
                                size_t count);

/* CPU feature flags (OTP_CPU_*): in otp_core.h, where Python reads them too. */

struct otp_kernel {
    const char *name;
    int digest;
    unsigned lanes;      /* codes computed side by side */
    unsigned cpu_needs;  /* OTP_CPU_* flags */
    int priority;        /* higher is preferred when supported */
    otp_trunc_fn trunc;
    otp_trunc_shared_fn trunc_shared; /* NULL: the driver calls trunc with repeated counters */
    otp_match_shared_fn match_shared; /* NULL: the driver reduces and compares itself */
    otp_keysched_fn keysched;         /* NULL: the portable key schedule */
    unsigned prefer_on;  /* OTP_CPU_* flags: with all of them, priority counts 2 more */
};

/* The x86-64 SIMD kernels need GCC or Clang (vector extensions, target pragmas); elsewhere their
 * files compile to nothing and the portable kernels serve. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(OTP_NO_SIMD)
#define OTP_X86_KERNELS 1
#else
#define OTP_X86_KERNELS 0
#endif

/* CPU features of this machine and OS (computed on each call; callers cache the kernel). */
unsigned otp_cpu_features(void);

/* Digest parameters. */
unsigned otp_digest_block(int digest);   /* 64 or 128, 0 when unknown */
unsigned otp_digest_size(int digest);    /* 20, 32, 64, 0 when unknown */

/* Compression functions over one block given as big-endian bytes (portable). */
void otp_sha1_compress_block(uint32_t state[5], const uint8_t block[64]);
void otp_sha256_compress_block(uint32_t state[8], const uint8_t block[64]);
void otp_sha512_compress_block(uint64_t state[8], const uint8_t block[128]);
/* ... and over a message schedule's first 16 words already in host order. */
void otp_sha1_compress_words(uint32_t state[5], const uint32_t w[16]);
void otp_sha256_compress_words(uint32_t state[8], const uint32_t w[16]);
void otp_sha512_compress_words(uint64_t state[8], const uint64_t w[16]);

extern const uint32_t otp_sha1_iv[5];
extern const uint32_t otp_sha256_iv[8];
extern const uint64_t otp_sha512_iv[8];
/* Round constants (FIPS 180-4), shared by every kernel of the digest. */
extern const uint32_t otp_sha256_k[64];
extern const uint64_t otp_sha512_k[80];

/* Portable kernels (always present). */
void otp_sha1_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                             const uint64_t *counters, size_t n, uint32_t *out31);
void otp_sha256_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                               const uint64_t *counters, size_t n, uint32_t *out31);
void otp_sha512_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                               const uint64_t *counters, size_t n, uint32_t *out31);

/* Portable key schedule (keytable.c). */
void otp_keysched_portable(otp_keytable *kt, size_t first, const uint8_t *blocks, size_t count);

#if OTP_X86_KERNELS
#define OTP_DECLARE_KERNELS(digest, isa)                                                          \
    void otp_##digest##_trunc_##isa(const otp_keytable *kt, const uint32_t *rows,                 \
                                    const uint64_t *counters, size_t n, uint32_t *out31);         \
    void otp_##digest##_trunc_shared_##isa(const otp_keytable *kt, const uint32_t *rows,          \
                                           uint64_t counter, size_t n, uint32_t *out31);          \
    void otp_##digest##_match_shared_##isa(const otp_keytable *kt, const uint32_t *rows,          \
                                           uint64_t counter, size_t n, const uint32_t *codes,     \
                                           unsigned digits, uint32_t *hit);                       \
    void otp_##digest##_keysched_##isa(otp_keytable *kt, size_t first, const uint8_t *blocks,     \
                                       size_t count);
OTP_DECLARE_KERNELS(sha1, avx2)
OTP_DECLARE_KERNELS(sha1, avx512)
OTP_DECLARE_KERNELS(sha1, avx512x2)
OTP_DECLARE_KERNELS(sha256, avx2)
OTP_DECLARE_KERNELS(sha256, avx512)
OTP_DECLARE_KERNELS(sha512, avx2)
OTP_DECLARE_KERNELS(sha512, avx512)
OTP_DECLARE_KERNELS(sha1, shani)
OTP_DECLARE_KERNELS(sha256, shani)
#undef OTP_DECLARE_KERNELS
#endif

/* v31 mod 10^digits (6..10; anything else leaves v31 unchanged). The divisor is a constant in
 * each case, so compilers multiply instead of dividing: the time does not depend on the value. */
static inline uint32_t otp_mod_pow10(uint32_t v31, unsigned digits)
{
    switch (digits) {
    case 6: return v31 % 1000000u;
    case 7: return v31 % 10000000u;
    case 8: return v31 % 100000000u;
    case 9: return v31 % 1000000000u;
    default: return v31; /* 10 digits: 10^10 > 2^31 */
    }
}

/* All ones when a == b, else zero, without a data-dependent branch. */
static inline uint32_t otp_ct_eq32(uint32_t a, uint32_t b)
{
    const uint64_t x = (uint64_t)(a ^ b);
    return (uint32_t)((uint64_t)0 - ((x - 1) >> 63));
}

/* RFC 4226 dynamic truncation of a digest held as big-endian 32-bit words (SHA-1, SHA-256). */
static inline uint32_t otp_truncate_words32(const uint32_t *h, unsigned nwords)
{
    unsigned off = h[nwords - 1] & 0x0f;
    unsigned q = off >> 2;
    unsigned r = off & 3;
    /* Combine in 64 bits: a 32-bit shift by 32 would be undefined when r == 0. */
    uint64_t pair = ((uint64_t)h[q] << 32) | h[q + 1];
    return (uint32_t)(pair >> (32 - 8 * r)) & 0x7fffffffu;
}

static inline uint32_t otp_truncate_words64(const uint64_t *h)
{
    unsigned off = (unsigned)(h[7] & 0x0f);
    /* Bytes off..off+3 lie inside the first three 64-bit words. */
    unsigned q = off >> 3;
    unsigned r = off & 7;
    uint64_t hi = h[q];
    uint64_t lo = h[q + 1];
    uint64_t v = r == 0 ? hi : (hi << (8 * r)) | (lo >> (64 - 8 * r));
    return (uint32_t)(v >> 32) & 0x7fffffffu;
}

#endif
