/* SHA-512 compression (FIPS 180-4) and the portable HOTP-SHA512 kernel. */
#include "otp_internal.h"

const uint64_t otp_sha512_iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};

const uint64_t otp_sha512_k[80] = {
    0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
    0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
    0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
    0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
    0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
    0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
    0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
    0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
    0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
    0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
    0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
    0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
    0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
    0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
    0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
    0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
    0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
    0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
    0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
    0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull};

static inline uint64_t ror64(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

#define S0(x) (ror64(x, 28) ^ ror64(x, 34) ^ ror64(x, 39))
#define S1(x) (ror64(x, 14) ^ ror64(x, 18) ^ ror64(x, 41))
#define G0(x) (ror64(x, 1) ^ ror64(x, 8) ^ ((x) >> 7))
#define G1(x) (ror64(x, 19) ^ ror64(x, 61) ^ ((x) >> 6))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

void otp_sha512_compress_words(uint64_t state[8], const uint64_t in[16])
{
    uint64_t w[80];
    for (int i = 0; i < 16; i++) w[i] = in[i];
    for (int i = 16; i < 80; i++) w[i] = G1(w[i - 2]) + w[i - 7] + G0(w[i - 15]) + w[i - 16];
    uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 80; i++) {
        uint64_t t1 = h + S1(e) + CH(e, f, g) + otp_sha512_k[i] + w[i];
        uint64_t t2 = S0(a) + MAJ(a, b, c);
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

void otp_sha512_compress_block(uint64_t state[8], const uint8_t block[128])
{
    uint64_t w[16];
    for (int i = 0; i < 16; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | block[8 * i + j];
        w[i] = v;
    }
    otp_sha512_compress_words(state, w);
}

void otp_sha512_trunc_portable(const otp_keytable *kt, const uint32_t *rows,
                               const uint64_t *counters, size_t n, uint32_t *out31)
{
    const uint64_t *inner = (const uint64_t *)kt->inner;
    const uint64_t *outer = (const uint64_t *)kt->outer;
    const size_t s = kt->stride;
    for (size_t i = 0; i < n; i++) {
        const size_t r = rows[i];
        uint64_t h[8], o[8], w[16] = {0};
        for (int j = 0; j < 8; j++) {
            h[j] = inner[j * s + r];
            o[j] = outer[j * s + r];
        }
        w[0] = counters[i];
        w[1] = 0x8000000000000000ull;
        w[15] = 1088; /* (128 + 8) * 8; the high 64 bits of the 128-bit length are zero */
        otp_sha512_compress_words(h, w);
        for (int j = 0; j < 8; j++) w[j] = h[j];
        w[8] = 0x8000000000000000ull;
        for (int j = 9; j < 15; j++) w[j] = 0;
        w[15] = 1536; /* (128 + 64) * 8 */
        otp_sha512_compress_words(o, w);
        out31[i] = otp_truncate_words64(o);
    }
}
