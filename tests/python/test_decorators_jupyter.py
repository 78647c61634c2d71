"""@profile (report only decorated functions) and the Jupyter magics."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from helpers import explain, file_entry, lines_with, program, run_cli, scalene_env, total


def test_profile_decorator_reports_only_decorated_functions(run_scalene):
    proc, profile = run_scalene(["--cpu-sampling-rate", "0.005", program("decorated.py")])
    assert proc.returncode == 0 and proc.stdout == "done\n", explain(proc)
    entry = file_entry(profile, "decorated.py")
    assert entry is not None, explain(proc, profile)
    assert profile.get("profile_only_decorated") is True
    assert lines_with(entry, "# @PLAIN") == [], "an undecorated function was reported"
    chosen = lines_with(entry, "# @CHOSEN")
    assert chosen and sum(total(r) for r in chosen) > 20, explain(proc, profile)
    assert [f["line"] for f in entry["functions"]] == ["chosen"]
    # shares stay shares of the whole run: the other half went to plain()
    assert sum(total(r) for r in chosen) < 80, explain(proc, profile)


def test_profile_decorator_keeps_compact_format(run_scalene, tmp_path):
    out = tmp_path / "d.msgpack.zst"
    proc = run_cli(["run", "-o", str(out), program("decorated.py")])
    assert proc.returncode == 0, explain(proc)
    assert out.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    view = run_cli(["view", "--cli", "-r", str(out)])
    assert "# @CHOSEN" in view.stdout and "# @PLAIN" not in view.stdout, view.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["d.msgpack.zst"], "temporary files left"


JUPYTER = textwrap.dedent('''
    from IPython.core.interactiveshell import InteractiveShell
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "scalene")
    ip.run_cell_magic("scalene", "--cpu-sampling-rate 0.005",
                     "def busy(n):\\n    s = 0\\n    for i in range(n):\\n"
                     "        s += i * i % 7\\n    return s\\nx = busy(3_000_000)\\n")
    print("X", ip.user_ns["x"])
    ip.run_line_magic("scrun", "--cpu-sampling-rate 0.005 y = busy(1_000_000) + 1")
    print("Y", ip.user_ns["y"])
    ip.run_line_magic("scrun", "--bogus-option z = 1")
    print("Z", "z" in ip.user_ns)
''')


def test_jupyter_magics_profile_cells_in_the_notebook_namespace():
    proc = subprocess.run([sys.executable, "-c", JUPYTER], env=scalene_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, explain(proc)
    out = proc.stdout
    # the cell ran in the notebook's namespace and was profiled line by line
    busy = lambda n: sum(i * i % 7 for i in range(n))  # noqa: E731
    assert f"X {busy(3_000_000)}" in out and f"Y {busy(1_000_000) + 1}" in out, out
    loop = [l for l in out.splitlines() if "s += i * i % 7" in l]
    assert loop and "%" in loop[0], out
    assert any("y = busy(1_000_000) + 1" in l and "%" in l for l in out.splitlines()), out
    # a bad option: one error line, the statement not run
    assert "Z False" in out
    errors = [l for l in proc.stderr.splitlines() if l.startswith("scalene: error:")]
    assert len(errors) == 1 and "--bogus-option" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
