"""`scalene view`: the terminal view of a real profile, its --reduced
filter, colour only on a terminal, and one-line errors."""

from __future__ import annotations

import json

import os
import pty
import select
import subprocess

import pytest

from helpers import (PROGRAMS, explain, one_line_error, program, run_cli, scalene_cmd,
                     scalene_env)


@pytest.fixture(scope="module")
def real_profile(tmp_path_factory):
    """A profile of split_3_1.py, made once for this module's tests."""
    out = tmp_path_factory.mktemp("view") / "profile.json"
    proc = run_cli(["run", "--cpu-only", "-o", str(out), program("split_3_1.py")])
    assert proc.returncode == 0 and out.exists(), explain(proc)
    return out


def test_cli_view_shows_source_and_percentages(real_profile):
    proc = run_cli(["view", "--cli", str(real_profile)])
    assert proc.returncode == 0, explain(proc)
    out = proc.stdout
    assert program("split_3_1.py") in out
    assert "% of time" in out
    assert "Python" in out and "native" in out and "system" in out
    # Every source line is there, inactive ones included.
    assert "def work_a(budget):" in out
    assert "# @INACTIVE" in out
    hot = [l for l in out.splitlines() if "n += i * i % 7  # @A" in l]
    assert hot and "%" in hot[0], out
    # The function summary.
    assert "function summary" in out
    assert any(l.rstrip().endswith("work_a") and "%" in l for l in out.splitlines()), out
    # A pipe gets no colour.
    assert "\x1b[" not in out


def test_cli_view_reduced_shows_only_active_lines(real_profile):
    proc = run_cli(["view", "--cli", "-r", str(real_profile)])
    assert proc.returncode == 0, explain(proc)
    out = proc.stdout
    assert "# @INACTIVE" not in out
    assert "def work_a(budget):" not in out
    assert "n += i * i % 7  # @A" in out and "n += i * i % 7  # @B" in out
    long_proc = run_cli(["view", "--reduced", "--cli", str(real_profile)])
    assert long_proc.stdout == out


def test_view_without_display_writes_html_and_prints_its_path(real_profile, tmp_path):
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
    proc = run_cli(["view", str(real_profile)], cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, explain(proc)
    page = tmp_path / "scalene-profile.html"
    assert proc.stdout.strip() == str(page)
    html = page.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    # self-contained: nothing is fetched from elsewhere
    assert "<script src=" not in html and "<link rel=\"stylesheet\" href=" not in html
    assert "work_a" in html


def test_view_default_file_is_scalene_profile_json(real_profile, tmp_path):
    (tmp_path / "scalene-profile.json").write_bytes(real_profile.read_bytes())
    proc = run_cli(["view", "--cli"], cwd=str(tmp_path))
    assert proc.returncode == 0, explain(proc)
    assert "def work_a(budget):" in proc.stdout


def _run_on_tty(args, env_extra=None):
    """Run `scalene ARGS` with stdout on a pseudo-terminal; return its output."""
    master, slave = pty.openpty()
    env = scalene_env(env_extra)
    proc = subprocess.Popen(scalene_cmd(*args), cwd=str(PROGRAMS), env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=30)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_only(real_profile):
    rc, out = _run_on_tty(["view", "--cli", str(real_profile)])
    assert rc == 0
    assert "\x1b[" in out and "def work_a" in out
    rc, out = _run_on_tty(["view", "--cli", str(real_profile)], {"NO_COLOR": "1"})
    assert rc == 0
    assert "\x1b[" not in out and "def work_a" in out


def test_view_errors_are_one_line(tmp_path):
    one_line_error(run_cli(["view", "--cli", str(tmp_path / "missing.json")]))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(run_cli(["view", "--cli", str(bad)]))
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"files": [1, 2]}')
    one_line_error(run_cli(["view", "--cli", str(wrong)]))
    one_line_error(run_cli(["view", "--cli", str(tmp_path)]))  # a folder


@pytest.mark.parametrize("flag", ["--html", "--standalone"])
def test_html_flags_write_the_report(real_profile, tmp_path, flag):
    proc = run_cli(["view", flag, str(real_profile)], cwd=str(tmp_path))
    assert proc.returncode == 0, explain(proc)
    assert (tmp_path / "scalene-profile.html").stat().st_size > 1000


def test_compact_profile_views_like_json(real_profile, tmp_path):
    """-o x.msgpack.zst writes the compact format; view reads it by content."""
    compact = tmp_path / "p.msgpack.zst"
    proc = run_cli(["run", "-o", str(compact), program("split_3_1.py")])
    assert proc.returncode == 0, explain(proc)
    assert compact.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame
    renamed = tmp_path / "no-extension"
    renamed.write_bytes(compact.read_bytes())
    proc = run_cli(["view", "--cli", str(renamed)])
    assert proc.returncode == 0, explain(proc)
    assert "def work_a(budget):" in proc.stdout


def test_merge_adds_up_and_keeps_processes(real_profile, tmp_path):
    out = tmp_path / "merged.json"
    proc = run_cli(["merge", str(real_profile), str(real_profile), "-o", str(out)])
    assert proc.returncode == 0, explain(proc)
    one = json.loads(real_profile.read_text())
    merged = json.loads(out.read_text())
    assert len(merged["processes"]) == 2
    assert abs(merged["total_time_sec"] - 2 * one["total_time_sec"]) < 1e-6
    # the same program twice: every share of time stays what it was
    name = next(iter(one["files"]))
    a = {r["lineno"]: r for r in one["files"][name]["lines"]}
    for row in merged["files"][name]["lines"]:
        assert abs(row["n_cpu_percent_python"] - a[row["lineno"]]["n_cpu_percent_python"]) < 1e-6


def test_merge_of_a_corrupt_profile_is_one_error_line(real_profile, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"files": ')
    line = one_line_error(run_cli(["merge", str(real_profile), str(bad), "-o",
                                   str(tmp_path / "m.json")]))
    assert "bad.json" in line


def _with_memory_and_gpu(real_profile, tmp_path):
    data = json.loads(real_profile.read_text())
    name = next(iter(data["files"]))
    row = next(r for r in data["files"][name]["lines"] if "# @A" in r["line"])
    row.update(n_malloc_mb=80.0, n_python_fraction=0.25, n_growth_mb=12.0,
               n_copy_mb_s=7.0, n_gpu_percent=30.0, n_gpu_peak_memory_mb=512.0,
               memory_samples=[[0, 1.0], [1, 10.0], [2, 40.0], [3, 80.0]])
    path = tmp_path / "mem.json"
    path.write_text(json.dumps(data))
    return path


def test_cli_view_memory_and_gpu_columns_appear_with_data(real_profile, tmp_path):
    plain = run_cli(["view", "--cli", str(real_profile)])
    assert plain.returncode == 0 and "Mem Py" not in plain.stdout and "GPU" not in plain.stdout
    proc = run_cli(["view", "--cli", "-r", str(_with_memory_and_gpu(real_profile, tmp_path))],
                   env={"COLUMNS": "200"})
    assert proc.returncode == 0, explain(proc)
    header = next(l for l in proc.stdout.splitlines() if "Mem Py" in l)
    for title in ("native", "net MB", "timeline", "copy MB/s", "GPU", "GPU MB"):
        assert title in header, header
    row = next(l for l in proc.stdout.splitlines() if "# @A" in l)
    # 80 MB at 25 % Python: 20 Python, 60 native; net 12; the rising footprint
    cells = row.split()
    assert "20" in cells and "60" in cells and "12" in cells and "30%" in cells, row
    assert any(ch in row for ch in "▁▂▃") and "█" in row, row


def test_cli_view_fits_the_terminal_width(real_profile):
    proc = run_cli(["view", "--cli", str(real_profile)], env={"COLUMNS": "60"})
    assert proc.returncode == 0, explain(proc)
    rows = [l for l in proc.stdout.splitlines() if l[:6].strip().isdigit()]
    assert rows and all(len(l) <= 60 for l in rows), max(rows, key=len)
    assert any(l.endswith("…") for l in rows)
