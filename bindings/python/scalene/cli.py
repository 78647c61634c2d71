"""The ``scalene`` command: ``scalene run ...`` and ``scalene view ...``.

Entry point: ``scalene = scalene.cli:main`` (``python -m scalene`` calls the
same function).  ``main`` returns the exit status; errors in what the user
typed print exactly one line, ``scalene: error: ...``, and exit with 2.

The options of ``scalene run`` are built from the core's option table
(``scalene._core.options()``): an option ``NAME`` becomes ``--NAME``, a bool
option a flag, an advanced one is listed by ``--help-advanced`` only.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple

from scalene import __version__

PROG = "scalene"
DEFAULT_OUTFILE = "scalene-profile.json"

# Options this build accepts but cannot honour yet.
_UNAVAILABLE = {
    "gpu": "GPU profiling",
}

# Memory profiling needs the sampling allocator preloaded: `scalene run`
# re-executes itself once with it in LD_PRELOAD.  The marker keeps it from
# trying twice; the program's own LD_PRELOAD is restored for its children.
_PRELOAD_NAME = "libscalenecore_preload.so"
_REEXEC_MARK = "SCALENE_PRELOAD_REEXEC"
_ORIG_PRELOAD = "SCALENE_ORIG_LD_PRELOAD"


def preload_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), _PRELOAD_NAME)


def _preload_loaded() -> bool:
    try:
        import ctypes
        return hasattr(ctypes.CDLL(None), "scalenecore_preload_api")
    except (OSError, AttributeError, ImportError):
        return False


_WINDOW_ENV = "SCALENE_ALLOCATION_SAMPLING_WINDOW"
_WINDOW_MARK = "SCALENE_PRELOAD_SET_WINDOW"


def _restore_child_env() -> None:
    """After the re-exec: children get the user's own LD_PRELOAD back."""
    if os.environ.pop(_REEXEC_MARK, None) is None:
        return
    if os.environ.pop(_WINDOW_MARK, None) is not None:
        os.environ.pop(_WINDOW_ENV, None)
    orig = os.environ.pop(_ORIG_PRELOAD, None)
    if orig:
        os.environ["LD_PRELOAD"] = orig
    else:
        os.environ.pop("LD_PRELOAD", None)


def _add_preload(env: Dict[str, str]) -> Optional[str]:
    """Put the sampling allocator first in ``env``'s LD_PRELOAD; the reason
    when it cannot be."""
    lib = preload_path()
    if not os.path.exists(lib):
        return f"the sampling allocator {lib} is missing (rebuild with 'make python')"
    old = env.get("LD_PRELOAD", "")
    env["LD_PRELOAD"] = lib + (":" + old if old else "")
    return None


def _reexec_with_preload(run_argv: Sequence[str], window: Any = None) -> Optional[str]:
    """Replace this process by itself with the allocator preloaded.  Returns
    only on failure, with the reason."""
    if os.environ.get(_REEXEC_MARK):
        return "the sampling allocator did not load (is LD_PRELOAD ignored here?)"
    env = dict(os.environ)
    env[_ORIG_PRELOAD] = env.get("LD_PRELOAD", "")
    env[_REEXEC_MARK] = "1"
    why = _add_preload(env)
    if why:
        return why
    # The allocator draws its first countdowns before the profiler starts:
    # it reads the window from the environment.
    if window is not None and _WINDOW_ENV not in env:
        env[_WINDOW_ENV] = str(int(window))
        env[_WINDOW_MARK] = "1"
    argv = [sys.executable, "-m", "scalene", "run", *run_argv]
    flush_std()
    try:
        os.execve(sys.executable, argv, env)
    except OSError as e:
        return f"could not re-execute with the sampling allocator: {e.strerror}"
    return None  # not reached


def flush_std() -> None:
    """Flush the standard streams, whatever state they are in."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False

_BOOL_WORDS = {
    "1": True, "true": True, "yes": True, "on": True,
    "0": False, "false": False, "no": False, "off": False,
}


class UsageError(Exception):
    """A mistake in what the user asked for: one line, exit status 2."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: object) -> NoReturn:
    raise UsageError(_one_line(message))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        _fail(message)


# --------------------------------------------------------------------------
# The core's option table
# --------------------------------------------------------------------------


def load_core() -> Any:
    """Import the C extension, or fail with one line."""
    try:
        from scalene import _core  # type: ignore[attr-defined]
    except ImportError as e:
        _fail(
            "the profiling engine scalene._core is not available "
            f"({_one_line(e)}); build it with 'make python'"
        )
    return _core


def _fmt_num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _bounds_text(opt: Dict[str, Any]) -> str:
    lo, hi = opt.get("min"), opt.get("max")
    parts = []
    if lo is not None and math.isfinite(lo) and abs(lo) < 1e15:
        parts.append(f">= {_fmt_num(lo)}")
    if hi is not None and math.isfinite(hi) and abs(hi) < 1e15:
        parts.append(f"<= {_fmt_num(hi)}")
    return " and ".join(parts)


def _number_parser(opt: Dict[str, Any]):
    kind = opt["type"]

    def convert(text: str):
        try:
            if kind == "int":
                value: Any = int(text, 10)
            else:
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
        except ValueError:
            what = "an integer" if kind == "int" else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        lo, hi = opt.get("min"), opt.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(
                f"{text} is out of range (must be {_bounds_text(opt)})"
            )
        return value

    convert.__name__ = kind
    return convert


def _parse_text(opt: Dict[str, Any], text: str) -> Any:
    """Parse an option's value from text (environment variables)."""
    if opt["type"] == "bool":
        try:
            return _BOOL_WORDS[text.strip().lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(
                f"expected true/false/yes/no/on/off/1/0, got {text!r}"
            )
    if opt["type"] in ("int", "double"):
        return _number_parser(opt)(text.strip())
    return text


def core_options(core: Any) -> List[Dict[str, Any]]:
    table = []
    for raw in core.options():
        opt = dict(raw)
        opt.setdefault("help", "")
        opt.setdefault("advanced", False)
        table.append(opt)
    return table


# --------------------------------------------------------------------------
# Help texts
# --------------------------------------------------------------------------

MAIN_HELP = f"""\
usage: {PROG} [--version] [--help] <command> [options]

Scalene (libscalenecore): a high-precision CPU profiler for Python.

commands:
  run     Profile a Python program (saves to {DEFAULT_OUTFILE})
  view    View a profile: a self-contained web page, or the terminal (--cli)
  merge   Combine profiles of several processes into one

examples:
  % {PROG} run your_program.py              # profile, save to {DEFAULT_OUTFILE}
  % {PROG} run your_program.py --- --arg    # pass arguments to the program
  % {PROG} run -m package.module            # profile a module, like python -m
  % {PROG} view                             # open the profile in the browser
  % {PROG} view --cli                       # view the profile in the terminal
  % {PROG} run -c scalene.yaml prog.py      # options from a YAML file
  % {PROG} merge a.json b.json -o all.json  # combine profiles

Run '{PROG} run --help', '{PROG} run --help-advanced' or '{PROG} view --help'
for the options of each command.
"""

RUN_DESCRIPTION = f"""\
Profile a Python program with Scalene.

examples:
  % {PROG} run prog.py                 # profile, save to {DEFAULT_OUTFILE}
  % {PROG} run -o my.json prog.py      # save to a custom file
  % {PROG} run prog.py --- --arg       # pass arguments to the program
  % {PROG} run -m pkg.mod --- --arg    # profile a module, like python -m
  % {PROG} run --help-advanced         # show advanced options

Everything after the program's name goes to the program untouched; a '---'
right after the name is dropped, so options meant for the program can never
be taken for Scalene's.  Options are also read from SCALENE_<NAME>
environment variables (e.g. SCALENE_CPU_SAMPLING_RATE=0.005); the command
line wins.  Memory is profiled unless --cpu-only: the program runs with the
sampling allocator preloaded (scalene re-executes itself once to do so).
A program that is not Python (an ELF executable) is profiled natively:
CPU and memory by function and source line.  --gpu prints a warning and
the run goes on without it."""

RUN_USAGE = (
    f"{PROG} run [options] prog.py [--- args ...]\n"
    f"       {PROG} run [options] -m module [--- args ...]"
)

ADVANCED_DESCRIPTION = f"""\
Advanced options for {PROG} run:

background profiling:
  Use --off to start with profiling disabled; the program can turn it on and
  off itself with scalene.scalene_profiler.start() / stop()."""

VIEW_DESCRIPTION = f"""\
View an existing profile (JSON or .msgpack.zst; the format is read from the
content).

examples:
  % {PROG} view                     # write scalene-profile.html and open it in a browser
  % {PROG} view --html              # only write scalene-profile.html
  % {PROG} view --cli               # view {DEFAULT_OUTFILE} in the terminal
  % {PROG} view --cli -r            # only lines with activity
  % {PROG} view --cli myprofile.json

Without a display (no DISPLAY or WAYLAND_DISPLAY), '{PROG} view' prints the
HTML file's path instead of opening a browser.  The page is self-contained:
it works offline from file://."""


# --------------------------------------------------------------------------
# scalene run of a program that is not Python
# --------------------------------------------------------------------------


def _run_native(program: str, args: Sequence[str], values: Dict[str, Any],
                table: Dict[str, Any]) -> int:
    """Run an ELF executable with the allocator preloaded and its built-in
    native session on; the program's exit status is ours."""
    import subprocess

    from scalene import runner  # late: only `run` needs it

    outfile = os.path.abspath(str(values.get("outfile") or DEFAULT_OUTFILE))
    env = dict(os.environ)
    for name, value in values.items():
        if name in table and name != "outfile" and value is not None:
            key = "SCALENE_" + name.upper().replace("-", "_")
            env[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    env["SCALENE_NATIVE_OUTFILE"] = outfile
    why = _add_preload(env)
    if why:
        _fail(why)
    path = program if os.sep in program else os.path.join(".", program)
    try:
        proc = subprocess.Popen([path, *args], env=env)
    except OSError as e:
        _fail(f"cannot run '{program}': {e.strerror}")
    while True:
        try:
            status = proc.wait()
            break
        except KeyboardInterrupt:
            continue  # the program got the SIGINT too; wait for it
    if status < 0:
        runner._die_by(-status)
    if os.path.exists(outfile):
        print(f"{PROG}: profile written to {outfile}", file=sys.stderr)
    return status


# --------------------------------------------------------------------------
# scalene run: parser
# --------------------------------------------------------------------------

_SPECIAL_HELP = {
    "outfile": "output file (default: %s)" % DEFAULT_OUTFILE,
    "cpu-only": "only profile CPU time (no memory profiling, no preloaded allocator)",
}


def _metavar(opt: Dict[str, Any]) -> str:
    name = opt["name"]
    if name == "outfile":
        return "FILE"
    if name == "program-path":
        return "PATH"
    if name in ("profile-only", "profile-exclude"):
        return "STRINGS"
    if opt["type"] in ("int", "double"):
        return "N"
    return "TEXT"


def _help_for(opt: Dict[str, Any]) -> str:
    name = opt["name"]
    text = _SPECIAL_HELP.get(name) or opt.get("help") or ""
    text = text.replace("%", "%%")
    if name in _UNAVAILABLE:
        text += " (not available in this build: warns and profiles without it)"
    if opt["type"] != "bool" and name not in _SPECIAL_HELP:
        default = opt.get("default")
        if default not in (None, "") and "default" not in text.lower():
            shown = _fmt_num(default) if isinstance(default, float) else default
            text += f" (default: {shown})"
        bounds = _bounds_text(opt) if opt["type"] in ("int", "double") else ""
        if bounds and "must be" not in text:
            text += f"; must be {bounds}"
    return text


class RunParser:
    """The options of ``scalene run`` from the core's table."""

    def __init__(self, table: List[Dict[str, Any]]) -> None:
        self.table = {opt["name"]: opt for opt in table}
        self.parser = self._build(advanced_view=False)
        # Option strings taking a value, for splitting the command line.
        self.value_options = set()
        self.flag_options = set()
        for action in self.parser._actions:
            for s in action.option_strings:
                (self.value_options if action.nargs != 0 else self.flag_options).add(s)

    def _build(self, advanced_view: bool) -> argparse.ArgumentParser:
        parser = _Parser(
            prog=f"{PROG} run",
            usage=RUN_USAGE,
            description=ADVANCED_DESCRIPTION if advanced_view else RUN_DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=False,
            allow_abbrev=False,
        )
        show = (lambda adv: adv) if advanced_view else (lambda adv: not adv)
        hidden = argparse.SUPPRESS

        if not advanced_view:
            parser.add_argument("-h", "--help", action="store_true", dest="_help",
                                help="show this help message and exit")
            parser.add_argument("--help-advanced", action="store_true",
                                dest="_help_advanced", help="show advanced options and exit")
            parser.add_argument("-m", metavar="MODULE", dest="_module",
                                help="profile a library module as a script, like python -m")
            parser.add_argument("-c", "--config", metavar="FILE", dest="_config",
                                help="load options from a YAML config file "
                                     "(command-line options override it)")
        else:
            parser.add_argument("-h", "--help", action="store_true", dest="_help", help=hidden)
            parser.add_argument("--help-advanced", action="store_true",
                                dest="_help_advanced", help=hidden)
            parser.add_argument("-m", metavar="MODULE", dest="_module", help=hidden)
            parser.add_argument("-c", "--config", metavar="FILE", dest="_config", help=hidden)

        # --on/--off: --off is the core's option; --on its opposite.
        onoff = parser.add_mutually_exclusive_group()
        for name, opt in self.table.items():
            flags = [f"--{name}"]
            if name == "outfile":
                flags.insert(0, "-o")
            advanced = bool(opt.get("advanced"))
            help_text = _help_for(opt) if show(advanced) else hidden
            group = onoff if name == "off" else parser
            if opt["type"] == "bool":
                group.add_argument(*flags, dest=name, action="store_const",
                                   const=True, default=None, help=help_text)
            else:
                conv = (_number_parser(opt) if opt["type"] in ("int", "double") else str)
                group.add_argument(*flags, dest=name, type=conv, default=None,
                                   metavar=_metavar(opt), help=help_text)
            if name == "off":
                on_adv = advanced
                onoff.add_argument("--on", dest="off", action="store_const", const=False,
                                   default=None,
                                   help=("start with profiling on (the default)"
                                         if show(on_adv) else hidden))
            if name == "cpu-only":
                parser.add_argument("--cpu", dest="_cpu", action="store_true",
                                    help=("same as --cpu-only" if show(advanced) else hidden))
        return parser

    def print_help(self, advanced: bool = False) -> None:
        parser = self._build(advanced_view=True) if advanced else self.parser
        parser.print_help(sys.stdout)

    def split(self, argv: Sequence[str]) -> Tuple[List[str], Optional[str], Optional[str], List[str]]:
        """Split ``argv`` into (scalene options, script, module, program args)."""
        opts: List[str] = []
        i = 0
        argv = list(argv)
        while i < len(argv):
            arg = argv[i]
            if arg in ("---", "--"):
                # End of Scalene's options: the program comes next.
                if i + 1 >= len(argv):
                    break
                script = argv[i + 1]
                return opts, script, None, _program_args(argv[i + 2:])
            if arg == "-m":
                if i + 1 >= len(argv):
                    _fail("argument -m: expected a module name")
                return opts, None, argv[i + 1], _program_args(argv[i + 2:])
            if arg.startswith("-m") and not arg.startswith("--") and len(arg) > 2:
                return opts, None, arg[2:], _program_args(argv[i + 1:])
            if arg.startswith("-") and arg != "-":
                opts.append(arg)
                name = arg.split("=", 1)[0]
                if "=" not in arg and name in self.value_options:
                    if i + 1 < len(argv):
                        opts.append(argv[i + 1])
                        i += 2
                        continue
                i += 1
                continue
            return opts, arg, None, _program_args(argv[i + 1:])
        return opts, None, None, []


def _program_args(rest: List[str]) -> List[str]:
    if rest and rest[0] == "---":
        return rest[1:]
    return rest


def _env_values(table: Dict[str, Dict[str, Any]], given: Dict[str, Any]) -> Dict[str, Any]:
    values = {}
    for name, opt in table.items():
        if name in given:
            continue
        var = "SCALENE_" + name.upper().replace("-", "_")
        text = os.environ.get(var)
        if text is None:
            continue
        try:
            values[name] = _parse_text(opt, text)
        except argparse.ArgumentTypeError as e:
            _fail(f"{var}: {e}")
    return values


def _config_values(core: Any, path: str) -> Dict[str, Any]:
    """The options a YAML config file sets; one error line naming the file,
    line, column and key when it is not valid (nothing is run then)."""
    try:
        return dict(core.load_config(path))
    except (ValueError, OSError) as e:
        _fail(f"--config: {e}")


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


def cmd_run(argv: Sequence[str]) -> int:
    core = load_core()
    rp = RunParser(core_options(core))
    opts, script, module, prog_args = rp.split(argv)
    ns = rp.parser.parse_args(opts)
    if ns._help:
        rp.print_help()
        return 0
    if ns._help_advanced:
        rp.print_help(advanced=True)
        return 0
    if script is None and module is None:
        _fail("no program to profile (usage: scalene run [options] prog.py [--- args ...])")

    given = {name: getattr(ns, name) for name in rp.table
             if getattr(ns, name, None) is not None}
    # Precedence: defaults < config file < SCALENE_* environment < command line.
    values = _config_values(core, ns._config) if ns._config is not None else {}
    values.update(_env_values(rp.table, given))
    values.update(given)

    memory_wanted = bool(values.get("memory")) or not (values.get("cpu-only") or ns._cpu)
    if ns._cpu:
        values["cpu-only"] = True
    if script is not None and _is_elf(script):
        return _run_native(script, prog_args, values, rp.table)
    if memory_wanted and not _preload_loaded():
        why = _reexec_with_preload(argv, values.get("allocation-sampling-window"))
        _restore_child_env()
        _warn(f"memory profiling is not available: {why}; profiling CPU only")
        values["cpu-only"] = True
        values["memory"] = False
    else:
        _restore_child_env()

    for name, what in _UNAVAILABLE.items():
        if values.get(name):
            _warn(f"--{name}: {what} is not available in this build; profiling without it")
            values[name] = False
    start_off = bool(values.get("off", False))

    outfile = values.get("outfile") or DEFAULT_OUTFILE
    outfile_abs = os.path.abspath(outfile)
    out_dir = os.path.dirname(outfile_abs)
    if os.path.isdir(outfile_abs):
        _fail(f"cannot write the profile to '{outfile}': it is a folder")
    if not os.path.isdir(out_dir):
        _fail(f"cannot write the profile to '{outfile}': no folder '{out_dir}'")
    if not os.access(out_dir, os.W_OK):
        _fail(f"cannot write the profile to '{outfile}': folder '{out_dir}' is not writable")
    values["outfile"] = outfile_abs

    from scalene import runner  # late: only `run` needs it

    if module is not None:
        target = runner.Target.for_module(module, prog_args)
    else:
        target = runner.Target.for_script(script, prog_args)

    if values.get("program-path"):
        program_path = os.path.abspath(str(values["program-path"]))
        if not os.path.isdir(program_path):
            _fail(f"--program-path: no folder '{values['program-path']}'")
    else:
        program_path = target.default_program_path
    values["program-path"] = program_path

    # Only options the core knows go to it; the rest are the CLI's own.
    core_values = {k: v for k, v in values.items() if k in rp.table}
    return runner.run(core, core_values, target, outfile_display=outfile,
                      start_off=start_off)


# --------------------------------------------------------------------------
# scalene view
# --------------------------------------------------------------------------


def view_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{PROG} view",
        description=VIEW_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("profile", nargs="?", default=DEFAULT_OUTFILE,
                        help=f"the profile to show (default: {DEFAULT_OUTFILE})")
    parser.add_argument("--cli", action="store_true", help="display the profile in the terminal")
    parser.add_argument("-r", "--reduced", action="store_true",
                        help="only show lines with activity (--cli mode)")
    parser.add_argument("--html", action="store_true",
                        help="save to scalene-profile.html (no browser)")
    parser.add_argument("--standalone", action="store_true",
                        help="save as self-contained HTML (every report is; same as --html)")
    parser.add_argument("-o", "--outfile", metavar="FILE", default=None,
                        help="where to write the HTML (default: scalene-profile.html)")
    return parser


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or sys.platform == "darwin")


def cmd_view(argv: Sequence[str]) -> int:
    ns = view_parser().parse_args(list(argv))
    from scalene import view_cli

    profile = view_cli.load_profile(ns.profile)  # UsageError when unreadable
    if ns.cli:
        view_cli.render(profile, sys.stdout, reduced=ns.reduced)
        return 0
    html = os.path.abspath(ns.outfile or "scalene-profile.html")
    try:
        load_core().convert_profile(ns.profile, html, "html")
    except (OSError, ValueError) as e:
        _fail(f"cannot write '{html}': {e}")
    if ns.html or ns.standalone or not _has_display():
        print(html)
        return 0
    import webbrowser

    if not webbrowser.open("file://" + html):
        print(html)
    return 0


# --------------------------------------------------------------------------
# scalene merge
# --------------------------------------------------------------------------


def cmd_merge(argv: Sequence[str]) -> int:
    parser = _Parser(
        prog=f"{PROG} merge",
        description="Combine the profiles of several processes (workers, ranks, "
                    "hosts) into one: times add up, each process stays listed.",
        allow_abbrev=False,
    )
    parser.add_argument("profiles", nargs="+", metavar="PROFILE",
                        help="profiles to merge (JSON or .msgpack.zst)")
    parser.add_argument("-o", "--outfile", metavar="FILE", default=DEFAULT_OUTFILE,
                        help=f"merged profile; format from its name (default: {DEFAULT_OUTFILE})")
    ns = parser.parse_args(list(argv))
    for path in ns.profiles:
        if not os.path.isfile(path):
            _fail(f"cannot read profile '{path}': no such file")
    try:
        load_core().merge_profiles(ns.profiles, ns.outfile)
    except (OSError, ValueError) as e:
        _fail(str(e))
    print(f"Scalene: merged {len(ns.profiles)} profiles into {ns.outfile}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def _version_text() -> str:
    try:
        from scalene import _core  # type: ignore[attr-defined]

        engine = f"libscalenecore {_core.version()}"
    except ImportError:
        engine = "libscalenecore not built"
    return f"Scalene {__version__} ({engine})"


def _dispatch(argv: List[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(MAIN_HELP)
        return 0
    first = argv[0]
    if first in ("-V", "--version"):
        print(_version_text())
        return 0
    if first == "run":
        return cmd_run(argv[1:])
    if first == "view":
        return cmd_view(argv[1:])
    if first == "merge":
        return cmd_merge(argv[1:])
    if first.startswith("-") or first.endswith(".py") or os.path.exists(first):
        # Scalene 1.x spelling: `scalene [options] prog.py`.
        return cmd_run(argv)
    _fail(f"unknown command '{first}' (expected 'run', 'view' or 'merge'; see 'scalene --help')")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``scalene`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except UsageError as e:
        sys.stdout.flush()
        print(f"{PROG}: error: {e}", file=sys.stderr, flush=True)
        return 2
    except BrokenPipeError:
        # `scalene view --cli | head`: the reader went away; that is fine.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
