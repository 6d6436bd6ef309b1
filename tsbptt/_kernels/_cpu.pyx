# What the CPU can run, asked of the compiler's runtime (GCC/clang builtins).
cdef extern from *:
    """
    static int tsbptt_cpu_has_avx2_fma(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }
    """
    int tsbptt_cpu_has_avx2_fma()


def has_avx2_fma():
    """True if this CPU runs AVX2 and FMA instructions."""
    return bool(tsbptt_cpu_has_avx2_fma())
