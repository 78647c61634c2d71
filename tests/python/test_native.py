"""Native (non-Python) profiling and the sampling allocator preload.

The programs are built by `make alloc-programs` (tests/alloc.mk; `make
test-python` builds them first):

* build/examples/native_alloc (examples/native_alloc.c), profiled with
  `scalene run`: memory lands on the allocating lines, CPU on the burning
  function;
* build/examples/alloc_hook (examples/alloc_hook.c), a C embedder reading
  sc_alloc_hook events, run with the preload in LD_PRELOAD;
* build/tests/alloc/torture (tests/alloc/torture.c), the preload under
  stress, with and without a session sampling.

Tolerances come from the sampling statistics: a block of n bytes is
sampled with probability p = 1 - exp(-n / window) and then stands for
n / p bytes, so a sum over many blocks has variance sum(n^2 (1 - p) / p).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from helpers import REPO, RUN_TIMEOUT, explain, load_json, scalene_cmd, scalene_env, truth

MiB = 1024.0 * 1024.0
BUILD = Path(os.environ.get("SCALENECORE_BUILD") or (REPO / "build"))
NATIVE_ALLOC = BUILD / "examples" / "native_alloc"
ALLOC_HOOK = BUILD / "examples" / "alloc_hook"
TORTURE = BUILD / "tests" / "alloc" / "torture"
PRELOAD = BUILD / "lib" / "libscalenecore_preload.so"
NATIVE_ALLOC_SRC = REPO / "examples" / "native_alloc.c"
ALLOC_HOOK_SRC = REPO / "examples" / "alloc_hook.c"

# The torture tests that must pass in every mode; the regression tests
# below run separately.
TORTURE_TESTS = ["calloc", "realloc", "realloc-edges", "aligned", "usable", "reallocarray",
                 "foreign", "memcpy", "odd", "threads", "fork", "signal"]


def need(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.fail("missing (run `make alloc-programs`): " + ", ".join(missing))


def marker_line(source: Path, marker: str) -> int:
    """1-based number of the one line of `source` holding `marker`."""
    hits = [i for i, text in enumerate(source.read_text().splitlines(), 1) if marker in text]
    assert len(hits) == 1, f"{marker!r} should be on exactly one line of {source}: {hits}"
    return hits[0]


def function_lines(source: Path, signature: str) -> range:
    """The lines of the C function whose definition line contains
    `signature`, through its closing brace in column 0."""
    lines = source.read_text().splitlines()
    start = next(i for i, text in enumerate(lines, 1) if signature in text)
    end = next(i for i, text in enumerate(lines, 1) if i > start and text.startswith("}"))
    return range(start, end + 1)


def native_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A clean environment for a program run under the preload by hand."""
    env = scalene_env(extra)
    env.pop("LD_PRELOAD", None)
    env.pop("SCALENE_NATIVE_OUTFILE", None)
    if extra:
        env.update(extra)
    return env


def file_entry(profile: Dict[str, Any], suffix: str) -> Tuple[str, Dict[str, Any]]:
    for name, entry in profile["files"].items():
        if name.endswith(suffix):
            return name, entry
    raise AssertionError(f"no file ending with {suffix!r} in the profile: "
                         f"{list(profile['files'])}")


def line_of(entry: Dict[str, Any], lineno: int) -> Dict[str, Any]:
    for line in entry["lines"]:
        if line["lineno"] == lineno:
            return line
    raise AssertionError(f"line {lineno} is not in the profile")


def sampled_sd(sizes_counts: List[Tuple[int, int]], window: float) -> float:
    """Standard deviation of the estimated total of `count` blocks of each
    `size`, sampled with a mean distance of `window` bytes."""
    var = 0.0
    for size, count in sizes_counts:
        p = -math.expm1(-size / window)
        var += count * size * size * (1 - p) / p
    return math.sqrt(var)


# --------------------------------------------------------------------------
# (a) scalene run ./native_alloc
# --------------------------------------------------------------------------

WINDOW_A = 65536  # the keep figure's relative error is ~3.5% (1 MiB: 14%)


@pytest.fixture(scope="module")
def native_run(tmp_path_factory: pytest.TempPathFactory):
    need(NATIVE_ALLOC)
    tmp = tmp_path_factory.mktemp("native")
    out = tmp / "profile.json"
    proc = subprocess.run(
        scalene_cmd("run", "-o", str(out), "--allocation-sampling-window", str(WINDOW_A),
                    str(NATIVE_ALLOC), "3"),
        cwd=str(tmp), env=scalene_env(), capture_output=True, text=True,
        timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    return proc, load_json(out)


def test_native_run_keeps_status_and_stdout(native_run) -> None:
    proc, profile = native_run
    assert proc.returncode == 3, explain(proc)
    lines = proc.stdout.splitlines()
    # the program's own stdout, untouched: its two lines and nothing else
    assert len(lines) == 2 and lines[0].startswith("native_alloc: kept "), explain(proc)
    assert truth(proc)["status"] == 3
    assert "profile written to" in proc.stderr, explain(proc)
    assert profile is not None, explain(proc)
    assert profile["memory"] is True and profile["memory_reason"] == "", profile["memory_reason"]
    assert profile["allocation_sampling_window"] == WINDOW_A


def test_native_run_memory_on_the_keeping_line(native_run) -> None:
    proc, profile = native_run
    assert profile is not None, explain(proc)
    t = truth(proc)
    name, entry = file_entry(profile, os.path.join("examples", "native_alloc.c"))
    keep = line_of(entry, marker_line(NATIVE_ALLOC_SRC, "[native_alloc: keep]"))
    want = t["keep_bytes"] / MiB
    msg = f"{name}: keep line {keep['lineno']}: {keep}\n{explain(proc, profile)}"
    assert keep["n_malloc_mb"] == pytest.approx(want, rel=0.15), msg
    assert keep["n_mallocs"] > 0, msg
    # kept until exit: all of it is growth, and the line's peak
    assert keep["n_growth_mb"] == pytest.approx(want, rel=0.15), msg
    assert keep["n_peak_mb"] == pytest.approx(keep["n_growth_mb"], rel=0.01), msg
    funcs = {f["line"]: f for f in entry["functions"]}
    assert funcs["keep_blocks"]["n_malloc_mb"] == pytest.approx(want, rel=0.15), entry["functions"]


def test_native_run_loop_allocates_without_growth(native_run) -> None:
    proc, profile = native_run
    assert profile is not None, explain(proc)
    t = truth(proc)
    _, entry = file_entry(profile, os.path.join("examples", "native_alloc.c"))
    churn = line_of(entry, marker_line(NATIVE_ALLOC_SRC, "[native_alloc: churn]"))
    want = t["churn_bytes"] / MiB
    msg = f"churn line: {churn}\ndropped_samples={profile['dropped_samples']}"
    # 64 MiB in 8 KiB blocks: ~3% error from sampling
    assert churn["n_malloc_mb"] == pytest.approx(want, rel=0.15), msg
    assert churn["n_mallocs"] > 100, msg
    # every block is freed: no growth (a lost free event would show here)
    assert churn["n_growth_mb"] < 0.5, msg
    assert churn["n_peak_mb"] < 1.0, msg


def test_native_run_cpu_on_the_burning_function(native_run) -> None:
    proc, profile = native_run
    assert profile is not None, explain(proc)
    _, entry = file_entry(profile, os.path.join("examples", "native_alloc.c"))
    burn = function_lines(NATIVE_ALLOC_SRC, "burn_cpu(double seconds) {")
    burn_c = sum(l["n_cpu_percent_c"] for l in entry["lines"] if l["lineno"] in burn)
    # every file's native time, library code without line tables included
    # (that is charged to its functions only)
    all_c = sum(f["n_cpu_percent_c"] for e in profile["files"].values() for f in e["functions"])
    assert all_c > 0, explain(proc, profile)
    assert burn_c > 0.5 * all_c, f"burn_cpu lines {burn}: {burn_c:.1f}% of {all_c:.1f}%\n" \
                                 + explain(proc, profile)
    # a plain C program: no Python time anywhere
    assert all(l["n_cpu_percent_python"] == 0 for e in profile["files"].values()
               for l in e["lines"])
    funcs = sorted(entry["functions"], key=lambda f: -f["n_cpu_percent_c"])
    assert funcs[0]["line"] == "burn_cpu", funcs
    assert funcs[0]["n_malloc_mb"] == 0, funcs[0]


def test_native_preload_by_hand(tmp_path: Path) -> None:
    """The way examples/native_alloc.c documents without the CLI."""
    need(NATIVE_ALLOC, PRELOAD)
    out = tmp_path / "by-hand.json"
    proc = subprocess.run(
        [str(NATIVE_ALLOC)], cwd=str(tmp_path), capture_output=True, text=True,
        timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
        env=native_env({"LD_PRELOAD": str(PRELOAD), "SCALENE_NATIVE_OUTFILE": str(out),
                        "SCALENE_ALLOCATION_SAMPLING_WINDOW": str(WINDOW_A)}))
    assert proc.returncode == 0, explain(proc)
    profile = load_json(out)
    assert profile is not None, explain(proc)
    _, entry = file_entry(profile, os.path.join("examples", "native_alloc.c"))
    keep = line_of(entry, marker_line(NATIVE_ALLOC_SRC, "[native_alloc: keep]"))
    assert keep["n_malloc_mb"] == pytest.approx(truth(proc)["keep_bytes"] / MiB, rel=0.15), keep


# --------------------------------------------------------------------------
# (b) the alloc_hook example
# --------------------------------------------------------------------------

WINDOW_B = 65536


def parse_hook_output(text: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kinds": {}, "sites": []}
    for line in text.splitlines():
        m = re.match(r"alloc_hook: (\d+) blocks of (\d+) bytes allocated at (\S+):(\d+), "
                     r"(\d+) copies of (\d+) bytes, sampling window (\d+) bytes", line)
        if m:
            out.update(blocks=int(m[1]), block_size=int(m[2]), site_file=m[3],
                       site_line=int(m[4]), copies=int(m[5]), copy_size=int(m[6]),
                       window=int(m[7]))
        m = re.match(r"(malloc|free|realloc|copy)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            out["kinds"][m[1]] = {"events": int(m[2]), "bytes": int(m[3]), "weight": int(m[4])}
        m = re.match(r"  site (\S+):(\d+) (\S+) samples=(\d+) weight=(\d+)$", line)
        if m:
            out["sites"].append({"file": m[1], "line": int(m[2]), "function": m[3],
                                 "samples": int(m[4]), "weight": int(m[5])})
        m = re.match(r"python events: (\d+)$", line)
        if m:
            out["python"] = int(m[1])
        m = re.match(r"live sampled bytes at the end: (\d+) \(unmatched frees: (\d+)\)$", line)
        if m:
            out["live"], out["unmatched"] = int(m[1]), int(m[2])
        m = re.match(r"dropped samples: (\d+)$", line)
        if m:
            out["dropped"] = int(m[1])
    return out


def test_alloc_hook_example() -> None:
    need(ALLOC_HOOK, PRELOAD)
    proc = subprocess.run(
        [str(ALLOC_HOOK)], capture_output=True, text=True, timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL, cwd=str(REPO),
        env=native_env({"LD_PRELOAD": str(PRELOAD),
                        "SCALENE_ALLOCATION_SAMPLING_WINDOW": str(WINDOW_B)}))
    assert proc.returncode == 0, explain(proc)
    r = parse_hook_output(proc.stdout)
    msg = explain(proc)
    assert r.get("window") == WINDOW_B, msg
    kinds = r["kinds"]
    assert set(kinds) == {"malloc", "free", "realloc", "copy"}, msg
    for k in ("malloc", "free", "realloc", "copy"):
        assert kinds[k]["events"] > 0, f"no {k} event\n{msg}"
    assert r["python"] == 0, msg
    assert r["dropped"] == 0, msg
    # every sampled block was freed, and each free gave back exactly what
    # its malloc and realloc events put in (a few blocks of the C library,
    # such as the ticker thread's TLS, may remain: each stands for about a
    # window)
    assert r["unmatched"] == 0, msg
    assert r["live"] <= 4 * WINDOW_B, msg
    assert kinds["free"]["weight"] == (kinds["malloc"]["weight"] + kinds["realloc"]["weight"]
                                       - r["live"]), msg

    # the allocation site: file and line from DWARF, and its weight is an
    # unbiased estimate of what was allocated there
    line = marker_line(ALLOC_HOOK_SRC, "[alloc_hook: site]")
    assert r["site_line"] == line, msg
    site = [s for s in r["sites"] if s["line"] == line]
    assert len(site) == 1, msg
    site = site[0]
    assert site["file"].endswith(os.path.join("examples", "alloc_hook.c")), site
    assert os.path.isabs(site["file"]), site
    assert site["function"] == "allocate_blocks", site
    want = r["blocks"] * r["block_size"]
    sd = sampled_sd([(r["block_size"], r["blocks"])], WINDOW_B)
    assert abs(site["weight"] - want) <= 5 * sd, \
        f"site weight {site['weight']} vs {want} allocated (5 sd = {5 * sd:.0f})\n{msg}"
    assert site["samples"] > 0.5 * r["blocks"] * -math.expm1(-r["block_size"] / WINDOW_B), msg
    # the growth site and the copy site are named too
    grow = marker_line(ALLOC_HOOK_SRC, "[alloc_hook: grow]")
    assert any(s["line"] == grow and s["function"] == "grow_some" for s in r["sites"]), msg
    # copies of 1 MiB with a 64 KiB window: each is (nearly surely) sampled
    # and stands for itself
    copies = r["copies"] * r["copy_size"]
    assert kinds["copy"]["weight"] % r["copy_size"] == 0, msg
    assert 0.5 * copies <= kinds["copy"]["weight"] <= copies, msg


def test_alloc_hook_without_preload() -> None:
    need(ALLOC_HOOK)
    proc = subprocess.run([str(ALLOC_HOOK)], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL, env=native_env())
    assert proc.returncode == 2, explain(proc)
    assert "LD_PRELOAD" in proc.stderr, explain(proc)


# --------------------------------------------------------------------------
# (c) the preload under stress
# --------------------------------------------------------------------------

def run_torture(tmp_path: Path, mode: str, tests: List[str]) -> Tuple[subprocess.CompletedProcess,
                                                                    Optional[Dict[str, Any]]]:
    need(TORTURE, PRELOAD)
    env = {"LD_PRELOAD": str(PRELOAD)}
    args = [str(TORTURE)]
    out = tmp_path / "torture-profile.json"
    if mode == "session":  # the preload's own core samples nearly every block
        env["SCALENE_NATIVE_OUTFILE"] = str(out)
        env["SCALENE_ALLOCATION_SAMPLING_WINDOW"] = "64"
    elif mode == "own-sink":  # a sink of the test's own, no core
        env["SCALENE_ALLOCATION_SAMPLING_WINDOW"] = "64"
        args.append("--own-sink")
    proc = subprocess.run(args + tests, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, cwd=str(tmp_path), env=native_env(env))
    return proc, load_json(out)


@pytest.mark.parametrize("mode", ["plain", "session", "own-sink"])
def test_torture(tmp_path: Path, mode: str) -> None:
    proc, profile = run_torture(tmp_path, mode, TORTURE_TESTS)
    assert proc.returncode == 0, explain(proc)
    assert "torture: all tests passed" in proc.stdout, explain(proc)
    for name in TORTURE_TESTS:
        assert re.search(rf"^torture: {re.escape(name)}\s+ok ", proc.stdout, re.M), \
            f"{name} did not run\n{explain(proc)}"
    if mode == "session":
        # the session really sampled (so blocks carried headers)
        assert profile is not None, explain(proc)
        assert profile["memory"] is True, profile["memory_reason"]
        assert profile["alloc_samples"] > 10000, {k: profile[k] for k in (
            "alloc_samples", "dropped_samples", "total_malloc_mb")}
    if mode == "own-sink":
        m = re.search(r"own sink: (\d+) malloc, (\d+) free, (\d+) realloc, (\d+) copy", proc.stdout)
        assert m and all(int(x) > 0 for x in m.groups()), explain(proc)


# Regression tests for bugs the preload had (each failed before its fix):
# errno left unset on failure; blocks of ~1 GiB and more, and alignments of
# 64 MiB and more, mapped outside mimalloc's segment map and handed to glibc
# on free; a countdown drawn before attach delaying the attached window;
# every new thread's first allocation and first copy sampled, each worth a
# whole window (400 threads of 16 bytes reported 28,800 bytes for 6,400);
# every request aligned to more than 1 MiB sampled (72,000 bytes for 16,000).
REGRESSIONS = [
    pytest.param("plain", ["errno"], id="errno"),
    pytest.param("plain", ["huge"], id="huge"),
    pytest.param("plain", ["overaligned"], id="overaligned"),
    pytest.param("session", ["huge", "overaligned"], id="huge-sampled"),
    pytest.param("own-sink", ["window"], id="window"),
    pytest.param("own-sink", ["fresh-threads"], id="fresh-threads"),
    pytest.param("own-sink", ["aligned-weights"], id="aligned-weights"),
]


@pytest.mark.parametrize("mode,tests", REGRESSIONS)
def test_torture_regressions(tmp_path: Path, mode: str, tests: List[str]) -> None:
    proc, _ = run_torture(tmp_path, mode, tests)
    assert proc.returncode == 0, explain(proc)
    assert "(skipped)" not in proc.stdout, explain(proc)
    for name in tests:
        assert re.search(rf"^torture: {re.escape(name)}\s+ok ", proc.stdout, re.M), explain(proc)


def test_forked_child_exit_is_quiet(tmp_path: Path) -> None:
    proc, profile = run_torture(tmp_path, "session", ["fork"])
    assert proc.returncode == 0, explain(proc)
    assert profile is not None, explain(proc)
    assert "scalene:" not in proc.stderr, explain(proc)
