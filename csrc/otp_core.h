/*
 * pyotp-hw C core: the interface that cffi reads and that the Python layer calls.
 *
 * Rules: C11, no Python API, no mutable global state, every count and length checked.
 * Every entry point returns OTP_OK (0) or a negative status; otp_strerror() explains it, and
 * functions taking `err_index` store there the index of the offending element when there is one.
 * Lines between the CDEF markers are fed to cffi's cdef() verbatim, so they hold only
 * declarations that cffi understands.
 */
#ifndef PYOTP_HW_OTP_CORE_H
#define PYOTP_HW_OTP_CORE_H

#include <stddef.h>
#include <stdint.h>

/* CDEF-BEGIN */
#define OTP_SHA1 1
#define OTP_SHA256 2
#define OTP_SHA512 3

#define OTP_OK 0
#define OTP_E_NULL -1
#define OTP_E_DIGEST -2
#define OTP_E_DIGITS -3
#define OTP_E_COUNT -4
#define OTP_E_KEY -5
#define OTP_E_ROW -6
#define OTP_E_TIME -7
#define OTP_E_INTERVAL -8
#define OTP_E_WINDOW -9
#define OTP_E_RANGE -10
#define OTP_E_NOMEM -11
#define OTP_E_KERNEL -12
#define OTP_E_STRIDE -13
#define OTP_E_NEGATIVE -14
#define OTP_E_CLOCK -15
/* Not an error: the answer of otp_verify_totp_step and otp_verify_hotp_offset when nothing
 * matched. */
#define OTP_NO_MATCH -100

/* Largest past or future window, and largest HOTP look-ahead, accepted by the verifiers. */
#define OTP_MAX_WINDOW 1000
/* Decimal code lengths the truncation produces. */
#define OTP_MIN_DIGITS 6
#define OTP_MAX_DIGITS 10
/* digits == OTP_RAW_DIGITS returns the 31-bit truncated value itself (Steam and other encodings). */
#define OTP_RAW_DIGITS 0

typedef struct otp_keytable otp_keytable;
typedef struct otp_kernel otp_kernel;

const char *otp_strerror(int status);

/* ---- kernels and dispatch ---- */
/* Number of kernels compiled in, and the i-th one (NULL when out of range). */
size_t otp_kernel_count(void);
const otp_kernel *otp_kernel_at(size_t i);
const char *otp_kernel_name(const otp_kernel *k);
int otp_kernel_digest(const otp_kernel *k);
unsigned otp_kernel_lanes(const otp_kernel *k);
/* 1 when the kernel has a shared-counter verification path (otp_verify_totp uses it when every
 * item of a chunk is at the same time step). */
int otp_kernel_has_shared(const otp_kernel *k);
/* 1 when this CPU (and OS) can run the kernel. */
int otp_kernel_supported(const otp_kernel *k);
/* CPU features a kernel may need (bit flags). OTP_CPU_AVX2 includes the OS saving YMM state;
 * OTP_CPU_AVX512 is AVX-512 F + DQ + BW + VL with the OS saving ZMM state. */
#define OTP_CPU_SSE41 1
#define OTP_CPU_SHANI 2
#define OTP_CPU_AVX2 4
#define OTP_CPU_AVX512 8
/* Not an instruction set: AMD family 19h and later. Where such a CPU has AVX-512 (Zen 4's
 * double-pumped 256-bit units, Zen 5's four 512-bit pipes with 2-cycle adds and rotates), two
 * SHA-1 lane groups in flight run faster than one (sha1_avx512x2.c). */
#define OTP_CPU_AMD_WIDE 16
/* The OTP_CPU_* features kernel k needs that this CPU (or OS) lacks: 0 when k runs here. */
unsigned otp_kernel_missing(const otp_kernel *k);
/* The kernel's rank among those of its digest: higher is preferred where supported. */
int otp_kernel_priority(const otp_kernel *k);
/* The best supported kernel for a digest, or NULL for an unknown digest. */
const otp_kernel *otp_kernel_best(int digest);
/* The best supported kernel for a lone code or a few (scalar calls, small verification
 * rounds): the SHA-NI kernel where this CPU has one, since it computes a lone code as one stream
 * while a multi-buffer kernel pays for all its lanes (AMD Zen 4: HOTP.at 525 against 694 ns for
 * SHA-1, 523 against 883 for SHA-256, sha1/sha256-avx512); otherwise otp_kernel_best. */
const otp_kernel *otp_kernel_best_lone(int digest);

/* ---- key tables: precomputed HMAC inner/outer states, structure of arrays ---- */
int otp_keytable_new(int digest, size_t n, otp_keytable **out);
/* Sets rows [first, first + count) from concatenated keys. With offsets == NULL every key is
 * `key_len` bytes; otherwise key i spans keys[offsets[i] .. offsets[i + 1]) (count + 1 offsets). */
int otp_keytable_set(otp_keytable *kt, size_t first, size_t count, const uint8_t *keys,
                     size_t keys_len, const uint64_t *offsets, size_t key_len, size_t *err_index);
/* The same, computing the midstates with kernel k's key schedule (k's digest must be the table's;
 * NULL: the portable one). One call builds any number of rows. */
int otp_keytable_load(const otp_kernel *k, otp_keytable *kt, size_t first, size_t count,
                      const uint8_t *keys, size_t keys_len, const uint64_t *offsets,
                      size_t key_len, size_t *err_index);
/* Turns v[0..n) = {0, len0, len1, ...} into offsets {0, len0, len0 + len1, ...} in place, for
 * otp_keytable_load; OTP_E_COUNT when a sum would overflow. */
int otp_prefix_sum(uint64_t *v, size_t n);
/* A view of rows [first, first + count) of kt as a table of its own (row 0 of the view is row
 * `first`), sharing kt's memory: for splitting a batch with one key per item across threads.
 * Free it with otp_keytable_free (which then frees only the view) before kt. */
int otp_keytable_view(const otp_keytable *kt, size_t first, size_t count, otp_keytable **out);
/* Copies rows[i] of src into row first + i of dst (same digest). */
int otp_keytable_gather(otp_keytable *dst, size_t first, const otp_keytable *src,
                        const uint32_t *rows, size_t count, size_t *err_index);
size_t otp_keytable_size(const otp_keytable *kt);
int otp_keytable_digest_of(const otp_keytable *kt);
/* 1 when every page of the table's key memory is locked in RAM (mlock). Each table owns its pages
 * (one page-aligned mapping per table), so closing one table never unlocks another's memory. */
int otp_keytable_is_locked(const otp_keytable *kt);
/* The errno of the table's failed mlock() (for example ENOMEM or EPERM under RLIMIT_MEMLOCK), or 0
 * when it is locked or locking is not available on this OS. */
int otp_keytable_lock_errno(const otp_keytable *kt);
/* Overwrites every key state with zeros; the table stays allocated (and useless). */
void otp_keytable_wipe(otp_keytable *kt);
/* The table's key memory and its size, so that tests can check that wiping happened. */
const void *otp_keytable_memory(const otp_keytable *kt, size_t *size);
/* Wipes the key material, unlocks and frees it. NULL is accepted. */
void otp_keytable_free(otp_keytable *kt);

/* ---- batch entry points ----
 * Key selection for item i: rows[i] when rows != NULL, else row (key_stride ? i : 0).
 * Every other array has a stride of 0 (one value broadcast) or 1 (one value per item). */
int otp_hotp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows, size_t key_stride,
             const uint64_t *counters, size_t counter_stride, size_t n, unsigned digits,
             uint32_t *out, size_t *err_index);

int otp_totp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows, size_t key_stride,
             const int64_t *times, size_t time_stride, size_t n, int64_t t0, uint64_t interval,
             unsigned digits, uint32_t *out, size_t *err_index);

/* out_steps[i]: the lowest matching step above last_steps[i] (when given) inside
 * [step - past, step + future], or -1. Computes past + future + 1 codes for every item. */
int otp_verify_totp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows,
                    size_t key_stride, const uint32_t *codes, size_t code_stride,
                    const int64_t *times, size_t time_stride, size_t n, int64_t t0,
                    uint64_t interval, uint32_t past, uint32_t future, unsigned digits,
                    const int64_t *last_steps, size_t last_stride, int64_t *out_steps,
                    size_t *err_index);

/* out_counters[i]: the lowest matching counter in [counter, counter + look_ahead] (never past
 * 2^64 - 1), or UINT64_MAX; out_found[i] (optional) says whether one matched. With
 * int64_range != 0, every counter + look_ahead must stay below 2^63 so that the result reads
 * as an int64 with -1 for no match. */
int otp_verify_hotp(const otp_kernel *k, const otp_keytable *kt, const uint32_t *rows,
                    size_t key_stride, const uint32_t *codes, size_t code_stride,
                    const uint64_t *counters, size_t counter_stride, size_t n,
                    uint32_t look_ahead, unsigned digits, int int64_range,
                    uint64_t *out_counters, uint8_t *out_found, size_t *err_index);

/* Scalar conveniences over the same kernels: the code, or a negative status. */
int64_t otp_hotp_one(const otp_kernel *k, const otp_keytable *kt, size_t row, uint64_t counter,
                     unsigned digits);

/* ---- one key (csrc/onekey.c) ----
 * The same drivers over a key given as bytes: its HMAC states are built on the stack and wiped
 * before returning, so no heap table (allocation, mlock) is needed for a single code. */
/* A new one-row table of `key`, scheduled by kernel k, in one call. */
int otp_keytable_new_key(const otp_kernel *k, const uint8_t *key, size_t key_len,
                         otp_keytable **out);
/* The TOTP code of table row `row` at time t: step (t - t0) / interval; or a negative status
 * (OTP_E_TIME when t < t0). */
int64_t otp_totp_one(const otp_kernel *k, const otp_keytable *kt, size_t row, int64_t t,
                     int64_t t0, uint64_t interval, unsigned digits);
/* The code of `key` at `counter`, or a negative status. */
int64_t otp_hotp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint64_t counter,
                     unsigned digits);
/* otp_verify_totp for one code at time t, window steps each side, against table row 0 of kt or,
 * when kt is NULL, against `key`. *out_step: the lowest matching step, or -1. */
int otp_verify_totp_one(const otp_kernel *k, const otp_keytable *kt, const uint8_t *key,
                        size_t key_len, uint32_t code, int64_t t, int64_t t0, uint64_t interval,
                        uint32_t window, unsigned digits, int64_t *out_step);
/* otp_verify_hotp for one code over [counter, counter + look_ahead], against row 0 of kt or,
 * when kt is NULL, against `key`. */
int otp_verify_hotp_one(const otp_kernel *k, const otp_keytable *kt, const uint8_t *key,
                        size_t key_len, uint32_t code, uint64_t counter, uint32_t look_ahead,
                        unsigned digits, uint64_t *out_counter, uint8_t *out_found);

/* The verifier's check of one code against one key, without a heap table: otp_verify_totp at
 * time t with a (past, future) window. out_steps[0]: the lowest matching step above last_step
 * (-1: no step used yet), or -1; out_steps[1]: the lowest matching step of the window whether
 * used or not (a replay when only this one is found), or -1. Both are always computed. */
int otp_verify_totp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint32_t code,
                        int64_t t, int64_t t0, uint64_t interval, uint32_t past, uint32_t future,
                        unsigned digits, int64_t last_step, int64_t *out_steps);
/* The same for HOTP: slot 0 over [counter, counter + look_ahead], slot 1 over [replay_from,
 * replay_from + look_ahead]; out_counters[i] the lowest matching counter (UINT64_MAX if none),
 * out_found[i] whether one matched. Both are always computed. */
int otp_verify_hotp_key(const otp_kernel *k, const uint8_t *key, size_t key_len, uint32_t code,
                        uint64_t counter, uint64_t replay_from, uint32_t look_ahead,
                        unsigned digits, uint64_t *out_counters, uint8_t *out_found);

/* ---- the scalar objects' per-object fast paths (csrc/onekey.c) ----
 * An object's fixed parameters, built once per object so that a call passes two or three
 * arguments instead of six to eleven (cffi converts every argument on every call). The caller
 * never changes a spec after building it, so threads share it read-only. */
typedef struct {
    const otp_kernel *kernel;
    int64_t t0;
    uint64_t interval;
    unsigned digits;
} otp_scalar;
/* The TOTP code of row 0 of kt at the current time (C11 timespec_get, TIME_UTC: the realtime
 * clock, whole seconds floored), or a negative status: OTP_E_TIME when the time is before
 * s->t0, OTP_E_CLOCK when the clock cannot be read. */
int64_t otp_totp_now(const otp_scalar *s, const otp_keytable *kt);
/* The HOTP code of row 0 of kt at `counter` with s->digits, or a negative status. */
int64_t otp_hotp_at(const otp_scalar *s, const otp_keytable *kt, uint64_t counter);
/* otp_verify_totp_one with s's parameters: the lowest matching step (>= 0) within `window`
 * steps of time t, OTP_NO_MATCH, or a negative status. */
int64_t otp_verify_totp_step(const otp_scalar *s, const otp_keytable *kt, const uint8_t *key,
                             size_t key_len, uint32_t code, int64_t t, uint32_t window);
/* otp_verify_hotp_one with s->digits over [counter, counter + look_ahead] (never past 2^64 - 1):
 * the lowest matching counter's offset from `counter` (0 .. look_ahead), OTP_NO_MATCH, or a
 * negative status. */
int64_t otp_verify_hotp_offset(const otp_scalar *s, const otp_keytable *kt, const uint8_t *key,
                               size_t key_len, uint32_t code, uint64_t counter,
                               uint32_t look_ahead);

/* ---- the scalar objects' handles (csrc/scalar.c) ----
 * One key's one-row table (scheduled by s->kernel) and an object's fixed parameters in one
 * opaque block that owns the table: a warm object passes one argument (and a counter or a
 * time) per call. Never changed after it is built (threads share it); freed, wiped, by
 * otp_scalar_key_free. */
typedef struct otp_scalar_key otp_scalar_key;
/* A new handle for `key` with kernel k's key schedule; digits may be OTP_RAW_DIGITS. */
int otp_scalar_key_new(const otp_kernel *k, const uint8_t *key, size_t key_len, int64_t t0,
                       uint64_t interval, unsigned digits, otp_scalar_key **out);
/* Wipes the key states and frees the handle. NULL is accepted. */
void otp_scalar_key_free(otp_scalar_key *s);
/* otp_totp_now with the handle's table and parameters. */
int64_t otp_scalar_now(const otp_scalar_key *s);
/* The code at `counter` (HOTP), or a negative status. */
int64_t otp_scalar_hotp(const otp_scalar_key *s, uint64_t counter);
/* The code at time t's step plus `offset` steps, or a negative status: OTP_E_TIME when t is
 * before t0, OTP_E_COUNT when the shifted step is outside [0, 2^64 - 1]. */
int64_t otp_scalar_totp(const otp_scalar_key *s, int64_t t, int64_t offset);
/* otp_verify_totp_step against the handle's table. */
int64_t otp_scalar_verify_totp(const otp_scalar_key *s, uint32_t code, int64_t t,
                               uint32_t window);
/* otp_verify_hotp_offset against the handle's table. */
int64_t otp_scalar_verify_hotp(const otp_scalar_key *s, uint32_t code, uint64_t counter,
                               uint32_t look_ahead);

/* Index of the first negative value, or n when none. */
size_t otp_find_negative(const int64_t *values, size_t n);
/* One-shot hash (used by tests to check the compression functions against hashlib). */
int otp_hash(int digest, const uint8_t *data, size_t len, uint8_t *out, size_t out_len);
/* Overwrites memory in a way the compiler may not remove. */
void otp_wipe(void *p, size_t len);

/* ---- instruction probes for the bound model (probe.c): no keys, no memory, no state ----
 * Probe i is named "<kind>:<instruction>" (kind: clock, tput or lat). otp_probe_run executes
 * its loop `rounds` times and returns the instructions of its class executed (0 when this CPU
 * cannot run it), for the caller to divide a measured time by. */
size_t otp_probe_count(void);
const char *otp_probe_name(size_t i);
int otp_probe_supported(size_t i);
uint64_t otp_probe_run(size_t i, uint64_t rounds);
/* CDEF-END */

#endif
