/*
 * Multi-buffer HOTP-SHA256 kernels (template). One 32-bit lane per independent code.
 *
 * Before including: MB_LANES, MB_SUFFIX and a target pragma (see mb_sha1.h, which this mirrors).
 * Defines otp_sha256_{trunc,trunc_shared,match_shared,keysched}_MB_SUFFIX.
 */
#include "mb_common.h"

#define MB_CAT2(a, b) a##_##b
#define MB_CAT(a, b) MB_CAT2(a, b)
#define MB_FN(name) MB_CAT(name, MB_SUFFIX)



#define S256_BS0(x) (ROR32(x, 2) ^ ROR32(x, 13) ^ ROR32(x, 22))
#define S256_BS1(x) (ROR32(x, 6) ^ ROR32(x, 11) ^ ROR32(x, 25))
#define S256_G0(x) (ROR32(x, 7) ^ ROR32(x, 18) ^ ((x) >> 3))
#define S256_G1(x) (ROR32(x, 17) ^ ROR32(x, 19) ^ ((x) >> 10))
#define S256_CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define S256_MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

/* Round t over ring word i; S256_WK(i, t) supplies W[t] + K[t]. */
#define S256_R(a, b, c, d, e, f, g, h, i, t)                                          \
    {                                                                                 \
        const v32 t1 = h + S256_BS1(e) + S256_CH(e, f, g) + S256_WK(i, t);            \
        d += t1;                                                                      \
        h = t1 + S256_BS0(a) + S256_MAJ(a, b, c);                                     \
    }

/* Message word t >= 16 into slot i from W[t-2], W[t-7], W[t-15] and W[t-16] (slot i). */
#define S256_S_LANES(i, s2, s7, s15) w##i += S256_G1(w##s2) + w##s7 + S256_G0(w##s15);
#define S256_WK_LANES(i, t) (w##i + otp_sha256_k[t])

#define S256_ROUNDS \
    S256_R(a, b, c, d, e, f, g, h, 0, 0) \
    S256_R(h, a, b, c, d, e, f, g, 1, 1) \
    S256_R(g, h, a, b, c, d, e, f, 2, 2) \
    S256_R(f, g, h, a, b, c, d, e, 3, 3) \
    S256_R(e, f, g, h, a, b, c, d, 4, 4) \
    S256_R(d, e, f, g, h, a, b, c, 5, 5) \
    S256_R(c, d, e, f, g, h, a, b, 6, 6) \
    S256_R(b, c, d, e, f, g, h, a, 7, 7) \
    S256_R(a, b, c, d, e, f, g, h, 8, 8) \
    S256_R(h, a, b, c, d, e, f, g, 9, 9) \
    S256_R(g, h, a, b, c, d, e, f, 10, 10) \
    S256_R(f, g, h, a, b, c, d, e, 11, 11) \
    S256_R(e, f, g, h, a, b, c, d, 12, 12) \
    S256_R(d, e, f, g, h, a, b, c, 13, 13) \
    S256_R(c, d, e, f, g, h, a, b, 14, 14) \
    S256_R(b, c, d, e, f, g, h, a, 15, 15) \
    S256_S(0, 14, 9, 1) S256_R(a, b, c, d, e, f, g, h, 0, 16) \
    S256_S(1, 15, 10, 2) S256_R(h, a, b, c, d, e, f, g, 1, 17) \
    S256_S(2, 0, 11, 3) S256_R(g, h, a, b, c, d, e, f, 2, 18) \
    S256_S(3, 1, 12, 4) S256_R(f, g, h, a, b, c, d, e, 3, 19) \
    S256_S(4, 2, 13, 5) S256_R(e, f, g, h, a, b, c, d, 4, 20) \
    S256_S(5, 3, 14, 6) S256_R(d, e, f, g, h, a, b, c, 5, 21) \
    S256_S(6, 4, 15, 7) S256_R(c, d, e, f, g, h, a, b, 6, 22) \
    S256_S(7, 5, 0, 8) S256_R(b, c, d, e, f, g, h, a, 7, 23) \
    S256_S(8, 6, 1, 9) S256_R(a, b, c, d, e, f, g, h, 8, 24) \
    S256_S(9, 7, 2, 10) S256_R(h, a, b, c, d, e, f, g, 9, 25) \
    S256_S(10, 8, 3, 11) S256_R(g, h, a, b, c, d, e, f, 10, 26) \
    S256_S(11, 9, 4, 12) S256_R(f, g, h, a, b, c, d, e, 11, 27) \
    S256_S(12, 10, 5, 13) S256_R(e, f, g, h, a, b, c, d, 12, 28) \
    S256_S(13, 11, 6, 14) S256_R(d, e, f, g, h, a, b, c, 13, 29) \
    S256_S(14, 12, 7, 15) S256_R(c, d, e, f, g, h, a, b, 14, 30) \
    S256_S(15, 13, 8, 0) S256_R(b, c, d, e, f, g, h, a, 15, 31) \
    S256_S(0, 14, 9, 1) S256_R(a, b, c, d, e, f, g, h, 0, 32) \
    S256_S(1, 15, 10, 2) S256_R(h, a, b, c, d, e, f, g, 1, 33) \
    S256_S(2, 0, 11, 3) S256_R(g, h, a, b, c, d, e, f, 2, 34) \
    S256_S(3, 1, 12, 4) S256_R(f, g, h, a, b, c, d, e, 3, 35) \
    S256_S(4, 2, 13, 5) S256_R(e, f, g, h, a, b, c, d, 4, 36) \
    S256_S(5, 3, 14, 6) S256_R(d, e, f, g, h, a, b, c, 5, 37) \
    S256_S(6, 4, 15, 7) S256_R(c, d, e, f, g, h, a, b, 6, 38) \
    S256_S(7, 5, 0, 8) S256_R(b, c, d, e, f, g, h, a, 7, 39) \
    S256_S(8, 6, 1, 9) S256_R(a, b, c, d, e, f, g, h, 8, 40) \
    S256_S(9, 7, 2, 10) S256_R(h, a, b, c, d, e, f, g, 9, 41) \
    S256_S(10, 8, 3, 11) S256_R(g, h, a, b, c, d, e, f, 10, 42) \
    S256_S(11, 9, 4, 12) S256_R(f, g, h, a, b, c, d, e, 11, 43) \
    S256_S(12, 10, 5, 13) S256_R(e, f, g, h, a, b, c, d, 12, 44) \
    S256_S(13, 11, 6, 14) S256_R(d, e, f, g, h, a, b, c, 13, 45) \
    S256_S(14, 12, 7, 15) S256_R(c, d, e, f, g, h, a, b, 14, 46) \
    S256_S(15, 13, 8, 0) S256_R(b, c, d, e, f, g, h, a, 15, 47) \
    S256_S(0, 14, 9, 1) S256_R(a, b, c, d, e, f, g, h, 0, 48) \
    S256_S(1, 15, 10, 2) S256_R(h, a, b, c, d, e, f, g, 1, 49) \
    S256_S(2, 0, 11, 3) S256_R(g, h, a, b, c, d, e, f, 2, 50) \
    S256_S(3, 1, 12, 4) S256_R(f, g, h, a, b, c, d, e, 3, 51) \
    S256_S(4, 2, 13, 5) S256_R(e, f, g, h, a, b, c, d, 4, 52) \
    S256_S(5, 3, 14, 6) S256_R(d, e, f, g, h, a, b, c, 5, 53) \
    S256_S(6, 4, 15, 7) S256_R(c, d, e, f, g, h, a, b, 6, 54) \
    S256_S(7, 5, 0, 8) S256_R(b, c, d, e, f, g, h, a, 7, 55) \
    S256_S(8, 6, 1, 9) S256_R(a, b, c, d, e, f, g, h, 8, 56) \
    S256_S(9, 7, 2, 10) S256_R(h, a, b, c, d, e, f, g, 9, 57) \
    S256_S(10, 8, 3, 11) S256_R(g, h, a, b, c, d, e, f, 10, 58) \
    S256_S(11, 9, 4, 12) S256_R(f, g, h, a, b, c, d, e, 11, 59) \
    S256_S(12, 10, 5, 13) S256_R(e, f, g, h, a, b, c, d, 12, 60) \
    S256_S(13, 11, 6, 14) S256_R(d, e, f, g, h, a, b, c, 13, 61) \
    S256_S(14, 12, 7, 15) S256_R(c, d, e, f, g, h, a, b, 14, 62) \
    S256_S(15, 13, 8, 0) S256_R(b, c, d, e, f, g, h, a, 15, 63)

#define S256_S S256_S_LANES
#define S256_WK S256_WK_LANES

/* One compression of the message in w0..w15 (per lane) into st[0..7]. */
#define S256_COMPRESS_LANES(st)                                                         \
    do {                                                                              \
        v32 a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], \
            h = st[7];                                                                \
        S256_ROUNDS                                                                   \
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;                               \
        st[4] += e; st[5] += f; st[6] += g; st[7] += h;                               \
    } while (0)

#define S256_LOAD(dst, half)                                                            \
    for (unsigned q_ = 0; q_ < 8; q_++) dst[q_] = mb_load_word32(half, s, q_, rows, shape)

/* The outer compression over the inner digest h[0..7] and the truncation. */
MB_INLINE v32 MB_FN(sha256_outer)(const otp_keytable *kt, const uint32_t *rows,
                                  enum mb_rows_shape shape, const v32 *ih)
{
    const uint32_t *outer = (const uint32_t *)kt->outer;
    const size_t s = kt->stride;
    v32 o[8];
    S256_LOAD(o, outer);
    v32 w0 = ih[0], w1 = ih[1], w2 = ih[2], w3 = ih[3], w4 = ih[4], w5 = ih[5], w6 = ih[6],
        w7 = ih[7],
        w8 = V32(0x80000000u), w9 = V32(0), w10 = V32(0), w11 = V32(0), w12 = V32(0),
        w13 = V32(0), w14 = V32(0), w15 = V32(768);
    S256_COMPRESS_LANES(o);
    return mb_truncate32(o[7], o[0], o[1], o[2], o[3], o[4]);
}

MB_INLINE v32 MB_FN(sha256_group)(const otp_keytable *kt, const uint32_t *rows, v32 hi, v32 lo)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v32 ih[8];
    S256_LOAD(ih, inner);
    {
        v32 w0 = hi, w1 = lo, w2 = V32(0x80000000u), w3 = V32(0), w4 = V32(0), w5 = V32(0),
            w6 = V32(0), w7 = V32(0), w8 = V32(0), w9 = V32(0), w10 = V32(0), w11 = V32(0),
            w12 = V32(0), w13 = V32(0), w14 = V32(0), w15 = V32(576);
        S256_COMPRESS_LANES(ih);
    }
    return MB_FN(sha256_outer)(kt, rows, shape, ih);
}

MB_INLINE v32 MB_FN(sha256_group_shared)(const otp_keytable *kt, const uint32_t *rows,
                                         const uint32_t wk[64])
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v32 ih[8];
    S256_LOAD(ih, inner);
#undef S256_S
#undef S256_WK
#define S256_S(i, s2, s7, s15)
#define S256_WK(i, t) wk[t]
    {
        v32 a = ih[0], b = ih[1], c = ih[2], d = ih[3], e = ih[4], f = ih[5], g = ih[6], h = ih[7];
        S256_ROUNDS
        ih[0] += a; ih[1] += b; ih[2] += c; ih[3] += d;
        ih[4] += e; ih[5] += f; ih[6] += g; ih[7] += h;
    }
#undef S256_S
#undef S256_WK
#define S256_S S256_S_LANES
#define S256_WK S256_WK_LANES
    return MB_FN(sha256_outer)(kt, rows, shape, ih);
}

static void MB_FN(sha256_inner_wk)(uint64_t counter, uint32_t wk[64])
{
    uint32_t w[64] = {0};
    w[0] = (uint32_t)(counter >> 32);
    w[1] = (uint32_t)counter;
    w[2] = 0x80000000u;
    w[15] = 576;
    for (int t = 16; t < 64; t++) {
        const uint32_t x = w[t - 15], y = w[t - 2];
        const uint32_t g0 = ((x >> 7) | (x << 25)) ^ ((x >> 18) | (x << 14)) ^ (x >> 3);
        const uint32_t g1 = ((y >> 17) | (y << 15)) ^ ((y >> 19) | (y << 13)) ^ (y >> 10);
        w[t] = g1 + w[t - 7] + g0 + w[t - 16];
    }
    for (int t = 0; t < 64; t++) wk[t] = w[t] + otp_sha256_k[t];
}

void MB_FN(otp_sha256_trunc)(const otp_keytable *kt, const uint32_t *rows,
                             const uint64_t *counters, size_t n, uint32_t *out31)
{
    size_t i = 0;
    v32 hi, lo;
    for (; i + MB_LANES <= n; i += MB_LANES) {
        mb_counter_words(counters + i, &hi, &lo);
        mb_store_lanes(out31 + i, MB_FN(sha256_group)(kt, rows + i, hi, lo), MB_LANES);
    }
    const size_t rest = n - i;
    if (rest == 0) return;
    if (rest <= MB_SCALAR_TAIL) {
        otp_sha256_trunc_portable(kt, rows + i, counters + i, rest, out31 + i);
        return;
    }
    uint32_t r[MB_LANES];
    uint64_t c[MB_LANES] = {0};
    mb_pad_rows(rows + i, rest, r);
    memcpy(c, counters + i, rest * sizeof *c);
    mb_counter_words(c, &hi, &lo);
    mb_store_lanes(out31 + i, MB_FN(sha256_group)(kt, r, hi, lo), rest);
}

void MB_FN(otp_sha256_trunc_shared)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, uint32_t *out31)
{
    uint32_t wk[64];
    MB_FN(sha256_inner_wk)(counter, wk);
    size_t i = 0;
    for (; i + MB_LANES <= n; i += MB_LANES)
        mb_store_lanes(out31 + i, MB_FN(sha256_group_shared)(kt, rows + i, wk), MB_LANES);
    const size_t rest = n - i;
    if (rest == 0) return;
    uint32_t r[MB_LANES];
    mb_pad_rows(rows + i, rest, r);
    mb_store_lanes(out31 + i, MB_FN(sha256_group_shared)(kt, r, wk), rest);
}

void MB_FN(otp_sha256_match_shared)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, const uint32_t *codes,
                                    unsigned digits, uint32_t *hit)
{
    uint32_t wk[64];
    MB_FN(sha256_inner_wk)(counter, wk);
    for (size_t i = 0; i < n; i += MB_LANES) {
        const size_t count = n - i < MB_LANES ? n - i : MB_LANES;
        uint32_t r[MB_LANES], cd[MB_LANES] = {0};
        mb_pad_rows(rows + i, count, r);
        memcpy(cd, codes + i, count * sizeof *cd);
        v32 want;
        memcpy(&want, cd, sizeof want);
        const v32 code = mb_mod_pow10(MB_FN(sha256_group_shared)(kt, r, wk), digits);
        mb_store_lanes(hit + i, (v32)(code == want), count);
    }
}

void MB_FN(otp_sha256_keysched)(otp_keytable *kt, size_t first, const uint8_t *blocks,
                                size_t count)
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
            v32 st[8];
            for (unsigned q = 0; q < 8; q++) st[q] = V32(otp_sha256_iv[q]);
            S256_COMPRESS_LANES(st);
            uint32_t *half = (uint32_t *)(which == 0 ? kt->inner : kt->outer);
            for (unsigned q = 0; q < 8; q++) mb_store_word32(half, kt->stride, q, first + i, m, st[q]);
            otp_wipe(m16, sizeof m16);
        }
        otp_wipe(key, sizeof key);
    }
}

#undef S256_S
#undef S256_WK
