# The one guarded gateway to the OpenMP runtime.
#
# Every .pyx that needs an OpenMP routine cimports it from here, never `cimport openmp`:
#
#     from ._openmp_helpers cimport omp_get_thread_num
#
# so that the module still compiles (and runs serially) when the package is built
# without -fopenmp (no OpenMP found, or TSBPTT_DISABLE_OPENMP=1). `prange` needs no
# guard: Cython wraps its pragmas in `#ifdef _OPENMP` itself.
#
# The verbatim C below is pasted into every module that cimports this file. Without
# _OPENMP the routines become macros for the serial answers, so nothing is defined
# twice and nothing is left to link.

cdef extern from *:
    """
    #ifdef _OPENMP
        #include <omp.h>
        #define TSBPTT_OPENMP_ENABLED 1
    #else
        #define TSBPTT_OPENMP_ENABLED 0
        #define omp_get_thread_num() 0
        #define omp_get_num_threads() 1
        #define omp_get_max_threads() 1
    #endif
    """
    bint TSBPTT_OPENMP_ENABLED

    int omp_get_thread_num() noexcept nogil
    int omp_get_num_threads() noexcept nogil
    int omp_get_max_threads() noexcept nogil
