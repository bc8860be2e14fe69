"""Run every golden case under a folder through foldkit and compare.

    python -m foldkit.testing.golden DIR [--only modules|model|features|multimer|pipeline] [--chunk-size N]
                                         [--data-dir AF2_DATA_DIR]

A folder uses the layout of ``shared/reference/af2`` and may hold any subset
of these kinds:

* ``modules``: ``<dir>/<name>.npz`` + ``<dir>/<name>.json`` whose JSON has a
  ``"module"`` or ``"function"`` entry (inputs ``input/*``, parameters,
  outputs ``output/*``);
  run through the ``CASES`` registries of ``foldkit.testing.cases_*``;
* ``model``: ``<case>_features.npz`` + ``<case>_params.npz`` +
  ``<case>_outputs.npz`` + ``<case>_config.json`` (whole network);
* ``features``: ``<case>_processed_features.npz`` or
  ``<case>_features_deterministic.npz`` with ``<case>_config.json``
  (featurizer), run through ``foldkit.testing.cases_features``;
* ``multimer``: a ``model`` layout whose config is an AlphaFold-Multimer
  config (``global_config.multimer_mode``); one case per variant listed in
  its ``variants`` with a ``<case><suffix>_outputs.npz``, plus
  ``<case>_bf16_outputs.npz`` when present; run through
  ``foldkit.testing.cases_multimer_model``;
* ``pipeline``: a folder with ``case.json`` and either ``raw_features.npz`` +
  ``msas/`` (a monomer input-pipeline case, checked twice: ``[stored]``
  featurizes the stored search outputs, ``[search]`` runs foldkit's own
  searches against the data directory, ``--data-dir`` or the one the case's
  flags name) or ``processed_features.npz`` (a multimer case); run through the
  ``CASES`` registries of ``PIPELINE_CASE_REGISTRIES`` keyed by that type.

``--only multimer`` selects the multimer whole-model cases and the module
cases that belong to them: module cases whose JSON says ``multimer_mode``,
or whose nearest folder (the case folder or an ancestor) holding whole-model
cases holds multimer ones.

One line per case and output (max abs error, max relative error, PASS/FAIL),
then ``golden: P passed, F failed``; exit status 1 if anything failed. A case
without an implementation is a FAIL ("not implemented"), never skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from foldkit.model.global_config import (
    MATMUL_PRECISION_CHOICES,
    matmul_precision_setting,
)
from foldkit.testing.compare import CompareResult, OutputCheck, compare

KINDS = ("modules", "model", "features", "multimer", "pipeline")
# registries of per-module cases, by owner
MODULE_CASE_REGISTRIES = (
    "foldkit.testing.cases_evoformer",
    "foldkit.testing.cases_structure",
    "foldkit.testing.cases_heads",
    "foldkit.testing.cases_templates",
    "foldkit.testing.cases_multimer_structure",
    "foldkit.testing.cases_multimer_heads",
    "foldkit.testing.cases_multimer_evoformer",
    "foldkit.testing.cases_multimer_embeddings",
)
FEATURE_CASE_REGISTRY = "foldkit.testing.cases_features"
# input-pipeline cases: CASES maps a case type ("monomer/stored", "monomer/search", "multimer") to its check;
# a module that does not exist contributes nothing (its cases fail as not implemented)
PIPELINE_CASE_REGISTRIES = (
    "foldkit.testing.cases_pipeline",
    "foldkit.testing.cases_pipeline_multimer",
)
CaseFn = Callable[[dict, dict, "int | None"], list[OutputCheck]]


@dataclasses.dataclass(frozen=True)
class GoldenCase:
    """One golden case found on disk."""

    kind: str                 # "modules" | "model" | "features" | "multimer" | "pipeline"
    name: str
    folder: Path
    reference: Path           # the npz holding the reference arrays
    config: Path              # the case JSON
    multimer: bool = False    # selected by --only multimer
    variant: str = ""         # pipeline cases: "monomer/stored", "monomer/search" or "multimer"

    @property
    def label(self) -> str:
        suffix = f"[{self.variant.rpartition('/')[2]}]" if self.variant.startswith("monomer/") else ""
        return f"{self.kind}/{self.name}{suffix}"


@dataclasses.dataclass
class CaseReport:
    case: GoldenCase
    results: list[CompareResult]
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.results) and all(r.passed for r in self.results)


# --------------------------------------------------------------------------- discovery

def discover(root: Path, only: str | None = None) -> list[GoldenCase]:
    """Every golden case under ``root`` (recursively), sorted by kind and name."""
    root = Path(root)
    cases: dict[tuple[str, str, Path], GoldenCase] = {}
    for config in sorted(root.rglob("*.json")):
        folder = config.parent
        stem = config.stem
        if stem.endswith("_config"):
            base = stem[: -len("_config")]
            model_files = [folder / f"{base}_{part}.npz" for part in ("features", "params", "outputs")]
            if all(p.is_file() for p in model_files):
                if _is_multimer_model_config(config):
                    for case in _multimer_cases(folder, base, config):
                        cases[("multimer", case.name, folder)] = case
                else:
                    cases[("model", base, folder)] = GoldenCase("model", base, folder, model_files[2], config)
            for suffix in ("processed_features", "features_deterministic"):
                ref = folder / f"{base}_{suffix}.npz"
                if ref.is_file():
                    cases[("features", base, folder)] = GoldenCase("features", base, folder, ref, config)
                    break
        elif config.name == "case.json":
            for case in _pipeline_cases(folder, config):
                cases[("pipeline", f"{case.name}{case.variant}", folder)] = case
        else:
            ref = folder / f"{stem}.npz"
            module_json = _module_json(config)
            if ref.is_file() and module_json is not None:
                multimer = _module_is_multimer(module_json, folder, root)
                cases[("modules", stem, folder)] = GoldenCase("modules", stem, folder, ref, config, multimer)
    if only == "multimer":
        found = [c for c in cases.values() if c.multimer]
    else:
        found = [c for c in cases.values() if only is None or c.kind == only]
    return sorted(found, key=lambda c: (KINDS.index(c.kind), c.name, c.variant, str(c.folder)))


def _pipeline_cases(folder: Path, config: Path) -> list[GoldenCase]:
    """Input-pipeline cases of a folder, by what it holds (never by its name)."""
    raw, processed = folder / "raw_features.npz", folder / "processed_features.npz"
    if raw.is_file() and (folder / "msas").is_dir():
        return [GoldenCase("pipeline", folder.name, folder, raw, config, variant=variant)
                for variant in ("monomer/stored", "monomer/search")]
    if processed.is_file():
        return [GoldenCase("pipeline", folder.name, folder, processed, config, variant="multimer")]
    return []


def _is_multimer_model_config(path: Path) -> bool:
    from foldkit.testing.cases_multimer_model import is_multimer_case_config
    return is_multimer_case_config(path)


def _multimer_cases(folder: Path, base: str, config: Path) -> list[GoldenCase]:
    """The main case, every variant of the config's ``variants`` with outputs, and the bf16 run."""
    try:
        variants = json.loads(config.read_text()).get("variants", {})
    except (OSError, ValueError):
        variants = {}
    suffixes = [""] + [suffix for suffix in variants if suffix != "main"] + ["_bf16"]
    found = []
    for suffix in suffixes:
        outputs = folder / f"{base}{suffix}_outputs.npz"
        if outputs.is_file():
            found.append(GoldenCase("multimer", f"{base}{suffix}", folder, outputs, config, True))
    return found


def _model_case_configs(folder: Path) -> list[Path]:
    return [c for c in sorted(folder.glob("*_config.json"))
            if (folder / f"{c.name[: -len('_config.json')]}_features.npz").is_file()
            and (folder / f"{c.name[: -len('_config.json')]}_outputs.npz").is_file()]


def _module_is_multimer(module_json: dict, folder: Path, root: Path) -> bool:
    """A multimer module case: its JSON says multimer_mode, or the nearest folder (from its own up
    to ``root``) holding whole-model cases holds multimer ones."""
    if (module_json.get("global_config") or {}).get("multimer_mode"):
        return True
    for directory in (folder, *folder.parents):
        configs = _model_case_configs(directory)
        if configs:
            return any(_is_multimer_model_config(c) for c in configs)
        if directory == root or root not in directory.parents:
            break
    return False


def _module_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and ("module" in data or "function" in data) else None


# --------------------------------------------------------------------------- registries

def _load_registry(module_name: str, errors: list[str] | None = None) -> dict[str, CaseFn]:
    """A module's ``CASES``; {} if the module does not exist. An import that fails
    inside the module is recorded in ``errors`` (its cases then fail as not implemented)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return {}
        if errors is None:
            raise
        errors.append(f"{module_name} failed to import: {exc}")
        return {}
    except Exception as exc:  # a broken registry must not hide the other cases
        if errors is None:
            raise
        errors.append(f"{module_name} failed to import: {type(exc).__name__}: {exc}")
        return {}
    return dict(getattr(module, "CASES", {}))


class Registry(dict):
    """Case name -> function, plus the import errors met while collecting it."""

    def __init__(self, *args, errors: list[str] | None = None):
        super().__init__(*args)
        self.errors = list(errors or [])


def pipeline_case_registry() -> Registry:
    """Pipeline case type -> function(arrays, case json, chunk_size) -> checks."""
    errors: list[str] = []
    registry = Registry()
    for module_name in PIPELINE_CASE_REGISTRIES:
        registry.update(_load_registry(module_name, errors))
    registry.errors = errors
    return registry


def module_case_registry() -> Registry:
    """Per-module case name -> function(arrays, case json, chunk_size) -> checks."""
    errors: list[str] = []
    registry = Registry(errors=[])
    for module_name in MODULE_CASE_REGISTRIES:
        registry.update(_load_registry(module_name, errors))
    registry.errors = errors
    return registry


# --------------------------------------------------------------------------- running

def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _compare_all(checks: Iterable[OutputCheck | CompareResult], reference: dict[str, np.ndarray]
                 ) -> list[CompareResult]:
    results = []
    for check in checks:
        if isinstance(check, CompareResult):      # a check made by the case itself (e.g. a file comparison)
            results.append(check)
        elif check.name not in reference:
            results.append(CompareResult(check.name, np.inf, np.inf, False, "no such reference array"))
        else:
            results.append(compare(check, reference[check.name]))
    return results


def _unchecked(reference_keys: Iterable[str], checked: set[str]) -> list[CompareResult]:
    return [CompareResult(key, np.nan, np.nan, False, "reference output not compared")
            for key in sorted(reference_keys) if key not in checked]


def run_case(case: GoldenCase, chunk_size: int | None = None,
             registry: dict[str, CaseFn] | None = None, data_dir: Path | None = None) -> CaseReport:
    """Run one case; exceptions become a FAIL with the error message."""
    start = time.perf_counter()
    try:
        results = _run_case(case, chunk_size, registry, data_dir)
        error = None
    except NoCheckForCase as exc:
        results, error = [], f"not implemented ({exc})" if str(exc) else "not implemented"
    except Exception as exc:  # a crash is a failed case, reported with its cause
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        results, error = [], f"error: {type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"
    return CaseReport(case, results, error, time.perf_counter() - start)


class NoCheckForCase(LookupError):
    """A golden case folder that foldkit has no check for (reported as "not implemented")."""


def _run_case(case: GoldenCase, chunk_size, registry, data_dir: Path | None = None) -> list[CompareResult]:
    case_json = json.loads(case.config.read_text())
    if case.kind == "modules":
        registry = module_case_registry() if registry is None else registry
        if case.name not in registry:
            problems = "; ".join(getattr(registry, "errors", []))
            raise NoCheckForCase(f"no per-module case {case.name!r} in foldkit.testing.cases_*"
                                      + (f"; {problems}" if problems else ""))
        arrays = _load_npz(case.reference)
        checks = registry[case.name](arrays, case_json, chunk_size)
        results = _compare_all(checks, arrays)
        outputs = [k for k in arrays if k.startswith("output/")]
        return results + _unchecked(outputs, {c.name for c in checks})
    if case.kind == "model":
        from foldkit.testing.cases_model import MASK_KEYS, model_case_checks
        reference = _load_npz(case.reference)
        checks = model_case_checks(case.folder, case.name, case_json, chunk_size)
        outputs = [k for k in reference if k not in MASK_KEYS]
        return _compare_all(checks, reference) + _unchecked(outputs, {c.name for c in checks})
    if case.kind == "multimer":
        from foldkit.testing.cases_multimer_model import multimer_model_checks
        base = case.config.name[: -len("_config.json")]
        checks, reference = multimer_model_checks(case.folder, base, case.name, case_json, chunk_size)
        outputs = [k for k in _load_npz(case.reference)]
        return _compare_all(checks, reference) + _unchecked(outputs, {c.name for c in checks})
    if case.kind == "features":
        errors: list[str] = []
        features_registry = _load_registry(FEATURE_CASE_REGISTRY, errors) if registry is None else registry
        fn = features_registry.get(case.name) or features_registry.get("*")
        if fn is None:
            raise NoCheckForCase(f"no featurization case {case.name!r} in {FEATURE_CASE_REGISTRY}"
                                      + (f"; {'; '.join(errors)}" if errors else ""))
        arrays = _load_npz(case.reference)
        case_json = dict(case_json, _case_dir=str(case.folder), _case_name=case.name,
                         _reference_file=case.reference.name)
        checks = fn(arrays, case_json, chunk_size)
        return _compare_all(checks, arrays) + _unchecked(arrays, {c.name for c in checks})
    if case.kind == "pipeline":
        registry = pipeline_case_registry() if registry is None else registry
        fn = registry.get(case.variant)
        if fn is None:
            problems = "; ".join(getattr(registry, "errors", []))
            raise NoCheckForCase(f"no {case.variant} input-pipeline check in "
                                 f"{' or '.join(PIPELINE_CASE_REGISTRIES)}" + (f"; {problems}" if problems else ""))
        arrays = _load_npz(case.reference)
        case_json = dict(case_json, _case_dir=str(case.folder), _variant=case.variant,
                         _data_dir=None if data_dir is None else str(data_dir))
        checks = fn(arrays, case_json, chunk_size)
        return _compare_all(checks, arrays) + _unchecked(arrays, {c.name for c in checks})
    raise ValueError(f"unknown case kind {case.kind!r}")


# --------------------------------------------------------------------------- report

def format_result(case: GoldenCase, result: CompareResult) -> str:
    status = "PASS" if result.passed else "FAIL"
    detail = f"  ({result.detail})" if result.detail else ""
    return (f"{case.label:<48} {result.name:<58} max_abs={result.max_abs:.3e} "
            f"max_rel={result.max_rel:.3e} {status}{detail}")


def run_all(root: Path, only: str | None = None, chunk_size: int | None = None,
            out=sys.stdout, data_dir: Path | None = None) -> tuple[int, int]:
    """Run and print every case; returns (passed, failed) counted per case."""
    cases = discover(root, only)
    if not cases:
        print(f"golden: no cases found under {root}", file=out)
    registries = {"modules": module_case_registry(), "pipeline": pipeline_case_registry()}
    passed = failed = 0
    for case in cases:
        report = run_case(case, chunk_size, registries.get(case.kind), data_dir)
        for result in report.results:
            print(format_result(case, result), file=out)
        if report.error is not None:
            print(f"{case.label:<48} {'-':<58} FAIL  ({report.error})", file=out)
        print(f"{case.label:<48} {'== case':<58} {'PASS' if report.passed else 'FAIL'} "
              f"({report.seconds:.1f} s)", file=out)
        out.flush()
        passed += report.passed
        failed += not report.passed
    print(f"golden: {passed} passed, {failed} failed", file=out)
    return passed, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foldkit.testing.golden", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="folder of golden cases (e.g. shared/reference/af2)")
    parser.add_argument("--only", choices=KINDS, help="run only one kind of case")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="chunk attention/triangle ops over rows of this size (default: off)")
    parser.add_argument("--matmul-precision", choices=MATMUL_PRECISION_CHOICES, default="highest",
                        help="float32 matrix products on GPU/TPU (default: highest, full float32, as the reference "
                             "tolerances assume; 'default' shows what TF32 does)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="AlphaFold2 data directory for the end-to-end input-pipeline checks (default: the one "
                             "each case's flags name, relative to the folder above the case)")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"golden: {args.directory} is not a directory", file=sys.stderr)
        return 2
    from foldkit.model.runner import matmul_precision_scope

    with matmul_precision_scope(matmul_precision_setting(args.matmul_precision)):
        _, failed = run_all(args.directory, args.only, args.chunk_size, data_dir=args.data_dir)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
