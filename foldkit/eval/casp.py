"""CASP naming, evaluation units (domains) and the model -> reference pairing of a target set.

Names: ``T1024TS427_1-D1`` = target T1024, group 427, model 1, domain 1
(``TS`` tertiary-structure prediction). A unit is ``T1024-D1`` (a domain) or
``T1024`` (the whole target); its reference is ``natives/<unit>.pdb``.
A model trimmed to a domain (``-Dn``) is scored against that domain only; a
full-length model against every domain of its target and against the whole
target when a whole native exists.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from pathlib import Path

from foldkit.errors import InputError

MODEL_NAME = re.compile(r"^(?P<target>[TRH]\d{4}(?:s\d+)?)TS(?P<group>\d{3})(?:_(?P<model>\d+))?"
                        r"(?:-D(?P<domain>\d+))?$")
UNIT_NAME = re.compile(r"^(?P<target>[TRH]\d{4}(?:s\d+)?)(?:-D(?P<domain>\d+))?$")
STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif", ".txt", ".ts")


@dataclasses.dataclass(frozen=True)
class ModelName:
    """A parsed CASP model name. model_index None: not in the name (e.g. a TS file with several models)."""

    stem: str
    target: str
    group: str
    model_index: int | None
    domain: str   # "D1" .. or "" for a full-length model

    def with_model(self, index: int) -> str:
        """The CASP name of model ``index`` of this file."""
        return f"{self.target}TS{self.group}_{index}" + (f"-{self.domain}" if self.domain else "")


@dataclasses.dataclass(frozen=True)
class Reference:
    """The reference of one evaluation unit: a native file, optionally cut to residue ranges."""

    unit: str                      # "T1024-D1" or "T1024"
    target: str
    domain: str                    # "D1" or "" (whole target)
    path: Path
    residue_ranges: tuple[tuple[int, int], ...] | None = None


def structure_stem(path: Path) -> str:
    """File name without a structure suffix (CASP TS files often have none)."""
    name = path.name
    for suffix in STRUCTURE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_model_name(stem: str) -> ModelName | None:
    match = MODEL_NAME.match(stem)
    if not match:
        return None
    model = match["model"]
    return ModelName(stem=stem, target=match["target"], group=match["group"],
                     model_index=None if model is None else int(model),
                     domain=f"D{int(match['domain'])}" if match["domain"] else "")


def parse_ranges(text: str, path: str = "domains.tsv", line: int | None = None) -> tuple[tuple[int, int], ...]:
    """'8-18,34-81' -> ((8, 18), (34, 81))."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(-?\d+)\s*-\s*(-?\d+)|(-?\d+)", part)
        if not match:
            raise InputError(f"bad residue range {part!r} (expected e.g. 8-18,34-81)", path=path, line=line)
        lo, hi = (int(match[1]), int(match[2])) if match[1] else (int(match[3]), int(match[3]))
        ranges.append((lo, hi))
    return tuple(ranges)


def read_domains(path: str | os.PathLike) -> dict[str, tuple[tuple[int, int], ...]]:
    """unit -> residue ranges from a domains.tsv (columns ``unit`` and ``residue_ranges``, tab-separated)."""
    path = Path(path)
    try:
        handle = path.open(newline="")
    except OSError as exc:
        raise InputError(f"cannot read domain file: {exc.strerror}", path=str(path)) from None
    with handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if not reader.fieldnames or not {"unit", "residue_ranges"} <= set(reader.fieldnames):
            raise InputError("domain file needs tab-separated columns 'unit' and 'residue_ranges'", path=str(path),
                             line=1)
        units = {}
        for line, row in enumerate(reader, start=2):
            unit = (row.get("unit") or "").strip()
            if unit and (row.get("residue_ranges") or "").strip():
                units[unit] = parse_ranges(row["residue_ranges"], str(path), line)
    return units


def find_natives(natives_dir: str | os.PathLike) -> dict[str, Path]:
    """unit name -> native file, for every structure file named like a unit (T1024.pdb, T1024-D1.pdb)."""
    natives = {}
    for path in sorted(Path(natives_dir).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            stem = structure_stem(path)
            if UNIT_NAME.match(stem):
                natives.setdefault(stem, path)
    return natives


def references_for(name: ModelName, natives: dict[str, Path],
                   domains: dict[str, tuple[tuple[int, int], ...]] | None = None) -> list[Reference]:
    """The references a model is scored against (see the module docstring).

    With ``domains``, a domain whose native file is missing is cut from the
    whole-target native by its residue ranges.
    """
    domains = domains or {}

    def unit_ref(unit: str) -> Reference | None:
        match = UNIT_NAME.match(unit)
        domain = f"D{int(match['domain'])}" if match["domain"] else ""
        if unit in natives:
            return Reference(unit, name.target, domain, natives[unit])
        if domain and unit in domains and name.target in natives:
            return Reference(unit, name.target, domain, natives[name.target], domains[unit])
        return None

    if name.domain:
        ref = unit_ref(f"{name.target}-{name.domain}")
        return [ref] if ref else []
    units = {u for u in list(natives) + list(domains) if UNIT_NAME.match(u)["target"] == name.target
             and UNIT_NAME.match(u)["domain"]}
    refs = [unit_ref(u) for u in sorted(units, key=_unit_order)]
    if name.target in natives:
        refs.append(Reference(name.target, name.target, "", natives[name.target]))
    return [r for r in refs if r is not None]


def _unit_order(unit: str) -> tuple[str, int]:
    match = UNIT_NAME.match(unit)
    return match["target"], int(match["domain"] or 0)


@dataclasses.dataclass(frozen=True)
class ModelFile:
    """One model file of a set and the references it is to be scored against."""

    path: Path
    name: ModelName
    references: tuple[Reference, ...]


def plan_target_set(models_dir: str | os.PathLike, natives_dir: str | os.PathLike,
                    domains: dict[str, tuple[tuple[int, int], ...]] | None = None
                    ) -> tuple[list[ModelFile], list[tuple[Path, str]]]:
    """Walk ``models_dir`` recursively and pair every CASP-named model file with its references.

    Returns (model files, problems) where problems are (path, message) for
    files that are not CASP-named or have no reference.
    """
    natives = find_natives(natives_dir)
    files, problems = [], []
    for path in sorted(Path(models_dir).rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = parse_model_name(structure_stem(path))
        if name is None:
            if path.suffix.lower() in STRUCTURE_SUFFIXES:
                problems.append((path, "name is not a CASP model name like T1024TS427_1 or T1024TS427_1-D1; skipped"))
            continue
        refs = references_for(name, natives, domains)
        if not refs:
            want = f"{name.target}-{name.domain}" if name.domain else f"{name.target} or {name.target}-D<n>"
            problems.append((path, f"no reference structure {want} found in {natives_dir}"))
            continue
        files.append(ModelFile(path=path, name=name, references=tuple(refs)))
    return files, problems
