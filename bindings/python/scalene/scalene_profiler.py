"""Turn profiling on and off from inside the profiled program.

    from scalene import scalene_profiler
    scalene_profiler.start()   # resume sampling (e.g. after `scalene run --off`)
    ...
    scalene_profiler.stop()    # pause sampling

    with scalene_profiler.enable_profiling():
        ...

Outside ``scalene run`` these do nothing.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

__all__ = ["start", "stop", "is_profiling", "enable_profiling"]


def _session():
    from scalene import runner

    session = runner.active_session()
    if session is None or session.finished or not session.in_owner_process():
        return None
    return session


def _profiler():
    session = _session()
    return session.profiler if session is not None else None


def start() -> None:
    """Resume sampling."""
    p = _profiler()
    if p is not None:
        try:
            p.resume()
        except Exception:
            pass


def stop() -> None:
    """Pause sampling (the profile is still written when the program ends)."""
    p = _profiler()
    if p is not None:
        try:
            p.pause()
        except Exception:
            pass


def is_profiling() -> bool:
    p = _profiler()
    try:
        return bool(p is not None and p.is_sampling())
    except Exception:
        return False


@contextlib.contextmanager
def enable_profiling() -> Iterator[None]:
    """Sample only inside the ``with`` block."""
    start()
    try:
        yield
    finally:
        stop()
