/* SHA-1 compression (FIPS 180-4) and the portable HOTP-SHA1 kernel. */
#include "otp_internal.h"

const uint32_t otp_sha1_iv[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                 0xC3D2E1F0u};

static inline uint32_t rol32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

#define F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define F2(b, c, d) ((b) ^ (c) ^ (d))
#define F3(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))

/* Schedule word t (t >= 16) in a 16-entry ring. */
#define SCHED(t) (w[(t) & 15] = rol32(w[((t) + 13) & 15] ^ w[((t) + 8) & 15] ^ \
                                      w[((t) + 2) & 15] ^ w[(t) & 15], 1))

#define ROUND(a, b, c, d, e, f, k, x)                  \
    do {                                              \
        e += rol32(a, 5) + f(b, c, d) + (k) + (x);    \
        b = rol32(b, 30);                             \
    } while (0)

#define R5(t, f, k, X)                                  \
    ROUND(a, b, c, d, e, f, k, X(t));                  \
    ROUND(e, a, b, c, d, f, k, X((t) + 1));            \
    ROUND(d, e, a, b, c, f, k, X((t) + 2));            \
    ROUND(c, d, e, a, b, f, k, X((t) + 3));            \
    ROUND(b, c, d, e, a, f, k, X((t) + 4))

#define W0(t) w[t]

void otp_sha1_compress_words(uint32_t state[5], const uint32_t in[16])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) w[i] = in[i];
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];

    R5(0, F1, 0x5A827999u, W0);
    R5(5, F1, 0x5A827999u, W0);
    R5(10, F1, 0x5A827999u, W0);
    ROUND(a, b, c, d, e, F1, 0x5A827999u, w[15]);
    ROUND(e, a, b, c, d, F1, 0x5A827999u, SCHED(16));
    ROUND(d, e, a, b, c, F1, 0x5A827999u, SCHED(17));
    ROUND(c, d, e, a, b, F1, 0x5A827999u, SCHED(18));
    ROUND(b, c, d, e, a, F1, 0x5A827999u, SCHED(19));
    R5(20, F2, 0x6ED9EBA1u, SCHED);
    R5(25, F2, 0x6ED9EBA1u, SCHED);
    R5(30, F2, 0x6ED9EBA1u, SCHED);
    R5(35, F2, 0x6ED9EBA1u, SCHED);
    R5(40, F3, 0x8F1BBCDCu, SCHED);
    R5(45, F3, 0x8F1BBCDCu, SCHED);
    R5(50, F3, 0x8F1BBCDCu, SCHED);
    R5(55, F3, 0x8F1BBCDCu, SCHED);
    R5(60, F2, 0xCA62C1D6u, SCHED);
    R5(65, F2, 0xCA62C1D6u, SCHED);
    R5(70, F2, 0xCA62C1D6u, SCHED);
    R5(75, F2, 0xCA62C1D6u, SCHED);

    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
}

void otp_sha1_compress_block(uint32_t state[5], const uint8_t block[64])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) {
        const uint8_t *p = block + 4 * i;
        w[i] = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    }
    otp_sha1_compress_words(state, w);
}

void otp_sha1_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                             const uint64_t *counters, size_t n, uint32_t *out31)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    const size_t s = kt->stride;
    for (size_t i = 0; i < n; i++) {
        const size_t r = rows[i];
        uint32_t h[5], o[5], w[16] = {0};
        for (int j = 0; j < 5; j++) {
            h[j] = inner[j * s + r];
            o[j] = outer[j * s + r];
        }
        /* Inner block: 8-byte counter, 0x80, zeros, length (64 + 8) * 8 bits. */
        w[0] = (uint32_t)(counters[i] >> 32);
        w[1] = (uint32_t)counters[i];
        w[2] = 0x80000000u;
        w[15] = 576;
        otp_sha1_compress_words(h, w);
        /* Outer block: 20-byte inner digest, 0x80, zeros, length (64 + 20) * 8 bits. */
        for (int j = 0; j < 5; j++) w[j] = h[j];
        w[5] = 0x80000000u;
        for (int j = 6; j < 15; j++) w[j] = 0;
        w[15] = 672;
        otp_sha1_compress_words(o, w);
        out31[i] = otp_truncate_words32(o, 5);
    }
}
