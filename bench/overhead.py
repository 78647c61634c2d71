#!/usr/bin/env python3
"""Overhead of ``scalene run --cpu-only`` (libscalenecore) on CPU-bound Python.

For every program in bench/programs/ this runs, interleaved in one
invocation, N times each:

  base    python prog.py                                   (no profiler)
  ours    python -m scalene run --cpu-only -o P prog.py    (this repo's build)

and with --compare-scalene also

  sbase   VENV/bin/python prog.py                          (baseline for it)
  scalene VENV/bin/python -m scalene run --cpu-only ...    (Scalene from PyPI)

Each program prints ``BENCH_WORK_SECONDS <s>``: perf_counter() around its
workload only.  Around every process we also take the whole wall time.  Per
program:

  steady-state ratio = median(profiled work) / median(unprofiled work)
  fixed cost (ms)    = median(profiled wall - profiled work)
                       - median(unprofiled wall - unprofiled work)

The ratio is what sampling costs while the program runs; the fixed cost is
what the profiler adds once (its start-up, and writing the profile at exit).
Targets (from the issue): geometric mean of the ratios <= 1.02, fixed cost
< 150 ms.  They are reported as PASS/MISS; the exit status is 0 unless a run
failed (a program crashed, printed no BENCH_WORK_SECONDS, or a profiled run
did not write a profile that parses).

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

TARGET_RATIO = 1.02  # geometric-mean steady-state overhead, at most
TARGET_FIXED_MS = 150.0  # fixed cost, less than

RUN_TIMEOUT_S = 600
WORK_RE = re.compile(r"^BENCH_WORK_SECONDS\s+([0-9.eE+-]+)\s*$", re.M)
WORK_CPU_RE = re.compile(r"^BENCH_WORK_CPU_SECONDS\s+([0-9.eE+-]+)\s*$", re.M)


class RunFailed(Exception):
    pass


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


def scalene_command(outfile: str) -> List[str]:
    """The real Scalene's CPU-only JSON command, for its CLI generation."""
    py = venv_python()
    r = subprocess.run([py, "-m", "scalene", "--help"], env=venv_env(),
                       capture_output=True, text=True,
                       cwd=tempfile.gettempdir())
    help_text = r.stdout + r.stderr
    if re.search(r"\bscalene run\b", help_text) or re.search(
            r"\{[^}]*\brun\b[^}]*\}", help_text):
        return [py, "-m", "scalene", "run", "--cpu-only", "-o", outfile]
    # Older, flag-style CLI (Scalene <= 1.5.x).
    cpu_flag = "--cpu-only" if "--cpu-only" in help_text else "--cpu"
    cmd = [py, "-m", "scalene", cpu_flag, "--json", "--outfile", outfile]
    if "--no-browser" in help_text:
        cmd.append("--no-browser")
    return cmd


# --------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------


class Config:
    def __init__(self, name: str, label: str, prefix: List[str],
                 env: Dict[str, str], profile: Optional[str],
                 fatal: bool) -> None:
        self.name = name
        self.label = label
        self.prefix = prefix
        self.env = env
        self.profile = profile  # the file a profiled run must write
        self.fatal = fatal  # a failure ends the benchmark (exit 1)


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
    samples = [r["samples"] for r in prof if "samples" in r]
    if samples:
        out["samples"] = med(samples)
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


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Overhead of 'scalene run --cpu-only' (libscalenecore) "
                    "on CPU-bound pure-Python programs.")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs of each configuration per program (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke check: 2 runs each (unless --runs is given)")
    ap.add_argument("--programs", default="",
                    help="comma-separated subset of: "
                         + ",".join(list_programs()))
    ap.add_argument("--compare-scalene", action="store_true",
                    help="also run Scalene from PyPI (cached venv at "
                         "build/bench-scalene-venv)")
    ap.add_argument("--profiler-args", default="",
                    help="extra options for our 'scalene run', as one "
                         "string: --profiler-args='--cpu-sampling-rate 0.02'")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the one untimed unprofiled run per program")
    ap.add_argument("--json", default=RESULTS, metavar="PATH",
                    help="where to write the results (default "
                         "build/bench-results.json)")
    args = ap.parse_args(argv)

    runs = args.runs if args.runs is not None else (2 if args.quick else 5)
    if runs < 1:
        ap.error("--runs must be at least 1")
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
    ours_profile = os.path.join(tmp, "p.json")
    extra = shlex.split(args.profiler_args)
    ours_prefix = ([sys.executable, "-m", "scalene", "run", "--cpu-only"]
                   + extra + ["-o", ours_profile])
    configs = [
        Config("base", "unprofiled", [sys.executable], our_env(), None, True),
        Config("ours", "libscalenecore", ours_prefix, our_env(),
               ours_profile, True),
    ]

    scalene_version = None
    scalene_note = None
    if args.compare_scalene:
        scalene_version = ensure_scalene_venv()
        if scalene_version:
            s_profile = os.path.join(tmp, "s.json")
            configs.append(Config("sbase", "unprofiled (venv)",
                                  [venv_python()], venv_env(), None, False))
            configs.append(Config("scalene", f"Scalene {scalene_version}",
                                  scalene_command(s_profile), venv_env(),
                                  s_profile, False))

    print(f"python   {sys.executable} ({platform.python_version()}), "
          f"{os.cpu_count()} CPUs, {platform.machine()}")
    load = os.getloadavg()
    print(f"load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at "
          f"start: other work on the machine skews the figures")
    print(f"programs {', '.join(programs)}; {runs} run(s) of each "
          f"configuration, interleaved")
    for c in configs:
        print(f"  {c.name:8s} {shlex.join(c.prefix)} PROG")
    print()

    raw: Dict[str, Dict[str, List[Dict[str, float]]]] = {}
    failed: Optional[str] = None
    try:
        for prog in programs:
            path = os.path.join(PROGRAMS_DIR, prog + ".py")
            raw[prog] = {c.name: [] for c in configs}
            if not args.no_warmup:
                run_once(configs[0], path, tmp)
            print(f"{prog:14s}", end="", flush=True)
            for i in range(runs):
                # Rotate the order each round, so that no configuration
                # always follows (or precedes) the same other one.
                k = i % len(configs)
                for cfg in configs[k:] + configs[:k]:
                    if cfg not in configs:  # dropped after a failure
                        continue
                    try:
                        raw[prog][cfg.name].append(run_once(cfg, path, tmp))
                    except RunFailed as e:
                        if cfg.fatal:
                            raise
                        print(f"\ncompare-scalene: a run of {cfg.label} "
                              f"failed; dropping the comparison:\n{e}")
                        scalene_note = f"{cfg.label} failed: " + str(e).split(
                            "\n")[0]
                        configs[:] = configs[:2]
                        for p in raw.values():
                            p.pop("sbase", None)
                            p.pop("scalene", None)
                        continue
                    print(".", end="", flush=True)
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

    compare = any("scalene" in v for v in raw.values())
    summary: Dict[str, Dict[str, Dict[str, float]]] = {}
    for prog, by in raw.items():
        if not by["base"] or len(by["ours"]) == 0:
            continue
        summary[prog] = {"ours": summarize(by["base"], by["ours"])}
        if compare and by.get("scalene") and by.get("sbase"):
            summary[prog]["scalene"] = summarize(by["sbase"], by["scalene"])

    print()
    if summary:
        hdr = (f"{'program':14s} {'unprof s':>9s} {'prof s':>8s} "
               f"{'ratio':>8s} {'min-ratio':>9s} {'cpu-ratio':>9s} {'fixed ms':>9s} "
               f"{'samples':>8s} "
               f"{'noise':>6s}")
        if compare:
            hdr += (f" | {'S unprof':>8s} {'S prof':>7s} {'S ratio':>8s} "
                    f"{'S fixed':>8s}")
        print(hdr)
        print("-" * len(hdr))
        for prog, s in summary.items():
            o = s["ours"]
            line = (f"{prog:14s} {o['base_work_s']:9.3f} {o['prof_work_s']:8.3f} "
                    f"{fmt_ratio(o['ratio']):>8s} {fmt_ratio(o['ratio_min']):>9s} "
                    f"{fmt_ratio(o.get('cpu_ratio', float('nan'))):>9s} "
                    f"{fmt_ms(o['fixed_ms']):>9s} "
                    f"{o.get('samples', float('nan')):8.0f} "
                    f"{o['base_spread'] * 100:5.1f}%")
            if compare:
                c = s.get("scalene")
                if c:
                    line += (f" | {c['base_work_s']:8.3f} "
                             f"{c['prof_work_s']:7.3f} "
                             f"{fmt_ratio(c['ratio']):>8s} "
                             f"{fmt_ms(c['fixed_ms']):>8s}")
            print(line)
        print("-" * len(hdr))

    totals: Dict[str, Dict[str, float]] = {}
    for which in ("ours", "scalene"):
        rs = [s[which]["ratio"] for s in summary.values() if which in s]
        fs = [s[which]["fixed_ms"] for s in summary.values() if which in s]
        if rs:
            totals[which] = {
                "geomean_ratio": geomean(rs),
                "geomean_ratio_min": geomean(
                    [s[which]["ratio_min"] for s in summary.values()
                     if which in s]),
                "geomean_cpu_ratio": geomean(
                    [s[which].get("cpu_ratio", float("nan"))
                     for s in summary.values() if which in s]),
                "fixed_ms_median": med(fs),
                "fixed_ms_mean": statistics.fmean(fs),
                "fixed_ms_max": max(fs),
            }
    if "ours" in totals:
        t = totals["ours"]
        print(f"libscalenecore: geometric-mean steady-state ratio "
              f"{t['geomean_ratio']:.3f}x   (target <= {TARGET_RATIO:.2f}x) "
              f"{verdict(t['geomean_ratio'] <= TARGET_RATIO)}   "
              f"[min-ratio {t['geomean_ratio_min']:.3f}x, "
              f"cpu-ratio {t['geomean_cpu_ratio']:.3f}x]")
        print(f"libscalenecore: fixed cost median {t['fixed_ms_median']:.0f} ms,"
              f" mean {t['fixed_ms_mean']:.0f} ms, max {t['fixed_ms_max']:.0f} ms"
              f"   (target < {TARGET_FIXED_MS:.0f} ms) "
              f"{verdict(t['fixed_ms_median'] < TARGET_FIXED_MS)}")
    if "scalene" in totals:
        t = totals["scalene"]
        print(f"Scalene {scalene_version}: geometric-mean steady-state ratio "
              f"{t['geomean_ratio']:.3f}x [min-ratio {t['geomean_ratio_min']:.3f}x,"
              f" cpu-ratio {t['geomean_cpu_ratio']:.3f}x]"
              f"; fixed cost median "
              f"{t['fixed_ms_median']:.0f} ms, mean {t['fixed_ms_mean']:.0f} ms,"
              f" max {t['fixed_ms_max']:.0f} ms")
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
        "programs": programs,
        "commands": {c.name: c.prefix for c in configs},
        "targets": {"geomean_ratio_max": TARGET_RATIO,
                    "fixed_ms_below": TARGET_FIXED_MS},
        "scalene_version": scalene_version,
        "scalene_note": scalene_note,
        "summary": summary,
        "totals": totals,
        "verdicts": ({
            "ratio": verdict(totals["ours"]["geomean_ratio"] <= TARGET_RATIO),
            "fixed_cost": verdict(
                totals["ours"]["fixed_ms_median"] < TARGET_FIXED_MS),
        } if "ours" in totals else {}),
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
