"""Scalene: a high-precision CPU profiler for Python, on libscalenecore.

The profiling engine is the C library libscalenecore, reached through the
extension module ``scalene._core``; this package is its command line
(``scalene run`` / ``scalene view``, see ``scalene.cli``).
"""

__version__ = "1.0.0"

__all__ = ["__version__"]
