/* Test harness (tests/test_key_schedule_stack.py): runs the core's otp_keytable_load on a stack
 * region painted beforehand, then copies that region out, so that the test can look for key
 * material the key schedule left behind in it. Not part of the library. */
#include <stddef.h>
#include <stdint.h>

#define PROBE_DEPTH (64 * 1024)

typedef int (*load_fn)(const void *k, void *kt, size_t first, size_t count, const uint8_t *keys,
                       size_t keys_len, const uint64_t *offsets, size_t key_len, size_t *err);

/* Fills the PROBE_DEPTH bytes below the caller's frame with a marker. */
__attribute__((noinline)) static void paint(void)
{
    volatile uint8_t area[PROBE_DEPTH];
    for (size_t i = 0; i < PROBE_DEPTH; i++) area[i] = 0xA5;
    __asm__ __volatile__("" : : "r"(area) : "memory");
}

__attribute__((noinline)) static int call(load_fn load, const void *k, void *kt, size_t count,
                                          const uint8_t *keys, size_t key_len)
{
    size_t err = (size_t)-1;
    return load(k, kt, 0, count, keys, count * key_len, NULL, key_len, &err);
}

/* Returns load's status; dump receives the PROBE_DEPTH bytes below this frame afterwards. */
int probe_load(load_fn load, const void *k, void *kt, size_t count, const uint8_t *keys,
               size_t key_len, uint8_t *dump)
{
    volatile uint8_t anchor = 0;
    paint();
    const int status = call(load, k, kt, count, keys, key_len);
    /* No call between the load and this copy: nothing else ran on the region. */
    /* Aligned as the memory is, so that the test reads words where the code stored them. */
    const uintptr_t top = (uintptr_t)&anchor & ~(uintptr_t)63;
    const volatile uint8_t *low = (const volatile uint8_t *)(top - PROBE_DEPTH);
    for (size_t i = 0; i < PROBE_DEPTH; i++) dump[i] = low[i];
    return status + anchor;
}

size_t probe_depth(void) { return PROBE_DEPTH; }

/* The control: a careless "load" that copies the keys onto its stack and returns without
 * wiping. The test checks that the probe finds what this one leaves. */
__attribute__((noinline)) int probe_careless_load(const void *k, void *kt, size_t first,
                                                  size_t count, const uint8_t *keys,
                                                  size_t keys_len, const uint64_t *offsets,
                                                  size_t key_len, size_t *err)
{
    _Alignas(16) volatile uint8_t copy[2048];
    const size_t n = keys_len < sizeof copy ? keys_len : sizeof copy;
    for (size_t i = 0; i < n; i++) copy[i] = keys[i];
    (void)k, (void)kt, (void)first, (void)count, (void)offsets, (void)key_len, (void)err;
    return copy[0] - keys[0];
}
