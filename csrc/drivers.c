/* Batch drivers: argument checks, chunking, digit reduction and constant-time verification
 * around the kernels. One HOTP implementation: every entry point goes through a kernel. */
#include <string.h>

#include "otp_internal.h"

/* Items handled per kernel call; the per-chunk scratch arrays live on the stack. */
#define CHUNK 256

const char *otp_strerror(int status)
{
    switch (status) {
    case OTP_OK: return "success";
    case OTP_E_NULL: return "a required buffer is missing";
    case OTP_E_DIGEST: return "unknown digest (expected sha1, sha256 or sha512)";
    case OTP_E_DIGITS: return "digits must be between 6 and 10";
    case OTP_E_COUNT: return "a count or length is out of range";
    case OTP_E_KEY: return "a key is empty or its length is invalid";
    case OTP_E_ROW: return "a key row index is outside the key table";
    case OTP_E_TIME: return "a time is before t0";
    case OTP_E_INTERVAL: return "interval must be at least 1 second";
    case OTP_E_WINDOW: return "window or look-ahead is larger than 1000";
    case OTP_E_RANGE: return "counter + look-ahead exceeds 2^63 - 1, which an int64 result cannot hold";
    case OTP_E_NOMEM: return "out of memory";
    case OTP_E_KERNEL: return "the kernel does not match the key table's digest";
    case OTP_E_STRIDE: return "a stride must be 0 (broadcast) or 1 (one value per item)";
    case OTP_E_NEGATIVE: return "a value is negative";
    case OTP_E_CLOCK: return "the system clock could not be read";
    case OTP_NO_MATCH: return "no step matched";
    default: return "unknown error";
    }
}

size_t otp_find_negative(const int64_t *values, size_t n)
{
    if (values == NULL) return n;
    for (size_t i = 0; i < n; i++)
        if (values[i] < 0) return i;
    return n;
}

static int valid_digits(unsigned digits)
{
    return digits == OTP_RAW_DIGITS || (digits >= OTP_MIN_DIGITS && digits <= OTP_MAX_DIGITS);
}


/* otp_mod_pow10() over an array, one loop per digit count so that each loop has a constant
 * divisor (a multiplication, which the compiler may also vectorise). */
static void reduce_all(uint32_t *v, size_t m, unsigned digits)
{
#define REDUCE_CASE(d, p) \
    case d: \
        for (size_t j = 0; j < m; j++) v[j] %= p; \
        break;
    switch (digits) {
        REDUCE_CASE(6, 1000000u)
        REDUCE_CASE(7, 10000000u)
        REDUCE_CASE(8, 100000000u)
        REDUCE_CASE(9, 1000000000u)
    default: break;
    }
#undef REDUCE_CASE
}

/* The shared-counter paths compute whole register groups; for a handful of items the kernel's
 * own tail handling (scalar code for short tails) is cheaper. */
static inline int shared_pays(int present, const otp_kernel *k, size_t m)
{
    return present && m >= k->lanes / 2;
}

/* 1 when the m values are all equal (public data: time steps, not codes or keys). */
static int all_equal(const uint64_t *c, size_t m)
{
    for (size_t j = 1; j < m; j++)
        if (c[j] != c[0]) return 0;
    return 1;
}

/* All-ones when a == b, zero otherwise, without a data-dependent branch. */
static inline uint64_t ct_eq_mask(uint32_t a, uint32_t b)
{
    return (uint64_t)0 - (uint64_t)(otp_ct_eq32(a, b) & 1u);
}

/* Common checks of the kernel, key table and key selection; fills nothing. */
static int check_common(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows,
                        size_t key_stride, size_t n, unsigned digits, size_t *err_index)
{
    if (k == NULL || kt == NULL) return OTP_E_NULL;
    if (k->digest != kt->digest) return OTP_E_KERNEL;
    if (!valid_digits(digits)) return OTP_E_DIGITS;
    if (n > SIZE_MAX / 16) return OTP_E_COUNT;
    if (rows != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (rows[i] >= kt->n) {
                if (err_index) *err_index = i;
                return OTP_E_ROW;
            }
        }
    } else {
        if (key_stride > 1) return OTP_E_STRIDE;
        if (key_stride == 1 && n > kt->n) return OTP_E_COUNT;
    }
    return OTP_OK;
}

static inline void fill_rows(uint32_t *dst, const uint32_t *rows, size_t key_stride, size_t base,
                             size_t m)
{
    if (rows != NULL) memcpy(dst, rows + base, m * sizeof *dst);
    else if (key_stride) for (size_t j = 0; j < m; j++) dst[j] = (uint32_t)(base + j);
    else memset(dst, 0, m * sizeof *dst);
}

int otp_hotp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows, size_t key_stride,
             const uint64_t *counters, size_t counter_stride, size_t n, unsigned digits,
             uint32_t *out, size_t *err_index)
{
    int st = check_common(k, kt, rows, key_stride, n, digits, err_index);
    if (st) return st;
    if (n == 0) return OTP_OK;
    if (counters == NULL || out == NULL) return OTP_E_NULL;
    if (counter_stride > 1) return OTP_E_STRIDE;

    uint32_t r[CHUNK];
    uint64_t c[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        const size_t m = n - base < CHUNK ? n - base : CHUNK;
        fill_rows(r, rows, key_stride, base, m);
        const uint64_t *cp = counters + base;
        if (counter_stride == 0 && shared_pays(k->trunc_shared != NULL, k, m)) {
            k->trunc_shared(kt, r, counters[0], m, out + base);
        } else {
            if (counter_stride == 0) {
                for (size_t j = 0; j < m; j++) c[j] = counters[0];
                cp = c;
            }
            k->trunc(kt, r, cp, m, out + base);
        }
        reduce_all(out + base, m, digits);
    }
    return OTP_OK;
}

/* Time step of t, or an error when t < t0. */
static inline int time_step(int64_t t, int64_t t0, uint64_t interval, uint64_t *step)
{
    if (t < t0) return OTP_E_TIME;
    /* t - t0 can exceed INT64_MAX when t0 < 0; unsigned arithmetic is exact here. */
    *step = ((uint64_t)t - (uint64_t)t0) / interval;
    return OTP_OK;
}

int otp_totp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows, size_t key_stride,
             const int64_t *times, size_t time_stride, size_t n, int64_t t0, uint64_t interval,
             unsigned digits, uint32_t *out, size_t *err_index)
{
    int st = check_common(k, kt, rows, key_stride, n, digits, err_index);
    if (st) return st;
    if (interval == 0) return OTP_E_INTERVAL;
    if (n == 0) return OTP_OK;
    if (times == NULL || out == NULL) return OTP_E_NULL;
    if (time_stride > 1) return OTP_E_STRIDE;
    for (size_t i = 0; i < (time_stride ? n : 1); i++) {
        if (times[i] < t0) {
            if (err_index) *err_index = i;
            return OTP_E_TIME;
        }
    }
    uint32_t r[CHUNK];
    uint64_t c[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        const size_t m = n - base < CHUNK ? n - base : CHUNK;
        fill_rows(r, rows, key_stride, base, m);
        if (time_stride) {
            for (size_t j = 0; j < m; j++) (void)time_step(times[base + j], t0, interval, &c[j]);
        } else { /* one time for the batch: one division, not one per item */
            (void)time_step(times[0], t0, interval, &c[0]);
            for (size_t j = 1; j < m; j++) c[j] = c[0];
        }
        if (shared_pays(k->trunc_shared != NULL, k, m) && all_equal(c, m)) k->trunc_shared(kt, r, c[0], m, out + base);
        else k->trunc(kt, r, c, m, out + base);
        reduce_all(out + base, m, digits);
    }
    return OTP_OK;
}

int otp_verify_totp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows,
                    size_t key_stride, const uint32_t *codes, size_t code_stride,
                    const int64_t *times, size_t time_stride, size_t n, int64_t t0,
                    uint64_t interval, uint32_t past, uint32_t future, unsigned digits,
                    const int64_t *last_steps, size_t last_stride, int64_t *out_steps,
                    size_t *err_index)
{
    int st = check_common(k, kt, rows, key_stride, n, digits, err_index);
    if (st) return st;
    if (digits == OTP_RAW_DIGITS) return OTP_E_DIGITS;
    if (interval == 0) return OTP_E_INTERVAL;
    if (past > OTP_MAX_WINDOW || future > OTP_MAX_WINDOW) return OTP_E_WINDOW;
    if (n == 0) return OTP_OK;
    if (codes == NULL || times == NULL || out_steps == NULL) return OTP_E_NULL;
    if (code_stride > 1 || time_stride > 1 || last_stride > 1) return OTP_E_STRIDE;
    for (size_t i = 0; i < (time_stride ? n : 1); i++) {
        if (times[i] < t0) {
            if (err_index) *err_index = i;
            return OTP_E_TIME;
        }
    }

    uint32_t r[CHUNK], v[CHUNK], want[CHUNK];
    uint64_t s[CHUNK], c[CHUNK], sel[CHUNK], okmask[CHUNK];
    int64_t last[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        const size_t m = n - base < CHUNK ? n - base : CHUNK;
        fill_rows(r, rows, key_stride, base, m);
        uint64_t step0 = 0;
        if (!time_stride) (void)time_step(times[0], t0, interval, &step0);
        for (size_t j = 0; j < m; j++) {
            if (time_stride) (void)time_step(times[base + j], t0, interval, &s[j]);
            else s[j] = step0; /* one time for the batch: one division */
            last[j] = last_steps ? last_steps[last_stride * (base + j)] : -1;
            want[j] = codes[code_stride * (base + j)];
            sel[j] = UINT64_MAX;
        }
        /* Every item at the same step (the usual server batch): the kernel's shared path keeps
         * one inner message schedule for all lanes and compares in its lanes. */
        const int shared = shared_pays(k->match_shared != NULL, k, m) && all_equal(s, m);
        /* From the latest candidate down, so the lowest matching step is the one kept. Every
         * candidate is computed, even those outside [0, 2^63 - 1] or at or below the last
         * accepted step (those are masked out), so the work never depends on the code. */
        for (int64_t d = (int64_t)future; d >= -(int64_t)past; d--) {
            for (size_t j = 0; j < m; j++) {
                const uint64_t cand = s[j] + (uint64_t)d; /* wraps harmlessly; masked below */
                int in_range = d >= 0 ? (s[j] <= (uint64_t)INT64_MAX - (uint64_t)d)
                                      : (s[j] >= (uint64_t)(-d));
                in_range &= (int64_t)cand > last[j];
                okmask[j] = (uint64_t)0 - (uint64_t)in_range;
                c[j] = cand & okmask[j];
            }
            if (shared) {
                /* hit lanes are all ones or zero; widen them to 64-bit masks. */
                k->match_shared(kt, r, s[0] + (uint64_t)d, m, want, digits, v);
                for (size_t j = 0; j < m; j++) {
                    const uint64_t hit = ((uint64_t)0 - (uint64_t)(v[j] & 1u)) & okmask[j];
                    sel[j] = (sel[j] & ~hit) | (c[j] & hit);
                }
            } else {
                k->trunc(kt, r, c, m, v);
                reduce_all(v, m, digits);
                for (size_t j = 0; j < m; j++) {
                    const uint64_t hit = ct_eq_mask(v[j], want[j]) & okmask[j];
                    sel[j] = (sel[j] & ~hit) | (c[j] & hit);
                }
            }
        }
        for (size_t j = 0; j < m; j++) out_steps[base + j] = (int64_t)sel[j];
    }
    return OTP_OK;
}

int otp_verify_hotp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows,
                    size_t key_stride, const uint32_t *codes, size_t code_stride,
                    const uint64_t *counters, size_t counter_stride, size_t n,
                    uint32_t look_ahead, unsigned digits, int int64_range,
                    uint64_t *out_counters, uint8_t *out_found, size_t *err_index)
{
    int st = check_common(k, kt, rows, key_stride, n, digits, err_index);
    if (st) return st;
    if (digits == OTP_RAW_DIGITS) return OTP_E_DIGITS;
    if (look_ahead > OTP_MAX_WINDOW) return OTP_E_WINDOW;
    if (n == 0) return OTP_OK;
    if (codes == NULL || counters == NULL || out_counters == NULL) return OTP_E_NULL;
    if (code_stride > 1 || counter_stride > 1) return OTP_E_STRIDE;
    if (int64_range) {
        for (size_t i = 0; i < (counter_stride ? n : 1); i++) {
            if (counters[i] > (uint64_t)INT64_MAX - look_ahead) {
                if (err_index) *err_index = i;
                return OTP_E_RANGE;
            }
        }
    }

    uint32_t r[CHUNK], v[CHUNK];
    uint64_t c[CHUNK], sel[CHUNK], found[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        const size_t m = n - base < CHUNK ? n - base : CHUNK;
        fill_rows(r, rows, key_stride, base, m);
        for (size_t j = 0; j < m; j++) {
            sel[j] = UINT64_MAX;
            found[j] = 0;
        }
        for (int64_t d = (int64_t)look_ahead; d >= 0; d--) {
            uint64_t okmask[CHUNK];
            for (size_t j = 0; j < m; j++) {
                const uint64_t base_ctr = counters[counter_stride * (base + j)];
                /* Never wrap past 2^64 - 1: such candidates are computed but masked out. */
                const int in_range = base_ctr <= UINT64_MAX - (uint64_t)d;
                okmask[j] = (uint64_t)0 - (uint64_t)in_range;
                c[j] = (base_ctr + (uint64_t)d) & okmask[j];
            }
            k->trunc(kt, r, c, m, v);
            reduce_all(v, m, digits);
            for (size_t j = 0; j < m; j++) {
                const uint32_t code = codes[code_stride * (base + j)];
                const uint64_t hit = ct_eq_mask(v[j], code) & okmask[j];
                sel[j] = (sel[j] & ~hit) | (c[j] & hit);
                found[j] |= hit;
            }
        }
        for (size_t j = 0; j < m; j++) {
            out_counters[base + j] = sel[j];
            if (out_found) out_found[base + j] = (uint8_t)(found[j] & 1);
        }
    }
    return OTP_OK;
}

int64_t otp_hotp_one(const otp_kernel *k, const otp_keytable *kt, size_t row, uint64_t counter,
                     unsigned digits)
{
    if (k == NULL || kt == NULL) return OTP_E_NULL;
    if (k->digest != kt->digest) return OTP_E_KERNEL;
    if (!valid_digits(digits)) return OTP_E_DIGITS;
    if (row >= kt->n) return OTP_E_ROW;
    const uint32_t r = (uint32_t)row;
    uint32_t v;
    k->trunc(kt, &r, &counter, 1, &v);
    return (int64_t)otp_mod_pow10(v, digits);
}
