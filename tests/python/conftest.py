"""Fixtures of the Python tests: every test runs real `python -m scalene`
subprocesses against the in-tree package (bindings/python, with the
scalene._core extension built there by `make python`)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import pytest

from helpers import PROGRAMS, RUN_TIMEOUT, load_json, scalene_cmd, scalene_env

RunResult = Tuple[subprocess.CompletedProcess, Optional[Dict[str, Any]]]


@pytest.fixture
def outfile(tmp_path: Path) -> Path:
    return tmp_path / "profile.json"


@pytest.fixture
def run_scalene(tmp_path: Path) -> Callable[..., RunResult]:
    """run_scalene(args, *, cwd=programs/, env=None, timeout=120)
    -> (completed process, parsed profile or None).

    Runs `python -m scalene run -o TMP/profile-N.json ARGS`; the profile is
    None when the run wrote none."""
    counter = itertools.count()

    def run(args: Sequence[str], *, cwd: Optional[str] = None,
            env: Optional[Dict[str, str]] = None,
            timeout: float = RUN_TIMEOUT) -> RunResult:
        out = tmp_path / f"profile-{next(counter)}.json"
        proc = subprocess.run(
            scalene_cmd("run", "-o", str(out), *args),
            cwd=cwd or str(PROGRAMS), env=scalene_env(env), capture_output=True,
            text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        proc.outfile = out  # type: ignore[attr-defined]
        return proc, load_json(out)

    return run
