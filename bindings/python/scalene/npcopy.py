"""Copy volume of numpy's element-wise conversions (src/_npcopy.c).

``install()`` wraps numpy's element conversions now if numpy is imported,
else as soon as the program imports it: a finder at the head of
``sys.meta_path`` answers only for ``numpy``, passes the question on to the
other finders, and runs the wrapping right after numpy's own module code
has run.  The finder steps aside (and puts numpy's real loader back on its
spec and module) before numpy's code runs, so numpy never sees it.
"""

from __future__ import annotations

import sys
from typing import Any, Optional


def _wrap() -> None:
    try:
        from scalene import _npcopy  # built only where numpy's headers were found
    except ImportError:
        return
    try:
        _npcopy.install()
    except Exception as e:  # numpy's C API did not load: no copy volume for it
        print(f"scalene: warning: numpy conversions will show no copy volume: "
              f"{' '.join(str(e).split())}", file=sys.stderr, flush=True)


class _Loader:
    def __init__(self, finder: "_Finder", real: Any) -> None:
        self.finder = finder
        self.real = real

    def create_module(self, spec: Any) -> Any:
        return self.real.create_module(spec)

    def exec_module(self, module: Any) -> None:
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.real
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self.real
        self.finder.remove()
        self.real.exec_module(module)
        _wrap()


class _Finder:
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Optional[Any]:
        if name != "numpy":
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            loader = spec.loader
            if loader is not None and hasattr(loader, "exec_module"):
                spec.loader = _Loader(self, loader)
            return spec
        return None

    def remove(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


def install() -> None:
    if "numpy" in sys.modules:
        _wrap()
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
