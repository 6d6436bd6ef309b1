# What the CPU can run, asked of the compiler's runtime (GCC/clang builtins, which
# also check that the operating system saves the wider registers).
cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #define TSBPTT_X86 1
    #else
    #define TSBPTT_X86 0
    #endif

    static int tsbptt_cpu_has_avx2_fma(void) {
    #if TSBPTT_X86
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }

    static int tsbptt_cpu_has_avx512(void) {
    #if TSBPTT_X86
        __builtin_cpu_init();
        return tsbptt_cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512bw");
    #else
        return 0;
    #endif
    }
    """
    int tsbptt_cpu_has_avx2_fma()
    int tsbptt_cpu_has_avx512()


def has_avx2_fma():
    """True if this CPU runs AVX2 and FMA instructions."""
    return bool(tsbptt_cpu_has_avx2_fma())


def has_avx512():
    """True if this CPU runs AVX2, FMA and AVX-512 F, DQ, VL and BW (x86-64-v4)."""
    return bool(tsbptt_cpu_has_avx512())
