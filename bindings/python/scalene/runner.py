"""Run a program under the profiler, in this process, as ``__main__``.

What the profiled program sees is what ``python prog.py`` / ``python -m mod``
would give it: ``sys.argv`` is ``[program, *args]`` (``runpy`` puts the
program's absolute path in ``sys.argv[0]``), ``sys.path[0]`` is the script's
folder (the current folder for ``-m``), its stdout and stderr are its own,
and the exit status is its own:

* normal end: 0; ``sys.exit(n)``: n; ``sys.exit("msg")``: prints msg, 1;
* an uncaught exception: the usual traceback (without the profiler's own
  frames), 1;
* ``KeyboardInterrupt``: the traceback, then death by SIGINT, as CPython;
* SIGTERM, SIGHUP, SIGQUIT while the program has no handler of its own for
  them: death by that signal.  Our handlers for these are plain
  ``signal.signal`` handlers installed only over SIG_DFL, so a program that
  installs its own simply replaces ours.

In every one of these cases the profile is written first (``stop()`` then
``export()``), except in a process forked by the program: the profile
belongs to the parent.  Non-daemon threads the program leaves running are
waited for (as the interpreter would) before the profile is written, so
their work is in it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import runpy
import signal
import sys
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional

from scalene import decorators, filters, npcopy
from scalene.cli import UsageError
from scalene.cli import flush_std as _flush_std

__all__ = ["Target", "run", "active_session"]

_FATAL_SIGNALS = [
    getattr(signal, name)
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name)
]

_OWN_DIR = filters.scalene_package_dir()
_RUNPY_FILES = {
    os.path.realpath(runpy.__file__) if getattr(runpy, "__file__", None) else "",
    "<frozen runpy>",
}

_active: Optional["Session"] = None


def active_session() -> Optional["Session"]:
    """The session profiling this process, if any (scalene.scalene_profiler)."""
    return _active


def _stderr_line(text: str) -> None:
    """Write one line to the process's real stderr, whatever the program did
    with ``sys.stderr``."""
    for stream in (sys.__stderr__, sys.stderr):
        if stream is None:
            continue
        try:
            stream.write(text + "\n")
            stream.flush()
            return
        except (OSError, ValueError, AttributeError):
            continue
    try:
        os.write(2, (text + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _die_by(signum: int) -> None:
    """End the process by signal ``signum`` with its default action."""
    _flush_std()
    try:
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        signal.pthread_kill(threading.get_ident(), signum)
        os.kill(os.getpid(), signum)
        import time

        time.sleep(1.0)
    except BaseException:
        pass
    os._exit(128 + signum)


def _clean_text(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# --------------------------------------------------------------------------
# What to run
# --------------------------------------------------------------------------


class Target:
    """A script path or a module name, with the program's arguments."""

    def __init__(self, kind: str, name: str, args: List[str]) -> None:
        self.kind = kind
        self.name = name
        self.args = list(args)
        self.path = ""  # absolute path of the code run (script, or module file)
        self.sys_path0 = ""
        self.default_program_path = ""
        self.entrypoint_dir = ""
        self.namespace: Optional[Dict[str, Any]] = None  # the finished program's globals

    @classmethod
    def for_script(cls, script: str, args: List[str]) -> "Target":
        t = cls("script", script, args)
        if not os.path.exists(script):
            raise UsageError(f"can't open file '{script}': No such file or directory")
        path = os.path.abspath(script)
        if os.path.isdir(path):
            if not os.path.isfile(os.path.join(path, "__main__.py")):
                raise UsageError(f"can't find '__main__' module in '{script}'")
            t.sys_path0 = ""  # runpy puts the folder itself first
            folder = os.path.realpath(path)
        else:
            try:
                with open(path, "rb") as f:
                    f.read(1)
            except OSError as e:
                raise UsageError(f"can't open file '{script}': {e.strerror or e}")
            folder = os.path.dirname(os.path.realpath(path))
            t.sys_path0 = folder
        t.path = path
        t.default_program_path = folder
        t.entrypoint_dir = folder
        return t

    @classmethod
    def for_module(cls, module: str, args: List[str]) -> "Target":
        t = cls("module", module, args)
        cwd = os.getcwd()
        t.sys_path0 = cwd
        _set_sys_path0(cwd)
        try:
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.submodule_search_locations is not None:
                main_spec = importlib.util.find_spec(module + ".__main__")
                if main_spec is None:
                    raise UsageError(
                        f"No module named {module}.__main__; '{module}' is a "
                        "package and cannot be directly executed"
                    )
                spec = main_spec
        except (ImportError, ValueError) as e:
            raise UsageError(f"cannot find module '{module}': {e}")
        if spec is None:
            raise UsageError(f"No module named {module}")
        origin = spec.origin if spec.has_location and spec.origin else ""
        t.path = os.path.abspath(origin) if origin else ""
        t.default_program_path = cwd
        t.entrypoint_dir = os.path.dirname(t.path) if t.path else cwd
        return t

    @property
    def program(self) -> str:
        return self.path or self.name

    def prepare(self) -> None:
        """Set sys.argv and sys.path[0] as python would."""
        sys.argv = [self.name if self.kind == "module" else self.path] + self.args
        if self.sys_path0:
            _set_sys_path0(self.sys_path0)
        elif sys.path:
            del sys.path[0]

    def execute(self) -> None:
        # The program's globals stay alive until the profile is written, so
        # memory it still holds at the end shows as held (net growth), as it
        # would be for the whole life of a script run by python itself.
        if self.kind == "module":
            self.namespace = runpy.run_module(self.name, run_name="__main__", alter_sys=True)
        else:
            self.namespace = runpy.run_path(self.path, run_name="__main__")


def _set_sys_path0(folder: str) -> None:
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)


# --------------------------------------------------------------------------
# A profiling session
# --------------------------------------------------------------------------


class Session:
    def __init__(self, profiler: Any, outfile: str, outfile_display: str) -> None:
        self.profiler = profiler
        self.outfile = outfile
        self.outfile_display = outfile_display
        self.pid = os.getpid()
        self.cwd = os.getcwd()
        self.finishing = False
        self.finished = False
        self.export_failed = False
        self.pending_signal: Optional[int] = None

    # -- setup -------------------------------------------------------------

    def in_owner_process(self) -> bool:
        return os.getpid() == self.pid

    def install_thread_hook(self) -> None:
        session = self
        original = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
        if getattr(original, "_scalene_hook", False):
            original = original.__wrapped__  # type: ignore[attr-defined]

        def _bootstrap_inner(thread: threading.Thread) -> None:
            registered = False
            if not session.finished and session.in_owner_process():
                try:
                    session.profiler.register_thread(thread.name)
                    registered = True
                except Exception:
                    registered = False
            try:
                original(thread)
            finally:
                if registered:
                    try:
                        session.profiler.unregister_thread()
                    except Exception:
                        pass

        _bootstrap_inner.__wrapped__ = original  # type: ignore[attr-defined]
        _bootstrap_inner._scalene_hook = True  # type: ignore[attr-defined]
        threading.Thread._bootstrap_inner = _bootstrap_inner  # type: ignore[attr-defined]

    def install_signal_handlers(self) -> None:
        for sig in _FATAL_SIGNALS:
            try:
                if signal.getsignal(sig) == signal.SIG_DFL:
                    signal.signal(sig, self._on_fatal_signal)
            except (OSError, ValueError, RuntimeError):
                pass
        # A forked child is not profiled (the parent writes the profile), so
        # it must die of these signals as the program would without us: a
        # Python-level handler only runs between bytecodes, and a worker
        # blocked in a semaphore would never die of Pool.terminate()'s
        # SIGTERM.
        os.register_at_fork(after_in_child=self._restore_fatal_signals)

    def _restore_fatal_signals(self) -> None:
        for sig in _FATAL_SIGNALS:
            try:
                if signal.getsignal(sig) == self._on_fatal_signal:
                    signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass

    # -- signals -----------------------------------------------------------

    def _on_fatal_signal(self, signum: int, frame: Any) -> None:
        if self.finishing:
            self.pending_signal = signum
            return
        self.finish()
        _die_by(signum)

    def _record_signal(self, signum: int, frame: Any) -> None:
        if self.pending_signal is None:
            self.pending_signal = signum

    def _defer_signals(self) -> Dict[int, Any]:
        saved: Dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return saved
        for sig in [signal.SIGINT] + _FATAL_SIGNALS:
            try:
                saved[sig] = signal.signal(sig, self._record_signal)
            except (OSError, ValueError, RuntimeError):
                pass
        return saved

    def _restore_signals(self, saved: Dict[int, Any]) -> None:
        for sig, handler in saved.items():
            try:
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError, TypeError):
                pass
        pending, self.pending_signal = self.pending_signal, None
        if pending is None:
            return
        handler = saved.get(pending, signal.SIG_DFL)
        if handler in (signal.SIG_DFL, signal.default_int_handler, self._on_fatal_signal):
            _die_by(pending)
        if handler != signal.SIG_IGN:
            os.kill(os.getpid(), pending)  # the program's own handler runs

    # -- the end -------------------------------------------------------------

    def finish(self) -> None:
        """Stop the profiler and write the profile: once, and only in the
        process that started it."""
        if self.finished or self.finishing:
            return
        if not self.in_owner_process():
            self.finished = True
            return
        self.finishing = True
        saved = self._defer_signals()
        try:
            self._stop_and_export()
        finally:
            self.finishing = False
            self.finished = True
            self._restore_signals(saved)

    def _stop_and_export(self) -> None:
        try:
            self.profiler.stop()
        except Exception as e:
            _stderr_line(f"scalene: error: stopping the profiler failed: {_one_line(e)}")
        try:
            if decorators.decorated():
                self._export_decorated_only()
            else:
                self.profiler.export(self.outfile)
        except Exception as e:
            self.export_failed = True
            _flush_std()
            _stderr_line(
                f"scalene: error: could not write the profile to "
                f"'{self._display_path()}': {_one_line(e)}"
            )
            return
        _flush_std()
        _stderr_line(f"Scalene: profile saved to {self._display_path()}")
        reason = self._no_samples_reason()
        if reason:
            if not reason.lower().startswith("no sample"):
                reason = f"the profile has no samples: {reason}"
            _stderr_line(f"Scalene: {reason}")

    def _export_decorated_only(self) -> None:
        """@profile was used: write the profile reduced to the decorated
        functions, in the format the outfile's name asks for (the core
        converts and writes atomically)."""
        import tempfile

        from scalene import _core  # type: ignore[attr-defined]

        folder = os.path.dirname(self.outfile) or "."
        fd, full = tempfile.mkstemp(prefix=".scalene-full-", suffix=".json", dir=folder)
        os.close(fd)
        reduced = full[:-5] + "-decorated.json"
        try:
            self.profiler.export(full, "json")
            with open(full, encoding="utf-8") as f:
                doc = decorators.filter_profile(json.load(f))
            with open(reduced, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            _core.convert_profile(reduced, self.outfile)
        finally:
            for path in (full, reduced):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _display_path(self) -> str:
        try:
            same_cwd = os.getcwd() == self.cwd
        except OSError:
            same_cwd = False
        return self.outfile_display if same_cwd else self.outfile

    def _no_samples_reason(self) -> str:
        """Why the written profile is empty, in the core's words ("" when
        it is not empty, or when the outfile is an HTML report)."""
        from scalene import view_cli

        try:
            data = view_cli.load_profile(self.outfile)  # JSON or .msgpack.zst
        except Exception:
            return ""
        if data.get("files"):
            return ""
        return str(data.get("no_samples_reason") or "")

    # -- running -------------------------------------------------------------

    def _wait_for_threads(self) -> None:
        """Wait for the program's non-daemon threads, as the interpreter
        does at exit (running threading's own atexit calls first, so that
        e.g. idle ThreadPoolExecutor workers are told to quit)."""
        if not self.in_owner_process():
            return
        shutdown = getattr(threading, "_shutdown", None)
        try:
            if shutdown is not None and threading.current_thread() is threading.main_thread():
                shutdown()
            else:
                me = threading.current_thread()
                for t in threading.enumerate():
                    if t is not me and not t.daemon:
                        t.join()
        except BaseException:
            # Ctrl-C while waiting: the interpreter ignores it the same way.
            pass

    def print_exception(self, exc: BaseException) -> None:
        tb = exc.__traceback__
        while tb is not None and _is_wrapper_file(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        # The interpreter's display reads the traceback off the exception.
        try:
            exc.__traceback__ = tb
        except (AttributeError, TypeError):
            pass
        try:
            sys.excepthook(type(exc), exc, tb)
        except BaseException:
            try:
                traceback.print_exception(type(exc), exc, tb)
            except BaseException:
                pass

    def run(self, target: Target) -> int:
        try:
            target.execute()
            status = 0
        except SystemExit as e:
            status = _system_exit_status(e.code)
        except KeyboardInterrupt as e:
            self.print_exception(e)
            self._wait_for_threads()
            self.finish()
            if self.in_owner_process():
                try:
                    atexit._run_exitfuncs()
                except BaseException:
                    pass
            _die_by(signal.SIGINT)
            raise  # not reached
        except BaseException as e:
            self.print_exception(e)
            status = 1
        self._wait_for_threads()
        self.finish()
        if self.export_failed and status == 0:
            status = 1
        return status


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _is_wrapper_file(filename: str) -> bool:
    if filename in _RUNPY_FILES or filename.startswith("<frozen importlib._bootstrap"):
        return True
    if filename.startswith("<"):
        return False
    real = os.path.realpath(filename)
    return real in _RUNPY_FILES or real == _OWN_DIR or real.startswith(_OWN_DIR + os.sep)


def _system_exit_status(code: Any) -> int:
    """What the interpreter makes of ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    _flush_std()
    try:
        print(code, file=sys.stderr, flush=True)
    except Exception:
        _stderr_line(str(code))
    return 1


# --------------------------------------------------------------------------
# Entry
# --------------------------------------------------------------------------


def run(core: Any, options: Dict[str, Any], target: Target, *,
        outfile_display: str, start_off: bool = False) -> int:
    """Profile ``target`` with ``options`` (option name -> value); return the
    exit status (or end the process by the signal that ended the program)."""
    global _active
    should_profile: Callable[[str], bool] = filters.make_filter(
        str(options["program-path"]), options)
    try:
        profiler = core.Profiler(options, should_profile)
    except (ValueError, TypeError) as e:
        raise UsageError(_one_line(e))

    session = Session(profiler, str(options["outfile"]), outfile_display)
    session.install_thread_hook()
    session.install_signal_handlers()
    decorators.install()
    target.prepare()
    try:
        profiler.start()
        if start_off:
            profiler.pause()
    except Exception as e:
        raise UsageError(f"cannot start the profiler: {_one_line(e)}")
    if not options.get("cpu-only") or options.get("memory"):
        npcopy.install()
    # The session exists once started: metadata goes in after start().
    _set_meta(profiler, {
        "program": target.program,
        "args": target.args,
        "filename": target.program,
        "entrypoint_dir": target.entrypoint_dir,
    })
    _active = session
    return session.run(target)


def _set_meta(profiler: Any, meta: Dict[str, Any]) -> None:
    for key, value in meta.items():
        try:
            if isinstance(value, list):
                profiler.set_meta(key, [_clean_text(v) for v in value])
            else:
                profiler.set_meta(key, _clean_text(value))
        except Exception as e:
            _stderr_line(f"scalene: warning: could not record '{key}' in the profile: "
                         f"{_one_line(e)}")
