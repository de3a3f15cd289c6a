/* One key without a heap table: the scalar objects' first code, and a one-key table in one call.
 *
 * A heap key table costs an allocation and an mlock()/munlock() pair (tens of microseconds on
 * some hypervisors), which dominates a per-request "make the object, check one code". These
 * entry points build the key's HMAC states in a table on the stack, run the usual drivers over
 * it (so every kernel, window rule and constant-time comparison is the same) and wipe it. */
#include <string.h>
#include <time.h>

#include "otp_internal.h"

/* Room for one row of the widest digest: inner and outer, OTP_ROW_ALIGN lanes of 8 words of
 * 8 bytes (kernels may read whole aligned vectors of a row's lanes). */
#define ONE_MEM (2u * OTP_ROW_ALIGN * 8u * 8u)

typedef struct {
    otp_keytable kt;
    _Alignas(64) unsigned char mem[ONE_MEM];
} one_table;

static int one_load(const otp_kernel *k, one_table *t, const uint8_t *key, size_t key_len)
{
    if (k == NULL || key == NULL) return OTP_E_NULL;
    if (key_len == 0) return OTP_E_KEY;
    otp_keytable *kt = &t->kt;
    memset(kt, 0, sizeof *kt);
    kt->digest = otp_kernel_digest(k);
    kt->n = 1;
    kt->stride = OTP_ROW_ALIGN;
    kt->words = kt->digest == OTP_SHA1 ? 5 : 8;
    kt->word_size = kt->digest == OTP_SHA512 ? 8 : 4;
    const size_t per_table = kt->stride * kt->words * kt->word_size;
    if (2 * per_table > sizeof t->mem) return OTP_E_COUNT;
    kt->mem_size = 2 * per_table;
    kt->mem = t->mem;
    kt->inner = t->mem;
    kt->outer = t->mem + per_table;
    memset(t->mem, 0, kt->mem_size);
    const uint64_t offsets[2] = {0, (uint64_t)key_len};
    return otp_keytable_load(k, kt, 0, 1, key, key_len, offsets, 0, NULL);
}

static void one_wipe(one_table *t)
{
    otp_wipe(t, sizeof *t);
}

int otp_keytable_new_key(const otp_kernel *k, const uint8_t *key, size_t key_len,
                         otp_keytable **out)
{
    if (out == NULL) return OTP_E_NULL;
    *out = NULL;
    if (k == NULL || key == NULL) return OTP_E_NULL;
    if (key_len == 0) return OTP_E_KEY;
    otp_keytable *kt = NULL;
    int st = otp_keytable_new(otp_kernel_digest(k), 1, &kt);
    if (st != OTP_OK) return st;
    const uint64_t offsets[2] = {0, (uint64_t)key_len};
    st = otp_keytable_load(k, kt, 0, 1, key, key_len, offsets, 0, NULL);
    if (st != OTP_OK) {
        otp_keytable_free(kt);
        return st;
    }
    *out = kt;
    return OTP_OK;
}

int64_t otp_totp_one(const otp_kernel *k, const otp_keytable *kt, size_t row, int64_t t,
                     int64_t t0, uint64_t interval, unsigned digits)
{
    if (interval == 0) return OTP_E_INTERVAL;
    if (t < t0) return OTP_E_TIME;
    /* t >= t0, so the difference fits in 64 unsigned bits even when t0 is negative. */
    const uint64_t step = ((uint64_t)t - (uint64_t)t0) / interval;
    return otp_hotp_one(k, kt, row, step, digits);
}

int64_t otp_hotp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint64_t counter,
                     unsigned digits)
{
    one_table t;
    int st = one_load(k, &t, key, key_len);
    const int64_t value = st == OTP_OK ? otp_hotp_one(k, &t.kt, 0, counter, digits) : st;
    one_wipe(&t);
    return value;
}

int otp_verify_totp_one(const otp_kernel *k, const otp_keytable *kt, const uint8_t *key,
                        size_t key_len, uint32_t code, int64_t t, int64_t t0, uint64_t interval,
                        uint32_t window, unsigned digits, int64_t *out_step)
{
    if (out_step == NULL) return OTP_E_NULL;
    *out_step = -1;
    if (kt != NULL) {
        return otp_verify_totp(k, kt, NULL, 0, &code, 0, &t, 0, 1, t0, interval, window, window,
                               digits, NULL, 0, out_step, NULL);
    }
    one_table one;
    int st = one_load(k, &one, key, key_len);
    if (st == OTP_OK) {
        st = otp_verify_totp(k, &one.kt, NULL, 0, &code, 0, &t, 0, 1, t0, interval, window,
                             window, digits, NULL, 0, out_step, NULL);
    }
    one_wipe(&one);
    return st;
}

int otp_verify_hotp_one(const otp_kernel *k, const otp_keytable *kt, const uint8_t *key,
                        size_t key_len, uint32_t code, uint64_t counter, uint32_t look_ahead,
                        unsigned digits, uint64_t *out_counter, uint8_t *out_found)
{
    if (out_counter == NULL || out_found == NULL) return OTP_E_NULL;
    *out_counter = UINT64_MAX;
    *out_found = 0;
    if (kt != NULL) {
        return otp_verify_hotp(k, kt, NULL, 0, &code, 0, &counter, 0, 1, look_ahead, digits, 0,
                               out_counter, out_found, NULL);
    }
    one_table one;
    int st = one_load(k, &one, key, key_len);
    if (st == OTP_OK) {
        st = otp_verify_hotp(k, &one.kt, NULL, 0, &code, 0, &counter, 0, 1, look_ahead, digits,
                             0, out_counter, out_found, NULL);
    }
    one_wipe(&one);
    return st;
}

int otp_verify_totp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint32_t code,
                        int64_t t, int64_t t0, uint64_t interval, uint32_t past, uint32_t future,
                        unsigned digits, int64_t last_step, int64_t *out_steps)
{
    if (out_steps == NULL) return OTP_E_NULL;
    out_steps[0] = -1;
    out_steps[1] = -1;
    one_table one;
    int st = one_load(k, &one, key, key_len);
    /* Both windows always: a code that matches, a replay and a wrong code cost the same. */
    if (st == OTP_OK) {
        st = otp_verify_totp(k, &one.kt, NULL, 0, &code, 0, &t, 0, 1, t0, interval, past,
                             future, digits, &last_step, 0, &out_steps[0], NULL);
    }
    if (st == OTP_OK) {
        st = otp_verify_totp(k, &one.kt, NULL, 0, &code, 0, &t, 0, 1, t0, interval, past,
                             future, digits, NULL, 0, &out_steps[1], NULL);
    }
    one_wipe(&one);
    return st;
}

int otp_verify_hotp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint32_t code,
                        uint64_t counter, uint64_t replay_from, uint32_t look_ahead,
                        unsigned digits, uint64_t *out_counters, uint8_t *out_found)
{
    if (out_counters == NULL || out_found == NULL) return OTP_E_NULL;
    out_counters[0] = out_counters[1] = UINT64_MAX;
    out_found[0] = out_found[1] = 0;
    one_table one;
    int st = one_load(k, &one, key, key_len);
    if (st == OTP_OK) {
        st = otp_verify_hotp(k, &one.kt, NULL, 0, &code, 0, &counter, 0, 1, look_ahead, digits,
                             0, &out_counters[0], &out_found[0], NULL);
    }
    if (st == OTP_OK) {
        st = otp_verify_hotp(k, &one.kt, NULL, 0, &code, 0, &replay_from, 0, 1, look_ahead,
                             digits, 0, &out_counters[1], &out_found[1], NULL);
    }
    one_wipe(&one);
    return st;
}

int64_t otp_totp_now(const otp_scalar *s, const otp_keytable *kt)
{
    if (s == NULL) return OTP_E_NULL;
    struct timespec now;
    /* C11's clock: CLOCK_REALTIME on POSIX systems, the same clock as Python's time.time(). */
    if (timespec_get(&now, TIME_UTC) != TIME_UTC) return OTP_E_CLOCK;
    /* tv_nsec is never negative, so tv_sec is the time floored to whole seconds. */
    return otp_totp_one(s->kernel, kt, 0, (int64_t)now.tv_sec, s->t0, s->interval, s->digits);
}

int64_t otp_hotp_at(const otp_scalar *s, const otp_keytable *kt, uint64_t counter)
{
    if (s == NULL) return OTP_E_NULL;
    return otp_hotp_one(s->kernel, kt, 0, counter, s->digits);
}

int64_t otp_verify_totp_step(const otp_scalar *s, const otp_keytable *kt, const uint8_t *key,
                             size_t key_len, uint32_t code, int64_t t, uint32_t window)
{
    if (s == NULL) return OTP_E_NULL;
    int64_t step = -1;
    const int st = otp_verify_totp_one(s->kernel, kt, key, key_len, code, t, s->t0, s->interval,
                                       window, s->digits, &step);
    if (st != OTP_OK) return st;
    return step >= 0 ? step : OTP_NO_MATCH;
}

int64_t otp_verify_hotp_offset(const otp_scalar *s, const otp_keytable *kt, const uint8_t *key,
                               size_t key_len, uint32_t code, uint64_t counter,
                               uint32_t look_ahead)
{
    if (s == NULL) return OTP_E_NULL;
    uint64_t matched = UINT64_MAX;
    uint8_t found = 0;
    const int st = otp_verify_hotp_one(s->kernel, kt, key, key_len, code, counter, look_ahead,
                                       s->digits, &matched, &found);
    if (st != OTP_OK) return st;
    /* A match lies in [counter, counter + look_ahead] and look_ahead < 2^32: the offset fits. */
    return found ? (int64_t)(matched - counter) : OTP_NO_MATCH;
}
