"""`scalene run` as a command: exit statuses, the program's argv and output,
`-m`, usage errors, help.  Every test runs a real `python -m scalene`."""

from __future__ import annotations

import json
import os

import pytest

from helpers import (load_json, PROGRAMS, explain, one_line_error, program, run_cli,
                     scalene_notes)


def argv_of(proc):
    for line in proc.stdout.splitlines():
        if line.startswith("ARGV "):
            return json.loads(line[5:])
    raise AssertionError(explain(proc))


def field(proc, name):
    for line in proc.stdout.splitlines():
        if line.startswith(name + " "):
            return line[len(name) + 1:]
    raise AssertionError(explain(proc))


# -- exit statuses -----------------------------------------------------------

@pytest.mark.parametrize("mode, status", [("ok", 0), ("code3", 3), ("msg", 1), ("raise", 1)])
def test_exit_status_is_the_programs(run_scalene, mode, status):
    proc, profile = run_scalene([program("exits.py"), mode])
    assert proc.returncode == status, explain(proc)
    # The program's own output is kept, on its own streams.
    assert "OUT-LINE from exits.py" in proc.stdout
    assert "ERR-LINE from exits.py" in proc.stderr
    assert "OUT-LINE" not in proc.stderr and "ERR-LINE" not in proc.stdout
    # The profile is written whatever the ending, and said so on stderr.
    assert profile is not None, explain(proc)
    assert isinstance(profile.get("files"), dict)
    assert f"Scalene: profile saved to {proc.outfile}" in proc.stderr, explain(proc)
    if mode == "msg":
        assert "goodbye message from the program" in proc.stderr
        assert "Traceback" not in proc.stderr
    if mode == "raise":
        err = proc.stderr
        assert "Traceback (most recent call last):" in err
        assert "ValueError: boom from the program" in err
        assert 'exits.py", line' in err and "in explode" in err
        # Only the program's frames: none of the profiler's or runpy's.
        assert "runpy" not in err and "scalene/runner.py" not in err, err
        assert "scalene" + os.sep not in err.split("Scalene: profile saved")[0], err
    if mode in ("ok", "code3"):
        assert "Traceback" not in proc.stderr


def test_program_metadata_in_profile(run_scalene):
    proc, profile = run_scalene([program("echo_args.py"), "---", "one", "--two"])
    assert proc.returncode == 0, explain(proc)
    assert profile["program"] == program("echo_args.py")
    assert profile["args"] == ["one", "--two"]
    assert profile["entrypoint_dir"] == str(PROGRAMS)
    for key in ("elapsed_time_sec", "files", "gpu", "memory", "samples",
                "max_footprint_mb", "growth_rate", "stacks", "scalenecore_version",
                "total_cpu_time_sec", "dropped_samples", "threads", "no_samples_reason"):
        assert key in profile, key


# -- the program's argv, sys.path, streams ------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["---", "--foo", "-x", "1"], ["--foo", "-x", "1"]),
    (["a", "--b", "-c", "3"], ["a", "--b", "-c", "3"]),
    (["--cpu-only", "-o", "x.json"], ["--cpu-only", "-o", "x.json"]),
    (["---", "---", "--help"], ["---", "--help"]),
    ([], []),
])
def test_argv_passed_untouched(run_scalene, args, expected):
    proc, profile = run_scalene([program("echo_args.py"), *args])
    assert proc.returncode == 0, explain(proc)
    assert argv_of(proc) == expected
    assert field(proc, "NAME") == "__main__"
    assert field(proc, "PATH0") == str(PROGRAMS)
    assert os.path.samefile(field(proc, "ARGV0"), program("echo_args.py"))
    assert "OUT-LINE to stdout" in proc.stdout
    assert "ERR-LINE to stderr" in proc.stderr
    assert profile is not None


def test_script_in_another_folder_gets_its_folder_first_on_path(run_scalene, tmp_path):
    proc, _ = run_scalene([program("echo_args.py"), "x"], cwd=str(tmp_path))
    assert proc.returncode == 0, explain(proc)
    assert field(proc, "PATH0") == str(PROGRAMS)
    assert field(proc, "CWD") == str(tmp_path)


def test_dash_m_module(run_scalene):
    proc, profile = run_scalene(["-m", "echo_args", "---", "--foo", "-x", "1"])
    assert proc.returncode == 0, explain(proc)
    assert argv_of(proc) == ["--foo", "-x", "1"]
    assert field(proc, "NAME") == "__main__"
    assert field(proc, "PATH0") == str(PROGRAMS)  # the current folder, as python -m
    assert os.path.samefile(field(proc, "ARGV0"), program("echo_args.py"))
    assert profile is not None and profile["program"] == program("echo_args.py")


def test_dash_m_module_exit_status(run_scalene):
    proc, profile = run_scalene(["-m", "exits", "code3"])
    assert proc.returncode == 3, explain(proc)
    assert profile is not None


def test_old_spelling_without_run(tmp_path):
    out = tmp_path / "p.json"
    proc = run_cli(["-o", str(out), program("echo_args.py"), "z"])
    assert proc.returncode == 0, explain(proc)
    assert argv_of(proc) == ["z"]
    assert out.exists()


# -- usage errors: one line, status 2, no traceback ---------------------------

@pytest.mark.parametrize("args", [
    ["run", "--no-such-option", program("exits.py")],
    ["run", "no_such_program.py"],
    ["run", str(PROGRAMS)],  # a folder without __main__.py
    ["run"],
    ["run", "--cpu-sampling-rate", "abc", program("exits.py")],
    ["run", "--cpu-sampling-rate", "-1", program("exits.py")],
    ["run", "--cpu-percent-threshold=1000", program("exits.py")],
    ["run", "--max-frames", "2.5", program("exits.py")],
    ["run", "--on", "--off", program("exits.py")],
    ["run", "-m", "no_such_module_xyz"],
    ["run", "-c", "scalene.yaml", program("exits.py")],
    ["run", "-o", "/no/such/folder/p.json", program("exits.py")],
    ["frobnicate"],
    ["view", "--no-such-option"],
])
def test_usage_errors(args, tmp_path):
    proc = run_cli(args, cwd=str(tmp_path))
    one_line_error(proc)
    assert "OUT-LINE" not in proc.stdout  # the program did not run
    assert not list(tmp_path.glob("*.json"))


def test_config_file_sets_options_and_command_line_wins(tmp_path):
    """-c FILE: the YAML keys of Scalene's README reach the profiler; an
    option given on the command line overrides the file."""
    cfg = tmp_path / "scalene.yaml"
    cfg.write_text("# options\noutfile: from-config.json\ncpu-sampling-rate: 0.005\n"
                   "cpu-percent-threshold: 2\nprofile-all: false\n")
    proc = run_cli(["run", "-c", str(cfg), program("exits.py")], cwd=str(tmp_path))
    assert proc.returncode == 0, explain(proc)
    profile = load_json(tmp_path / "from-config.json")
    assert profile is not None and profile["cpu_sampling_rate"] == 0.005, explain(proc)
    proc = run_cli(["run", "-c", str(cfg), "--cpu-sampling-rate", "0.02",
                    "-o", "cli.json", program("exits.py")], cwd=str(tmp_path))
    assert proc.returncode == 0, explain(proc)
    assert load_json(tmp_path / "cli.json")["cpu_sampling_rate"] == 0.02
    assert not (tmp_path / "from-config.json").stat().st_size == 0


@pytest.mark.parametrize("text, where, words", [
    ("cpu-only: true\nbogus-key: 1\n", ":2:1: bogus-key", "unknown option"),
    ("cpu-sampling-rate: fast\n", ":1:", "cpu-sampling-rate"),
    ("cpu-percent-threshold: 500\n", ":1:", "range"),
    ("cpu-only: [1, 2\n", ":", "yaml"),
])
def test_bad_config_file_is_one_error_line_and_nothing_runs(tmp_path, text, where, words):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    marker = tmp_path / "ran"
    script = tmp_path / "prog.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    proc = run_cli(["run", "-c", str(cfg), str(script)], cwd=str(tmp_path))
    line = one_line_error(proc)
    assert "bad.yaml" + where.split(" ")[0] in line or where in line, line
    assert words.lower() in line.lower(), line
    assert not marker.exists(), "the program ran despite a bad config file"


def test_missing_config_file_is_a_usage_error(tmp_path):
    proc = run_cli(["run", "-c", "nope.yaml", program("exits.py")], cwd=str(tmp_path))
    assert "nope.yaml" in one_line_error(proc)


def test_bad_environment_value_is_a_usage_error(tmp_path):
    proc = run_cli(["run", program("exits.py")], cwd=str(tmp_path),
                   env={"SCALENE_CPU_SAMPLING_RATE": "fast"})
    line = one_line_error(proc)
    assert "SCALENE_CPU_SAMPLING_RATE" in line


def test_environment_value_is_used(run_scalene):
    proc, profile = run_scalene([program("exits.py")], env={"SCALENE_CPU_SAMPLING_RATE": "0.005"})
    assert proc.returncode == 0, explain(proc)
    assert profile.get("cpu_sampling_rate", 0.005) == pytest.approx(0.005)


def test_gpu_warns_and_profiles_without_it(run_scalene):
    proc, profile = run_scalene(["--gpu", program("exits.py")])
    assert proc.returncode == 0, explain(proc)
    warnings = [l for l in proc.stderr.splitlines() if l.startswith("scalene: warning:")]
    assert len(warnings) == 1 and "--gpu" in warnings[0] and "not available" in warnings[0]
    assert profile is not None and profile["gpu"] is False


@pytest.mark.parametrize("flags", [[], ["--memory"]])
def test_memory_is_profiled_by_default_and_with_memory(run_scalene, flags):
    proc, profile = run_scalene([*flags, program("exits.py")])
    assert proc.returncode == 0, explain(proc)
    assert not [l for l in proc.stderr.splitlines() if "warning" in l], explain(proc)
    assert profile is not None and profile["memory"] is True, explain(proc, profile)
    assert profile["memory_reason"] == ""


def test_cpu_only_profiles_no_memory_and_says_why(run_scalene):
    proc, profile = run_scalene(["--cpu-only", program("exits.py")])
    assert proc.returncode == 0, explain(proc)
    assert profile["memory"] is False and "--cpu-only" in profile["memory_reason"]
    assert profile["alloc_samples"] == 0


def test_cpu_and_cpu_only_accepted(run_scalene):
    proc, profile = run_scalene(["--cpu", "--cpu-only", program("exits.py")])
    assert proc.returncode == 0, explain(proc)
    assert profile is not None


def test_off_writes_an_empty_profile_and_says_why(run_scalene):
    proc, profile = run_scalene(["--off", program("split_3_1.py")])
    assert proc.returncode == 0, explain(proc)
    assert profile is not None and profile["files"] == {}, explain(proc, profile)
    notes = scalene_notes(proc)
    assert len(notes) == 2 and notes[0].startswith("Scalene: profile saved to"), explain(proc)
    assert "--off" in notes[1], explain(proc)


def test_too_short_program_says_why(run_scalene):
    proc, profile = run_scalene([program("exits.py")])
    assert proc.returncode == 0, explain(proc)
    notes = scalene_notes(proc)
    assert notes[0] == f"Scalene: profile saved to {proc.outfile}", explain(proc)
    if profile["files"]:
        assert len(notes) == 1, explain(proc, profile)
    else:
        # One line saying why (here: the program is too short to sample).
        assert len(notes) == 2, explain(proc, profile)


# -- help and version ------------------------------------------------------------

def test_main_help():
    proc = run_cli(["--help"])
    assert proc.returncode == 0 and proc.stderr == ""
    assert "run" in proc.stdout and "view" in proc.stdout


def test_run_help_lists_basic_options_only():
    proc = run_cli(["run", "--help"])
    assert proc.returncode == 0, explain(proc)
    out = proc.stdout
    for opt in ("--outfile", "-o", "--cpu-only", "--config", "--help-advanced", "-m MODULE"):
        assert opt in out, opt
    for advanced in ("--cpu-sampling-rate", "--profile-all", "--ring-capacity"):
        assert advanced not in out, advanced


def test_run_help_advanced_lists_advanced_options():
    proc = run_cli(["run", "--help-advanced"])
    assert proc.returncode == 0, explain(proc)
    for opt in ("--cpu-sampling-rate", "--profile-all", "--profile-only", "--profile-exclude",
                "--profile-system-libraries", "--program-path", "--cpu-percent-threshold",
                "--on", "--off", "--memory", "--gpu"):
        assert opt in proc.stdout, opt
    assert "not available in this build" in " ".join(proc.stdout.split())  # --gpu


def test_view_help():
    proc = run_cli(["view", "--help"])
    assert proc.returncode == 0, explain(proc)
    for opt in ("--cli", "--reduced", "--html", "--standalone"):
        assert opt in proc.stdout


def test_version():
    proc = run_cli(["--version"])
    assert proc.returncode == 0, explain(proc)
    assert "libscalenecore" in proc.stdout
    assert "not built" not in proc.stdout


def test_off_with_a_compact_outfile_still_says_why(tmp_path):
    out = tmp_path / "p.msgpack.zst"
    proc = run_cli(["run", "--off", "-o", str(out), program("split_3_1.py")])
    assert proc.returncode == 0, explain(proc)
    notes = scalene_notes(proc)
    assert len(notes) == 2 and "--off" in notes[1], explain(proc)
