/*
 * Multi-buffer HOTP-SHA512 kernels (template). One 64-bit lane per independent code.
 *
 * Before including: MB_LANES, MB_SUFFIX and a target pragma (see mb_sha1.h, which this mirrors).
 * Defines otp_sha512_{trunc,trunc_shared,match_shared,keysched}_MB_SUFFIX. The 8-byte counter
 * and the 64-byte inner digest each fit one 128-byte block.
 */
#include "mb_common.h"

#define MB_CAT2(a, b) a##_##b
#define MB_CAT(a, b) MB_CAT2(a, b)
#define MB_FN(name) MB_CAT(name, MB_SUFFIX)



#define S512_BS0(x) (ROR64(x, 28) ^ ROR64(x, 34) ^ ROR64(x, 39))
#define S512_BS1(x) (ROR64(x, 14) ^ ROR64(x, 18) ^ ROR64(x, 41))
#define S512_G0(x) (ROR64(x, 1) ^ ROR64(x, 8) ^ ((x) >> 7))
#define S512_G1(x) (ROR64(x, 19) ^ ROR64(x, 61) ^ ((x) >> 6))
#define S512_CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define S512_MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

#define S512_R(a, b, c, d, e, f, g, h, i, t)                                          \
    {                                                                                 \
        const v64 t1 = h + S512_BS1(e) + S512_CH(e, f, g) + S512_WK(i, t);            \
        d += t1;                                                                      \
        h = t1 + S512_BS0(a) + S512_MAJ(a, b, c);                                     \
    }

#define S512_S_LANES(i, s2, s7, s15) w##i += S512_G1(w##s2) + w##s7 + S512_G0(w##s15);
#define S512_WK_LANES(i, t) (w##i + otp_sha512_k[t])

#define S512_ROUNDS \
    S512_R(a, b, c, d, e, f, g, h, 0, 0) \
    S512_R(h, a, b, c, d, e, f, g, 1, 1) \
    S512_R(g, h, a, b, c, d, e, f, 2, 2) \
    S512_R(f, g, h, a, b, c, d, e, 3, 3) \
    S512_R(e, f, g, h, a, b, c, d, 4, 4) \
    S512_R(d, e, f, g, h, a, b, c, 5, 5) \
    S512_R(c, d, e, f, g, h, a, b, 6, 6) \
    S512_R(b, c, d, e, f, g, h, a, 7, 7) \
    S512_R(a, b, c, d, e, f, g, h, 8, 8) \
    S512_R(h, a, b, c, d, e, f, g, 9, 9) \
    S512_R(g, h, a, b, c, d, e, f, 10, 10) \
    S512_R(f, g, h, a, b, c, d, e, 11, 11) \
    S512_R(e, f, g, h, a, b, c, d, 12, 12) \
    S512_R(d, e, f, g, h, a, b, c, 13, 13) \
    S512_R(c, d, e, f, g, h, a, b, 14, 14) \
    S512_R(b, c, d, e, f, g, h, a, 15, 15) \
    S512_S(0, 14, 9, 1) S512_R(a, b, c, d, e, f, g, h, 0, 16) \
    S512_S(1, 15, 10, 2) S512_R(h, a, b, c, d, e, f, g, 1, 17) \
    S512_S(2, 0, 11, 3) S512_R(g, h, a, b, c, d, e, f, 2, 18) \
    S512_S(3, 1, 12, 4) S512_R(f, g, h, a, b, c, d, e, 3, 19) \
    S512_S(4, 2, 13, 5) S512_R(e, f, g, h, a, b, c, d, 4, 20) \
    S512_S(5, 3, 14, 6) S512_R(d, e, f, g, h, a, b, c, 5, 21) \
    S512_S(6, 4, 15, 7) S512_R(c, d, e, f, g, h, a, b, 6, 22) \
    S512_S(7, 5, 0, 8) S512_R(b, c, d, e, f, g, h, a, 7, 23) \
    S512_S(8, 6, 1, 9) S512_R(a, b, c, d, e, f, g, h, 8, 24) \
    S512_S(9, 7, 2, 10) S512_R(h, a, b, c, d, e, f, g, 9, 25) \
    S512_S(10, 8, 3, 11) S512_R(g, h, a, b, c, d, e, f, 10, 26) \
    S512_S(11, 9, 4, 12) S512_R(f, g, h, a, b, c, d, e, 11, 27) \
    S512_S(12, 10, 5, 13) S512_R(e, f, g, h, a, b, c, d, 12, 28) \
    S512_S(13, 11, 6, 14) S512_R(d, e, f, g, h, a, b, c, 13, 29) \
    S512_S(14, 12, 7, 15) S512_R(c, d, e, f, g, h, a, b, 14, 30) \
    S512_S(15, 13, 8, 0) S512_R(b, c, d, e, f, g, h, a, 15, 31) \
    S512_S(0, 14, 9, 1) S512_R(a, b, c, d, e, f, g, h, 0, 32) \
    S512_S(1, 15, 10, 2) S512_R(h, a, b, c, d, e, f, g, 1, 33) \
    S512_S(2, 0, 11, 3) S512_R(g, h, a, b, c, d, e, f, 2, 34) \
    S512_S(3, 1, 12, 4) S512_R(f, g, h, a, b, c, d, e, 3, 35) \
    S512_S(4, 2, 13, 5) S512_R(e, f, g, h, a, b, c, d, 4, 36) \
    S512_S(5, 3, 14, 6) S512_R(d, e, f, g, h, a, b, c, 5, 37) \
    S512_S(6, 4, 15, 7) S512_R(c, d, e, f, g, h, a, b, 6, 38) \
    S512_S(7, 5, 0, 8) S512_R(b, c, d, e, f, g, h, a, 7, 39) \
    S512_S(8, 6, 1, 9) S512_R(a, b, c, d, e, f, g, h, 8, 40) \
    S512_S(9, 7, 2, 10) S512_R(h, a, b, c, d, e, f, g, 9, 41) \
    S512_S(10, 8, 3, 11) S512_R(g, h, a, b, c, d, e, f, 10, 42) \
    S512_S(11, 9, 4, 12) S512_R(f, g, h, a, b, c, d, e, 11, 43) \
    S512_S(12, 10, 5, 13) S512_R(e, f, g, h, a, b, c, d, 12, 44) \
    S512_S(13, 11, 6, 14) S512_R(d, e, f, g, h, a, b, c, 13, 45) \
    S512_S(14, 12, 7, 15) S512_R(c, d, e, f, g, h, a, b, 14, 46) \
    S512_S(15, 13, 8, 0) S512_R(b, c, d, e, f, g, h, a, 15, 47) \
    S512_S(0, 14, 9, 1) S512_R(a, b, c, d, e, f, g, h, 0, 48) \
    S512_S(1, 15, 10, 2) S512_R(h, a, b, c, d, e, f, g, 1, 49) \
    S512_S(2, 0, 11, 3) S512_R(g, h, a, b, c, d, e, f, 2, 50) \
    S512_S(3, 1, 12, 4) S512_R(f, g, h, a, b, c, d, e, 3, 51) \
    S512_S(4, 2, 13, 5) S512_R(e, f, g, h, a, b, c, d, 4, 52) \
    S512_S(5, 3, 14, 6) S512_R(d, e, f, g, h, a, b, c, 5, 53) \
    S512_S(6, 4, 15, 7) S512_R(c, d, e, f, g, h, a, b, 6, 54) \
    S512_S(7, 5, 0, 8) S512_R(b, c, d, e, f, g, h, a, 7, 55) \
    S512_S(8, 6, 1, 9) S512_R(a, b, c, d, e, f, g, h, 8, 56) \
    S512_S(9, 7, 2, 10) S512_R(h, a, b, c, d, e, f, g, 9, 57) \
    S512_S(10, 8, 3, 11) S512_R(g, h, a, b, c, d, e, f, 10, 58) \
    S512_S(11, 9, 4, 12) S512_R(f, g, h, a, b, c, d, e, 11, 59) \
    S512_S(12, 10, 5, 13) S512_R(e, f, g, h, a, b, c, d, 12, 60) \
    S512_S(13, 11, 6, 14) S512_R(d, e, f, g, h, a, b, c, 13, 61) \
    S512_S(14, 12, 7, 15) S512_R(c, d, e, f, g, h, a, b, 14, 62) \
    S512_S(15, 13, 8, 0) S512_R(b, c, d, e, f, g, h, a, 15, 63) \
    S512_S(0, 14, 9, 1) S512_R(a, b, c, d, e, f, g, h, 0, 64) \
    S512_S(1, 15, 10, 2) S512_R(h, a, b, c, d, e, f, g, 1, 65) \
    S512_S(2, 0, 11, 3) S512_R(g, h, a, b, c, d, e, f, 2, 66) \
    S512_S(3, 1, 12, 4) S512_R(f, g, h, a, b, c, d, e, 3, 67) \
    S512_S(4, 2, 13, 5) S512_R(e, f, g, h, a, b, c, d, 4, 68) \
    S512_S(5, 3, 14, 6) S512_R(d, e, f, g, h, a, b, c, 5, 69) \
    S512_S(6, 4, 15, 7) S512_R(c, d, e, f, g, h, a, b, 6, 70) \
    S512_S(7, 5, 0, 8) S512_R(b, c, d, e, f, g, h, a, 7, 71) \
    S512_S(8, 6, 1, 9) S512_R(a, b, c, d, e, f, g, h, 8, 72) \
    S512_S(9, 7, 2, 10) S512_R(h, a, b, c, d, e, f, g, 9, 73) \
    S512_S(10, 8, 3, 11) S512_R(g, h, a, b, c, d, e, f, 10, 74) \
    S512_S(11, 9, 4, 12) S512_R(f, g, h, a, b, c, d, e, 11, 75) \
    S512_S(12, 10, 5, 13) S512_R(e, f, g, h, a, b, c, d, 12, 76) \
    S512_S(13, 11, 6, 14) S512_R(d, e, f, g, h, a, b, c, 13, 77) \
    S512_S(14, 12, 7, 15) S512_R(c, d, e, f, g, h, a, b, 14, 78) \
    S512_S(15, 13, 8, 0) S512_R(b, c, d, e, f, g, h, a, 15, 79)

#define S512_S S512_S_LANES
#define S512_WK S512_WK_LANES

#define S512_COMPRESS_LANES(st)                                                         \
    do {                                                                              \
        v64 a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], \
            h = st[7];                                                                \
        S512_ROUNDS                                                                   \
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;                               \
        st[4] += e; st[5] += f; st[6] += g; st[7] += h;                               \
    } while (0)

#define S512_LOAD(dst, half)                                                            \
    for (unsigned q_ = 0; q_ < 8; q_++) mb_load_word64(&dst[q_], half, s, q_, rows, shape)

MB_INLINE v32 MB_FN(sha512_outer)(const otp_keytable *kt, const uint32_t *rows,
                                  enum mb_rows_shape shape, const v64 *ih)
{
    const uint64_t *outer = (const uint64_t *)kt->outer;
    const size_t s = kt->stride;
    v64 o[8];
    S512_LOAD(o, outer);
    v64 w0 = ih[0], w1 = ih[1], w2 = ih[2], w3 = ih[3], w4 = ih[4], w5 = ih[5], w6 = ih[6],
        w7 = ih[7], w8 = V64(0x8000000000000000ull), w9 = V64(0), w10 = V64(0), w11 = V64(0),
        w12 = V64(0), w13 = V64(0), w14 = V64(0), w15 = V64(1536);
    S512_COMPRESS_LANES(o);
    return mb_truncate64(&o[0], &o[1], &o[2], &o[7]);
}

MB_INLINE v32 MB_FN(sha512_group)(const otp_keytable *kt, const uint32_t *rows,
                                  const uint64_t *counters)
{
    const uint64_t *inner = (const uint64_t *)kt->inner;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v64 ih[8];
    S512_LOAD(ih, inner);
    {
        v64 w0;
        memcpy(&w0, counters, sizeof w0);
        v64 w1 = V64(0x8000000000000000ull), w2 = V64(0), w3 = V64(0), w4 = V64(0),
            w5 = V64(0), w6 = V64(0), w7 = V64(0), w8 = V64(0), w9 = V64(0), w10 = V64(0),
            w11 = V64(0), w12 = V64(0), w13 = V64(0), w14 = V64(0), w15 = V64(1088);
        S512_COMPRESS_LANES(ih);
    }
    return MB_FN(sha512_outer)(kt, rows, shape, ih);
}

MB_INLINE v32 MB_FN(sha512_group_shared)(const otp_keytable *kt, const uint32_t *rows,
                                         const uint64_t wk[80])
{
    const uint64_t *inner = (const uint64_t *)kt->inner;
    const size_t s = kt->stride;
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    v64 ih[8];
    S512_LOAD(ih, inner);
#undef S512_S
#undef S512_WK
#define S512_S(i, s2, s7, s15)
#define S512_WK(i, t) wk[t]
    {
        v64 a = ih[0], b = ih[1], c = ih[2], d = ih[3], e = ih[4], f = ih[5], g = ih[6], h = ih[7];
        S512_ROUNDS
        ih[0] += a; ih[1] += b; ih[2] += c; ih[3] += d;
        ih[4] += e; ih[5] += f; ih[6] += g; ih[7] += h;
    }
#undef S512_S
#undef S512_WK
#define S512_S S512_S_LANES
#define S512_WK S512_WK_LANES
    return MB_FN(sha512_outer)(kt, rows, shape, ih);
}

static void MB_FN(sha512_inner_wk)(uint64_t counter, uint64_t wk[80])
{
    uint64_t w[80] = {0};
    w[0] = counter;
    w[1] = 0x8000000000000000ull;
    w[15] = 1088;
    for (int t = 16; t < 80; t++) {
        const uint64_t x = w[t - 15], y = w[t - 2];
        const uint64_t g0 = ((x >> 1) | (x << 63)) ^ ((x >> 8) | (x << 56)) ^ (x >> 7);
        const uint64_t g1 = ((y >> 19) | (y << 45)) ^ ((y >> 61) | (y << 3)) ^ (y >> 6);
        w[t] = g1 + w[t - 7] + g0 + w[t - 16];
    }
    for (int t = 0; t < 80; t++) wk[t] = w[t] + otp_sha512_k[t];
}

void MB_FN(otp_sha512_trunc)(const otp_keytable *kt, const uint32_t *rows,
                             const uint64_t *counters, size_t n, uint32_t *out31)
{
    size_t i = 0;
    for (; i + MB_LANES <= n; i += MB_LANES)
        mb_store_lanes(out31 + i, MB_FN(sha512_group)(kt, rows + i, counters + i), MB_LANES);
    const size_t rest = n - i;
    if (rest == 0) return;
    if (rest <= MB_SCALAR_TAIL) {
        otp_sha512_trunc_portable(kt, rows + i, counters + i, rest, out31 + i);
        return;
    }
    uint32_t r[MB_LANES];
    uint64_t c[MB_LANES] = {0};
    mb_pad_rows(rows + i, rest, r);
    memcpy(c, counters + i, rest * sizeof *c);
    mb_store_lanes(out31 + i, MB_FN(sha512_group)(kt, r, c), rest);
}

void MB_FN(otp_sha512_trunc_shared)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, uint32_t *out31)
{
    uint64_t wk[80];
    MB_FN(sha512_inner_wk)(counter, wk);
    size_t i = 0;
    for (; i + MB_LANES <= n; i += MB_LANES)
        mb_store_lanes(out31 + i, MB_FN(sha512_group_shared)(kt, rows + i, wk), MB_LANES);
    const size_t rest = n - i;
    if (rest == 0) return;
    uint32_t r[MB_LANES];
    mb_pad_rows(rows + i, rest, r);
    mb_store_lanes(out31 + i, MB_FN(sha512_group_shared)(kt, r, wk), rest);
}

void MB_FN(otp_sha512_match_shared)(const otp_keytable *kt, const uint32_t *rows,
                                    uint64_t counter, size_t n, const uint32_t *codes,
                                    unsigned digits, uint32_t *hit)
{
    uint64_t wk[80];
    MB_FN(sha512_inner_wk)(counter, wk);
    for (size_t i = 0; i < n; i += MB_LANES) {
        const size_t count = n - i < MB_LANES ? n - i : MB_LANES;
        uint32_t r[MB_LANES], cd[MB_LANES] = {0};
        mb_pad_rows(rows + i, count, r);
        memcpy(cd, codes + i, count * sizeof *cd);
        v32 want;
        memcpy(&want, cd, sizeof want);
        const v32 code = mb_mod_pow10(MB_FN(sha512_group_shared)(kt, r, wk), digits);
        mb_store_lanes(hit + i, (v32)(code == want), count);
    }
}

void MB_FN(otp_sha512_keysched)(otp_keytable *kt, size_t first, const uint8_t *blocks,
                                size_t count)
{
    for (size_t i = 0; i < count; i += MB_LANES) {
        const size_t m = count - i < MB_LANES ? count - i : MB_LANES;
        /* The 16 big-endian message words of each lane's key block, transposed once (x86 is
         * little-endian, hence the byte swap). */
        uint64_t lanes[16][MB_LANES];
        for (unsigned l = 0; l < MB_LANES; l++) {
            const uint8_t *block = blocks + (i + (l < m ? l : 0)) * 128;
            for (unsigned j = 0; j < 16; j++) {
                uint64_t x;
                memcpy(&x, block + 8 * j, sizeof x);
                lanes[j][l] = __builtin_bswap64(x);
            }
        }
        v64 key[16];
        memcpy(key, lanes, sizeof key);
        otp_wipe(lanes, sizeof lanes);
        for (int which = 0; which < 2; which++) {
            const uint64_t pad = which == 0 ? 0x3636363636363636ull : 0x5c5c5c5c5c5c5c5cull;
            v64 m16[16];
            for (unsigned j = 0; j < 16; j++) m16[j] = key[j] ^ pad;
            v64 w0 = m16[0], w1 = m16[1], w2 = m16[2], w3 = m16[3], w4 = m16[4], w5 = m16[5],
                w6 = m16[6], w7 = m16[7], w8 = m16[8], w9 = m16[9], w10 = m16[10],
                w11 = m16[11], w12 = m16[12], w13 = m16[13], w14 = m16[14], w15 = m16[15];
            v64 st[8];
            for (unsigned q = 0; q < 8; q++) st[q] = V64(otp_sha512_iv[q]);
            S512_COMPRESS_LANES(st);
            uint64_t *half = (uint64_t *)(which == 0 ? kt->inner : kt->outer);
            for (unsigned q = 0; q < 8; q++)
                mb_store_word64(half, kt->stride, q, first + i, m, &st[q]);
            otp_wipe(m16, sizeof m16);
        }
        otp_wipe(key, sizeof key);
    }
}

#undef S512_S
#undef S512_WK
