"""Settings shared by every module of the network (AlphaFold2's ``global_config``)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class GlobalConfig:
    """Network-wide settings.

    chunk_size: rows processed at a time by attention, triangle and transition
        ops (None = all at once). Changes peak memory only, never results
        (AlphaFold2's ``subbatch_size``).
    zero_init: zero-initialise final layers (only affects ``init``, and the
        template torsion placeholder in the forward pass).
    bfloat16: compute in bfloat16 (LayerNorm and softmax stay in float32).
    deterministic: no dropout (inference).
    """

    chunk_size: int | None = None
    zero_init: bool = True
    bfloat16: bool = False
    deterministic: bool = True

    def __post_init__(self):
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer or None, got {self.chunk_size}")


# --------------------------------------------------------------------------- float32 matrix products

MATMUL_PRECISION_CHOICES = ("default", "high", "highest")   # command-line spellings (jax precision names)


def matmul_precision_setting(choice: str) -> str | None:
    """A command-line choice -> ``RunnerConfig.matmul_precision`` ("default": None, the backend's choice)."""
    return None if choice == "default" else choice
