"""Build the Cython kernels in tsbptt/_kernels/ (metadata lives in pyproject.toml).

Every ``tsbptt/_kernels/*.pyx`` becomes the extension ``tsbptt._kernels.<stem>``.
OpenMP is probed by compiling, linking and running a tiny program with the same
compiler setuptools will use (``CC`` is respected); ``-fopenmp`` then goes on the
compile AND link lines of every extension.  Without a working OpenMP, or with
``TSBPTT_DISABLE_OPENMP=1``, the kernels are built serially (``prange`` becomes a
plain loop); ``tsbptt.show_config()`` reports which build you have.

No ``-ffast-math``: on gcc it links crtfastmath.o, which turns on flush-to-zero for
the whole process.  ``-fno-math-errno`` is enough for the vectorised expf/tanh.

Release builds carry no debug information (``-g0``, stripped at link time: Python's
own CFLAGS usually say ``-g``, which makes the installed kernels three times as
large); ``TSBPTT_DEBUG_BUILD=1`` keeps it. Cython's utility code (memoryviews and
the like) is compiled once, into ``tsbptt._kernels._cyutility``, not into each of
the thirteen kernel modules (Cython >= 3.1). Cython and the C compiler both run one
job per core.

The compiler probes and Cython run inside ``build_ext`` only: pip runs this file
three times for one wheel (build requirements, metadata, build), and only the last
needs them.
"""
import os
import re
import subprocess
import sys
import tempfile
from glob import glob
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext, customize_compiler, new_compiler

KERNELS = "tsbptt/_kernels"
#: Cython's own utility code (memoryviews, argument parsing helpers, ...) compiled
#: once into this module instead of into each of the kernel modules: without it,
#: every one of them carries its own copy, which made up most of the installed size.
SHARED_UTILITY = "tsbptt._kernels._cyutility"
OPENMP_FLAGS = ["-fopenmp"]
PROBE_SOURCE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("max threads %d, team %d\n", omp_get_max_threads(), n);
    return n < 1;
}
"""


def openmp_works():
    """True if a program using OpenMP compiles, links and runs with OPENMP_FLAGS."""
    compiler = new_compiler()
    customize_compiler(compiler)  # CC, CFLAGS, LDSHARED, ... as build_ext does
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "omp_probe.c")
        src.write_text(PROBE_SOURCE)
        exe = Path(tmp, "omp_probe" + (compiler.exe_extension or ""))
        try:
            objs = compiler.compile([str(src)], output_dir=tmp, extra_postargs=OPENMP_FLAGS)
            compiler.link_executable(objs, exe.name, output_dir=tmp,
                                     extra_postargs=OPENMP_FLAGS)
            run = subprocess.run([str(exe)], check=True, capture_output=True, timeout=60)
        except Exception as exc:  # CompileError, LinkError, CalledProcessError, ...
            print(f"OpenMP probe failed: {exc}", file=sys.stderr)
            return False
    print("OpenMP probe:", run.stdout.decode().strip())
    return True


def openmp_flags():
    if os.environ.get("TSBPTT_DISABLE_OPENMP", "0") not in ("", "0"):
        print("TSBPTT_DISABLE_OPENMP is set: building the kernels serially.")
        return []
    if openmp_works():
        return OPENMP_FLAGS
    print(
        "\n*** WARNING: OpenMP not found: tsbptt will run its kernels serially. ***\n"
        "    (gcc: install libgomp; clang: install libomp; see README.md, 'Building')\n",
        file=sys.stderr,
    )
    return []


# GCC gives up vectorising a loop once it would need more than 10 run-time alias
# checks; the fused gate-gradient loops (many pointers, no `restrict` in Cython)
# need more. Compilers that do not know the parameter simply go without it.
VECTOR_FLAGS = ["--param=vect-max-version-for-alias-checks=64"]


def compiler_accepts(flags):
    """True if the build's C compiler compiles a trivial file with `flags`."""
    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "flag_probe.c")
        src.write_text("int main(void) { return 0; }\n")
        try:
            compiler.compile([str(src)], output_dir=tmp, extra_postargs=flags)
        except Exception:
            return False
    return True


OPT = ["-O3", "-fno-math-errno"]
DEBUG_BUILD = os.environ.get("TSBPTT_DEBUG_BUILD", "0") not in ("", "0")
# Compile flags come after Python's CFLAGS, so -g0 wins over their -g.
RELEASE_COMPILE = [] if DEBUG_BUILD else ["-g0"]
RELEASE_LINK = [] if DEBUG_BUILD or sys.platform == "darwin" else ["-s"]

# `_<cell>_avx2.pyx` and `_<cell>_avx512.pyx` compile the same kernel source with
# AVX2 + FMA and with AVX-512 (x86-64-v4), so the gate loops (exp, tanh) run 8 or 16
# floats wide; tsbptt imports the widest one the CPU runs
# (tsbptt/_kernels/__init__.py). Compilers without the flags skip them.
AVX2_FLAGS = ["-mavx2", "-mfma"]
AVX512_FLAGS = AVX2_FLAGS + ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw",
                             "-mprefer-vector-width=512"]
#: Extra compile flags of each instruction-set build, by file suffix.
ISA_BUILDS = {"_avx2.pyx": AVX2_FLAGS, "_avx512.pyx": AVX512_FLAGS}

def source_size(path):
    """Bytes of a Cython file and of the files it includes: the compile order's key."""
    text = Path(path).read_text()
    return len(text) + sum(source_size(Path(path).parent / name)
                           for name in re.findall(r'^include "(.+)"', text, re.M))


def extensions():
    """One extension per ``tsbptt/_kernels/*.pyx``, names and sources only (no probes:
    pip also runs this file for the metadata, which needs no compiler)."""
    # Headers and .pxd files are dependencies: touching one recompiles the kernels.
    depends = sorted(glob(f"{KERNELS}/*.h") + glob(f"{KERNELS}/*.pxd")
                     + glob(f"{KERNELS}/*.pxi"))
    # Largest first: the parallel compile then ends with the small modules, not
    # with one large one running alone on one core.
    sources = sorted(glob(f"{KERNELS}/*.pyx"), key=lambda pyx: (-source_size(pyx), pyx))
    kernels = [
        Extension(
            f"tsbptt._kernels.{Path(pyx).stem}",
            sources=[pyx],
            include_dirs=[KERNELS],
            depends=depends,
            # glibc: libm.so is a linker script that also pulls libmvec when needed.
            libraries=["m"],
        )
        for pyx in sources
    ]
    # Its C file is written by cythonize (below), from Cython's own sources.
    shared = Extension(SHARED_UTILITY, sources=[SHARED_UTILITY.replace(".", "/") + ".c"])
    return kernels + [shared]


def isa_suffix(pyx):
    """The instruction-set suffix of a kernel file (``"_avx2.pyx"``, ...), or None."""
    return next((suffix for suffix in ISA_BUILDS if pyx.endswith(suffix)), None)


class BuildExt(build_ext):
    """Probe the compiler, set each extension's flags and run Cython, then compile.

    Rebuilds everything when the OpenMP or debug flags differ from the last build in
    this tree: build_ext only compares file times and would keep the old objects.
    """

    def run(self):
        self.configure_extensions()
        stamp = Path(self.build_temp, "tsbptt-openmp-flags.txt")
        flags = (" ".join(self.omp) or "serial") + (" debug" if DEBUG_BUILD else "")
        if not stamp.exists() or stamp.read_text() != flags:
            self.force = True
        super().run()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(flags)

    def configure_extensions(self):
        """Probe the compiler, set each extension's flags and Cythonize the kept ones."""
        import numpy  # a build requirement, imported only when something is built

        self.omp = openmp_flags()
        accepted = {suffix: compiler_accepts(flags) for suffix, flags in ISA_BUILDS.items()}
        vector = VECTOR_FLAGS if compiler_accepts(VECTOR_FLAGS) else []
        #: The baseline build multiplies, then adds (_microkernels.h): no contraction
        #: into fused multiply-adds, which some compilers would do in some loops only.
        baseline = ["-ffp-contract=off"] if compiler_accepts(["-ffp-contract=off"]) else []
        # Where the x86-64 instruction-set builds exist, the baseline build is only the
        # fallback for CPUs without AVX2 + FMA: -O2 compiles it in less time and its
        # training step measured as fast as with -O3 (benchmarks/reports/
        # build_time.md). Elsewhere (aarch64, ...) it is the only build and keeps -O3.
        fallback_opt = ["-O2"] if any(accepted.values()) else []
        # -O2 aligns functions to 16 bytes only: the scalar product loops then swung by
        # 15-35% with unrelated edits that moved them by 32 bytes (benchmarks/reports/
        # training_step.md, "small5"); 64 keeps their placement in the instruction cache fixed.
        if fallback_opt and compiler_accepts(["-falign-functions=64"]):
            fallback_opt.append("-falign-functions=64")
        sources = {ext.sources[0] for ext in self.extensions}
        kept = []
        for ext in self.extensions:
            pyx = ext.sources[0]
            suffix = isa_suffix(pyx)
            if suffix is not None and not accepted[suffix]:
                continue  # the compiler cannot build this instruction set
            if suffix:
                isa = ISA_BUILDS[suffix]
            elif any(pyx[:-4] + other in sources for other in ISA_BUILDS):
                isa = baseline + fallback_opt  # a cell's baseline build
            else:
                isa = baseline
            # The streaming stepper reads arrays through NumPy's C API.
            ext.include_dirs.append(numpy.get_include())
            ext.define_macros.append(("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION"))
            # Later flags win: a baseline "-O2" overrides OPT's "-O3".
            ext.extra_compile_args = OPT + vector + RELEASE_COMPILE + self.omp + isa
            ext.extra_link_args = self.omp + RELEASE_LINK
            kept.append(ext)
        generated = cythonize(
            kept,
            compiler_directives={
                "language_level": 3,
                "boundscheck": False,
                "wraparound": False,
                "cdivision": True,
                "initializedcheck": False,
                "nonecheck": False,
            },
            nthreads=os.cpu_count() or 1,
            shared_utility_qualified_name=SHARED_UTILITY,
        )
        # Keep setuptools' own Extension objects (finalize_options annotated them):
        # only their sources change, from .pyx to the generated .c.
        c_sources = {ext.name: ext.sources for ext in generated}
        for ext in kept:
            ext.sources = c_sources[ext.name]
        self.extensions = kept


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": BuildExt},
    # Compile the extensions in parallel (2 cores on the dev/CI machines).
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
