/* SHA-256 compression (FIPS 180-4) and the portable HOTP-SHA256 kernel. */
#include "otp_internal.h"

const uint32_t otp_sha256_iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

const uint32_t otp_sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

static inline uint32_t ror32(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

#define S0(x) (ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22))
#define S1(x) (ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25))
#define G0(x) (ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define G1(x) (ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

void otp_sha256_compress_words(uint32_t state[8], const uint32_t in[16])
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = in[i];
    for (int i = 16; i < 64; i++) w[i] = G1(w[i - 2]) + w[i - 7] + G0(w[i - 15]) + w[i - 16];
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + S1(e) + CH(e, f, g) + otp_sha256_k[i] + w[i];
        uint32_t t2 = S0(a) + MAJ(a, b, c);
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void otp_sha256_compress_block(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) {
        const uint8_t *p = block + 4 * i;
        w[i] = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    }
    otp_sha256_compress_words(state, w);
}

void otp_sha256_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                               const uint64_t *counters, size_t n, uint32_t *out31)
{
    const uint32_t *inner = (const uint32_t *)kt->inner;
    const uint32_t *outer = (const uint32_t *)kt->outer;
    const size_t s = kt->stride;
    for (size_t i = 0; i < n; i++) {
        const size_t r = rows[i];
        uint32_t h[8], o[8], w[16] = {0};
        for (int j = 0; j < 8; j++) {
            h[j] = inner[j * s + r];
            o[j] = outer[j * s + r];
        }
        w[0] = (uint32_t)(counters[i] >> 32);
        w[1] = (uint32_t)counters[i];
        w[2] = 0x80000000u;
        w[15] = 576; /* (64 + 8) * 8 */
        otp_sha256_compress_words(h, w);
        for (int j = 0; j < 8; j++) w[j] = h[j];
        w[8] = 0x80000000u;
        for (int j = 9; j < 15; j++) w[j] = 0;
        w[15] = 768; /* (64 + 32) * 8 */
        otp_sha256_compress_words(o, w);
        out31[i] = otp_truncate_words32(o, 8);
    }
}
