"""Signals and processes: the profiled program dies by the signal that
killed it (after the profile is written), forked children do not write the
profile, the program's own signal handlers keep working, and native
blocking calls are not interrupted by the sampler."""

from __future__ import annotations

import resource
import signal
import subprocess
import time

import pytest

from helpers import (PROGRAMS, explain, file_entry, line_with, load_json, program,
                     scalene_cmd, scalene_env, truth)


def _default_signals():
    # The test runner may have been started with SIGINT ignored (a
    # background job); give the child the defaults, as a terminal would.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    # SIGQUIT's default action dumps core: not in the test folder, please.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_and_signal(outfile, sig, *args):
    proc = subprocess.Popen(
        scalene_cmd("run", "-o", str(outfile), program("wait_for_signal.py"), *args),
        cwd=str(PROGRAMS), env=scalene_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_signals,
    )
    try:
        ready = proc.stdout.readline()
        assert ready.strip() == "READY", ready
        time.sleep(0.2)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, ready + out, err)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_fatal_signal_writes_profile_then_dies_by_it(outfile, sig):
    proc = run_and_signal(outfile, sig)
    assert proc.returncode == -sig, explain(proc)
    assert "NOT KILLED" not in proc.stdout
    assert "Traceback" not in proc.stderr, explain(proc)
    profile = load_json(outfile)
    assert profile is not None, explain(proc)
    entry = file_entry(profile, "wait_for_signal.py")
    assert entry is not None and entry["percent_cpu_time"] > 0, explain(proc, profile)
    assert "Scalene: profile saved to" in proc.stderr


def test_programs_own_sigterm_handler_replaces_ours(outfile):
    proc = run_and_signal(outfile, signal.SIGTERM, "own-handler")
    assert proc.returncode == 0, explain(proc)
    assert f"HANDLED {int(signal.SIGTERM)}" in proc.stdout, explain(proc)
    assert load_json(outfile) is not None, explain(proc)
    assert proc.stderr.count("Scalene: profile saved") == 1, explain(proc)


def test_sigint_is_keyboard_interrupt_then_death_by_sigint(outfile):
    proc = run_and_signal(outfile, signal.SIGINT)
    assert proc.returncode == -signal.SIGINT, explain(proc)
    assert "Traceback (most recent call last):" in proc.stderr, explain(proc)
    assert "KeyboardInterrupt" in proc.stderr
    assert "runpy" not in proc.stderr and "scalene/runner.py" not in proc.stderr
    profile = load_json(outfile)
    assert profile is not None, explain(proc)
    assert file_entry(profile, "wait_for_signal.py") is not None, explain(proc, profile)


@pytest.mark.parametrize("how", ["exit", "return"])
def test_forked_child_does_not_write_the_profile(run_scalene, outfile, how):
    # The parent checks, after the child has ended, that no profile exists
    # yet: the child must not have written one.
    proc, _ = run_scalene([program("forker.py"), str(outfile), how])
    assert proc.returncode == 0, explain(proc)
    t = truth(proc)
    assert t["child_status"] == 0, t
    assert t["exists_after_child"] is False, "the forked child wrote the profile"
    assert proc.stderr.count("Scalene: profile saved") == 1, explain(proc)
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr, explain(proc)
    profile = load_json(proc.outfile)
    assert profile is not None
    entry = file_entry(profile, "forker.py")
    assert entry is not None, explain(proc, profile)
    # The parent's own work (burn(0.3) after the child ended) is in it.
    assert entry["percent_cpu_time"] > 0, explain(proc, profile)


def test_programs_own_signal_handlers_keep_working(run_scalene):
    proc, profile = run_scalene([program("own_signals.py")])
    assert proc.returncode == 0, explain(proc)
    t = truth(proc)
    counts = t["counts"]
    # signal.alarm(1): exactly one SIGALRM, about a second later.
    assert counts["alarm"] == 1, t
    assert 0.9 <= t["alarm_after"] <= 2.0, t
    # ITIMER_REAL every 50 ms: the count the wall clock says, within 2 (the
    # last period may be cut short, a signal may coalesce under load).
    assert abs(counts["real"] - t["real_expected"]) <= 2, t
    # ITIMER_PROF every 10 ms of process CPU: within 20 % (+2) of the count
    # the CPU clock says.
    assert counts["prof"] >= 0.8 * t["prof_expected"] - 2, t
    assert counts["prof"] <= 1.2 * t["prof_expected"] + 2, t
    # SIGUSR1 / SIGUSR2: every one sent was handled.
    assert counts["usr1"] == t["sent"] and counts["usr2"] == t["sent"], t
    assert profile is not None and file_entry(profile, "own_signals.py") is not None


def test_native_blocking_call_not_interrupted_and_cheap(run_scalene):
    proc, profile = run_scalene([program("poll_block.py")])
    assert proc.returncode == 0, explain(proc)
    t = truth(proc)
    # poll(NULL, 0, 2000) returned 0 (timeout) rather than -1/EINTR.
    assert t["rc"] == 0, t
    assert t["errno"] != 4, t  # EINTR
    assert t["wall"] >= 1.9, t
    # The profiler costs little CPU while the program is blocked: under 5%
    # of the wait, all threads of the process included.
    assert t["process_cpu"] < 0.05 * t["wall"], t
    entry = file_entry(profile, "poll_block.py")
    assert entry is not None, explain(proc, profile)
    row = line_with(entry, "# @POLL")
    # The wait is system (off-CPU) time, not Python or native CPU.
    assert row["n_sys_percent"] >= 80, explain(proc, profile)
    assert row["n_cpu_percent_python"] + row["n_cpu_percent_c"] < 2, explain(proc, profile)
    main = [th for th in profile["threads"] if th["name"] == "MainThread"]
    assert main and main[0]["cpu_sec"] < 0.05 * t["wall"], profile["threads"]
