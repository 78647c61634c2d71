"""Jupyter / IPython magics (``%load_ext scalene``).

    %scrun [options] statement      profile one statement
    %%scalene [options]             profile the cell

The options are those of ``scalene run`` (``--cpu-sampling-rate 0.005``,
``--reduced-profile``, ...), plus ``--html`` to show the web report inline
instead of the terminal view.  The code runs in the notebook's own
namespace, so what it defines stays defined.  Only the profiled code is
reported (not IPython's machinery).
"""

from __future__ import annotations

import html as _html
import io
import itertools
import json
import os
import shlex
import sys
import tempfile
from typing import Any, Dict, List

__all__ = ["load_ipython_extension"]

_counter = itertools.count(1)


def _options(argv: List[str]) -> Dict[str, Any]:
    from scalene import cli

    core = cli.load_core()
    rp = cli.RunParser(cli.core_options(core))
    ns = rp.parser.parse_args(argv)  # UsageError (one line) on a bad option
    values = {name: getattr(ns, name) for name in rp.table if getattr(ns, name, None) is not None}
    for name in ("memory", "gpu", "outfile", "off"):
        values.pop(name, None)
    return values


def _profile(ip: Any, line: str, code: str) -> None:
    from scalene import _core, cli, view_cli  # type: ignore[attr-defined]

    argv = shlex.split(line)
    want_html = "--html" in argv
    argv = [a for a in argv if a != "--html"]
    try:
        options = _options(argv)
    except cli.UsageError as e:
        print(f"scalene: error: {e}", file=sys.stderr)
        return
    folder = tempfile.mkdtemp(prefix="scalene-jupyter-")
    source = os.path.join(folder, f"cell_{next(_counter)}.py")
    with open(source, "w") as f:
        f.write(code)
    compiled = compile(code, source, "exec")
    profiler = _core.Profiler(options, lambda filename: filename == source)
    profiler.start()
    profiler.set_meta("program", "jupyter cell")
    try:
        exec(compiled, ip.user_ns)
    finally:
        profiler.stop()
        out = os.path.join(folder, "profile.html" if want_html else "profile.json")
        profiler.export(out)
        del profiler
    if want_html:
        from IPython.display import HTML, display

        page = open(out, encoding="utf-8").read()
        display(HTML('<iframe style="width:100%;height:600px;border:0" srcdoc="'
                     + _html.escape(page, quote=True) + '"></iframe>'))
        return
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    buf = io.StringIO()
    view_cli.render(doc, buf, reduced=True, colour=False)
    print(buf.getvalue(), end="")


def split_scrun(line: str):
    """(options, statement) of a %scrun line: leading option tokens as
    `scalene run` knows them (a value option takes the next token too), the
    statement being the rest of the line, untouched."""
    from scalene import cli

    rp = cli.RunParser(cli.core_options(cli.load_core()))
    values = rp.value_options
    rest, taken = line.lstrip(), []
    need_value = False
    while rest and (need_value or rest.startswith("-")):
        token, _, tail = rest.partition(" ")
        taken.append(token)
        rest = tail.lstrip()
        if need_value:
            need_value = False
        elif "=" not in token and token in values:
            need_value = True
    return " ".join(taken), rest


def load_ipython_extension(ip: Any) -> None:
    def scrun(line: str) -> None:
        """%scrun [options] statement: profile one statement."""
        opts, statement = split_scrun(line)
        _profile(ip, opts, statement + "\n")

    def scalene_cell(line: str, cell: str) -> None:
        """%%scalene [options]: profile the cell."""
        _profile(ip, line, cell)

    ip.register_magic_function(scrun, "line", "scrun")
    ip.register_magic_function(scalene_cell, "cell", "scalene")
