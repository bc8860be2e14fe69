"""Structure files in, relaxed structure files and metrics JSON out (what ``foldkit relax`` runs).

Input: PDB or mmCIF (gzip accepted), every protein chain of the first model,
relaxed together; waters, ligands and nucleic acids are left out. Output:
PDB or mmCIF by the extension, hydrogens included, the input's numbering;
beside it ``<stem>_metrics.json``. Both are written atomically, only once the
relaxation succeeded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.structure import read_chains
from foldkit.io.atomic import atomic_write_text
from foldkit.relax.config import RelaxSettings
from foldkit.relax.layout import ModelLayout, model_layout
from foldkit.relax.protocol import RelaxResult, relax_chains
from foldkit.relax.structure import relaxed_text

STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
FORMAT_OF_SUFFIX = {".pdb": "pdb", ".ent": "pdb", ".cif": "mmcif", ".mmcif": "mmcif"}
SUFFIX_OF_FORMAT = {"pdb": ".pdb", "mmcif": ".cif"}
METRICS_SUFFIX = "_metrics.json"
_RESIDUE_SPEC = re.compile(r"^(?:(?P<chain>[^:,\s]+):)?(?P<first>-?\d+)(?P<icode>[A-Za-z]?)"
                           r"(?:-(?P<last>-?\d+))?$")

Log = Callable[[str], None]


def structure_suffix(path: Path) -> str:
    """'.pdb', '.cif', ... of a file name ('.gz' skipped), lower case ('' if none)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def output_format(path: Path) -> str:
    """'pdb' or 'mmcif' from an output file name (.pdb/.ent or .cif/.mmcif)."""
    fmt = FORMAT_OF_SUFFIX.get(structure_suffix(path))
    if fmt is None:
        raise InputError("output file name must end in .pdb, .ent, .cif or .mmcif", path=str(path))
    return fmt


def metrics_path(output: Path) -> Path:
    stem = output.name[:-len(output.suffix)] if output.suffix else output.name
    return output.with_name(stem + METRICS_SUFFIX)


def structure_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, with every structure file (.pdb/.ent/.cif/.mmcif, maybe .gz) of a named folder."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and structure_suffix(p) in STRUCTURE_SUFFIXES)
            if not inside:
                raise InputError("folder holds no .pdb/.ent/.cif/.mmcif file", path=str(path))
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise InputError("no such file or folder", path=str(path))
    return found


@dataclasses.dataclass(frozen=True)
class RelaxJob:
    """One structure to relax: its chains (checked) and where the results go."""

    source: Path
    output: Path
    layout: ModelLayout
    warnings: tuple[str, ...]

    @property
    def metrics(self) -> Path:
        return metrics_path(self.output)


def read_model(path: Path, rebuild_missing_atoms: bool = True) -> tuple[ModelLayout, tuple[str, ...]]:
    """The checked protein chains of a structure file and the reader's warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chains = read_chains(path)
    return model_layout(chains, str(path), rebuild_missing_atoms), tuple(str(w.message) for w in caught)


def exclusion_indices(layout: ModelLayout, spec: str, path: str) -> tuple[int, ...]:
    """0-based model indices of residues given as 'A:45,A:50-52,60' (chain optional; numbers as in the file)."""
    keys = []                                                   # (chain, number, insertion code) per residue
    for chain in layout.chains:
        icodes = chain.insertion_codes or ("",) * len(chain)
        keys += [(chain.chain_id.strip(), int(n), c.strip()) for n, c in zip(chain.residue_index, icodes)]
    indices: set[int] = set()
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        match = _RESIDUE_SPEC.match(item)
        if match is None:
            raise InputError(f"--exclude-residues: {item!r} is not a residue (45, A:45, A:45B or A:40-45)", path=path)
        first = int(match["first"])
        last = int(match["last"]) if match["last"] is not None else None

        def wanted(key: tuple[str, int, str]) -> bool:
            if match["chain"] is not None and key[0] != match["chain"]:
                return False
            if last is not None:
                return first <= key[1] <= last
            return key[1] == first and key[2] == match["icode"]

        hits = [i for i, key in enumerate(keys) if wanted(key)]
        if not hits:
            raise InputError(f"--exclude-residues: no residue {item} in the structure", path=path)
        indices.update(hits)
    return tuple(sorted(indices))


def relax_job(job: RelaxJob, settings: RelaxSettings, log: Log | None = None) -> RelaxResult:
    """Relax one checked structure and write its structure file and metrics JSON (atomically)."""
    result = relax_chains(job.layout.chains, settings, str(job.source), log)
    fmt = output_format(job.output)
    name = job.output.name.split(".")[0]
    text = relaxed_text(result.chains, fmt, name)
    metrics = {"input": str(job.source), "output": str(job.output), **result.metrics.to_json()}
    atomic_write_text(job.output, text)
    atomic_write_text(job.metrics, metrics_json_text(metrics))
    return result


def metrics_json_text(metrics: dict) -> str:
    """JSON text of a metrics record (non-finite numbers as null)."""
    def clean(value):
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return json.dumps(clean(metrics), indent=1) + "\n"
