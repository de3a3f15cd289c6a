/*
 * Multi-buffer HOTP-SHA1 kernels (template). One 32-bit lane per independent code.
 *
 * Before including: MB_LANES and MB_SUFFIX (the name suffix, such as avx2), and a target
 * pragma for the instruction set. Defines otp_sha1_{trunc,trunc_shared,match_shared,keysched}_
 * MB_SUFFIX with the signatures of otp_internal.h.
 *
 * The message blocks of HOTP are mostly constant: the inner block is the 8-byte counter, 0x80,
 * zeros and the length; the outer block is the 20-byte inner digest, 0x80, zeros and the length.
 * The compression is written out round by round over named variables, so the compiler folds
 * every constant message word into the schedule. At a shared counter the whole inner schedule
 * is the same in every lane: it is computed once per call, with the round constants added, and
 * broadcast (W + K per round).
 */
#include "mb_common.h"

#define MB_CAT2(a, b) a##_##b
#define MB_CAT(a, b) MB_CAT2(a, b)
#define MB_FN(name) MB_CAT(name, MB_SUFFIX)

#define SHA1_F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define SHA1_F2(b, c, d) ((b) ^ (c) ^ (d))
#define SHA1_F3(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
#define SHA1_K(t) ((t) < 20 ? 0x5A827999u : (t) < 40 ? 0x6ED9EBA1u : (t) < 60 ? 0x8F1BBCDCu : 0xCA62C1D6u)

/*
 * The round's boolean function of b, c and d, computed in b's register. With 512-bit vectors it
 * is one vpternlogd written out: its destination is also its first input, and the compiler, left
 * to itself, copies b first (b is still needed for its rotation), one register move per round.
 * Here b is rotated into a new register first and its old value dies in the vpternlogd. The
 * immediates are the truth tables of F1, F2 and F3 over (b, c, d) = (0xF0, 0xCC, 0xAA).
 */
#if MB_LANES == 16 && defined(__AVX512F__) && !defined(OTP_WIDE_ON_AVX2)
#define SHA1_T_SHA1_F1 0xCA
#define SHA1_T_SHA1_F2 0x96
#define SHA1_T_SHA1_F3 0xE8
#define SHA1_FB(F, b, c, d)                                                        \
    __asm__("vpternlogd %3, %2, %1, %0" : "+v"(b) : "v"(c), "v"(d), "n"(SHA1_T_##F))
#else
#define SHA1_T_SHA1_F1 SHA1_F1
#define SHA1_T_SHA1_F2 SHA1_F2
#define SHA1_T_SHA1_F3 SHA1_F3
#define SHA1_FB(F, b, c, d) b = SHA1_T_##F(b, c, d)
#endif

/* Round t over ring word i; SHA1_WK(i, t) supplies W[t] + K[t], defined by each user. */
#define SHA1_R(F, a, b, c, d, e, i, t)                    \
    do {                                                  \
        const v32 b30_ = ROL32(b, 30);                    \
        SHA1_FB(F, b, c, d);                              \
        e += ROL32(a, 5) + b + SHA1_WK(i, t);             \
        b = b30_;                                         \
    } while (0);

/* Message word t >= 16 into ring slot i from W[t-3], W[t-8], W[t-14] and W[t-16] (slot i). */
#define SHA1_S_LANES(i, s3, s8, s14) w##i = ROL32(w##s3 ^ w##s8 ^ w##s14 ^ w##i, 1);

/* The 80 rounds over state a..e and ring w0..w15; SHA1_S schedules (or not). */
#define SHA1_ROUNDS \
    SHA1_R(SHA1_F1, a, b, c, d, e, 0, 0) \
    SHA1_R(SHA1_F1, e, a, b, c, d, 1, 1) \
    SHA1_R(SHA1_F1, d, e, a, b, c, 2, 2) \
    SHA1_R(SHA1_F1, c, d, e, a, b, 3, 3) \
    SHA1_R(SHA1_F1, b, c, d, e, a, 4, 4) \
    SHA1_R(SHA1_F1, a, b, c, d, e, 5, 5) \
    SHA1_R(SHA1_F1, e, a, b, c, d, 6, 6) \
    SHA1_R(SHA1_F1, d, e, a, b, c, 7, 7) \
    SHA1_R(SHA1_F1, c, d, e, a, b, 8, 8) \
    SHA1_R(SHA1_F1, b, c, d, e, a, 9, 9) \
    SHA1_R(SHA1_F1, a, b, c, d, e, 10, 10) \
    SHA1_R(SHA1_F1, e, a, b, c, d, 11, 11) \
    SHA1_R(SHA1_F1, d, e, a, b, c, 12, 12) \
    SHA1_R(SHA1_F1, c, d, e, a, b, 13, 13) \
    SHA1_R(SHA1_F1, b, c, d, e, a, 14, 14) \
    SHA1_R(SHA1_F1, a, b, c, d, e, 15, 15) \
    SHA1_S(0, 13, 8, 2) SHA1_R(SHA1_F1, e, a, b, c, d, 0, 16) \
    SHA1_S(1, 14, 9, 3) SHA1_R(SHA1_F1, d, e, a, b, c, 1, 17) \
    SHA1_S(2, 15, 10, 4) SHA1_R(SHA1_F1, c, d, e, a, b, 2, 18) \
    SHA1_S(3, 0, 11, 5) SHA1_R(SHA1_F1, b, c, d, e, a, 3, 19) \
    SHA1_S(4, 1, 12, 6) SHA1_R(SHA1_F2, a, b, c, d, e, 4, 20) \
    SHA1_S(5, 2, 13, 7) SHA1_R(SHA1_F2, e, a, b, c, d, 5, 21) \
    SHA1_S(6, 3, 14, 8) SHA1_R(SHA1_F2, d, e, a, b, c, 6, 22) \
    SHA1_S(7, 4, 15, 9) SHA1_R(SHA1_F2, c, d, e, a, b, 7, 23) \
    SHA1_S(8, 5, 0, 10) SHA1_R(SHA1_F2, b, c, d, e, a, 8, 24) \
    SHA1_S(9, 6, 1, 11) SHA1_R(SHA1_F2, a, b, c, d, e, 9, 25) \
    SHA1_S(10, 7, 2, 12) SHA1_R(SHA1_F2, e, a, b, c, d, 10, 26) \
    SHA1_S(11, 8, 3, 13) SHA1_R(SHA1_F2, d, e, a, b, c, 11, 27) \
    SHA1_S(12, 9, 4, 14) SHA1_R(SHA1_F2, c, d, e, a, b, 12, 28) \
    SHA1_S(13, 10, 5, 15) SHA1_R(SHA1_F2, b, c, d, e, a, 13, 29) \
    SHA1_S(14, 11, 6, 0) SHA1_R(SHA1_F2, a, b, c, d, e, 14, 30) \
    SHA1_S(15, 12, 7, 1) SHA1_R(SHA1_F2, e, a, b, c, d, 15, 31) \
    SHA1_S(0, 13, 8, 2) SHA1_R(SHA1_F2, d, e, a, b, c, 0, 32) \
    SHA1_S(1, 14, 9, 3) SHA1_R(SHA1_F2, c, d, e, a, b, 1, 33) \
    SHA1_S(2, 15, 10, 4) SHA1_R(SHA1_F2, b, c, d, e, a, 2, 34) \
    SHA1_S(3, 0, 11, 5) SHA1_R(SHA1_F2, a, b, c, d, e, 3, 35) \
    SHA1_S(4, 1, 12, 6) SHA1_R(SHA1_F2, e, a, b, c, d, 4, 36) \
    SHA1_S(5, 2, 13, 7) SHA1_R(SHA1_F2, d, e, a, b, c, 5, 37) \
    SHA1_S(6, 3, 14, 8) SHA1_R(SHA1_F2, c, d, e, a, b, 6, 38) \
    SHA1_S(7, 4, 15, 9) SHA1_R(SHA1_F2, b, c, d, e, a, 7, 39) \
    SHA1_S(8, 5, 0, 10) SHA1_R(SHA1_F3, a, b, c, d, e, 8, 40) \
    SHA1_S(9, 6, 1, 11) SHA1_R(SHA1_F3, e, a, b, c, d, 9, 41) \
    SHA1_S(10, 7, 2, 12) SHA1_R(SHA1_F3, d, e, a, b, c, 10, 42) \
    SHA1_S(11, 8, 3, 13) SHA1_R(SHA1_F3, c, d, e, a, b, 11, 43) \
    SHA1_S(12, 9, 4, 14) SHA1_R(SHA1_F3, b, c, d, e, a, 12, 44) \
    SHA1_S(13, 10, 5, 15) SHA1_R(SHA1_F3, a, b, c, d, e, 13, 45) \
    SHA1_S(14, 11, 6, 0) SHA1_R(SHA1_F3, e, a, b, c, d, 14, 46) \
    SHA1_S(15, 12, 7, 1) SHA1_R(SHA1_F3, d, e, a, b, c, 15, 47) \
    SHA1_S(0, 13, 8, 2) SHA1_R(SHA1_F3, c, d, e, a, b, 0, 48) \
    SHA1_S(1, 14, 9, 3) SHA1_R(SHA1_F3, b, c, d, e, a, 1, 49) \
    SHA1_S(2, 15, 10, 4) SHA1_R(SHA1_F3, a, b, c, d, e, 2, 50) \
    SHA1_S(3, 0, 11, 5) SHA1_R(SHA1_F3, e, a, b, c, d, 3, 51) \
    SHA1_S(4, 1, 12, 6) SHA1_R(SHA1_F3, d, e, a, b, c, 4, 52) \
    SHA1_S(5, 2, 13, 7) SHA1_R(SHA1_F3, c, d, e, a, b, 5, 53) \
    SHA1_S(6, 3, 14, 8) SHA1_R(SHA1_F3, b, c, d, e, a, 6, 54) \
    SHA1_S(7, 4, 15, 9) SHA1_R(SHA1_F3, a, b, c, d, e, 7, 55) \
    SHA1_S(8, 5, 0, 10) SHA1_R(SHA1_F3, e, a, b, c, d, 8, 56) \
    SHA1_S(9, 6, 1, 11) SHA1_R(SHA1_F3, d, e, a, b, c, 9, 57) \
    SHA1_S(10, 7, 2, 12) SHA1_R(SHA1_F3, c, d, e, a, b, 10, 58) \
    SHA1_S(11, 8, 3, 13) SHA1_R(SHA1_F3, b, c, d, e, a, 11, 59) \
    SHA1_S(12, 9, 4, 14) SHA1_R(SHA1_F2, a, b, c, d, e, 12, 60) \
    SHA1_S(13, 10, 5, 15) SHA1_R(SHA1_F2, e, a, b, c, d, 13, 61) \
    SHA1_S(14, 11, 6, 0) SHA1_R(SHA1_F2, d, e, a, b, c, 14, 62) \
    SHA1_S(15, 12, 7, 1) SHA1_R(SHA1_F2, c, d, e, a, b, 15, 63) \
    SHA1_S(0, 13, 8, 2) SHA1_R(SHA1_F2, b, c, d, e, a, 0, 64) \
    SHA1_S(1, 14, 9, 3) SHA1_R(SHA1_F2, a, b, c, d, e, 1, 65) \
    SHA1_S(2, 15, 10, 4) SHA1_R(SHA1_F2, e, a, b, c, d, 2, 66) \
    SHA1_S(3, 0, 11, 5) SHA1_R(SHA1_F2, d, e, a, b, c, 3, 67) \
    SHA1_S(4, 1, 12, 6) SHA1_R(SHA1_F2, c, d, e, a, b, 4, 68) \
    SHA1_S(5, 2, 13, 7) SHA1_R(SHA1_F2, b, c, d, e, a, 5, 69) \
    SHA1_S(6, 3, 14, 8) SHA1_R(SHA1_F2, a, b, c, d, e, 6, 70) \
    SHA1_S(7, 4, 15, 9) SHA1_R(SHA1_F2, e, a, b, c, d, 7, 71) \
    SHA1_S(8, 5, 0, 10) SHA1_R(SHA1_F2, d, e, a, b, c, 8, 72) \
    SHA1_S(9, 6, 1, 11) SHA1_R(SHA1_F2, c, d, e, a, b, 9, 73) \
    SHA1_S(10, 7, 2, 12) SHA1_R(SHA1_F2, b, c, d, e, a, 10, 74) \
    SHA1_S(11, 8, 3, 13) SHA1_R(SHA1_F2, a, b, c, d, e, 11, 75) \
    SHA1_S(12, 9, 4, 14) SHA1_R(SHA1_F2, e, a, b, c, d, 12, 76) \
    SHA1_S(13, 10, 5, 15) SHA1_R(SHA1_F2, d, e, a, b, c, 13, 77) \
    SHA1_S(14, 11, 6, 0) SHA1_R(SHA1_F2, c, d, e, a, b, 14, 78) \
    SHA1_S(15, 12, 7, 1) SHA1_R(SHA1_F2, b, c, d, e, a, 15, 79)

#define SHA1_WK_LANES(i, t) (w##i + SHA1_K(t))

/* One compression with the message in w0..w15 (per lane), state a..e updated in place. */
#define SHA1_COMPRESS_LANES(a0, b0, c0, d0, e0)                   \
    do {                                                         \
        v32 a = a0, b = b0, c = c0, d = d0, e = e0;              \
        SHA1_ROUNDS                                              \
        a0 += a; b0 += b; c0 += c; d0 += d; e0 += e;             \
    } while (0)

#define SHA1_S SHA1_S_LANES
#define SHA1_WK SHA1_WK_LANES

/* Inner and outer compression of one group: per-lane counters in (hi, lo); returns the digest's
 * truncated 31-bit value per lane. */
MB_INLINE v32 MB_FN(sha1_group)(const otp_keytable *kt, const uint32_t *rows, v32 hi, v32 lo)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v32 h0 = mb_load_word32(inner, s, 0, rows, shape), h1 = mb_load_word32(inner, s, 1, rows, shape),
        h2 = mb_load_word32(inner, s, 2, rows, shape), h3 = mb_load_word32(inner, s, 3, rows, shape),
        h4 = mb_load_word32(inner, s, 4, rows, shape);
    {
        v32 w0 = hi, w1 = lo, w2 = V32(0x80000000u), w3 = V32(0), w4 = V32(0), w5 = V32(0),
            w6 = V32(0), w7 = V32(0), w8 = V32(0), w9 = V32(0), w10 = V32(0), w11 = V32(0),
            w12 = V32(0), w13 = V32(0), w14 = V32(0), w15 = V32(576);
        SHA1_COMPRESS_LANES(h0, h1, h2, h3, h4);
    }
    v32 o0 = mb_load_word32(outer, s, 0, rows, shape), o1 = mb_load_word32(outer, s, 1, rows, shape),
        o2 = mb_load_word32(outer, s, 2, rows, shape), o3 = mb_load_word32(outer, s, 3, rows, shape),
        o4 = mb_load_word32(outer, s, 4, rows, shape);
    {
        v32 w0 = h0, w1 = h1, w2 = h2, w3 = h3, w4 = h4, w5 = V32(0x80000000u), w6 = V32(0),
            w7 = V32(0), w8 = V32(0), w9 = V32(0), w10 = V32(0), w11 = V32(0), w12 = V32(0),
            w13 = V32(0), w14 = V32(0), w15 = V32(672);
        SHA1_COMPRESS_LANES(o0, o1, o2, o3, o4);
    }
    return mb_truncate32(o4, o0, o1, o2, o3, o4);
}

/* The same with the inner message schedule shared by every lane: wk[t] = W[t] + K[t]. */
MB_INLINE v32 MB_FN(sha1_group_shared)(const otp_keytable *kt, const uint32_t *rows,
                                       const uint32_t wk[80])
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v32 h0 = mb_load_word32(inner, s, 0, rows, shape), h1 = mb_load_word32(inner, s, 1, rows, shape),
        h2 = mb_load_word32(inner, s, 2, rows, shape), h3 = mb_load_word32(inner, s, 3, rows, shape),
        h4 = mb_load_word32(inner, s, 4, rows, shape);
    {
#undef SHA1_S
#undef SHA1_WK
#define SHA1_S(i, s3, s8, s14)
#define SHA1_WK(i, t) wk[t]
        v32 a = h0, b = h1, c = h2, d = h3, e = h4;
        SHA1_ROUNDS
        h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
#undef SHA1_S
#undef SHA1_WK
#define SHA1_S SHA1_S_LANES
#define SHA1_WK SHA1_WK_LANES
    }
    v32 o0 = mb_load_word32(outer, s, 0, rows, shape), o1 = mb_load_word32(outer, s, 1, rows, shape),
        o2 = mb_load_word32(outer, s, 2, rows, shape), o3 = mb_load_word32(outer, s, 3, rows, shape),
        o4 = mb_load_word32(outer, s, 4, rows, shape);
    {
        v32 w0 = h0, w1 = h1, w2 = h2, w3 = h3, w4 = h4, w5 = V32(0x80000000u), w6 = V32(0),
            w7 = V32(0), w8 = V32(0), w9 = V32(0), w10 = V32(0), w11 = V32(0), w12 = V32(0),
            w13 = V32(0), w14 = V32(0), w15 = V32(672);
        SHA1_COMPRESS_LANES(o0, o1, o2, o3, o4);
    }
    return mb_truncate32(o4, o0, o1, o2, o3, o4);
}

/* W[t] + K[t] of the inner block at one counter (scalar, once per call). */
static void MB_FN(sha1_inner_wk)(uint64_t counter, uint32_t wk[80])
{
    uint32_t w[80] = {0};
    w[0] = (uint32_t)(counter >> 32);
    w[1] = (uint32_t)counter;
    w[2] = 0x80000000u;
    w[15] = 576;
    for (int t = 16; t < 80; t++) {
        const uint32_t x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
        w[t] = (x << 1) | (x >> 31);
    }
    for (int t = 0; t < 80; t++) wk[t] = w[t] + SHA1_K(t);
}

void MB_FN(otp_sha1_trunc)(const otp_keytable *kt, const uint32_t *rows,
                           const uint64_t *counters, size_t n, uint32_t *out31)
{
    size_t i = 0;
    v32 hi, lo;
    for (; i + MB_LANES <= n; i += MB_LANES) {
        mb_counter_words(counters + i, &hi, &lo);
        mb_store_lanes(out31 + i, MB_FN(sha1_group)(kt, rows + i, hi, lo), MB_LANES);
    }
    const size_t rest = n - i;
    if (rest == 0) return;
    if (rest <= MB_SCALAR_TAIL) {
        otp_sha1_trunc_portable(kt, rows + i, counters + i, rest, out31 + i);
        return;
    }
    uint32_t r[MB_LANES];
    uint64_t c[MB_LANES] = {0};
    mb_pad_rows(rows + i, rest, r);
    memcpy(c, counters + i, rest * sizeof *c);
    mb_counter_words(c, &hi, &lo);
    mb_store_lanes(out31 + i, MB_FN(sha1_group)(kt, r, hi, lo), rest);
}

void MB_FN(otp_sha1_trunc_shared)(const otp_keytable *kt, const uint32_t *rows, uint64_t counter,
                                  size_t n, uint32_t *out31)
{
    uint32_t wk[80];
    MB_FN(sha1_inner_wk)(counter, wk);
    size_t i = 0;
    for (; i + MB_LANES <= n; i += MB_LANES)
        mb_store_lanes(out31 + i, MB_FN(sha1_group_shared)(kt, rows + i, wk), MB_LANES);
    const size_t rest = n - i;
    if (rest == 0) return;
    uint32_t r[MB_LANES];
    mb_pad_rows(rows + i, rest, r);
    mb_store_lanes(out31 + i, MB_FN(sha1_group_shared)(kt, r, wk), rest);
}

void MB_FN(otp_sha1_match_shared)(const otp_keytable *kt, const uint32_t *rows, uint64_t counter,
                                  size_t n, const uint32_t *codes, unsigned digits, uint32_t *hit)
{
    uint32_t wk[80];
    MB_FN(sha1_inner_wk)(counter, wk);
    for (size_t i = 0; i < n; i += MB_LANES) {
        const size_t count = n - i < MB_LANES ? n - i : MB_LANES;
        uint32_t r[MB_LANES], cd[MB_LANES] = {0};
        mb_pad_rows(rows + i, count, r);
        memcpy(cd, codes + i, count * sizeof *cd);
        v32 want;
        memcpy(&want, cd, sizeof want);
        const v32 code = mb_mod_pow10(MB_FN(sha1_group_shared)(kt, r, wk), digits);
        mb_store_lanes(hit + i, (v32)(code == want), count);
    }
}

/* Midstates of MB_LANES keys (zero-padded 64-byte blocks, `count` of them real) into rows
 * first.. of the table: one compression of key ^ ipad and one of key ^ opad from the IV. */
void MB_FN(otp_sha1_keysched)(otp_keytable *kt, size_t first, const uint8_t *blocks, size_t count)
{
    for (size_t i = 0; i < count; i += MB_LANES) {
        const size_t m = count - i < MB_LANES ? count - i : MB_LANES;
        /* Unused lanes repeat the group's first key. */
        v32 key[16];
        mb_key_words32(blocks + i * 64, m, key);
        for (int which = 0; which < 2; which++) {
            const uint32_t pad = which == 0 ? 0x36363636u : 0x5c5c5c5cu;
            v32 m16[16];
            for (unsigned j = 0; j < 16; j++) m16[j] = key[j] ^ pad;
            v32 w0 = m16[0], w1 = m16[1], w2 = m16[2], w3 = m16[3], w4 = m16[4], w5 = m16[5],
                w6 = m16[6], w7 = m16[7], w8 = m16[8], w9 = m16[9], w10 = m16[10],
                w11 = m16[11], w12 = m16[12], w13 = m16[13], w14 = m16[14], w15 = m16[15];
            v32 s0 = V32(otp_sha1_iv[0]), s1 = V32(otp_sha1_iv[1]), s2 = V32(otp_sha1_iv[2]),
                s3 = V32(otp_sha1_iv[3]), s4 = V32(otp_sha1_iv[4]);
            SHA1_COMPRESS_LANES(s0, s1, s2, s3, s4);
            uint32_t *half = (uint32_t *)(which == 0 ? kt->inner : kt->outer);
            mb_store_word32(half, kt->stride, 0, first + i, m, s0);
            mb_store_word32(half, kt->stride, 1, first + i, m, s1);
            mb_store_word32(half, kt->stride, 2, first + i, m, s2);
            mb_store_word32(half, kt->stride, 3, first + i, m, s3);
            mb_store_word32(half, kt->stride, 4, first + i, m, s4);
            otp_wipe(m16, sizeof m16);
        }
        otp_wipe(key, sizeof key);
    }
}

#undef SHA1_S
#undef SHA1_WK
