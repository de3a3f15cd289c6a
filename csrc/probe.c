/*
 * Instruction microbenchmarks for the bound model (pyotp_hw/bound.py, bench/bound.py).
 *
 * Each probe is a loop of one instruction written in inline assembly, so the compiler can
 * neither fold, reorder nor vectorise it away: what runs is exactly the instructions below
 * (`objdump -d` of the module shows them). A throughput probe keeps 12 independent dependency
 * chains (more than latency times pipes for every class here); a latency probe keeps one. The
 * caller times a call and divides by the returned instruction count. The clock probe is a chain
 * of dependent register-to-register adds, one cycle each on every x86-64 core of the last decade.
 * It adds a register, never an immediate: Intel's Golden Cove cores (Sapphire Rapids Xeons among
 * them) fold small immediate adds in the renamer, and a chain of `add $1` measured 11.8 "GHz".
 * Probes only compute in registers: no memory is read or written, no global state is kept.
 */
#include <stddef.h>
#include <stdint.h>

#include "otp_internal.h"

#if OTP_X86_KERNELS

#define NL "\n\t"
/* 12 independent chains over registers 0..11; register 12 (and 13) are the constant sources. */
#define CHAINS12(I) I(0) I(1) I(2) I(3) I(4) I(5) I(6) I(7) I(8) I(9) I(10) I(11)
#define CHAIN1x12(I) I(0) I(0) I(0) I(0) I(0) I(0) I(0) I(0) I(0) I(0) I(0) I(0)
#define CLOBBER_V "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
    "xmm9", "xmm10", "xmm11", "xmm12", "xmm13"

/* The loop: `body` (12 instructions) four times per iteration, `rounds` iterations. The sources
 * are zeroed first; vzeroupper at the end, so no later SSE code pays for dirty upper halves. */
#define PROBE_LOOP(body, zero)                                                      \
    if (rounds == 0) return 0;                                                      \
    uint64_t n = rounds;                                                            \
    __asm__ __volatile__(zero "1:" NL body body body body "dec %[n]" NL "jnz 1b" NL \
                         "vzeroupper" NL                                            \
                         : [n] "+r"(n)                                              \
                         :                                                          \
                         : "cc", CLOBBER_V);                                        \
    return rounds * 48;

#define ZERO_Z "vpxord %%zmm12, %%zmm12, %%zmm12" NL "vpxord %%zmm13, %%zmm13, %%zmm13" NL
#define ZERO_Y "vpxor %%ymm12, %%ymm12, %%ymm12" NL "vpxor %%ymm13, %%ymm13, %%ymm13" NL
#define ZERO_X "pxor %%xmm12, %%xmm12" NL "pxor %%xmm13, %%xmm13" NL "pxor %%xmm0, %%xmm0" NL

#define DEFINE_PROBE(name, chains, insn, zero)       \
    static uint64_t probe_##name(uint64_t rounds)    \
    {                                                \
        PROBE_LOOP(chains(insn), zero)               \
    }

/* 512-bit vector classes of the AVX-512 kernels. */
#define Z_ADD(r) "vpaddd %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_XOR(r) "vpxord %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_AND(r) "vpandd %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_ROL(r) "vprold $5, %%zmm" #r ", %%zmm" #r NL
#define Z_TERN(r) "vpternlogd $0x96, %%zmm12, %%zmm13, %%zmm" #r NL
#define Z_SHUF(r) "vpshufb %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_SHLV(r) "vpsllvd %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_SHLI(r) "vpslld $3, %%zmm" #r ", %%zmm" #r NL
#define Z_ADDQ(r) "vpaddq %%zmm12, %%zmm" #r ", %%zmm" #r NL
#define Z_ROLQ(r) "vprolq $5, %%zmm" #r ", %%zmm" #r NL
DEFINE_PROBE(z_add, CHAINS12, Z_ADD, ZERO_Z)
DEFINE_PROBE(z_xor, CHAINS12, Z_XOR, ZERO_Z)
DEFINE_PROBE(z_and, CHAINS12, Z_AND, ZERO_Z)
DEFINE_PROBE(z_rol, CHAINS12, Z_ROL, ZERO_Z)
DEFINE_PROBE(z_tern, CHAINS12, Z_TERN, ZERO_Z)
DEFINE_PROBE(z_shuf, CHAINS12, Z_SHUF, ZERO_Z)
DEFINE_PROBE(z_shlv, CHAINS12, Z_SHLV, ZERO_Z)
DEFINE_PROBE(z_shli, CHAINS12, Z_SHLI, ZERO_Z)
DEFINE_PROBE(z_addq, CHAINS12, Z_ADDQ, ZERO_Z)
DEFINE_PROBE(z_rolq, CHAINS12, Z_ROLQ, ZERO_Z)
DEFINE_PROBE(z_add_lat, CHAIN1x12, Z_ADD, ZERO_Z)
DEFINE_PROBE(z_rol_lat, CHAIN1x12, Z_ROL, ZERO_Z)
DEFINE_PROBE(z_tern_lat, CHAIN1x12, Z_TERN, ZERO_Z)

/* 256-bit classes of the AVX2 kernels (no rotate: two shifts and an OR). */
#define Y_ADD(r) "vpaddd %%ymm12, %%ymm" #r ", %%ymm" #r NL
#define Y_XOR(r) "vpxor %%ymm12, %%ymm" #r ", %%ymm" #r NL
#define Y_SHLI(r) "vpslld $3, %%ymm" #r ", %%ymm" #r NL
#define Y_SHUF(r) "vpshufb %%ymm12, %%ymm" #r ", %%ymm" #r NL
DEFINE_PROBE(y_add, CHAINS12, Y_ADD, ZERO_Y)
DEFINE_PROBE(y_xor, CHAINS12, Y_XOR, ZERO_Y)
DEFINE_PROBE(y_shli, CHAINS12, Y_SHLI, ZERO_Y)
DEFINE_PROBE(y_shuf, CHAINS12, Y_SHUF, ZERO_Y)
DEFINE_PROBE(y_add_lat, CHAIN1x12, Y_ADD, ZERO_Y)

/* SHA extensions (sha256rnds2 reads xmm0 implicitly, so its chains use 1..11 and 1 twice). */
#define X_S1R(r) "sha1rnds4 $0, %%xmm12, %%xmm" #r NL
#define X_S1N(r) "sha1nexte %%xmm12, %%xmm" #r NL
#define X_S1M1(r) "sha1msg1 %%xmm12, %%xmm" #r NL
#define X_S1M2(r) "sha1msg2 %%xmm12, %%xmm" #r NL
#define X_S2R(r) "sha256rnds2 %%xmm12, %%xmm" #r NL
#define X_S2M1(r) "sha256msg1 %%xmm12, %%xmm" #r NL
#define X_S2M2(r) "sha256msg2 %%xmm12, %%xmm" #r NL
#define CHAINS12_NO0(I) I(1) I(2) I(3) I(4) I(5) I(6) I(7) I(8) I(9) I(10) I(11) I(1)
#define CHAIN1x12_NO0(I) I(1) I(1) I(1) I(1) I(1) I(1) I(1) I(1) I(1) I(1) I(1) I(1)
DEFINE_PROBE(x_s1r, CHAINS12, X_S1R, ZERO_X)
DEFINE_PROBE(x_s1n, CHAINS12, X_S1N, ZERO_X)
DEFINE_PROBE(x_s1m1, CHAINS12, X_S1M1, ZERO_X)
DEFINE_PROBE(x_s1m2, CHAINS12, X_S1M2, ZERO_X)
DEFINE_PROBE(x_s2r, CHAINS12_NO0, X_S2R, ZERO_X)
DEFINE_PROBE(x_s2m1, CHAINS12, X_S2M1, ZERO_X)
DEFINE_PROBE(x_s2m2, CHAINS12, X_S2M2, ZERO_X)
DEFINE_PROBE(x_s1r_lat, CHAIN1x12, X_S1R, ZERO_X)
DEFINE_PROBE(x_s2r_lat, CHAIN1x12_NO0, X_S2R, ZERO_X)

/* Scalar: the clock (dependent adds) and the portable kernels' rotate latency. */
#define S_ADD "add %[one], %[a]" NL
#define S_ROL "rol $5, %[a]" NL
#define S12(x) x x x x x x x x x x x x
#define DEFINE_SCALAR(name, insn)                                                       \
    static uint64_t probe_##name(uint64_t rounds)                                       \
    {                                                                                   \
        if (rounds == 0) return 0;                                                      \
        uint64_t n = rounds, a = 0, one = 1;                                            \
        __asm__ __volatile__("1:" NL S12(insn) S12(insn) S12(insn) S12(insn)            \
                             "dec %[n]" NL "jnz 1b" NL                                  \
                             : [n] "+r"(n), [a] "+r"(a)                                 \
                             : [one] "r"(one)                                           \
                             : "cc");                                                   \
        return rounds * 48 + (a & 0);                                                   \
    }
DEFINE_SCALAR(clock, S_ADD)
DEFINE_SCALAR(s_rol_lat, S_ROL)

typedef uint64_t (*probe_fn)(uint64_t rounds);

struct probe {
    const char *name; /* "<kind>:<class>" with kind clock, tput or lat */
    unsigned needs;   /* OTP_CPU_* */
    probe_fn fn;
};

static const struct probe probes[] = {
    {"clock:add", 0, probe_clock},
    {"lat:rol", 0, probe_s_rol_lat},
    {"tput:vpaddd.z", OTP_CPU_AVX512, probe_z_add},
    {"tput:vpxord.z", OTP_CPU_AVX512, probe_z_xor},
    {"tput:vpandd.z", OTP_CPU_AVX512, probe_z_and},
    {"tput:vprold.z", OTP_CPU_AVX512, probe_z_rol},
    {"tput:vpternlogd.z", OTP_CPU_AVX512, probe_z_tern},
    {"tput:vpshufb.z", OTP_CPU_AVX512, probe_z_shuf},
    {"tput:vpsllvd.z", OTP_CPU_AVX512, probe_z_shlv},
    {"tput:vpslld.z", OTP_CPU_AVX512, probe_z_shli},
    {"tput:vpaddq.z", OTP_CPU_AVX512, probe_z_addq},
    {"tput:vprolq.z", OTP_CPU_AVX512, probe_z_rolq},
    {"lat:vpaddd.z", OTP_CPU_AVX512, probe_z_add_lat},
    {"lat:vprold.z", OTP_CPU_AVX512, probe_z_rol_lat},
    {"lat:vpternlogd.z", OTP_CPU_AVX512, probe_z_tern_lat},
    {"tput:vpaddd.y", OTP_CPU_AVX2, probe_y_add},
    {"tput:vpxor.y", OTP_CPU_AVX2, probe_y_xor},
    {"tput:vpslld.y", OTP_CPU_AVX2, probe_y_shli},
    {"tput:vpshufb.y", OTP_CPU_AVX2, probe_y_shuf},
    {"lat:vpaddd.y", OTP_CPU_AVX2, probe_y_add_lat},
    {"tput:sha1rnds4", OTP_CPU_SHANI, probe_x_s1r},
    {"tput:sha1nexte", OTP_CPU_SHANI, probe_x_s1n},
    {"tput:sha1msg1", OTP_CPU_SHANI, probe_x_s1m1},
    {"tput:sha1msg2", OTP_CPU_SHANI, probe_x_s1m2},
    {"tput:sha256rnds2", OTP_CPU_SHANI, probe_x_s2r},
    {"tput:sha256msg1", OTP_CPU_SHANI, probe_x_s2m1},
    {"tput:sha256msg2", OTP_CPU_SHANI, probe_x_s2m2},
    {"lat:sha1rnds4", OTP_CPU_SHANI, probe_x_s1r_lat},
    {"lat:sha256rnds2", OTP_CPU_SHANI, probe_x_s2r_lat},
};
#define PROBE_COUNT (sizeof probes / sizeof probes[0])

size_t otp_probe_count(void) { return PROBE_COUNT; }

const char *otp_probe_name(size_t i) { return i < PROBE_COUNT ? probes[i].name : ""; }

int otp_probe_supported(size_t i)
{
    return i < PROBE_COUNT && (otp_cpu_features() & probes[i].needs) == probes[i].needs;
}

uint64_t otp_probe_run(size_t i, uint64_t rounds)
{
    if (!otp_probe_supported(i) || rounds > UINT64_MAX / 48) return 0;
    return probes[i].fn(rounds);
}

#else /* no x86-64 GCC/Clang: no probes, the bound model says so */

size_t otp_probe_count(void) { return 0; }
const char *otp_probe_name(size_t i) { (void)i; return ""; }
int otp_probe_supported(size_t i) { (void)i; return 0; }
uint64_t otp_probe_run(size_t i, uint64_t rounds) { (void)i; (void)rounds; return 0; }

#endif
