/*
 * HOTP-SHA1 over two independent lane groups at once (template, included after mb_sha1.h, whose
 * round table SHA1_ROUNDS, helpers and one-group functions it reuses).
 *
 * Every round statement is emitted for group A, then for group B, so the two groups' serial
 * chains (rotate, then add, per round) run side by side on the vector pipes. The message ring of
 * both groups (32 vectors) no longer fits 32 registers with the states; the compiler keeps some
 * ring words in L1, where a round reads them as a memory operand.
 *
 * Before including: MB_X2_SUFFIX (the suffix of the two-group entry points) and MB_SUFFIX (that of
 * mb_sha1.h's one-group functions, used for tails, key schedules).
 */
#define MB_X2_FN(name) MB_CAT(name, MB_X2_SUFFIX)

#undef SHA1_R
#undef SHA1_S
#undef SHA1_WK
/* One round of one group G (A or B); the rotated new A is added last, so that it alone is on the
 * serial chain. */
#define X2_R1(F, a, b, c, d, e, wk)       \
    do {                                  \
        const v32 b30_ = ROL32(b, 30);    \
        SHA1_FB(F, b, c, d);              \
        e += (wk) + b;                    \
        e += ROL32(a, 5);                 \
        b = b30_;                         \
    } while (0);
#define SHA1_R(F, a, b, c, d, e, i, t)                                    \
    X2_R1(F, a##A, b##A, c##A, d##A, e##A, X2_WK(i, t, A))                \
    X2_R1(F, a##B, b##B, c##B, d##B, e##B, X2_WK(i, t, B))
#define X2_S1(i, s3, s8, s14, G) \
    w##i##G = ROL32(w##s3##G ^ w##s8##G ^ w##s14##G ^ w##i##G, 1);
#define X2_SCHED(i, s3, s8, s14) X2_S1(i, s3, s8, s14, A) X2_S1(i, s3, s8, s14, B)
#define X2_WK_LANES(i, t, G) (w##i##G + SHA1_K(t))

/* Declarations of both groups' ring words from two lists of 16 initial values. */
#define X2_RING(G, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15)       \
    v32 w0##G = v0, w1##G = v1, w2##G = v2, w3##G = v3, w4##G = v4, w5##G = v5, w6##G = v6,    \
        w7##G = v7, w8##G = v8, w9##G = v9, w10##G = v10, w11##G = v11, w12##G = v12,          \
        w13##G = v13, w14##G = v14, w15##G = v15;

/* Both groups' compression over their rings: the states s##G[0..4] are updated. */
#define X2_COMPRESS(sA, sB)                                                                   \
    do {                                                                                      \
        v32 aA = sA[0], bA = sA[1], cA = sA[2], dA = sA[3], eA = sA[4];                       \
        v32 aB = sB[0], bB = sB[1], cB = sB[2], dB = sB[3], eB = sB[4];                       \
        SHA1_ROUNDS                                                                           \
        sA[0] += aA; sA[1] += bA; sA[2] += cA; sA[3] += dA; sA[4] += eA;                      \
        sB[0] += aB; sB[1] += bB; sB[2] += cB; sB[3] += dB; sB[4] += eB;                      \
    } while (0)

/* Kept out of line: its three load shapes (the scattered one is 16 scalar loads per word) would
 * otherwise sit four times inside the rounds' loop, whose code then outgrows the L1 instruction
 * cache (measured: 29 against 12 ns per code, depending on where the linker put it). */
static __attribute__((noinline)) void MB_X2_FN(x2_load)(const uint32_t *half, size_t stride,
                                                         const uint32_t *rows, v32 s[5])
{
    const enum mb_rows_shape shape = mb_rows_shape(rows);
    for (unsigned w = 0; w < 5; w++) s[w] = mb_load_word32(half, stride, w, rows, shape);
}

/* The outer compression of both groups from their inner digests; the truncated values. */
MB_INLINE void MB_X2_FN(x2_outer)(const otp_keytable *kt, const uint32_t *rows, const v32 hA[5],
                                  const v32 hB[5], v32 *outA, v32 *outB)
{
    v32 oA[5], oB[5];
    MB_X2_FN(x2_load)((const uint32_t *)kt->outer, kt->stride, rows, oA);
    MB_X2_FN(x2_load)((const uint32_t *)kt->outer, kt->stride, rows + MB_LANES, oB);
#define SHA1_S X2_SCHED
#define X2_WK X2_WK_LANES
    X2_RING(A, hA[0], hA[1], hA[2], hA[3], hA[4], V32(0x80000000u), V32(0), V32(0), V32(0),
            V32(0), V32(0), V32(0), V32(0), V32(0), V32(0), V32(672))
    X2_RING(B, hB[0], hB[1], hB[2], hB[3], hB[4], V32(0x80000000u), V32(0), V32(0), V32(0),
            V32(0), V32(0), V32(0), V32(0), V32(0), V32(0), V32(672))
    X2_COMPRESS(oA, oB);
    *outA = mb_truncate32(oA[4], oA[0], oA[1], oA[2], oA[3], oA[4]);
    *outB = mb_truncate32(oB[4], oB[0], oB[1], oB[2], oB[3], oB[4]);
}

/* 2 * MB_LANES codes: rows[0..2 * MB_LANES), counters as big-endian words per group. */
MB_INLINE void MB_X2_FN(x2_group)(const otp_keytable *kt, const uint32_t *rows, v32 hiA, v32 loA,
                                  v32 hiB, v32 loB, v32 *outA, v32 *outB)
{
    v32 hA[5], hB[5];
    MB_X2_FN(x2_load)((const uint32_t *)kt->inner, kt->stride, rows, hA);
    MB_X2_FN(x2_load)((const uint32_t *)kt->inner, kt->stride, rows + MB_LANES, hB);
    {
        X2_RING(A, hiA, loA, V32(0x80000000u), V32(0), V32(0), V32(0), V32(0), V32(0), V32(0),
                V32(0), V32(0), V32(0), V32(0), V32(0), V32(0), V32(576))
        X2_RING(B, hiB, loB, V32(0x80000000u), V32(0), V32(0), V32(0), V32(0), V32(0), V32(0),
                V32(0), V32(0), V32(0), V32(0), V32(0), V32(0), V32(576))
        X2_COMPRESS(hA, hB);
    }
    MB_X2_FN(x2_outer)(kt, rows, hA, hB, outA, outB);
}

/* The same at one counter shared by every lane: wk[t] = W[t] + K[t] of the inner block. */
MB_INLINE void MB_X2_FN(x2_group_shared)(const otp_keytable *kt, const uint32_t *rows,
                                         const uint32_t wk[80], v32 *outA, v32 *outB)
{
    v32 hA[5], hB[5];
    MB_X2_FN(x2_load)((const uint32_t *)kt->inner, kt->stride, rows, hA);
    MB_X2_FN(x2_load)((const uint32_t *)kt->inner, kt->stride, rows + MB_LANES, hB);
#undef SHA1_S
#undef X2_WK
#define SHA1_S(i, s3, s8, s14)
#define X2_WK(i, t, G) wk[t]
    X2_COMPRESS(hA, hB);
#undef SHA1_S
#undef X2_WK
#define SHA1_S X2_SCHED
#define X2_WK X2_WK_LANES
    MB_X2_FN(x2_outer)(kt, rows, hA, hB, outA, outB);
}

void MB_X2_FN(otp_sha1_trunc)(const otp_keytable *kt, const uint32_t *rows,
                              const uint64_t *counters, size_t n, uint32_t *out31)
{
    size_t i = 0;
    for (; i + 2 * MB_LANES <= n; i += 2 * MB_LANES) {
        v32 hiA, loA, hiB, loB, outA, outB;
        mb_counter_words(counters + i, &hiA, &loA);
        mb_counter_words(counters + i + MB_LANES, &hiB, &loB);
        MB_X2_FN(x2_group)(kt, rows + i, hiA, loA, hiB, loB, &outA, &outB);
        mb_store_lanes(out31 + i, outA, MB_LANES);
        mb_store_lanes(out31 + i + MB_LANES, outB, MB_LANES);
    }
    /* Fewer than two groups left: one group at a time. */
    if (i < n) MB_FN(otp_sha1_trunc)(kt, rows + i, counters + i, n - i, out31 + i);
}

void MB_X2_FN(otp_sha1_trunc_shared)(const otp_keytable *kt, const uint32_t *rows,
                                     uint64_t counter, size_t n, uint32_t *out31)
{
    uint32_t wk[80];
    MB_FN(sha1_inner_wk)(counter, wk);
    size_t i = 0;
    for (; i + 2 * MB_LANES <= n; i += 2 * MB_LANES) {
        v32 outA, outB;
        MB_X2_FN(x2_group_shared)(kt, rows + i, wk, &outA, &outB);
        mb_store_lanes(out31 + i, outA, MB_LANES);
        mb_store_lanes(out31 + i + MB_LANES, outB, MB_LANES);
    }
    if (i < n) MB_FN(otp_sha1_trunc_shared)(kt, rows + i, counter, n - i, out31 + i);
}

void MB_X2_FN(otp_sha1_match_shared)(const otp_keytable *kt, const uint32_t *rows,
                                     uint64_t counter, size_t n, const uint32_t *codes,
                                     unsigned digits, uint32_t *hit)
{
    uint32_t wk[80];
    MB_FN(sha1_inner_wk)(counter, wk);
    size_t i = 0;
    for (; i + 2 * MB_LANES <= n; i += 2 * MB_LANES) {
        v32 outA, outB, wantA, wantB;
        MB_X2_FN(x2_group_shared)(kt, rows + i, wk, &outA, &outB);
        memcpy(&wantA, codes + i, sizeof wantA);
        memcpy(&wantB, codes + i + MB_LANES, sizeof wantB);
        mb_store_lanes(hit + i, (v32)(mb_mod_pow10(outA, digits) == wantA), MB_LANES);
        mb_store_lanes(hit + i + MB_LANES, (v32)(mb_mod_pow10(outB, digits) == wantB),
                       MB_LANES);
    }
    if (i < n) MB_FN(otp_sha1_match_shared)(kt, rows + i, counter, n - i, codes + i, digits,
                                            hit + i);
}

/* Key schedule: the compressions of key ^ ipad and key ^ opad of the same MB_LANES keys are
 * independent, so they run as the two interleaved groups (half the one-group kernel's chain). */
void MB_X2_FN(otp_sha1_keysched)(otp_keytable *kt, size_t first, const uint8_t *blocks,
                                 size_t count)
{
    for (size_t i = 0; i < count; i += MB_LANES) {
        const size_t m = count - i < MB_LANES ? count - i : MB_LANES;
        /* Unused lanes repeat the group's first key. */
        v32 k[16];
        mb_key_words32(blocks + i * 64, m, k);
        const uint32_t ip = 0x36363636u, op = 0x5c5c5c5cu;
        v32 sA[5], sB[5];
        for (unsigned w = 0; w < 5; w++) sA[w] = sB[w] = V32(otp_sha1_iv[w]);
        {
            X2_RING(A, k[0] ^ ip, k[1] ^ ip, k[2] ^ ip, k[3] ^ ip, k[4] ^ ip, k[5] ^ ip,
                    k[6] ^ ip, k[7] ^ ip, k[8] ^ ip, k[9] ^ ip, k[10] ^ ip, k[11] ^ ip,
                    k[12] ^ ip, k[13] ^ ip, k[14] ^ ip, k[15] ^ ip)
            X2_RING(B, k[0] ^ op, k[1] ^ op, k[2] ^ op, k[3] ^ op, k[4] ^ op, k[5] ^ op,
                    k[6] ^ op, k[7] ^ op, k[8] ^ op, k[9] ^ op, k[10] ^ op, k[11] ^ op,
                    k[12] ^ op, k[13] ^ op, k[14] ^ op, k[15] ^ op)
            X2_COMPRESS(sA, sB);
        }
        for (unsigned w = 0; w < 5; w++) {
            mb_store_word32((uint32_t *)kt->inner, kt->stride, w, first + i, m, sA[w]);
            mb_store_word32((uint32_t *)kt->outer, kt->stride, w, first + i, m, sB[w]);
        }
        otp_wipe(k, sizeof k);
        otp_wipe(sA, sizeof sA);
        otp_wipe(sB, sizeof sB);
    }
}

#undef SHA1_S
#undef X2_WK
#undef SHA1_R
