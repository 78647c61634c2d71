#!/bin/sh
# install-test.sh - test-abi (e): install into a temporary prefix, then
# build consumers against the installed copy through pkg-config only:
#   - examples/embed_toy.c (C11, shared library), run, its profile checked;
#   - the same program linked statically (pkg-config --static);
#   - a C++11 program calling into the library.
# Run from the repository root by `make test-abi`, which sets MAKE, CC,
# CXX, PYTHON and VERSION.
set -eu

: "${MAKE:=make}" "${CC:=cc}" "${CXX:=c++}" "${PYTHON:=python3}"
: "${VERSION:?VERSION (x.y.z) must be set}"

# The example reads SCALENE_* options from the environment: start clean.
for v in $(env | sed -n 's/^\(SCALENE_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scalenecore-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix

fail() {
  echo "test-abi (install): $*" >&2
  exit 1
}

# A build tree of its own: the .pc file has PREFIX baked in when it is
# generated, and the regular build tree's copy was generated for the
# default PREFIX.
if ! $MAKE --no-print-directory install PREFIX="$prefix" BUILD="$tmp/build" \
    >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "make install failed"
fi

for f in include/scalenecore.h lib/libscalenecore.so lib/libscalenecore.so.1 \
         "lib/libscalenecore.so.$VERSION" lib/libscalenecore.a lib/pkgconfig/scalenecore.pc; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
cmp -s include/scalenecore.h "$prefix/include/scalenecore.h" || fail "installed header differs"
readelf -d "$prefix/lib/libscalenecore.so.$VERSION" | grep -q 'SONAME.*\[libscalenecore\.so\.1\]' ||
  fail "SONAME is not libscalenecore.so.1"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists --print-errors "scalenecore = $VERSION" || fail "pkg-config: scalenecore $VERSION"
[ "$(pkg-config --variable=libdir scalenecore)" = "$prefix/lib" ] ||
  fail "scalenecore.pc libdir is $(pkg-config --variable=libdir scalenecore), not $prefix/lib"
[ "$(pkg-config --variable=includedir scalenecore)" = "$prefix/include" ] ||
  fail "scalenecore.pc includedir is wrong"
cflags=$(pkg-config --cflags scalenecore)
libs=$(pkg-config --libs scalenecore)
static_libs=$(pkg-config --static --libs scalenecore | sed "s|-lscalenecore|$prefix/lib/libscalenecore.a|")

# 1. The embedding example, shared.
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror -pedantic -pthread examples/embed_toy.c $cflags $libs \
  -o "$tmp/embed_toy" || fail "examples/embed_toy.c does not build against the install"
LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/embed_toy" | grep -q "$prefix/lib/libscalenecore\.so\.1" ||
  fail "embed_toy does not load the installed libscalenecore.so.1"
(cd "$tmp" && LD_LIBRARY_PATH="$prefix/lib" ./embed_toy toy-profile.json) || fail "embed_toy failed"

$PYTHON - "$tmp/toy-profile.json" <<'EOF' || fail "embed_toy's profile is wrong"
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)

def check(cond, what):
    if not cond:
        sys.exit("profile check failed: " + what)

files = doc["files"]
check(set(files) == {"toy/math.toy", "toy/io.toy"}, "files are %s" % sorted(files))
lines = {l["lineno"]: l for l in files["toy/math.toy"]["lines"]}
check(set(lines) == {2, 5}, "math.toy lines %s (only the active ones: no source on disk)" % sorted(lines))
check(all(l["line"] == "" for l in lines.values()), "no text for lines of a file that does not exist")
crunch, digest = lines[2], lines[5]
check(crunch["n_cpu_percent_python"] > 0 and crunch["n_cpu_percent_c"] == 0, "crunch is toy (language) time")
check(digest["n_cpu_percent_c"] > 0 and digest["n_cpu_percent_python"] == 0, "digest is native time")
ratio = crunch["n_cpu_percent_python"] / digest["n_cpu_percent_c"]
check(1.5 < ratio < 8, "crunch:digest CPU is %.2f, expected about 3" % ratio)
nap = {l["lineno"]: l for l in files["toy/io.toy"]["lines"]}
check(set(nap) == {2} and nap[2]["n_sys_percent"] > 0, "the main thread's nap is blocked time at io.toy:2")
threads = {t["name"]: t for t in doc["threads"]}
check(set(threads) == {"main", "toy-worker"}, "threads %s" % sorted(threads))
check(threads["main"]["blocked_sec"] >= 0.15, "main blocked %.3f s, slept 0.2 s" % threads["main"]["blocked_sec"])
check(threads["toy-worker"]["blocked_sec"] == 0, "only SC_THREAD_MAIN threads get blocked time")
for t in threads.values():
    check(0.3 < t["cpu_sec"] < 0.6, "%s burned 0.4 s of CPU, charged %.3f" % (t["name"], t["cpu_sec"]))
check(doc["cpu_samples"] > 100, "cpu_samples %d" % doc["cpu_samples"])
check(doc["unattributed_samples"] == 0, "every sample has a profiled frame")
check(doc["program"] == "embed_toy", "metadata")
check(doc["no_samples_reason"] == "", "no_samples_reason")
print("test-abi (install): embed_toy profile OK: crunch:digest = %.2f, %d samples" % (ratio, doc["cpu_samples"]))
EOF

# 2. The same program linked statically against libscalenecore.a: the .pc's
# Libs.private / Requires.private must be enough.
# shellcheck disable=SC2086
$CC -std=c11 -pthread examples/embed_toy.c $cflags $static_libs -o "$tmp/embed_toy_static" ||
  fail "static link with pkg-config --static --libs failed"
if readelf -d "$tmp/embed_toy_static" | grep -q 'NEEDED.*libscalenecore'; then
  fail "the static build still needs libscalenecore.so"
fi
(cd "$tmp" && ./embed_toy_static static.json >/dev/null) || fail "static embed_toy failed"
$PYTHON -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/static.json" ||
  fail "static embed_toy's profile is not JSON"

# 3. A C++ consumer: the header's extern "C" makes the names link.
cat >"$tmp/consumer.cpp" <<'EOF'
#include <scalenecore.h>
#include <cstdio>
#include <cstring>
int main() {
  sc_options_t *o = nullptr;
  if (sc_options_create(&o) != SC_OK) return 1;
  double rate = 0;
  if (sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &rate) != 0 || rate != 0.01) return 2;
  sc_options_destroy(o);
  if (std::strcmp(sc_version_string(), SC_VERSION_STRING) != 0) return 3;
  if (std::strcmp(sc_strerror(SC_EINVAL), "invalid argument") != 0) return 4;
  std::printf("C++ consumer OK: libscalenecore %s\n", sc_version_string());
  return 0;
}
EOF
# shellcheck disable=SC2086
$CXX -std=c++11 -Wall -Wextra -Werror "$tmp/consumer.cpp" $cflags $libs -o "$tmp/consumer" ||
  fail "C++ consumer does not build"
LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer" || fail "C++ consumer failed"

echo "test-abi (install): install, pkg-config, shared/static/C++ consumers OK"
