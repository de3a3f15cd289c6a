/*
 * HOTP-SHA1 with the SHA extensions (SHA-NI): several independent codes in flight at once, so
 * that one code's rounds fill the latency of the others' (the round instruction's result feeds
 * the next round, and its latency is several times its issue interval).
 *
 * Register layout the instructions want: A..D in lanes 3..0 of one register, E in lane 3 of
 * another, and message words W[4i..4i+3] with W[4i] in lane 3.
 */
#include <string.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS
#include "mb_target.h"
MB_TARGET_BEGIN("sha,sse4.1")
#include <immintrin.h>

#define NI_INLINE static inline __attribute__((always_inline))

/* Streams in flight. Four hold more than the 16 XMM registers and spill a little, yet on AMD
 * Zen 3 they measured about 10% faster per code than two (one process, alternating runs:
 * 37.3 ns against 41.6 ns), as the round instruction's latency is what limits two streams. */
#define NS 4

/* Four rounds of every stream: group i (rounds 4i..4i+3) with boolean function f. */
#define SHA1NI_G0(s)                                                     \
    prev[s] = abcd[s];                                                   \
    abcd[s] = _mm_sha1rnds4_epu32(abcd[s], _mm_add_epi32(e0[s], m[s][0]), 0);

#define SHA1NI_SCHED(s, i)                                                                \
    m[s][(i) & 3] = _mm_sha1msg2_epu32(                                                   \
        _mm_xor_si128(_mm_sha1msg1_epu32(m[s][(i) & 3], m[s][((i) + 1) & 3]),              \
                      m[s][((i) + 2) & 3]),                                               \
        m[s][((i) + 3) & 3]);

#define SHA1NI_G(s, i, f)                                                                 \
    {                                                                                     \
        const __m128i e_ = _mm_sha1nexte_epu32(prev[s], m[s][(i) & 3]);                  \
        prev[s] = abcd[s];                                                                \
        abcd[s] = _mm_sha1rnds4_epu32(abcd[s], e_, f);                                    \
    }

#define SHA1NI_GROUP(i, f)                                                                \
    if ((i) >= 4) { for (int s = 0; s < ns; s++) { SHA1NI_SCHED(s, i) } }                \
    for (int s = 0; s < ns; s++) { SHA1NI_G(s, i, f) }

/*
 * Compresses ns <= NS blocks: abcd[s], e[s] hold each stream's chaining state and are updated;
 * m[s][0..3] hold its message (and are consumed as the schedule's ring). Every caller passes a
 * constant ns, so each inlined copy holds only its own streams.
 */
NI_INLINE void sha1ni_compress(__m128i abcd[NS], __m128i e[NS], __m128i m[NS][4], const int ns)
{
    __m128i abcd0[NS], e0[NS], prev[NS];
    for (int s = 0; s < ns; s++) { abcd0[s] = abcd[s]; e0[s] = e[s]; }
    for (int s = 0; s < ns; s++) { SHA1NI_G0(s) }
    SHA1NI_GROUP(1, 0) SHA1NI_GROUP(2, 0) SHA1NI_GROUP(3, 0) SHA1NI_GROUP(4, 0)
    SHA1NI_GROUP(5, 1) SHA1NI_GROUP(6, 1) SHA1NI_GROUP(7, 1) SHA1NI_GROUP(8, 1)
    SHA1NI_GROUP(9, 1) SHA1NI_GROUP(10, 2) SHA1NI_GROUP(11, 2) SHA1NI_GROUP(12, 2)
    SHA1NI_GROUP(13, 2) SHA1NI_GROUP(14, 2) SHA1NI_GROUP(15, 3) SHA1NI_GROUP(16, 3)
    SHA1NI_GROUP(17, 3) SHA1NI_GROUP(18, 3) SHA1NI_GROUP(19, 3)
    for (int s = 0; s < ns; s++) {
        /* E after the last group is A of four rounds earlier, rotated; add the input E. */
        e[s] = _mm_sha1nexte_epu32(prev[s], e0[s]);
        abcd[s] = _mm_add_epi32(abcd[s], abcd0[s]);
    }
}

/* The same rounds over a message schedule shared by every stream (a shared counter's inner
 * block): pre[i] holds W[4i..4i+3], so no schedule is computed. */
#define SHA1NI_GP(s, i, f)                                                                \
    {                                                                                     \
        const __m128i e_ = _mm_sha1nexte_epu32(prev[s], pre[i]);                         \
        prev[s] = abcd[s];                                                                \
        abcd[s] = _mm_sha1rnds4_epu32(abcd[s], e_, f);                                    \
    }
#define SHA1NI_GROUP_PRE(i, f) for (int s = 0; s < NS; s++) { SHA1NI_GP(s, i, f) }

NI_INLINE void sha1ni_compress_pre(__m128i abcd[NS], __m128i e[NS], const __m128i pre[20])
{
    __m128i abcd0[NS], e0[NS], prev[NS];
    for (int s = 0; s < NS; s++) {
        abcd0[s] = abcd[s];
        e0[s] = e[s];
        prev[s] = abcd[s];
        abcd[s] = _mm_sha1rnds4_epu32(abcd[s], _mm_add_epi32(e0[s], pre[0]), 0);
    }
    SHA1NI_GROUP_PRE(1, 0) SHA1NI_GROUP_PRE(2, 0) SHA1NI_GROUP_PRE(3, 0) SHA1NI_GROUP_PRE(4, 0)
    SHA1NI_GROUP_PRE(5, 1) SHA1NI_GROUP_PRE(6, 1) SHA1NI_GROUP_PRE(7, 1) SHA1NI_GROUP_PRE(8, 1)
    SHA1NI_GROUP_PRE(9, 1) SHA1NI_GROUP_PRE(10, 2) SHA1NI_GROUP_PRE(11, 2)
    SHA1NI_GROUP_PRE(12, 2) SHA1NI_GROUP_PRE(13, 2) SHA1NI_GROUP_PRE(14, 2)
    SHA1NI_GROUP_PRE(15, 3) SHA1NI_GROUP_PRE(16, 3) SHA1NI_GROUP_PRE(17, 3)
    SHA1NI_GROUP_PRE(18, 3) SHA1NI_GROUP_PRE(19, 3)
    for (int s = 0; s < NS; s++) {
        e[s] = _mm_sha1nexte_epu32(prev[s], e0[s]);
        abcd[s] = _mm_add_epi32(abcd[s], abcd0[s]);
    }
}

/* Chaining state of row r of one half of the key table. */
NI_INLINE void sha1ni_load(const uint32_t *half, size_t stride, size_t r, __m128i *abcd,
                           __m128i *e)
{
    *abcd = _mm_set_epi32((int)half[r], (int)half[stride + r], (int)half[2 * stride + r],
                          (int)half[3 * stride + r]);
    *e = _mm_set_epi32((int)half[4 * stride + r], 0, 0, 0);
}

/* ns codes (NS, or 1 for a lone code, whose rounds then wait on no other stream): rows r[s],
 * counters c[s] (or, with pre != NULL, the shared inner schedule pre, ns == NS); the 31-bit
 * truncated values into out[s]. */
NI_INLINE void sha1ni_codes(const otp_keytable *kt, const size_t r[NS], const uint64_t c[NS],
                            const __m128i *pre, uint32_t out[NS], const int ns)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    __m128i abcd[NS], e[NS], m[NS][4];
    for (int s = 0; s < ns; s++) {
        sha1ni_load(inner, kt->stride, r[s], &abcd[s], &e[s]);
        /* Counter (two big-endian words), 0x80, zeros, length 576 bits. */
        if (pre != NULL) continue;
        m[s][0] = _mm_set_epi32((int)(uint32_t)(c[s] >> 32), (int)(uint32_t)c[s],
                                (int)0x80000000u, 0);
        m[s][1] = _mm_setzero_si128();
        m[s][2] = _mm_setzero_si128();
        m[s][3] = _mm_set_epi32(0, 0, 0, 576);
    }
    if (pre != NULL) sha1ni_compress_pre(abcd, e, pre);
    else sha1ni_compress(abcd, e, m, ns);
    for (int s = 0; s < ns; s++) {
        /* Inner digest (A..D, then E with 0x80 after it), zeros, length 672 bits. */
        m[s][0] = abcd[s];
        m[s][1] = _mm_blend_epi16(e[s], _mm_set_epi32(0, (int)0x80000000u, 0, 0), 0x3f);
        m[s][2] = _mm_setzero_si128();
        m[s][3] = _mm_set_epi32(0, 0, 0, 672);
        sha1ni_load(outer, kt->stride, r[s], &abcd[s], &e[s]);
    }
    sha1ni_compress(abcd, e, m, ns);
    for (int s = 0; s < ns; s++) {
        uint32_t h[5];
        h[0] = (uint32_t)_mm_extract_epi32(abcd[s], 3);
        h[1] = (uint32_t)_mm_extract_epi32(abcd[s], 2);
        h[2] = (uint32_t)_mm_extract_epi32(abcd[s], 1);
        h[3] = (uint32_t)_mm_extract_epi32(abcd[s], 0);
        h[4] = (uint32_t)_mm_extract_epi32(e[s], 3);
        out[s] = otp_truncate_words32(h, 5);
    }
}

void otp_sha1_trunc_shani(const otp_keytable *kt, const uint32_t *rows, const uint64_t *counters,
                          size_t n, uint32_t *out31)
{
    size_t i = 0;
    for (; i + NS <= n; i += NS) {
        size_t r[NS];
        for (int s = 0; s < NS; s++) r[s] = rows[i + s];
        sha1ni_codes(kt, r, counters + i, NULL, out31 + i, NS);
    }
    if (i + 1 == n) {
        /* A lone code (the scalar objects' every call): one stream, about a quarter of a
         * group's time, as a group's streams share the round unit. */
        const size_t r[NS] = {rows[i]};
        const uint64_t c[NS] = {counters[i]};
        uint32_t v[NS] = {0};
        sha1ni_codes(kt, r, c, NULL, v, 1);
        out31[i] = v[0];
    } else if (i < n) {
        /* The last codes run beside copies of the first of them: the group costs the same. */
        size_t r[NS];
        uint64_t c[NS];
        uint32_t v[NS];
        for (size_t s = 0; s < NS; s++) {
            const size_t j = i + s < n ? i + s : i;
            r[s] = rows[j];
            c[s] = counters[j];
        }
        sha1ni_codes(kt, r, c, NULL, v, NS);
        for (size_t s = 0; i + s < n; s++) out31[i + s] = v[s];
    }
}

/* The inner block's message schedule at one counter, grouped as the round instruction takes it. */
static void sha1ni_shared_schedule(uint64_t counter, __m128i pre[20])
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
    for (int g = 0; g < 20; g++)
        pre[g] = _mm_set_epi32((int)w[4 * g], (int)w[4 * g + 1], (int)w[4 * g + 2],
                               (int)w[4 * g + 3]);
}

/* Codes of rows[0..n) at the shared schedule; a short last group repeats its first row. */
static void sha1ni_shared(const otp_keytable *kt, const uint32_t *rows, const __m128i pre[20],
                          size_t n, uint32_t *out31)
{
    const uint64_t unused[NS] = {0};
    for (size_t i = 0; i < n; i += NS) {
        size_t r[NS];
        uint32_t v[NS];
        for (size_t s = 0; s < NS; s++) r[s] = rows[i + s < n ? i + s : i];
        sha1ni_codes(kt, r, unused, pre, v, NS);
        for (size_t s = 0; s < NS && i + s < n; s++) out31[i + s] = v[s];
    }
}

void otp_sha1_trunc_shared_shani(const otp_keytable *kt, const uint32_t *rows, uint64_t counter,
                                 size_t n, uint32_t *out31)
{
    __m128i pre[20];
    sha1ni_shared_schedule(counter, pre);
    sha1ni_shared(kt, rows, pre, n, out31);
}

void otp_sha1_match_shared_shani(const otp_keytable *kt, const uint32_t *rows, uint64_t counter,
                                 size_t n, const uint32_t *codes, unsigned digits, uint32_t *hit)
{
    __m128i pre[20];
    sha1ni_shared_schedule(counter, pre);
    sha1ni_shared(kt, rows, pre, n, hit);
    /* One code per stream: reduce and compare without branching on the values. */
    for (size_t i = 0; i < n; i++) hit[i] = otp_ct_eq32(otp_mod_pow10(hit[i], digits), codes[i]);
}

/* Big-endian message words of a 64-byte block XOR a pad byte, W[4i] in lane 3. */
NI_INLINE void sha1ni_block(const uint8_t *block, uint8_t pad, __m128i m[4])
{
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i x = _mm_set1_epi8((char)pad);
    for (int i = 0; i < 4; i++) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)(const void *)(block + 16 * i));
        m[i] = _mm_shuffle_epi8(_mm_xor_si128(raw, x), reverse);
    }
}

void otp_sha1_keysched_shani(otp_keytable *kt, size_t first, const uint8_t *blocks, size_t count)
{
    uint32_t *half[2] = {(uint32_t *)kt->inner, (uint32_t *)kt->outer};
    const size_t st = kt->stride;
    for (size_t i = 0; i < count; i += NS / 2) {
        /* Stream s: key i + s / 2, with the ipad (even s) or the opad (odd s). */
        __m128i abcd[NS], e[NS], m[NS][4];
        for (int s = 0; s < NS; s++) {
            const size_t key = i + (size_t)s / 2 < count ? i + (size_t)s / 2 : i;
            sha1ni_block(blocks + 64 * key, s % 2 ? 0x5c : 0x36, m[s]);
            abcd[s] = _mm_set_epi32((int)otp_sha1_iv[0], (int)otp_sha1_iv[1],
                                    (int)otp_sha1_iv[2], (int)otp_sha1_iv[3]);
            e[s] = _mm_set_epi32((int)otp_sha1_iv[4], 0, 0, 0);
        }
        sha1ni_compress(abcd, e, m, NS);
        for (int s = 0; s < NS && i + (size_t)s / 2 < count; s++) {
            const size_t r = first + i + (size_t)s / 2;
            uint32_t *h = half[s % 2];
            h[r] = (uint32_t)_mm_extract_epi32(abcd[s], 3);
            h[st + r] = (uint32_t)_mm_extract_epi32(abcd[s], 2);
            h[2 * st + r] = (uint32_t)_mm_extract_epi32(abcd[s], 1);
            h[3 * st + r] = (uint32_t)_mm_extract_epi32(abcd[s], 0);
            h[4 * st + r] = (uint32_t)_mm_extract_epi32(e[s], 3);
        }
        otp_wipe(m, sizeof m);
    }
}

MB_TARGET_END
#else
typedef int otp_sha1_shani_unused; /* ISO C wants a translation unit to declare something */
#endif
