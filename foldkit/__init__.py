"""foldkit: AlphaFold2-compatible structure prediction, CASP-grade scoring, notebook views."""

__version__ = "0.1.0"
