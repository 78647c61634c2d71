"""Scalene: a high-precision CPU profiler for Python, on libscalenecore.

The profiling engine is the C library libscalenecore, reached through the
extension module ``scalene._core``; this package is its command line
(``scalene run`` / ``scalene view``, see ``scalene.cli``).
"""

__version__ = "1.0.0"

__all__ = ["__version__"]


def load_ipython_extension(ip):  # pragma: no cover - exercised through IPython
    """`%load_ext scalene`: the %scrun and %%scalene magics."""
    from scalene.jupyter import load_ipython_extension as load

    load(ip)
