/* Key tables (HMAC key schedule into midstates), one-shot hashing, and wiping. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "otp_internal.h"

/* AddressSanitizer replaces mlock() with a no-op that reports success: under it, a table
 * never claims to be locked. */
#if defined(__SANITIZE_ADDRESS__)
#define OTP_FAKE_MLOCK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OTP_FAKE_MLOCK 1
#endif
#endif
#ifndef OTP_FAKE_MLOCK
#define OTP_FAKE_MLOCK 0
#endif

void otp_wipe(void *p, size_t len)
{
    if (p == NULL || len == 0) return;
    memset(p, 0, len);
#if defined(__GNUC__) || defined(__clang__)
    /* The empty asm that reads p keeps the compiler from dropping the memset as dead. */
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile unsigned char *v = (volatile unsigned char *)p;
    for (size_t i = 0; i < len; i++) v[i] = 0;
#endif
}

unsigned otp_digest_block(int digest)
{
    switch (digest) {
    case OTP_SHA1:
    case OTP_SHA256: return 64;
    case OTP_SHA512: return 128;
    default: return 0;
    }
}

unsigned otp_digest_size(int digest)
{
    switch (digest) {
    case OTP_SHA1: return 20;
    case OTP_SHA256: return 32;
    case OTP_SHA512: return 64;
    default: return 0;
    }
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Chaining state of any digest, large enough for SHA-512. */
typedef union {
    uint32_t w32[8];
    uint64_t w64[8];
} chain_state;

static void state_init(int digest, chain_state *st)
{
    if (digest == OTP_SHA1) memcpy(st->w32, otp_sha1_iv, sizeof otp_sha1_iv);
    else if (digest == OTP_SHA256) memcpy(st->w32, otp_sha256_iv, sizeof otp_sha256_iv);
    else memcpy(st->w64, otp_sha512_iv, sizeof otp_sha512_iv);
}

static void state_compress(int digest, chain_state *st, const uint8_t *block)
{
    if (digest == OTP_SHA1) otp_sha1_compress_block(st->w32, block);
    else if (digest == OTP_SHA256) otp_sha256_compress_block(st->w32, block);
    else otp_sha512_compress_block(st->w64, block);
}

int otp_hash(int digest, const uint8_t *data, size_t len, uint8_t *out, size_t out_len)
{
    const unsigned bs = otp_digest_block(digest);
    const unsigned ds = otp_digest_size(digest);
    if (bs == 0) return OTP_E_DIGEST;
    if (out == NULL || (data == NULL && len != 0)) return OTP_E_NULL;
    if (out_len < ds) return OTP_E_COUNT;
    /* The message length in bits must fit the 64-bit length field we write. */
    if (len > (SIZE_MAX >> 3) || (uint64_t)len > (UINT64_MAX >> 3)) return OTP_E_COUNT;

    chain_state st;
    uint8_t block[OTP_MAX_BLOCK];
    state_init(digest, &st);
    size_t pos = 0;
    while (len - pos >= bs) {
        state_compress(digest, &st, data + pos);
        pos += bs;
    }
    const size_t rest = len - pos;
    const unsigned lenfield = digest == OTP_SHA512 ? 16 : 8;
    memset(block, 0, bs);
    if (rest) memcpy(block, data + pos, rest);
    block[rest] = 0x80;
    if (rest + 1 > bs - lenfield) {
        state_compress(digest, &st, block);
        memset(block, 0, bs);
    }
    store_be64(block + bs - 8, (uint64_t)len << 3);
    state_compress(digest, &st, block);

    if (digest == OTP_SHA512) {
        for (unsigned i = 0; i < 8; i++) store_be64(out + 8 * i, st.w64[i]);
    } else {
        for (unsigned i = 0; i < ds / 4; i++) store_be32(out + 4 * i, st.w32[i]);
    }
    otp_wipe(&st, sizeof st);
    otp_wipe(block, sizeof block);
    return OTP_OK;
}

int otp_keytable_new(int digest, size_t n, otp_keytable **out)
{
    if (out == NULL) return OTP_E_NULL;
    *out = NULL;
    if (otp_digest_block(digest) == 0) return OTP_E_DIGEST;
    if (n == 0 || n > (size_t)UINT32_MAX) return OTP_E_COUNT;

    otp_keytable *kt = calloc(1, sizeof *kt);
    if (kt == NULL) return OTP_E_NOMEM;
    kt->digest = digest;
    kt->n = n;
    kt->words = digest == OTP_SHA1 ? 5 : 8;
    kt->word_size = digest == OTP_SHA512 ? 8 : 4;
    kt->stride = (n + OTP_ROW_ALIGN - 1) / OTP_ROW_ALIGN * OTP_ROW_ALIGN;
    /* n <= 2^32 so this product cannot overflow a 64-bit size_t; check anyway for 32-bit. */
    const size_t per_table = kt->stride * kt->words;
    if (per_table / kt->words != kt->stride || per_table > SIZE_MAX / 2 / kt->word_size) {
        free(kt);
        return OTP_E_COUNT;
    }
    kt->mem_size = 2 * per_table * kt->word_size;
    void *mem = NULL;
#if defined(_WIN32)
    mem = _aligned_malloc(kt->mem_size, 64);
    if (mem != NULL) memset(mem, 0, kt->mem_size);
#else
    /* A mapping of its own: mlock/munlock work on whole pages, so a table that shared a page
     * with another (as heap blocks do) would unlock that one's keys when it is freed. */
    const long page = sysconf(_SC_PAGESIZE);
    const size_t psize = page > 0 ? (size_t)page : 4096;
    if (kt->mem_size > SIZE_MAX - psize) {
        free(kt);
        return OTP_E_COUNT;
    }
    kt->map_size = (kt->mem_size + psize - 1) / psize * psize;
    mem = mmap(NULL, kt->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) mem = NULL; /* anonymous pages come zeroed */
#endif
    if (mem == NULL) {
        free(kt);
        return OTP_E_NOMEM;
    }
#if !defined(_WIN32)
    /* Keep key material out of swap where the OS allows. A failure (RLIMIT_MEMLOCK) is not
     * fatal; it is kept (lock_errno) so that the Python layer reports it. */
#if OTP_FAKE_MLOCK
    kt->locked = 0;
    kt->lock_errno = ENOSYS;
#else
    kt->locked = mlock(mem, kt->map_size) == 0;
    kt->lock_errno = kt->locked ? 0 : (errno != 0 ? errno : ENOMEM);
#endif
#if defined(MADV_DONTDUMP)
    (void)madvise(mem, kt->map_size, MADV_DONTDUMP); /* and out of core dumps */
#endif
#endif
    kt->mem = mem;
    kt->inner = mem;
    kt->outer = (unsigned char *)mem + per_table * kt->word_size;
    *out = kt;
    return OTP_OK;
}

/* Portable key schedule: midstates of key ^ ipad and key ^ opad for `count` zero-padded key
 * blocks into rows first.. of the table. */
void otp_keysched_portable(otp_keytable *kt, size_t first, const uint8_t *blocks, size_t count)
{
    const int digest = kt->digest;
    const unsigned bs = otp_digest_block(digest);
    uint8_t pad[OTP_MAX_BLOCK];
    chain_state st;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *kblock = blocks + i * bs;
        const size_t r = first + i;
        for (int which = 0; which < 2; which++) {
            const uint8_t x = which == 0 ? 0x36 : 0x5c;
            for (unsigned j = 0; j < bs; j++) pad[j] = kblock[j] ^ x;
            state_init(digest, &st);
            state_compress(digest, &st, pad);
            void *table = which == 0 ? kt->inner : kt->outer;
            for (unsigned w = 0; w < kt->words; w++) {
                if (kt->word_size == 8) ((uint64_t *)table)[w * kt->stride + r] = st.w64[w];
                else ((uint32_t *)table)[w * kt->stride + r] = st.w32[w];
            }
        }
    }
    otp_wipe(pad, sizeof pad);
    otp_wipe(&st, sizeof st);
}

/* Keys prepared per kernel call: 64 blocks of up to 128 bytes (8 KiB of stack, wiped). */
#define KEY_BATCH 64

/* Stack a key schedule may have used below otp_keytable_load's frame: the compilers spill the
 * key ^ pad message words, working states and midstates of the kernels (and of the portable
 * compressions) to the stack, beyond the arrays the kernels wipe themselves. Overwriting this
 * much stack after the schedule erases them; tests/test_key_schedule_stack.py checks it. */
#define STACK_BURN (32 * 1024)

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void burn_stack(void)
{
    unsigned char area[STACK_BURN];
    otp_wipe(area, sizeof area);
}

/* memcpy of one key of up to a block into its block: fixed-size moves, the last one overlapping
 * the one before, which compilers inline (a libc call per key cost as much as its transposition). */
static inline void copy_key(uint8_t *dst, const uint8_t *src, size_t len)
{
    if (len >= 16) {
        size_t i = 0;
        for (; i + 16 <= len; i += 16) memcpy(dst + i, src + i, 16);
        if (i < len) memcpy(dst + len - 16, src + len - 16, 16);
    } else if (len >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + len - 8, src + len - 8, 8);
    } else if (len >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + len - 4, src + len - 4, 4);
    } else {
        for (size_t i = 0; i < len; i++) dst[i] = src[i];
    }
}

int otp_keytable_load(const otp_kernel *k, otp_keytable *kt, size_t first, size_t count,
                      const uint8_t *keys, size_t keys_len, const uint64_t *offsets,
                      size_t key_len, size_t *err_index)
{
    if (kt == NULL || (keys == NULL && keys_len != 0)) return OTP_E_NULL;
    if (k != NULL && k->digest != kt->digest) return OTP_E_KERNEL;
    if (first > kt->n || count > kt->n - first) return OTP_E_COUNT;
    /* Validate every key before writing any row, so a bad batch changes nothing. */
    if (offsets == NULL) {
        if (key_len == 0) return OTP_E_KEY;
        if (count != 0 && (keys_len / key_len < count)) return OTP_E_COUNT;
    } else {
        if (offsets[0] != 0) return OTP_E_KEY;
        for (size_t i = 0; i < count; i++) {
            if (offsets[i + 1] <= offsets[i] || offsets[i + 1] > keys_len) {
                if (err_index) *err_index = i;
                return OTP_E_KEY;
            }
        }
    }
    const unsigned bs = otp_digest_block(kt->digest);
    const otp_keysched_fn sched = k != NULL && k->keysched != NULL ? k->keysched
                                                                     : otp_keysched_portable;
    uint8_t blocks[KEY_BATCH * OTP_MAX_BLOCK];
    for (size_t base = 0; base < count; base += KEY_BATCH) {
        const size_t m = count - base < KEY_BATCH ? count - base : KEY_BATCH;
        memset(blocks, 0, m * bs);
        for (size_t j = 0; j < m; j++) {
            const size_t i = base + j;
            const uint8_t *key = offsets == NULL ? keys + i * key_len : keys + offsets[i];
            const size_t len = offsets == NULL ? key_len : (size_t)(offsets[i + 1] - offsets[i]);
            /* HMAC's rule: keys longer than the block are replaced by their hash. */
            if (len > bs) (void)otp_hash(kt->digest, key, len, blocks + j * bs, bs);
            else copy_key(blocks + j * bs, key, len);
        }
        sched(kt, first + base, blocks, m);
    }
    otp_wipe(blocks, sizeof blocks);
    burn_stack();
    return OTP_OK;
}

int otp_prefix_sum(uint64_t *v, size_t n)
{
    if (v == NULL && n != 0) return OTP_E_NULL;
    for (size_t i = 1; i < n; i++) {
        if (v[i] > UINT64_MAX - v[i - 1]) return OTP_E_COUNT;
        v[i] += v[i - 1];
    }
    return OTP_OK;
}

int otp_keytable_set(otp_keytable *kt, size_t first, size_t count, const uint8_t *keys,
                     size_t keys_len, const uint64_t *offsets, size_t key_len, size_t *err_index)
{
    return otp_keytable_load(NULL, kt, first, count, keys, keys_len, offsets, key_len, err_index);
}

int otp_keytable_view(const otp_keytable *kt, size_t first, size_t count, otp_keytable **out)
{
    if (kt == NULL || out == NULL) return OTP_E_NULL;
    *out = NULL;
    if (count == 0 || first > kt->n || count > kt->n - first) return OTP_E_COUNT;
    otp_keytable *v = calloc(1, sizeof *v);
    if (v == NULL) return OTP_E_NOMEM;
    *v = *kt;
    /* Word w of view row r is at inner[w * stride + first + r]: the same stride, shifted bases.
     * Kernels load whole vectors only over rows below n, so the view's end is never crossed. */
    v->n = count;
    v->inner = (unsigned char *)kt->inner + first * kt->word_size;
    v->outer = (unsigned char *)kt->outer + first * kt->word_size;
    v->mem = NULL; /* not the owner: freeing the view leaves the memory alone */
    v->mem_size = 0;
    v->map_size = 0;
    v->locked = 0;
    v->lock_errno = 0;
    *out = v;
    return OTP_OK;
}

int otp_keytable_gather(otp_keytable *dst, size_t first, const otp_keytable *src,
                        const uint32_t *rows, size_t count, size_t *err_index)
{
    if (dst == NULL || src == NULL || (rows == NULL && count != 0)) return OTP_E_NULL;
    if (dst->digest != src->digest) return OTP_E_DIGEST;
    if (first > dst->n || count > dst->n - first) return OTP_E_COUNT;
    for (size_t i = 0; i < count; i++) {
        if (rows[i] >= src->n) {
            if (err_index) *err_index = i;
            return OTP_E_ROW;
        }
    }
    for (unsigned w = 0; w < src->words; w++) {
        for (size_t i = 0; i < count; i++) {
            const size_t d = w * dst->stride + first + i;
            const size_t s = w * src->stride + rows[i];
            if (src->word_size == 8) {
                ((uint64_t *)dst->inner)[d] = ((const uint64_t *)src->inner)[s];
                ((uint64_t *)dst->outer)[d] = ((const uint64_t *)src->outer)[s];
            } else {
                ((uint32_t *)dst->inner)[d] = ((const uint32_t *)src->inner)[s];
                ((uint32_t *)dst->outer)[d] = ((const uint32_t *)src->outer)[s];
            }
        }
    }
    return OTP_OK;
}

size_t otp_keytable_size(const otp_keytable *kt) { return kt ? kt->n : 0; }
int otp_keytable_digest_of(const otp_keytable *kt) { return kt ? kt->digest : 0; }
int otp_keytable_is_locked(const otp_keytable *kt) { return kt ? kt->locked : 0; }
int otp_keytable_lock_errno(const otp_keytable *kt) { return kt ? kt->lock_errno : 0; }

void otp_keytable_wipe(otp_keytable *kt)
{
    if (kt != NULL) otp_wipe(kt->mem, kt->mem_size);
}

const void *otp_keytable_memory(const otp_keytable *kt, size_t *size)
{
    if (size != NULL) *size = kt ? kt->mem_size : 0;
    return kt ? kt->mem : NULL;
}

void otp_keytable_free(otp_keytable *kt)
{
    if (kt == NULL) return;
    if (kt->mem == NULL) { /* a view */
        free(kt);
        return;
    }
    otp_keytable_wipe(kt);
#if defined(_WIN32)
    _aligned_free(kt->mem);
#else
    /* The pages are this table's alone: unlocking them unlocks no other table's keys. */
    if (kt->locked) munlock(kt->mem, kt->map_size);
    munmap(kt->mem, kt->map_size);
#endif
    otp_wipe(kt, sizeof *kt);
    free(kt);
}
