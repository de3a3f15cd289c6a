/* The scalar objects' handles: one key's table and the object's fixed parameters in one block.
 *
 * A warm HOTP/TOTP object makes each code with one C call of one or two arguments (cffi builds
 * an argument tuple for two or more and converts every argument on every call, so each one left
 * out is measurable per code). The handle owns its table, so a caller holding the handle can
 * never reach a freed table: the handle and its table are freed together, wiped, once nothing
 * refers to it. A handle never changes after it is built, so threads share it read-only. */
#include <stdlib.h>

#include "otp_internal.h"

struct otp_scalar_key {
    otp_scalar spec;
    otp_keytable *kt;
};

int otp_scalar_key_new(const otp_kernel *k, const uint8_t *key, size_t key_len, int64_t t0,
                       uint64_t interval, unsigned digits, otp_scalar_key **out)
{
    if (out == NULL) return OTP_E_NULL;
    *out = NULL;
    if (k == NULL || key == NULL) return OTP_E_NULL;
    if (key_len == 0) return OTP_E_KEY;
    if (interval == 0) return OTP_E_INTERVAL;
    if (digits != OTP_RAW_DIGITS && (digits < OTP_MIN_DIGITS || digits > OTP_MAX_DIGITS))
        return OTP_E_DIGITS;
    otp_scalar_key *s = calloc(1, sizeof *s);
    if (s == NULL) return OTP_E_NOMEM;
    const int st = otp_keytable_new_key(k, key, key_len, &s->kt);
    if (st != OTP_OK) {
        free(s);
        return st;
    }
    s->spec.kernel = k;
    s->spec.t0 = t0;
    s->spec.interval = interval;
    s->spec.digits = digits;
    *out = s;
    return OTP_OK;
}

void otp_scalar_key_free(otp_scalar_key *s)
{
    if (s == NULL) return;
    otp_keytable_free(s->kt); /* wipes the key states */
    otp_wipe(s, sizeof *s);
    free(s);
}

int64_t otp_scalar_now(const otp_scalar_key *s)
{
    if (s == NULL) return OTP_E_NULL;
    return otp_totp_now(&s->spec, s->kt);
}

int64_t otp_scalar_hotp(const otp_scalar_key *s, uint64_t counter)
{
    if (s == NULL) return OTP_E_NULL;
    return otp_hotp_at(&s->spec, s->kt, counter);
}

int64_t otp_scalar_totp(const otp_scalar_key *s, int64_t t, int64_t offset)
{
    if (s == NULL) return OTP_E_NULL;
    if (t < s->spec.t0) return OTP_E_TIME;
    /* t >= t0, so the difference fits in 64 unsigned bits even when t0 is negative. */
    const uint64_t step = ((uint64_t)t - (uint64_t)s->spec.t0) / s->spec.interval;
    const uint64_t shift = offset < 0 ? (uint64_t)0 - (uint64_t)offset : (uint64_t)offset;
    if (offset < 0 ? step < shift : step > UINT64_MAX - shift) return OTP_E_COUNT;
    return otp_hotp_at(&s->spec, s->kt, offset < 0 ? step - shift : step + shift);
}

int64_t otp_scalar_verify_totp(const otp_scalar_key *s, uint32_t code, int64_t t,
                               uint32_t window)
{
    if (s == NULL) return OTP_E_NULL;
    return otp_verify_totp_step(&s->spec, s->kt, NULL, 0, code, t, window);
}

int64_t otp_scalar_verify_hotp(const otp_scalar_key *s, uint32_t code, uint64_t counter,
                               uint32_t look_ahead)
{
    if (s == NULL) return OTP_E_NULL;
    return otp_verify_hotp_offset(&s->spec, s->kt, NULL, 0, code, counter, look_ahead);
}
