"""Build the scalene package and its extension against libscalenecore.

The extension links the static, position-independent libscalenecore.a so
the installed package needs no shared library at run time.  It is found in
$SCALENECORE_BUILD/lib (the repository's build folder, which `make` sets),
else ../../build/lib next to this file, else through pkg-config."""

import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def find_core():
    candidates = []
    if os.environ.get("SCALENECORE_BUILD"):
        candidates.append(os.environ["SCALENECORE_BUILD"])
    candidates.append(os.path.join(REPO, "build"))
    for build in candidates:
        archive = os.path.join(build, "lib", "libscalenecore.a")
        header = os.path.join(REPO, "include", "scalenecore.h")
        if os.path.exists(archive) and os.path.exists(header):
            return [os.path.join(REPO, "include")], archive
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", "scalenecore"], text=True)
        libdir = subprocess.check_output(
            ["pkg-config", "--variable=libdir", "scalenecore"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        sys.exit("scalene: libscalenecore not found: run `make lib` in the repository "
                 "or install it (make install) so pkg-config finds scalenecore.pc")
    includes = [f[2:] for f in shlex.split(cflags) if f.startswith("-I")]
    return includes, os.path.join(libdir, "libscalenecore.a")


includes, archive = find_core()

# The sampling allocator ships inside the package; `scalene run` preloads it.
preload = os.path.join(os.path.dirname(archive), "libscalenecore_preload.so")
if os.path.exists(preload):
    import shutil

    # Replaced by rename, never rewritten in place: processes running with
    # the old copy mapped keep it.
    target = os.path.join(HERE, "scalene", "libscalenecore_preload.so")
    shutil.copyfile(preload, target + ".tmp")
    os.replace(target + ".tmp", target)

core = Extension(
    "scalene._core",
    sources=["src/_core.c", "src/frames.c"],
    include_dirs=includes + ["src"],
    extra_objects=[archive],
    libraries=["zstd", "msgpackc", "yaml", "dw", "elf", "dl", "rt", "m"],
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
                        "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                        "-fvisibility=hidden"],
    extra_link_args=["-Wl,--exclude-libs,ALL", "-pthread"],
    depends=[archive],
)

# Copy volume of numpy's element-wise conversions (src/_npcopy.c) needs
# numpy's headers, so it is built only where numpy is importable at build
# time; without it `scalene` still works and those conversions show no
# copy volume.  numpy 2's headers serve numpy 1.x and 2.x at run time.
ext_modules = [core]
try:
    import numpy
except ImportError:
    numpy = None
if numpy is not None:
    ext_modules.append(Extension(
        "scalene._npcopy",
        sources=["src/_npcopy.c"],
        include_dirs=[numpy.get_include(), os.path.join(REPO, "lib", "alloc")],
        libraries=["dl"],
        extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
                            "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                            "-fvisibility=hidden"],
        depends=[os.path.join(REPO, "lib", "alloc", "preload_abi.h")],
    ))

setup(
    name="scalene",
    version="1.0.0",
    description="CPU profiler for Python built on libscalenecore",
    packages=["scalene"],
    package_data={"scalene": ["libscalenecore_preload.so"]},
    ext_modules=ext_modules,
    python_requires=">=3.10",
    entry_points={"console_scripts": ["scalene = scalene.cli:main"]},
)
