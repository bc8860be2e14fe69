"""numba compilation for foldkit's compiled loops (scoring, PDB columns), cached on disk where possible."""

from __future__ import annotations

from numba import njit


def compiled(func=None, **options):
    """``numba.njit(cache=True, **options)`` as a decorator (bare or with options).

    numba keeps compiled code next to the module, else in the user's cache folder
    (``NUMBA_CACHE_DIR`` overrides both); where neither can be written (a read-only
    installation and home) it refuses ``cache=True`` with a RuntimeError at import, so
    such a function is compiled without a cache instead, once per process.
    """
    def decorate(function):
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:
            return njit(cache=False, **options)(function)

    return decorate(func) if func is not None else decorate
