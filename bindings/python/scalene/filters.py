"""Which source files a profile reports (Scalene's ``should_trace`` rules).

The core calls the predicate built here once per code object (with the GIL,
from its ticker thread) and caches the answer; samples whose frames are all
rejected are charged to the innermost accepted caller, or counted as
unattributed when there is none.

Rules, in order:

1. Scalene's own package is never profiled.
2. ``--profile-exclude a,b``: a filename containing any of the strings is
   dropped.
3. ``--profile-only a,b``: a filename containing none of the strings is
   dropped; one containing a string is profiled wherever it lives (the
   standard library and site-packages included: naming it is asking for
   it), pseudo-files aside.
4. Pseudo-files (``<string>``, ``<frozen importlib._bootstrap>``, ``<stdin>``)
   are dropped unless ``--profile-all``.
5. ``--profile-all``: everything else is profiled.
6. Files of the Python installation (the standard library and
   site-packages, as ``sysconfig`` names them) are dropped unless
   ``--profile-system-libraries``, which profiles them.
7. Otherwise a file is profiled when it lies under the program path
   (``--program-path``; by default the script's folder, or the current
   folder for ``-m module``).  When the program path itself lies inside a
   library folder, the files under it still count as the program's.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from typing import Callable, Dict, Iterable, List, Optional

__all__ = ["FileFilter", "system_library_dirs", "scalene_package_dir"]

_LIBRARY_PATH_NAMES = ("stdlib", "platstdlib", "purelib", "platlib")


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


def scalene_package_dir() -> str:
    """The real path of this package's folder."""
    return _real(os.path.dirname(os.path.abspath(__file__)))


def system_library_dirs() -> List[str]:
    """Folders holding the standard library and installed packages."""
    dirs = set()
    for scheme in sysconfig.get_scheme_names():
        for name in _LIBRARY_PATH_NAMES:
            try:
                path = sysconfig.get_path(name, scheme)
            except (KeyError, ValueError):
                continue
            if path:
                dirs.add(_real(path))
    for name in _LIBRARY_PATH_NAMES:
        path = sysconfig.get_paths().get(name)
        if path:
            dirs.add(_real(path))
    try:
        import site

        for path in site.getsitepackages() + [site.getusersitepackages()]:
            if path:
                dirs.add(_real(path))
    except Exception:  # site may be stripped down (embedded interpreters)
        pass
    # Drop folders that do not exist: sysconfig names schemes of other
    # platforms too, and a nonexistent folder can only cause false matches.
    return sorted(d for d in dirs if os.path.isdir(d))


def _split_patterns(text: Optional[str]) -> List[str]:
    if not text:
        return []
    return [p for p in (s.strip() for s in text.split(",")) if p]


def _under(path: str, folder: str) -> bool:
    if folder == os.sep:
        return True
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class FileFilter:
    """Callable ``filter(filename) -> bool``: should samples in it be shown."""

    def __init__(
        self,
        program_path: str,
        *,
        profile_all: bool = False,
        profile_only: str = "",
        profile_exclude: str = "",
        profile_system_libraries: bool = False,
        library_dirs: Optional[Iterable[str]] = None,
        own_dir: Optional[str] = None,
    ) -> None:
        self.program_path = _real(program_path)
        self.profile_all = bool(profile_all)
        self.profile_only = _split_patterns(profile_only)
        self.profile_exclude = _split_patterns(profile_exclude)
        self.profile_system_libraries = bool(profile_system_libraries)
        self.library_dirs = (
            [_real(d) for d in library_dirs]
            if library_dirs is not None
            else system_library_dirs()
        )
        self.own_dir = _real(own_dir) if own_dir else scalene_package_dir()
        # A program that itself lives in site-packages (say, `-m` of an
        # installed tool run from its folder) still gets its own files.
        self._program_in_library = self._is_library(self.program_path)
        self._cache: Dict[str, bool] = {}

    def __call__(self, filename: str) -> bool:
        try:
            return self._cache[filename]
        except KeyError:
            pass
        except TypeError:
            return False
        try:
            answer = self._decide(filename)
        except Exception:
            answer = False
        self._cache[filename] = answer
        return answer

    def _is_library(self, resolved: str) -> bool:
        return any(_under(resolved, d) for d in self.library_dirs)

    def _decide(self, filename: str) -> bool:
        if not isinstance(filename, str) or not filename:
            return False
        pseudo = filename.startswith("<") and filename.endswith(">")
        resolved = filename if pseudo else _real(filename)
        # 1. Never the profiler itself.
        if not pseudo and _under(resolved, self.own_dir):
            return False
        # 2. --profile-exclude.
        if any(p in filename or p in resolved for p in self.profile_exclude):
            return False
        # 3. --profile-only.
        if self.profile_only:
            if not any(p in filename or p in resolved for p in self.profile_only):
                return False
            # 4. (below) still applies to pseudo-files.
            return self.profile_all if pseudo else True
        # 4. <string>, <frozen ...>, <stdin>: not files of the program.
        if pseudo:
            return self.profile_all
        # 5. --profile-all.
        if self.profile_all:
            return True
        # 6. The Python installation.
        if self._is_library(resolved):
            if self.profile_system_libraries:
                return True
            if not (self._program_in_library and _under(resolved, self.program_path)):
                return False
        # 7. The program's own tree.
        return _under(resolved, self.program_path)


def make_filter(program_path: str, options: Dict[str, object]) -> Callable[[str], bool]:
    """Build the predicate from option values keyed by option name."""
    return FileFilter(
        program_path,
        profile_all=bool(options.get("profile-all", False)),
        profile_only=str(options.get("profile-only", "") or ""),
        profile_exclude=str(options.get("profile-exclude", "") or ""),
        profile_system_libraries=bool(options.get("profile-system-libraries", False)),
    )


if __name__ == "__main__":  # pragma: no cover - manual check
    f = FileFilter(os.getcwd())
    for name in sys.argv[1:]:
        print(name, f(name))
