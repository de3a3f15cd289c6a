/*
 * HOTP-SHA256 with the SHA extensions (SHA-NI): two independent codes in flight at once.
 *
 * Register layout the instructions want: the state as ABEF and CDGH (A in lane 3 of the first,
 * C in lane 3 of the second), message words W[4i..4i+3] with W[4i] in lane 0, and W + K
 * supplied two rounds at a time in lanes 0 and 1.
 */
#include <string.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS
#include "mb_target.h"
MB_TARGET_BEGIN("sha,sse4.1")
#include <immintrin.h>

#define NI_INLINE static inline __attribute__((always_inline))

/* Streams in flight: two; three or four measured no faster on AMD Zen 3. */
#define NS 2
_Static_assert(NS == 2, "otp_sha256_trunc_shani leaves at most one code for its tail");



/* Message group i >= 4 of stream s into ring slot i & 3. */
#define SHA256NI_SCHED(s, i)                                                                  \
    m[s][(i) & 3] = _mm_sha256msg2_epu32(                                                     \
        _mm_add_epi32(_mm_sha256msg1_epu32(m[s][(i) & 3], m[s][((i) + 1) & 3]),              \
                      _mm_alignr_epi8(m[s][((i) + 3) & 3], m[s][((i) + 2) & 3], 4)),          \
        m[s][((i) + 3) & 3]);

/* Four rounds of stream s with message group i. */
#define SHA256NI_R4(s, i)                                                                     \
    {                                                                                         \
        __m128i wk_ = _mm_add_epi32(m[s][(i) & 3],                                            \
                                    _mm_loadu_si128((const __m128i *)(const void *)           \
                                                    (otp_sha256_k + 4 * (i))));                    \
        cdgh[s] = _mm_sha256rnds2_epu32(cdgh[s], abef[s], wk_);                               \
        wk_ = _mm_shuffle_epi32(wk_, 0x0e);                                                   \
        abef[s] = _mm_sha256rnds2_epu32(abef[s], cdgh[s], wk_);                               \
    }

#define SHA256NI_GROUP(i)                                                                     \
    if ((i) >= 4) { for (int s = 0; s < ns; s++) { SHA256NI_SCHED(s, i) } }                   \
    for (int s = 0; s < ns; s++) { SHA256NI_R4(s, i) }

/* Compresses ns <= NS blocks (a constant at every call, so each inlined copy holds only its
 * streams); abef/cdgh updated, m consumed. The pair of rnds2 calls in a group swaps the roles
 * of the two registers twice, so they end in their original roles. */
NI_INLINE void sha256ni_compress(__m128i abef[NS], __m128i cdgh[NS], __m128i m[NS][4],
                                 const int ns)
{
    __m128i abef0[NS], cdgh0[NS];
    for (int s = 0; s < ns; s++) {
        abef0[s] = abef[s];
        cdgh0[s] = cdgh[s];
    }
    SHA256NI_GROUP(0) SHA256NI_GROUP(1) SHA256NI_GROUP(2) SHA256NI_GROUP(3)
    SHA256NI_GROUP(4) SHA256NI_GROUP(5) SHA256NI_GROUP(6) SHA256NI_GROUP(7)
    SHA256NI_GROUP(8) SHA256NI_GROUP(9) SHA256NI_GROUP(10) SHA256NI_GROUP(11)
    SHA256NI_GROUP(12) SHA256NI_GROUP(13) SHA256NI_GROUP(14) SHA256NI_GROUP(15)
    for (int s = 0; s < ns; s++) {
        abef[s] = _mm_add_epi32(abef[s], abef0[s]);
        cdgh[s] = _mm_add_epi32(cdgh[s], cdgh0[s]);
    }
}

/* The same rounds with W + K given for every group (a shared counter's inner block). */
#define SHA256NI_R4_PRE(s, i)                                                                 \
    {                                                                                         \
        cdgh[s] = _mm_sha256rnds2_epu32(cdgh[s], abef[s], wk[i]);                             \
        abef[s] = _mm_sha256rnds2_epu32(abef[s], cdgh[s], _mm_shuffle_epi32(wk[i], 0x0e));    \
    }

NI_INLINE void sha256ni_compress_pre(__m128i abef[NS], __m128i cdgh[NS], const __m128i wk[16])
{
    __m128i abef0[NS], cdgh0[NS];
    for (int s = 0; s < NS; s++) {
        abef0[s] = abef[s];
        cdgh0[s] = cdgh[s];
    }
    for (int i = 0; i < 16; i++)
        for (int s = 0; s < NS; s++) SHA256NI_R4_PRE(s, i)
    for (int s = 0; s < NS; s++) {
        abef[s] = _mm_add_epi32(abef[s], abef0[s]);
        cdgh[s] = _mm_add_epi32(cdgh[s], cdgh0[s]);
    }
}

/* State words h[0..7] (A..H) to and from the ABEF / CDGH registers. */
NI_INLINE void sha256ni_pack(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
    *abef = _mm_set_epi32((int)h[0], (int)h[1], (int)h[4], (int)h[5]);
    *cdgh = _mm_set_epi32((int)h[2], (int)h[3], (int)h[6], (int)h[7]);
}

NI_INLINE void sha256ni_unpack(__m128i abef, __m128i cdgh, uint32_t h[8])
{
    h[0] = (uint32_t)_mm_extract_epi32(abef, 3);
    h[1] = (uint32_t)_mm_extract_epi32(abef, 2);
    h[4] = (uint32_t)_mm_extract_epi32(abef, 1);
    h[5] = (uint32_t)_mm_extract_epi32(abef, 0);
    h[2] = (uint32_t)_mm_extract_epi32(cdgh, 3);
    h[3] = (uint32_t)_mm_extract_epi32(cdgh, 2);
    h[6] = (uint32_t)_mm_extract_epi32(cdgh, 1);
    h[7] = (uint32_t)_mm_extract_epi32(cdgh, 0);
}

NI_INLINE void sha256ni_load(const uint32_t *half, size_t stride, size_t r, __m128i *abef,
                             __m128i *cdgh)
{
    uint32_t h[8];
    for (int w = 0; w < 8; w++) h[w] = half[(size_t)w * stride + r];
    sha256ni_pack(h, abef, cdgh);
}

/* ns codes (NS, or 1 for a lone code): rows r[s], counters c[s] (or, with wk != NULL, the
 * shared inner W + K, ns == NS); the 31-bit truncated values into out[s]. */
NI_INLINE void sha256ni_codes(const otp_keytable *kt, const size_t r[NS], const uint64_t c[NS],
                              const __m128i *wk, uint32_t out[NS], const int ns)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    __m128i abef[NS], cdgh[NS], m[NS][4];
    for (int s = 0; s < ns; s++) {
        sha256ni_load(inner, kt->stride, r[s], &abef[s], &cdgh[s]);
        /* Counter (two big-endian words), 0x80, zeros, length 576 bits. */
        if (wk != NULL) continue;
        m[s][0] = _mm_set_epi32(0, (int)0x80000000u, (int)(uint32_t)c[s],
                                (int)(uint32_t)(c[s] >> 32));
        m[s][1] = _mm_setzero_si128();
        m[s][2] = _mm_setzero_si128();
        m[s][3] = _mm_set_epi32(576, 0, 0, 0);
    }
    if (wk != NULL) sha256ni_compress_pre(abef, cdgh, wk);
    else sha256ni_compress(abef, cdgh, m, ns);
    for (int s = 0; s < ns; s++) {
        /* Inner digest, 0x80, zeros, length 768 bits. */
        uint32_t h[8];
        sha256ni_unpack(abef[s], cdgh[s], h);
        m[s][0] = _mm_set_epi32((int)h[3], (int)h[2], (int)h[1], (int)h[0]);
        m[s][1] = _mm_set_epi32((int)h[7], (int)h[6], (int)h[5], (int)h[4]);
        m[s][2] = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
        m[s][3] = _mm_set_epi32(768, 0, 0, 0);
        sha256ni_load(outer, kt->stride, r[s], &abef[s], &cdgh[s]);
    }
    sha256ni_compress(abef, cdgh, m, ns);
    for (int s = 0; s < ns; s++) {
        uint32_t h[8];
        sha256ni_unpack(abef[s], cdgh[s], h);
        out[s] = otp_truncate_words32(h, 8);
    }
}

void otp_sha256_trunc_shani(const otp_keytable *kt, const uint32_t *rows,
                            const uint64_t *counters, size_t n, uint32_t *out31)
{
    size_t i = 0;
    for (; i + NS <= n; i += NS) {
        size_t r[NS];
        for (size_t s = 0; s < NS; s++) r[s] = rows[i + s];
        sha256ni_codes(kt, r, counters + i, NULL, out31 + i, NS);
    }
    if (i < n) {
        /* The last code (two streams: at most one is left) runs as one stream: its rounds
         * then share the round unit with no copy of itself. */
        const size_t r[NS] = {rows[i]};
        const uint64_t c[NS] = {counters[i]};
        uint32_t v[NS] = {0};
        sha256ni_codes(kt, r, c, NULL, v, 1);
        out31[i] = v[0];
    }
}

/* W + K of the inner block at one counter, four rounds per register (W[4i] in lane 0). */
static void sha256ni_shared_schedule(uint64_t counter, __m128i wk[16])
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
    for (int t = 0; t < 64; t++) w[t] += otp_sha256_k[t];
    for (int i = 0; i < 16; i++)
        wk[i] = _mm_loadu_si128((const __m128i *)(const void *)(w + 4 * i));
}

static void sha256ni_shared(const otp_keytable *kt, const uint32_t *rows, const __m128i wk[16],
                            size_t n, uint32_t *out31)
{
    const uint64_t unused[NS] = {0};
    for (size_t i = 0; i < n; i += NS) {
        size_t r[NS];
        uint32_t v[NS];
        for (size_t s = 0; s < NS; s++) r[s] = rows[i + s < n ? i + s : i];
        sha256ni_codes(kt, r, unused, wk, v, NS);
        for (size_t s = 0; s < NS && i + s < n; s++) out31[i + s] = v[s];
    }
}

void otp_sha256_trunc_shared_shani(const otp_keytable *kt, const uint32_t *rows,
                                   uint64_t counter, size_t n, uint32_t *out31)
{
    __m128i wk[16];
    sha256ni_shared_schedule(counter, wk);
    sha256ni_shared(kt, rows, wk, n, out31);
}

void otp_sha256_match_shared_shani(const otp_keytable *kt, const uint32_t *rows,
                                   uint64_t counter, size_t n, const uint32_t *codes,
                                   unsigned digits, uint32_t *hit)
{
    __m128i wk[16];
    sha256ni_shared_schedule(counter, wk);
    sha256ni_shared(kt, rows, wk, n, hit);
    for (size_t i = 0; i < n; i++) hit[i] = otp_ct_eq32(otp_mod_pow10(hit[i], digits), codes[i]);
}

/* Big-endian message words of a 64-byte block XOR a pad byte, W[4i] in lane 0. */
NI_INLINE void sha256ni_block(const uint8_t *block, uint8_t pad, __m128i m[4])
{
    const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    const __m128i x = _mm_set1_epi8((char)pad);
    for (int i = 0; i < 4; i++) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)(const void *)(block + 16 * i));
        m[i] = _mm_shuffle_epi8(_mm_xor_si128(raw, x), swap);
    }
}

void otp_sha256_keysched_shani(otp_keytable *kt, size_t first, const uint8_t *blocks,
                               size_t count)
{
    uint32_t *half[2] = {(uint32_t *)kt->inner, (uint32_t *)kt->outer};
    for (size_t i = 0; i < count; i += NS / 2) {
        /* Stream s: key i + s / 2, with the ipad (even s) or the opad (odd s). */
        __m128i abef[NS], cdgh[NS], m[NS][4];
        for (int s = 0; s < NS; s++) {
            const size_t key = i + (size_t)s / 2 < count ? i + (size_t)s / 2 : i;
            sha256ni_block(blocks + 64 * key, s % 2 ? 0x5c : 0x36, m[s]);
            sha256ni_pack(otp_sha256_iv, &abef[s], &cdgh[s]);
        }
        sha256ni_compress(abef, cdgh, m, NS);
        for (int s = 0; s < NS && i + (size_t)s / 2 < count; s++) {
            uint32_t h[8];
            sha256ni_unpack(abef[s], cdgh[s], h);
            const size_t r = first + i + (size_t)s / 2;
            for (int w = 0; w < 8; w++) half[s % 2][(size_t)w * kt->stride + r] = h[w];
            otp_wipe(h, sizeof h);
        }
        otp_wipe(m, sizeof m);
    }
}

MB_TARGET_END
#else
typedef int otp_sha256_shani_unused; /* ISO C wants a translation unit to declare something */
#endif
