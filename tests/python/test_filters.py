"""Which files and lines a profile reports: --cpu-percent-threshold with
--reduced-profile, and --profile-only / --profile-exclude / --profile-all /
--profile-system-libraries on a program with a second module beside it and
work in the standard library (fractions.py)."""

from __future__ import annotations

import pytest

from helpers import (PROGRAMS, explain, scalene_notes, file_entry, file_names, lines_with, program, total, truth)


def test_threshold_drops_small_lines_and_files(run_scalene):
    # CPU thresholds alone: with memory on, lines with many sampled
    # allocations are kept by --malloc-threshold too (tested in test_memory).
    proc, profile = run_scalene(["--cpu-only", "--cpu-percent-threshold", "50", "--reduced-profile",
                                 program("thresh_main.py")])
    assert proc.returncode == 0, explain(proc)
    t = truth(proc)
    share = {k: 100.0 * t[k] / t["main_cpu"] for k in ("big", "small", "helper")}
    # The program's own measurements put the lines well apart from 50%.
    assert share["big"] > 60 and share["small"] < 40 and share["helper"] < 40, share
    main = file_entry(profile, "thresh_main.py")
    assert main is not None, explain(proc, profile)
    big = lines_with(main, "# @BIG")
    assert len(big) == 1 and total(big[0]) >= 50, explain(proc, profile)
    assert lines_with(main, "# @SMALL") == [], explain(proc, profile)
    # Reduced: only lines at or over the threshold are listed.
    assert all(total(r) >= 50 for r in main["lines"]), explain(proc, profile)
    # The helper module is under the threshold: not in the profile at all.
    assert file_entry(profile, "thresh_helper.py") is None, explain(proc, profile)


def test_without_threshold_everything_is_there(run_scalene):
    proc, profile = run_scalene([program("thresh_main.py")])
    assert proc.returncode == 0, explain(proc)
    main = file_entry(profile, "thresh_main.py")
    helper = file_entry(profile, "thresh_helper.py")
    assert main is not None and helper is not None, explain(proc, profile)
    assert total(lines_with(main, "# @SMALL")[0]) > 0
    assert total(lines_with(helper, "# @HELPER")[0]) > 0
    # Not reduced: every source line of the file, in order.
    with open(program("thresh_main.py")) as f:
        n_lines = len(f.read().splitlines())
    assert [r["lineno"] for r in main["lines"]] == list(range(1, n_lines + 1))


@pytest.mark.parametrize("options, present, absent", [
    ([], {"filt_main.py", "filt_helper.py"}, {"fractions.py"}),
    (["--profile-exclude", "filt_helper"], {"filt_main.py"}, {"filt_helper.py", "fractions.py"}),
    (["--profile-only", "filt_helper"], {"filt_helper.py"}, {"filt_main.py", "fractions.py"}),
    (["--profile-only", "helper,fractions"], {"filt_helper.py", "fractions.py"}, {"filt_main.py"}),
    (["--profile-all"], {"filt_main.py", "filt_helper.py", "fractions.py"}, set()),
    (["--profile-system-libraries"], {"filt_main.py", "filt_helper.py", "fractions.py"}, set()),
])
def test_file_filters(run_scalene, options, present, absent):
    proc, profile = run_scalene([*options, program("filt_main.py")])
    assert proc.returncode == 0, explain(proc)
    names = set(file_names(profile))
    assert present <= names, f"{sorted(names)}\n" + explain(proc, profile)
    assert not (absent & names), f"{sorted(names)}\n" + explain(proc, profile)
    # Scalene's own files never show up.
    assert not any(n in names for n in ("runner.py", "cli.py", "filters.py")), names


def test_program_path_elsewhere_profiles_nothing(run_scalene, tmp_path):
    """--program-path names the tree whose files are profiled: pointed at
    another folder, neither program file is, and the run says why the
    profile is empty."""
    proc, profile = run_scalene(["--program-path", str(tmp_path), program("filt_main.py")])
    assert proc.returncode == 0, explain(proc)
    assert profile["files"] == {}, explain(proc, profile)
    notes = scalene_notes(proc)
    assert len(notes) == 2 and notes[0].startswith("Scalene: profile saved to"), explain(proc)
    assert "filter" in notes[1] or "program-path" in notes[1], explain(proc)


def test_program_path_parent_folder(run_scalene):
    proc, profile = run_scalene(["--program-path", str(PROGRAMS.parent), program("filt_main.py")])
    assert proc.returncode == 0, explain(proc)
    assert {"filt_main.py", "filt_helper.py"} <= set(file_names(profile)), explain(proc, profile)


def test_program_path_must_exist(run_scalene, tmp_path):
    proc, profile = run_scalene(["--program-path", str(tmp_path / "nope"), program("filt_main.py")])
    assert proc.returncode == 2 and profile is None, explain(proc)
    assert "Traceback" not in proc.stderr
