"""AlphaFold2 v2.3's database directory: file names, presets, per-database options, checks.

``--af2-data-dir DIR`` reads the layout of AlphaFold2's download scripts
(``uniref90/uniref90.fasta``, ``mgnify/mgy_clusters_2022_05.fa``, ...); each
database can also be given alone (``--uniref90 FILE``, ...), which replaces
the directory's file or, without a directory, is all there is. HH-suite
databases are given by their prefix, as AlphaFold2 does
(``bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt`` names the
``_a3m``, ``_hhm`` and ``_cs219`` ffindex pairs).

Presets (``--db-preset``): ``full_dbs`` searches BFD + UniRef30 with HHblits,
``reduced_dbs`` the small BFD with jackhmmer; both search UniRef90 and MGnify
with jackhmmer and PDB70 with HHsearch for templates. The multimer model
preset (``model_preset="multimer"``) searches templates with hmmsearch on
``pdb_seqres.txt`` instead of PDB70, and UniProt with jackhmmer for pairing. A file the preset needs
that is missing is an :class:`~foldkit.errors.InputError` naming the file and
the option that gives it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

from foldkit.errors import InputError

DB_PRESETS = ("full_dbs", "reduced_dbs")

# database key -> path inside an AlphaFold2 v2.3 data directory
LAYOUT: dict[str, str] = {
    "uniref90": "uniref90/uniref90.fasta",
    "mgnify": "mgnify/mgy_clusters_2022_05.fa",
    "bfd": "bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt",
    "uniref30": "uniref30/UniRef30_2021_03",
    "small_bfd": "small_bfd/bfd-first_non_consensus_sequences.fasta",
    "pdb70": "pdb70/pdb70",
    "pdb_seqres": "pdb_seqres/pdb_seqres.txt",
    "uniprot": "uniprot/uniprot.fasta",
    "template_mmcif_dir": "pdb_mmcif/mmcif_files",
    "obsolete_pdbs": "pdb_mmcif/obsolete.dat",
}
# database key -> the command-line option that gives it alone
OPTIONS: dict[str, str] = {key: "--" + key.replace("_", "-") for key in LAYOUT}
HHSUITE_KEYS = ("bfd", "uniref30", "pdb70")
# what each preset searches (monomer); multimer replaces pdb70 by pdb_seqres and adds uniprot
PRESET_KEYS: dict[str, tuple[str, ...]] = {
    "full_dbs": ("uniref90", "mgnify", "bfd", "uniref30", "pdb70", "template_mmcif_dir", "obsolete_pdbs"),
    "reduced_dbs": ("uniref90", "mgnify", "small_bfd", "pdb70", "template_mmcif_dir", "obsolete_pdbs"),
}
MODEL_PRESETS = ("monomer", "multimer")
MULTIMER_ONLY_KEYS = ("pdb_seqres", "uniprot")


def preset_keys(db_preset: str, model_preset: str = "monomer") -> tuple[str, ...]:
    """The data-directory databases a run reads: the db preset's, with multimer's template and pairing ones."""
    keys = PRESET_KEYS[db_preset]
    if model_preset == "multimer":
        keys = tuple(k for k in keys if k != "pdb70") + MULTIMER_ONLY_KEYS
    return keys
HHSUITE_PARTS_REQUIRED = ("a3m", "cs219")      # _hhm is read when present


@dataclasses.dataclass(frozen=True)
class Af2Databases:
    """Resolved database paths (None: not available); HH-suite ones are prefixes."""

    db_preset: str
    uniref90: Path | None = None
    mgnify: Path | None = None
    bfd: Path | None = None
    uniref30: Path | None = None
    small_bfd: Path | None = None
    pdb70: Path | None = None
    pdb_seqres: Path | None = None
    uniprot: Path | None = None
    template_mmcif_dir: Path | None = None
    obsolete_pdbs: Path | None = None
    model_preset: str = "monomer"           # "multimer": hmmsearch templates on pdb_seqres, UniProt pairing

    @property
    def hhblits_databases(self) -> tuple[Path, ...]:
        """BFD then UniRef30 (AlphaFold2's ``-d`` order) under full_dbs."""
        if self.db_preset != "full_dbs":
            return ()
        return tuple(p for p in (self.bfd, self.uniref30) if p is not None)

    @property
    def template_search(self) -> str | None:
        """'hhsearch' (monomer: PDB70), 'hmmsearch' (multimer: pdb_seqres) or None (no template search)."""
        if self.template_mmcif_dir is None:
            return None
        if self.model_preset == "multimer":
            return "hmmsearch" if self.pdb_seqres is not None else None
        return "hhsearch" if self.pdb70 is not None else None

    @property
    def searches_templates(self) -> bool:
        return self.template_search is not None

    def as_dict(self) -> dict[str, str | None]:
        described = {f.name: (None if getattr(self, f.name) is None else str(getattr(self, f.name)))
                     for f in dataclasses.fields(self) if f.name != "model_preset"}
        if self.model_preset != "monomer":           # monomer runs keep the description they always had
            described["model_preset"] = self.model_preset
        return described


def _exists(key: str, path: Path) -> bool:
    if key in HHSUITE_KEYS:
        return all(Path(f"{path}_{part}.ff{kind}").is_file()
                   for part in HHSUITE_PARTS_REQUIRED for kind in ("data", "index"))
    if key == "template_mmcif_dir":
        return path.is_dir()
    return path.is_file()


def _missing_file(key: str, path: Path) -> Path:
    """The first file (or folder) of a database that does not exist."""
    if key in HHSUITE_KEYS:
        for part in HHSUITE_PARTS_REQUIRED:
            for kind in ("index", "data"):
                candidate = Path(f"{path}_{part}.ff{kind}")
                if not candidate.is_file():
                    return candidate
    return path


def resolve_databases(data_dir: str | Path | None, db_preset: str | None = None,
                      given: Mapping[str, str | Path | None] | None = None,
                      model_preset: str = "monomer") -> Af2Databases:
    """Databases from a data directory and/or options given alone; checks every file exists.

    ``given`` maps database keys (``uniref90``, ``bfd``, ...) to paths that
    replace the directory's. Without a directory the preset defaults to
    ``reduced_dbs`` when only ``small_bfd`` is given, else ``full_dbs``.
    ``model_preset="multimer"`` reads ``pdb_seqres`` and ``uniprot`` instead of ``pdb70``.
    """
    if model_preset not in MODEL_PRESETS:
        raise InputError(f"model preset must be one of {', '.join(MODEL_PRESETS)}, not {model_preset!r}")
    given = {k: Path(v) for k, v in (given or {}).items() if v is not None and str(v) != ""}
    unknown = sorted(set(given) - set(LAYOUT))
    if unknown:
        raise ValueError(f"unknown database keys {unknown}")
    if db_preset is not None and db_preset not in DB_PRESETS:
        raise InputError(f"--db-preset must be one of {', '.join(DB_PRESETS)}, not {db_preset!r}")
    if data_dir is not None:
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise InputError("AlphaFold2 data directory not found (--af2-data-dir)", path=str(data_dir))
        preset = db_preset or "full_dbs"
    else:
        if not given:
            raise InputError("no database: give --af2-data-dir DIR or the databases alone (--uniref90 ...)")
        hh_given = any(k in given for k in ("bfd", "uniref30"))
        preset = db_preset or ("reduced_dbs" if "small_bfd" in given and not hh_given else "full_dbs")
    paths: dict[str, Path] = {}
    for key in LAYOUT:
        if key in given:
            paths[key] = given[key]
        elif data_dir is not None and key in preset_keys(preset, model_preset):
            paths[key] = data_dir / LAYOUT[key]
    for key, path in paths.items():
        if key in HHSUITE_KEYS and _exists(key, path):
            check_hhsuite_database(path)
        if not _exists(key, path):
            missing = _missing_file(key, path)
            source = (f"given with {OPTIONS[key]}" if key in given else
                      f"expected in --af2-data-dir for --db-preset {preset}; give it with {OPTIONS[key]} FILE")
            raise InputError(f"{'folder' if key == 'template_mmcif_dir' else 'file'} not found ({source})",
                             path=str(missing))
    _check_preset(preset, paths, given, model_preset)
    return Af2Databases(db_preset=preset, model_preset=model_preset, **paths)


def _check_preset(preset: str, paths: Mapping[str, Path], given: Mapping[str, Path],
                  model_preset: str = "monomer") -> None:
    """Options that the preset would ignore, and template inputs given by halves, are errors."""
    unused = {"full_dbs": ("small_bfd",), "reduced_dbs": ("bfd", "uniref30")}[preset]
    for key in unused:
        if key in given:
            other = "reduced_dbs" if preset == "full_dbs" else "full_dbs"
            raise InputError(f"{OPTIONS[key]} is searched under --db-preset {other}, but the preset is {preset}")
    if not any(k in paths for k in ("uniref90", "mgnify", "bfd", "uniref30", "small_bfd")):
        raise InputError("no MSA database: give --af2-data-dir or at least one of --uniref90, --mgnify, "
                         "--bfd, --uniref30, --small-bfd")
    search = "pdb70"
    if model_preset == "multimer":
        search = "pdb_seqres"
        if "pdb70" in given:
            raise InputError(f"{OPTIONS['pdb70']} is the monomer template search (HHsearch); the multimer model "
                             f"searches templates with hmmsearch on {OPTIONS['pdb_seqres']}")
    if (search in paths) != ("template_mmcif_dir" in paths):
        have, lack = (search, "template_mmcif_dir") if search in paths else ("template_mmcif_dir", search)
        raise InputError(f"templates need both {OPTIONS[search]} and {OPTIONS['template_mmcif_dir']}: "
                         f"{OPTIONS[have]} is given, {OPTIONS[lack]} is missing")


FULL_CHECK_BYTES = 32 << 20    # ffindex files up to this size are checked line by line, larger ones at both ends


def check_hhsuite_database(prefix: Path) -> None:
    """Each ``<prefix>_<part>.ffindex`` must hold ``name<TAB>offset<TAB>length`` lines inside its ``.ffdata``."""
    for part in ("a3m", "hhm", "cs219"):
        index, data = Path(f"{prefix}_{part}.ffindex"), Path(f"{prefix}_{part}.ffdata")
        if index.is_file() and data.is_file():
            check_ffindex(index, data.stat().st_size)


def check_ffindex(index: Path, data_bytes: int) -> None:
    """InputError (file, line) on a malformed or truncated ffindex/ffdata pair (large indexes: both ends)."""
    size = index.stat().st_size
    if size == 0:
        raise InputError("empty ffindex file", path=str(index))
    with open(index, "rb") as handle:
        if size <= FULL_CHECK_BYTES:
            chunks = [(1, handle.read())]
        else:
            head = handle.read(1 << 16)
            handle.seek(size - (1 << 16))
            chunks = [(1, head[: head.rfind(b"\n") + 1]), (None, handle.read().split(b"\n", 1)[-1])]
    for first_line, chunk in chunks:
        if not chunk.endswith(b"\n"):
            raise InputError("truncated ffindex file (the last line is cut off)", path=str(index))
        for offset, raw in enumerate(chunk.splitlines()):
            line = None if first_line is None else first_line + offset
            fields = raw.split(b"\t")
            if len(fields) != 3 or not fields[1].isdigit() or not fields[2].isdigit():
                raise InputError("not an ffindex line (expected name<TAB>offset<TAB>length)", path=str(index),
                                 line=line)
            if int(fields[1]) + int(fields[2]) > data_bytes:
                name = fields[0].decode(errors="replace")
                raise InputError(f"entry '{name}' ends at byte {int(fields[1]) + int(fields[2])}, after the end of "
                                 f"the {data_bytes}-byte .ffdata file (truncated database?)", path=str(index),
                                 line=line)


def database_stamp(path: Path | None) -> dict | None:
    """What identifies a database file (or every file of an HH-suite prefix): resolved path, size, mtime."""
    if path is None:
        return None
    files = sorted(path.parent.glob(path.name + "_*.ff*")) if not path.exists() else [path]
    described = []
    for file in files:
        resolved = file.resolve()
        stat = os.stat(resolved)
        described.append({"path": str(resolved), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return {"files": described}
