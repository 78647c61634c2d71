#!/usr/bin/env python3
"""Overhead of ``scalene run`` (libscalenecore) on Python programs.

For every program in bench/programs/ this runs, interleaved in one
invocation, N times each:

  base      python prog.py                                 (no profiler)
  ours      python -m scalene run --cpu-only -o P prog.py  (CPU-only mode)
  ours_full python -m scalene run -o P prog.py             (full mode: CPU +
                                                            memory + copy)
  mbase     LD_PRELOAD=libmimalloc.so.2 python prog.py     (full mode only:
                                                            the allocator
                                                            alone)

and with --compare-scalene also

  sbase        VENV/bin/python prog.py                     (baseline for it)
  scalene      VENV/bin/python -m scalene run --cpu-only   (Scalene from PyPI)
  scalene_full VENV/bin/python -m scalene run ...          (its full mode)

--mode cpu|full|both picks the profiled configurations (default both).
Each program prints ``BENCH_WORK_SECONDS <s>``: perf_counter() around its
workload only.  Around every process we also take the whole wall time.  Per
program and profiled configuration:

  steady-state ratio = median(profiled work) / median(unprofiled work)
  fixed cost (ms)    = median(profiled wall - profiled work)
                       - median(unprofiled wall - unprofiled work)

The ratio is what profiling costs while the program runs; the fixed cost is
what the profiler adds once (its start-up, and writing the profile at exit).
Targets (from the issues): CPU-only mode, geometric mean of the ratios
<= 1.02 and fixed cost < 150 ms; full mode, geometric mean of the ratios
<= 1.15.  They are reported as PASS/MISS; the exit status is 0 unless a run
failed (a program crashed, printed no BENCH_WORK_SECONDS, a profiled run
did not write a profile that parses, or a full-mode run of ours did not
profile memory).  A program that prints ``BENCH_SKIP <why>`` (alloc_numpy
without numpy) is left out.

Results are also written as JSON to build/bench-results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PROGRAMS_DIR = os.path.join(HERE, "programs")
BINDINGS = os.path.join(REPO, "bindings", "python")
VENV = os.path.join(REPO, "build", "bench-scalene-venv")
RESULTS = os.path.join(REPO, "build", "bench-results.json")

TARGET_RATIO = 1.02  # CPU-only: geometric-mean steady-state overhead, at most
TARGET_FIXED_MS = 150.0  # CPU-only: fixed cost, less than
TARGET_FULL_RATIO = 1.15  # full profiling: geometric-mean overhead, at most
# Debian's mimalloc, the allocator the preload serves memory from: the
# `mbase` configuration runs the unprofiled program on it, to tell the cost
# of profiling apart from the cost (or gain) of changing allocators.
MIMALLOC = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"

RUN_TIMEOUT_S = 600
WORK_RE = re.compile(r"^BENCH_WORK_SECONDS\s+([0-9.eE+-]+)\s*$", re.M)
WORK_CPU_RE = re.compile(r"^BENCH_WORK_CPU_SECONDS\s+([0-9.eE+-]+)\s*$", re.M)
SKIP_RE = re.compile(r"^BENCH_SKIP\s*(.*)$", re.M)


class RunFailed(Exception):
    pass


class ProgramSkipped(Exception):
    """The program printed BENCH_SKIP (a dependency it needs is missing)."""


# --------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------


def _strip_pythonpath(env: Dict[str, str], drop: str) -> None:
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
             if p and os.path.abspath(p) != drop]
    if parts:
        env["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        env.pop("PYTHONPATH", None)


def our_env() -> Dict[str, str]:
    """Environment in which ``import scalene`` finds the in-tree build."""
    env = dict(os.environ)
    _strip_pythonpath(env, BINDINGS)
    env["PYTHONPATH"] = os.pathsep.join(
        [BINDINGS] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    # Options from the environment would change what is measured.
    for k in list(env):
        if k.startswith("SCALENE_"):
            del env[k]
    return env


def mimalloc_env() -> Dict[str, str]:
    """Our environment with Debian's mimalloc preloaded (no profiler)."""
    env = our_env()
    env["LD_PRELOAD"] = MIMALLOC
    return env


def mimalloc_works(env: Dict[str, str]) -> bool:
    """True when a python started with `env` really runs on mimalloc."""
    r = subprocess.run(
        [sys.executable, "-c",
         "import ctypes; print(hasattr(ctypes.CDLL(None), 'mi_malloc'))"],
        env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    return r.returncode == 0 and r.stdout.strip() == "True"


def venv_env() -> Dict[str, str]:
    """Environment for the PyPI Scalene: our bindings must not shadow it."""
    env = dict(os.environ)
    _strip_pythonpath(env, BINDINGS)
    env.pop("PYTHONHOME", None)
    for k in list(env):
        if k.startswith("SCALENE_"):
            del env[k]
    env["VIRTUAL_ENV"] = VENV
    return env


# --------------------------------------------------------------------------
# The real Scalene, from PyPI, in a cached venv
# --------------------------------------------------------------------------


def venv_python() -> str:
    return os.path.join(VENV, "bin", "python")


def ensure_scalene_venv() -> Optional[str]:
    """Create (once) build/bench-scalene-venv with Scalene from PyPI.

    Returns Scalene's version, or None (and prints one line) on failure."""
    py = venv_python()
    env = venv_env()

    def installed_version() -> Optional[str]:
        if not os.path.exists(py):
            return None
        r = subprocess.run(
            [py, "-c", "import importlib.metadata as m, scalene; "
                       "print(m.version('scalene'))"],
            env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
        return r.stdout.strip() if r.returncode == 0 else None

    version = installed_version()
    if version:
        return version
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    log = os.path.join(os.path.dirname(VENV), "bench-scalene-venv-install.log")
    print(f"creating {os.path.relpath(VENV, REPO)} and installing Scalene "
          f"from PyPI (log: {os.path.relpath(log, REPO)}) ...", flush=True)
    with open(log, "w") as logf:
        steps = []
        if not os.path.exists(py):
            steps.append([sys.executable, "-m", "venv", "--clear", VENV])
        steps.append([py, "-m", "pip", "install", "--upgrade", "scalene"])
        for cmd in steps:
            logf.write("$ " + shlex.join(cmd) + "\n")
            logf.flush()
            r = subprocess.run(cmd, env=env, stdout=logf,
                               stderr=subprocess.STDOUT, cwd=REPO)
            if r.returncode != 0:
                print(f"compare-scalene: could not install Scalene from PyPI "
                      f"({shlex.join(cmd[-3:])} exited {r.returncode}; see "
                      f"{os.path.relpath(log, REPO)}); showing ours only")
                return None
    version = installed_version()
    if not version:
        print("compare-scalene: Scalene installed but 'import scalene' fails "
              "in the venv; showing ours only")
    return version


def scalene_command(outfile: str, full: bool = False) -> List[str]:
    """The real Scalene's JSON command for its CLI generation: CPU-only, or
    with `full` its default mode (CPU + memory + copy)."""
    py = venv_python()
    r = subprocess.run([py, "-m", "scalene", "--help"], env=venv_env(),
                       capture_output=True, text=True,
                       cwd=tempfile.gettempdir())
    help_text = r.stdout + r.stderr
    if re.search(r"\bscalene run\b", help_text) or re.search(
            r"\{[^}]*\brun\b[^}]*\}", help_text):
        return ([py, "-m", "scalene", "run"] + ([] if full else ["--cpu-only"])
                + ["-o", outfile])
    # Older, flag-style CLI (Scalene <= 1.5.x).
    cmd = [py, "-m", "scalene"]
    if not full:
        cmd.append("--cpu-only" if "--cpu-only" in help_text else "--cpu")
    cmd += ["--json", "--outfile", outfile]
    if "--no-browser" in help_text:
        cmd.append("--no-browser")
    return cmd


# --------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------


class Config:
    def __init__(self, name: str, label: str, prefix: List[str],
                 env: Dict[str, str], profile: Optional[str],
                 fatal: bool, base: Optional[str] = None,
                 mode: Optional[str] = None,
                 env_note: str = "") -> None:
        self.name = name
        self.label = label
        self.prefix = prefix
        self.env = env
        self.profile = profile  # the file a profiled run must write
        self.fatal = fatal  # a failure ends the benchmark (exit 1)
        self.base = base  # the unprofiled configuration it is compared with
        self.mode = mode  # "cpu" or "full" for profiled configurations
        self.env_note = env_note  # shown before the command (LD_PRELOAD=...)


def run_once(cfg: Config, prog: str, cwd: str) -> Dict[str, float]:
    if cfg.profile and os.path.exists(cfg.profile):
        os.unlink(cfg.profile)
    cmd = cfg.prefix + [prog]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, env=cfg.env, cwd=cwd, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{cfg.label}: {shlex.join(cmd)} ran past "
                        f"{RUN_TIMEOUT_S} s")
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def failure(why: str) -> RunFailed:
        tail = "\n".join((r.stderr or "").strip().splitlines()[-15:])
        return RunFailed(f"{cfg.label}: {why}\n  command: {shlex.join(cmd)}\n"
                         f"  exit status: {r.returncode}\n  stderr (tail):\n"
                         + "\n".join("    " + ln for ln in tail.splitlines()))

    if r.returncode != 0:
        raise failure("the run failed")
    skip = SKIP_RE.search(r.stdout)
    if skip:
        raise ProgramSkipped(skip.group(1).strip() or "BENCH_SKIP")
    m = WORK_RE.findall(r.stdout)
    if len(m) != 1:
        raise failure(f"expected one BENCH_WORK_SECONDS line on stdout, got "
                      f"{len(m)} (stdout: {r.stdout[-300:]!r})")
    result = {
        "wall": wall,
        "work": float(m[0]),
        # CPU time (user + sys) of the whole process: less sensitive than
        # wall time to other work on the machine.
        "cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
    }
    mc = WORK_CPU_RE.findall(r.stdout)
    if len(mc) == 1:
        # process_time() around the workload: all threads of the process,
        # the profiler's own included, but not time spent waiting for a CPU.
        result["work_cpu"] = float(mc[0])
    if cfg.profile:
        if not os.path.exists(cfg.profile):
            raise failure(f"no profile was written at {cfg.profile}")
        try:
            with open(cfg.profile, "rb") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise failure(f"the profile {cfg.profile} does not parse: {e}")
        if not isinstance(data, dict):
            raise failure(f"the profile {cfg.profile} is not a JSON object")
        result["profile_bytes"] = os.path.getsize(cfg.profile)
        samples = data.get("cpu_samples")
        if isinstance(samples, (int, float)):
            result["samples"] = samples
        for key in ("alloc_samples", "total_malloc_mb", "total_copy_mb",
                    "dropped_samples", "max_footprint_mb"):
            v = data.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                result[key] = v
        if cfg.mode == "full":
            result["memory"] = bool(data.get("memory"))
            # Ours must really have profiled memory: without the preload it
            # falls back to CPU only, and the ratio would mean nothing.
            if cfg.fatal and not result["memory"]:
                raise failure(
                    "full profiling, but the profile says memory profiling "
                    f"was off: {data.get('memory_reason') or '(no reason)'}")
    return result


# --------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------


def med(xs: List[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def geomean(xs: List[float]) -> float:
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def summarize(base: List[Dict[str, float]],
              prof: List[Dict[str, float]]) -> Dict[str, float]:
    bw = med([r["work"] for r in base])
    pw = med([r["work"] for r in prof])
    b_rest = med([r["wall"] - r["work"] for r in base])
    p_rest = med([r["wall"] - r["work"] for r in prof])
    out = {
        "base_work_s": bw,
        "prof_work_s": pw,
        "ratio": pw / bw,
        # Fastest against fastest: other load on the machine only ever adds
        # time, so this is the less noisy estimate on a busy machine.
        "ratio_min": (min(r["work"] for r in prof)
                      / min(r["work"] for r in base)),
        "base_cpu_s": med([r["cpu"] for r in base]),
        "prof_cpu_s": med([r["cpu"] for r in prof]),
        "fixed_ms": (p_rest - b_rest) * 1000.0,
        "base_rest_ms": b_rest * 1000.0,
        "prof_rest_ms": p_rest * 1000.0,
        # Run-to-run spread of the unprofiled work time, (max-min)/median:
        # a ratio closer to 1 than this is within the noise.
        "base_spread": ((max(r["work"] for r in base)
                         - min(r["work"] for r in base)) / bw),
        "prof_spread": ((max(r["work"] for r in prof)
                         - min(r["work"] for r in prof)) / pw),
    }
    if all("work_cpu" in r for r in base + prof):
        out["base_work_cpu_s"] = med([r["work_cpu"] for r in base])
        out["prof_work_cpu_s"] = med([r["work_cpu"] for r in prof])
        out["cpu_ratio"] = out["prof_work_cpu_s"] / out["base_work_cpu_s"]
    for key, name in (("samples", "samples"),
                      ("alloc_samples", "alloc_samples"),
                      ("total_malloc_mb", "malloc_mb"),
                      ("total_copy_mb", "copy_mb"),
                      ("dropped_samples", "dropped_samples")):
        xs = [r[key] for r in prof if key in r]
        if xs:
            out[name] = med(xs)
    return out


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_ratio(x: float) -> str:
    return f"{x:.3f}x" if math.isfinite(x) else "-"


def fmt_ms(x: float) -> str:
    return f"{x:+.0f}" if math.isfinite(x) else "-"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def list_programs() -> List[str]:
    return sorted(f[:-3] for f in os.listdir(PROGRAMS_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


def group_of(prog: str) -> str:
    """bench/programs/alloc_*.py are the allocation-heavy programs."""
    return "alloc" if prog.startswith("alloc_") else "cpu"


GROUP_NAMES = {"cpu": "CPU-bound", "alloc": "allocation-heavy"}
MODE_TITLES = {
    "cpu": "CPU-only profiling: scalene run --cpu-only",
    "full": "Full profiling (CPU + memory + copy): scalene run",
}


def totals_of(summary: Dict[str, Dict[str, Dict[str, float]]],
              which: str, progs: Optional[List[str]] = None
              ) -> Optional[Dict[str, float]]:
    rows = [s[which] for p, s in summary.items()
            if which in s and (progs is None or p in progs)]
    if not rows:
        return None
    fs = [r["fixed_ms"] for r in rows]
    return {
        "programs": len(rows),
        "geomean_ratio": geomean([r["ratio"] for r in rows]),
        "geomean_ratio_min": geomean([r["ratio_min"] for r in rows]),
        "geomean_cpu_ratio": geomean(
            [r.get("cpu_ratio", float("nan")) for r in rows]),
        "fixed_ms_median": med(fs),
        "fixed_ms_mean": statistics.fmean(fs),
        "fixed_ms_max": max(fs),
    }


def print_table(mode: str, summary: Dict[str, Dict[str, Dict[str, float]]],
                compare: bool) -> None:
    ours = "ours" if mode == "cpu" else "ours_full"
    theirs = "scalene" if mode == "cpu" else "scalene_full"
    with_mi = mode == "full" and any("mimalloc" in s for s in summary.values())
    hdr = (f"{'program':14s} {'unprof s':>9s} {'prof s':>8s} "
           f"{'ratio':>8s} {'min-ratio':>9s} {'cpu-ratio':>9s} "
           f"{'fixed ms':>9s} {'samples':>8s}")
    if mode == "full":
        hdr += f" {'allocs':>7s} {'MB alloc':>9s}"
        if with_mi:
            hdr += f" {'mi-ratio':>8s} {'vs mi':>7s}"
    hdr += f" {'noise':>6s}"
    if compare:
        hdr += (f" | {'S unprof':>8s} {'S prof':>7s} {'S ratio':>8s} "
                f"{'S fixed':>8s}")
    print(hdr)
    print("-" * len(hdr))
    for prog, s in summary.items():
        o = s.get(ours)
        if not o:
            continue
        line = (f"{prog:14s} {o['base_work_s']:9.3f} {o['prof_work_s']:8.3f} "
                f"{fmt_ratio(o['ratio']):>8s} {fmt_ratio(o['ratio_min']):>9s} "
                f"{fmt_ratio(o.get('cpu_ratio', float('nan'))):>9s} "
                f"{fmt_ms(o['fixed_ms']):>9s} "
                f"{o.get('samples', float('nan')):8.0f}")
        if mode == "full":
            line += (f" {o.get('alloc_samples', float('nan')):7.0f}"
                     f" {o.get('malloc_mb', float('nan')):9.0f}")
            if with_mi:
                mi = s.get("mimalloc")
                vs = s.get("ours_full_vs_mimalloc")
                line += (f" {fmt_ratio(mi['ratio'] if mi else float('nan')):>8s}"
                         f" {fmt_ratio(vs['ratio'] if vs else float('nan')):>7s}")
        line += f" {o['base_spread'] * 100:5.1f}%"
        if compare:
            c = s.get(theirs)
            if c:
                line += (f" | {c['base_work_s']:8.3f} "
                         f"{c['prof_work_s']:7.3f} "
                         f"{fmt_ratio(c['ratio']):>8s} "
                         f"{fmt_ms(c['fixed_ms']):>8s}")
        print(line)
    print("-" * len(hdr))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Overhead of 'scalene run' (libscalenecore), CPU-only "
                    "and full profiling, on Python programs.")
    ap.add_argument("--mode", choices=("cpu", "full", "both"), default="both",
                    help="cpu: scalene run --cpu-only; full: scalene run "
                         "(CPU + memory + copy); both (default)")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs of each configuration per program (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke check: 2 runs each (unless --runs is given)")
    ap.add_argument("--programs", default="",
                    help="comma-separated subset of: "
                         + ",".join(list_programs()))
    ap.add_argument("--compare-scalene", action="store_true",
                    help="also run Scalene from PyPI (cached venv at "
                         "build/bench-scalene-venv), in the same modes")
    ap.add_argument("--profiler-args", default="",
                    help="extra options for our 'scalene run', as one "
                         "string: --profiler-args='--cpu-sampling-rate 0.02'")
    ap.add_argument("--no-mimalloc-baseline", action="store_true",
                    help="full mode: do not run the unprofiled program on "
                         "plain mimalloc (mbase)")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the one untimed unprofiled run per program")
    ap.add_argument("--json", default=RESULTS, metavar="PATH",
                    help="where to write the results (default "
                         "build/bench-results.json)")
    args = ap.parse_args(argv)

    runs = args.runs if args.runs is not None else (2 if args.quick else 5)
    if runs < 1:
        ap.error("--runs must be at least 1")
    modes = ["cpu", "full"] if args.mode == "both" else [args.mode]
    available = list_programs()
    if args.programs:
        wanted = [p.strip() for p in args.programs.split(",") if p.strip()]
        wanted = [p[:-3] if p.endswith(".py") else p for p in wanted]
        unknown = [p for p in wanted if p not in available]
        if unknown:
            ap.error(f"unknown program(s) {', '.join(unknown)}; "
                     f"available: {', '.join(available)}")
        programs = wanted
    else:
        programs = available

    tmp = tempfile.mkdtemp(prefix="scalene-bench-")
    extra = shlex.split(args.profiler_args)
    configs = [Config("base", "unprofiled", [sys.executable], our_env(),
                      None, True)]
    mimalloc_note = None
    if "full" in modes and not args.no_mimalloc_baseline:
        if os.path.exists(MIMALLOC) and mimalloc_works(mimalloc_env()):
            configs.append(Config("mbase", "unprofiled on mimalloc",
                                  [sys.executable], mimalloc_env(), None,
                                  True, env_note=f"LD_PRELOAD={MIMALLOC} "))
        else:
            mimalloc_note = (f"no mimalloc baseline: {MIMALLOC} is missing or "
                             f"does not load (libmimalloc2.0)")
    if "cpu" in modes:
        p = os.path.join(tmp, "p.json")
        configs.append(Config(
            "ours", "libscalenecore --cpu-only",
            [sys.executable, "-m", "scalene", "run", "--cpu-only"] + extra
            + ["-o", p], our_env(), p, True, base="base", mode="cpu"))
    if "full" in modes:
        p = os.path.join(tmp, "pf.json")
        configs.append(Config(
            "ours_full", "libscalenecore full",
            [sys.executable, "-m", "scalene", "run"] + extra + ["-o", p],
            our_env(), p, True, base="base", mode="full"))
    ours_names = [c.name for c in configs]

    scalene_version = None
    scalene_note = None
    if args.compare_scalene:
        scalene_version = ensure_scalene_venv()
        if scalene_version:
            configs.append(Config("sbase", "unprofiled (venv)",
                                  [venv_python()], venv_env(), None, False))
            if "cpu" in modes:
                p = os.path.join(tmp, "s.json")
                configs.append(Config(
                    "scalene", f"Scalene {scalene_version} --cpu-only",
                    scalene_command(p), venv_env(), p, False,
                    base="sbase", mode="cpu"))
            if "full" in modes:
                p = os.path.join(tmp, "sf.json")
                configs.append(Config(
                    "scalene_full", f"Scalene {scalene_version} full",
                    scalene_command(p, full=True), venv_env(), p, False,
                    base="sbase", mode="full"))

    print(f"python   {sys.executable} ({platform.python_version()}), "
          f"{os.cpu_count()} CPUs, {platform.machine()}")
    load = os.getloadavg()
    print(f"load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at "
          f"start: other work on the machine skews the figures")
    print(f"programs {', '.join(programs)}; {runs} run(s) of each "
          f"configuration, interleaved")
    for c in configs:
        print(f"  {c.name:12s} {c.env_note}{shlex.join(c.prefix)} PROG")
    if mimalloc_note:
        print(f"note: {mimalloc_note}")
    print()

    raw: Dict[str, Dict[str, List[Dict[str, float]]]] = {}
    skipped: Dict[str, str] = {}
    failed: Optional[str] = None
    try:
        for prog in programs:
            path = os.path.join(PROGRAMS_DIR, prog + ".py")
            raw[prog] = {c.name: [] for c in configs}
            print(f"{prog:14s}", end="", flush=True)
            try:
                if not args.no_warmup:
                    run_once(configs[0], path, tmp)
                for i in range(runs):
                    # Rotate the order each round, so that no configuration
                    # always follows (or precedes) the same other one.
                    k = i % len(configs)
                    for cfg in configs[k:] + configs[:k]:
                        if cfg not in configs:  # dropped after a failure
                            continue
                        try:
                            raw[prog][cfg.name].append(
                                run_once(cfg, path, tmp))
                        except RunFailed as e:
                            if cfg.fatal:
                                raise
                            print(f"\ncompare-scalene: a run of {cfg.label} "
                                  f"failed; dropping the comparison:\n{e}")
                            scalene_note = (f"{cfg.label} failed: "
                                            + str(e).split("\n")[0])
                            configs[:] = [c for c in configs
                                          if c.name in ours_names]
                            for by in raw.values():
                                for n in ("sbase", "scalene", "scalene_full"):
                                    by.pop(n, None)
                            continue
                        print(".", end="", flush=True)
            except ProgramSkipped as e:
                skipped[prog] = str(e)
                del raw[prog]
                print(f" skipped: {e}", end="")
            print()
    except RunFailed as e:
        failed = str(e)
        print(f"\n\nBENCHMARK RUN FAILED\n{failed}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return 130
    finally:
        if failed is None:
            shutil.rmtree(tmp, ignore_errors=True)

    by_name = {c.name: c for c in configs}
    summary: Dict[str, Dict[str, Dict[str, float]]] = {}
    for prog, by in raw.items():
        s: Dict[str, Dict[str, float]] = {}
        for c in configs:
            if c.base and by.get(c.name) and by.get(c.base):
                s[c.name] = summarize(by[c.base], by[c.name])
        if by.get("mbase") and by.get("base"):
            # What the allocator alone does to the unprofiled program, and
            # full profiling against the program already on mimalloc.
            s["mimalloc"] = summarize(by["base"], by["mbase"])
            if by.get("ours_full"):
                s["ours_full_vs_mimalloc"] = summarize(by["mbase"],
                                                       by["ours_full"])
        if s:
            summary[prog] = s
    compare = any("scalene" in s or "scalene_full" in s
                  for s in summary.values())

    totals: Dict[str, Dict[str, float]] = {}
    group_totals: Dict[str, Dict[str, Dict[str, float]]] = {}
    for which in ("ours", "ours_full", "scalene", "scalene_full", "mimalloc",
                  "ours_full_vs_mimalloc"):
        t = totals_of(summary, which)
        if t:
            totals[which] = t
        for g in GROUP_NAMES:
            tg = totals_of(summary, which,
                           [p for p in summary if group_of(p) == g])
            if tg:
                group_totals.setdefault(which, {})[g] = tg

    verdicts: Dict[str, str] = {}
    for mode in modes:
        ours = "ours" if mode == "cpu" else "ours_full"
        theirs = "scalene" if mode == "cpu" else "scalene_full"
        if not any(ours in s for s in summary.values()):
            continue
        print()
        print(f"== {MODE_TITLES[mode]} ==")
        print_table(mode, summary, compare)
        t = totals[ours]
        target = TARGET_RATIO if mode == "cpu" else TARGET_FULL_RATIO
        ok = t["geomean_ratio"] <= target
        verdicts["ratio" if mode == "cpu" else "full_ratio"] = verdict(ok)
        print(f"libscalenecore {mode}: geometric-mean steady-state ratio "
              f"{t['geomean_ratio']:.3f}x over {t['programs']} programs   "
              f"(target <= {target:.2f}x) {verdict(ok)}   "
              f"[min-ratio {t['geomean_ratio_min']:.3f}x, "
              f"cpu-ratio {t['geomean_cpu_ratio']:.3f}x]")
        for g, name in GROUP_NAMES.items():
            tg = group_totals.get(ours, {}).get(g)
            if tg and tg["programs"] < t["programs"]:
                line = (f"  {name} ({tg['programs']}): "
                        f"{tg['geomean_ratio']:.3f}x")
                sg = group_totals.get(theirs, {}).get(g)
                if sg:
                    line += f"; Scalene {sg['geomean_ratio']:.3f}x"
                print(line)
        if mode == "cpu":
            ok = t["fixed_ms_median"] < TARGET_FIXED_MS
            verdicts["fixed_cost"] = verdict(ok)
            print(f"libscalenecore {mode}: fixed cost median "
                  f"{t['fixed_ms_median']:.0f} ms, mean "
                  f"{t['fixed_ms_mean']:.0f} ms, max {t['fixed_ms_max']:.0f} "
                  f"ms   (target < {TARGET_FIXED_MS:.0f} ms) {verdict(ok)}")
        else:
            print(f"libscalenecore {mode}: fixed cost median "
                  f"{t['fixed_ms_median']:.0f} ms, mean "
                  f"{t['fixed_ms_mean']:.0f} ms, max {t['fixed_ms_max']:.0f} "
                  f"ms (includes the re-execution with the preload)")
            mi = totals.get("mimalloc")
            vs = totals.get("ours_full_vs_mimalloc")
            if mi and vs:
                print(f"  mimalloc alone (unprofiled): "
                      f"{mi['geomean_ratio']:.3f}x; full profiling against "
                      f"the program on mimalloc: {vs['geomean_ratio']:.3f}x")
        st = totals.get(theirs)
        if st:
            print(f"Scalene {scalene_version} {mode}: geometric-mean "
                  f"steady-state ratio {st['geomean_ratio']:.3f}x "
                  f"[min-ratio {st['geomean_ratio_min']:.3f}x, cpu-ratio "
                  f"{st['geomean_cpu_ratio']:.3f}x]; fixed cost median "
                  f"{st['fixed_ms_median']:.0f} ms, mean "
                  f"{st['fixed_ms_mean']:.0f} ms, max "
                  f"{st['fixed_ms_max']:.0f} ms")
    for prog, why in skipped.items():
        print(f"skipped {prog}: {why}")
    if scalene_note:
        print(f"compare-scalene: {scalene_note}")
    if summary:
        print()
        print("ratio     = median profiled work / median unprofiled work "
              "(steady-state overhead)")
        print("min-ratio = fastest profiled work / fastest unprofiled work "
              "(less sensitive to other load)")
        print("cpu-ratio = the same with process_time() around the workload "
              "(profiler threads included; waiting for a CPU not)")
        print("fixed ms  = median(profiled wall - work) - median(unprofiled wall "
              "- work) (start-up + writing the profile)")
        print("samples   = cpu_samples in our profile (median); noise = (max - min)"
              " / median of the unprofiled work times")
        if "full" in modes:
            print("allocs    = alloc_samples in our profile; MB alloc = its "
                  "total_malloc_mb (medians)")
            if "mimalloc" in totals:
                print("mi-ratio  = unprofiled on plain mimalloc / unprofiled "
                      "(the allocator alone); vs mi = full profiling / "
                      "unprofiled on mimalloc")
        if compare:
            print(f"S ...     = the same for Scalene {scalene_version} from PyPI, "
                  f"against unprofiled runs of its venv's python")

    results = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.executable,
        "python_version": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "loadavg_start": list(load),
        "loadavg_end": list(os.getloadavg()),
        "runs": runs,
        "modes": modes,
        "programs": programs,
        "skipped": skipped,
        "commands": {c.name: ([c.env_note.strip()] if c.env_note else [])
                     + c.prefix for c in by_name.values()},
        "targets": {"geomean_ratio_max": TARGET_RATIO,
                    "fixed_ms_below": TARGET_FIXED_MS,
                    "full_geomean_ratio_max": TARGET_FULL_RATIO},
        "scalene_version": scalene_version,
        "scalene_note": scalene_note,
        "mimalloc_note": mimalloc_note,
        "summary": summary,
        "totals": totals,
        "group_totals": group_totals,
        "verdicts": verdicts,
        "failed": failed,
        "raw": raw,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    shown = os.path.abspath(args.json)
    if shown.startswith(os.getcwd() + os.sep):
        shown = os.path.relpath(shown)
    print(f"results written to {shown}")
    if failed:
        print(f"BENCHMARK RUN FAILED (see above; the failed run's temporary "
              f"folder is kept: {tmp})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
