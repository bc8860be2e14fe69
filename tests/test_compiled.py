"""The kernels' decorator: cached compilation, and a working fallback where no cache can be written."""

import numpy as np
from numba.core import caching

from foldkit.compiled import compiled


def _add_one(x):
    return x + 1.0


def test_compiled_caches_where_it_can():
    function = compiled(fastmath=True)(_add_one)
    assert function(np.float64(1.0)) == 2.0
    assert function._cache is not None and type(function._cache).__name__ == "FunctionCache"


def test_compiled_without_a_writable_cache_location(monkeypatch):
    # as on a read-only installation with a read-only home: numba finds no cache locator
    cache_impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl     # renamed in numba 0.6x
    monkeypatch.setattr(cache_impl, "_locator_classes", [])
    function = compiled(_add_one)
    assert function(np.float64(2.0)) == 3.0
    assert type(function._cache).__name__ == "NullCache"
