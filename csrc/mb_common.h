/*
 * Multi-buffer helpers shared by the SIMD kernel templates (mb_sha1.h, mb_sha256.h, mb_sha512.h).
 *
 * Written with GCC/Clang vector extensions rather than intrinsics: the same source is compiled
 * for 8 lanes under AVX2 and for 16 lanes under AVX-512 (the file that includes a template sets
 * the instruction set with a target pragma), so the arithmetic the wide kernels perform is the
 * arithmetic the tested narrow kernels perform; only the register width differs (and
 * tests/test_kernels.py builds the wide files for AVX2 to run their 16-lane code on this CPU).
 *
 * Before including: MB_LANES (lanes per group: codes computed side by side).
 * Everything here is static inline: every function lives in the including file, compiled for
 * that file's instruction set.
 */
#ifndef PYOTP_HW_MB_COMMON_H
#define PYOTP_HW_MB_COMMON_H

#include <string.h>

#include "otp_internal.h"

#ifndef MB_LANES
#error "define MB_LANES before including mb_common.h"
#endif

#define MB_INLINE static inline __attribute__((always_inline))

/* One 32-bit word of MB_LANES independent codes, and the same for 64-bit words. */
typedef uint32_t v32 __attribute__((vector_size(MB_LANES * 4)));
typedef int32_t v32s __attribute__((vector_size(MB_LANES * 4)));
typedef uint64_t v64 __attribute__((vector_size(MB_LANES * 8)));

/* Rotations by constants: every shift count stays below the word width. */
#define ROL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define ROR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

/* How the rows of one group sit in the key table, to pick the cheapest way to load them. */
enum mb_rows_shape { MB_ROWS_SCATTERED, MB_ROWS_CONSECUTIVE, MB_ROWS_SAME };

MB_INLINE enum mb_rows_shape mb_rows_shape(const uint32_t *rows)
{
    const uint32_t r0 = rows[0];
    int consecutive = 1, same = 1;
    for (unsigned j = 1; j < MB_LANES; j++) {
        consecutive &= rows[j] == r0 + j;
        same &= rows[j] == r0;
    }
    return consecutive ? MB_ROWS_CONSECUTIVE : same ? MB_ROWS_SAME : MB_ROWS_SCATTERED;
}

/* Word w of the keys in rows[0..MB_LANES) of one half (inner or outer) of a 32-bit key table. */
MB_INLINE v32 mb_load_word32(const uint32_t *half, size_t stride, unsigned w,
                             const uint32_t *rows, enum mb_rows_shape shape)
{
    const uint32_t *base = half + (size_t)w * stride;
    v32 v;
    if (shape == MB_ROWS_CONSECUTIVE) {
        /* rows[0] + MB_LANES - 1 < n <= stride: the whole load lies inside this word's row. */
        memcpy(&v, base + rows[0], sizeof v);
    } else if (shape == MB_ROWS_SAME) {
        v = (v32){0} + base[rows[0]];
    } else {
        uint32_t lanes[MB_LANES];
        for (unsigned j = 0; j < MB_LANES; j++) lanes[j] = base[rows[j]];
        memcpy(&v, lanes, sizeof v);
    }
    return v;
}

/* 64-bit vectors go through pointers: with 8 lanes under AVX2 they exceed a register, and
 * passing them by value would be an ABI question. */
MB_INLINE void mb_load_word64(v64 *v, const uint64_t *half, size_t stride, unsigned w,
                              const uint32_t *rows, enum mb_rows_shape shape)
{
    const uint64_t *base = half + (size_t)w * stride;
    if (shape == MB_ROWS_CONSECUTIVE) {
        memcpy(v, base + rows[0], sizeof *v);
    } else if (shape == MB_ROWS_SAME) {
        *v = (v64){0} + base[rows[0]];
    } else {
        uint64_t lanes[MB_LANES];
        for (unsigned j = 0; j < MB_LANES; j++) lanes[j] = base[rows[j]];
        memcpy(v, lanes, sizeof *v);
    }
}

/* Stores word w of MB_LANES consecutive rows starting at `first` (key schedule). */
MB_INLINE void mb_store_word32(uint32_t *half, size_t stride, unsigned w, size_t first,
                               size_t count, v32 v)
{
    uint32_t *dst = half + (size_t)w * stride + first;
    if (count == MB_LANES) {
        memcpy(dst, &v, sizeof v);
    } else {
        for (size_t j = 0; j < count; j++) dst[j] = v[j];
    }
}

MB_INLINE void mb_store_word64(uint64_t *half, size_t stride, unsigned w, size_t first,
                               size_t count, const v64 *v)
{
    uint64_t *dst = half + (size_t)w * stride + first;
    if (count == MB_LANES) {
        memcpy(dst, v, sizeof *v);
    } else {
        for (size_t j = 0; j < count; j++) dst[j] = (*v)[j];
    }
}

/*
 * The 16 big-endian message words of MB_LANES 64-byte key blocks, transposed into lanes for the
 * key schedules: k[j] holds word j of block l in lane l; lanes from m on repeat block 0.
 *
 * 16 lanes under GCC: each block is loaded as one vector, byte-swapped by one shuffle (x86 is
 * little-endian) and the 16 x 16 words transposed in four stages of two-vector shuffles (the
 * stage of distance d swaps the off-diagonal d x d blocks): 80 shuffles per 16 keys, no word
 * through memory. The scalar way (one word at a time into an array, read back as vectors, which
 * stalls store forwarding) took a quarter of the AVX-512 key schedule's time. With 8 lanes
 * (AVX2, which has no two-vector 32-bit permute) the shuffles measured 0.73x the scalar way,
 * which stays there and for other compilers.
 */
#if defined(__GNUC__) && !defined(__clang__) && MB_LANES == 16
#define MB_BS4(o) (o) + 3, (o) + 2, (o) + 1, (o)
#define MB_BS16(o) MB_BS4(o), MB_BS4((o) + 4), MB_BS4((o) + 8), MB_BS4((o) + 12)
/* Lane j of the stage of distance d: word j of a, or of b (indices from 16 on). */
#define MB_TLO(j, d) ((j) & (d) ? 16 + (j) - (d) : (j))
#define MB_THI(j, d) ((j) & (d) ? 16 + (j) : (j) + (d))
#define MB_IDX(F, d) {F(0, d), F(1, d), F(2, d), F(3, d), F(4, d), F(5, d), F(6, d), F(7, d), \
                      F(8, d), F(9, d), F(10, d), F(11, d), F(12, d), F(13, d), F(14, d),     \
                      F(15, d)}
#define MB_TSTAGE(r, d)                                                                      \
    do {                                                                                     \
        const v32 lo = MB_IDX(MB_TLO, d), hi = MB_IDX(MB_THI, d);                            \
        for (unsigned i = 0; i < 16; i++) {                                                  \
            if (i & (d)) continue;                                                           \
            const v32 a = r[i], b = r[i + (d)];                                              \
            r[i] = __builtin_shuffle(a, b, lo);                                              \
            r[i + (d)] = __builtin_shuffle(a, b, hi);                                        \
        }                                                                                    \
    } while (0)

MB_INLINE void mb_key_words32(const uint8_t *blocks, size_t m, v32 k[16])
{
    /* Loaded through an unaligned type and transposed in k itself (which the caller wipes): no
     * local array holds key words, so none is left on the stack (as under ASan it was). */
    typedef uint8_t v8 __attribute__((vector_size(64)));
    typedef uint8_t v8u __attribute__((vector_size(64), aligned(1), may_alias));
    const v8 bswap = {MB_BS16(0), MB_BS16(16), MB_BS16(32), MB_BS16(48)};
    for (unsigned l = 0; l < 16; l++)
        k[l] = (v32)__builtin_shuffle(*(const v8u *)(const void *)(blocks + (l < m ? l : 0) * 64),
                                      bswap);
    MB_TSTAGE(k, 8);
    MB_TSTAGE(k, 4);
    MB_TSTAGE(k, 2);
    MB_TSTAGE(k, 1);
}
#else
MB_INLINE void mb_key_words32(const uint8_t *blocks, size_t m, v32 k[16])
{
    uint32_t lanes[16][MB_LANES];
    for (unsigned l = 0; l < MB_LANES; l++) {
        const uint8_t *block = blocks + (l < m ? l : 0) * 64;
        for (unsigned j = 0; j < 16; j++) {
            uint32_t x;
            memcpy(&x, block + 4 * j, sizeof x);
            lanes[j][l] = __builtin_bswap32(x);
        }
    }
    memcpy(k, lanes, sizeof lanes);
    otp_wipe(lanes, sizeof lanes);
}
#endif

/* One bit pattern in every lane. */
#define V32(x) ((v32){0} + (uint32_t)(x))
#define V64(x) ((v64){0} + (uint64_t)(x))

/* Selects words[q] per lane for q in 0..3, with masks (no data-dependent branch or index). */
MB_INLINE v32 mb_pick4(v32 q, v32 w0, v32 w1, v32 w2, v32 w3)
{
    return (w0 & (v32)(q == 0)) | (w1 & (v32)(q == 1)) | (w2 & (v32)(q == 2)) |
           (w3 & (v32)(q == 3));
}

/*
 * RFC 4226 dynamic truncation in the lanes, for digests held as big-endian 32-bit words h[0..]
 * whose last word is `last`: offset = low nibble of the last byte, then the 31 bits starting at
 * that byte. Bytes off..off+3 lie in words off/4 and off/4 + 1 (off <= 15, so words 0..4).
 * The low word is shifted right by one and then by 31 - 8r, so no shift reaches 32 when r == 0.
 */
MB_INLINE v32 mb_truncate32(v32 last, v32 h0, v32 h1, v32 h2, v32 h3, v32 h4)
{
    const v32 off = last & 15;
    const v32 q = off >> 2;
    const v32 sh = (off & 3) << 3;
    const v32 hi = mb_pick4(q, h0, h1, h2, h3);
    const v32 lo = mb_pick4(q, h1, h2, h3, h4);
    return ((hi << sh) | ((lo >> 1) >> (31 - sh))) & 0x7fffffffu;
}

/* The same for SHA-512's 64-bit words: bytes off..off+3 lie in words off/8 and off/8 + 1. */
MB_INLINE v32 mb_truncate64(const v64 *hp0, const v64 *hp1, const v64 *hp2, const v64 *hp7)
{
    const v64 h0 = *hp0, h1 = *hp1, h2 = *hp2;
    const v64 off = *hp7 & 15;
    const v64 q1 = (v64)(off >> 3 == 1); /* all ones when the bytes start in word 1 */
    const v64 sh = (off & 7) << 3;
    const v64 hi = (h0 & ~q1) | (h1 & q1);
    const v64 lo = (h1 & ~q1) | (h2 & q1);
    const v64 v = (hi << sh) | ((lo >> 1) >> (63 - sh));
    return __builtin_convertvector(v >> 32, v32) & 0x7fffffffu;
}

/*
 * v31 mod 10^digits for 31-bit values, in the lanes, with integer multiplications only (their time
 * does not depend on the values, unlike a divider's). The quotient is (v * m) >> s with
 * m = ceil(2^s / 10^digits), s = 31 + ceil(log2 10^digits): exact for every v < 2^31 because
 * m * 10^digits - 2^s < 10^digits <= 2^(s - 31) (Granlund and Montgomery; also checked over all
 * 2^31 values for each digit count). v * m < 2^63 fits the 64-bit lanes.
 */
MB_INLINE v32 mb_mod_pow10(v32 v31, unsigned digits)
{
    static const uint32_t pow10[10] = {1u,      10u,      100u,      1000u,      10000u,
                                       100000u, 1000000u, 10000000u, 100000000u, 1000000000u};
    static const uint64_t magic[10] = {0, 0, 0, 0, 0, 0, 0x8637bd06u, 0xd6bf94d6u, 0xabcc7712u,
                                       0x89705f42u};
    static const unsigned shift[10] = {0, 0, 0, 0, 0, 0, 51, 55, 58, 61};
    if (digits < 6 || digits > 9) return v31; /* 10 digits: 10^10 > 2^31, the value is its own
                                                 remainder */
    const v64 q = (__builtin_convertvector(v31, v64) * magic[digits]) >> shift[digits];
    return v31 - __builtin_convertvector(q, v32) * pow10[digits];
}

/* Counters of one group as the two big-endian message words of the 8-byte counter. */
MB_INLINE void mb_counter_words(const uint64_t *counters, v32 *hi, v32 *lo)
{
    v64 c;
    memcpy(&c, counters, sizeof c);
    *hi = __builtin_convertvector(c >> 32, v32);
    *lo = __builtin_convertvector(c, v32);
}

/* Stores the first `count` lanes of v. */
MB_INLINE void mb_store_lanes(uint32_t *dst, v32 v, size_t count)
{
    if (count == MB_LANES) memcpy(dst, &v, sizeof v);
    else for (size_t j = 0; j < count; j++) dst[j] = v[j];
}

/*
 * A tail of fewer than MB_LANES items is padded to a whole group (repeating its last row and
 * using counter 0 in the unused lanes) unless it is so short that the scalar kernel is cheaper.
 */
#define MB_SCALAR_TAIL (MB_LANES / 4)

/* Rows of the last, partial group: the tail's rows, then its last row repeated. */
MB_INLINE void mb_pad_rows(const uint32_t *rows, size_t rest, uint32_t r[MB_LANES])
{
    for (size_t j = 0; j < MB_LANES; j++) r[j] = rows[j < rest ? j : rest - 1];
}

#endif
