"""Template chains from PDB mmCIF files (read with gemmi), as AlphaFold2 v2.3 sees them.

What AlphaFold2 takes from an entry, and how this module reproduces it:

* **Release date**: the earliest ``_pdbx_audit_revision_history.revision_date``.
* **SEQRES** per author chain id: the ``_entity_poly_seq`` monomers of every
  polymer entity with at least one peptide component (``_chem_comp.type``
  containing "peptide"), mapped to one letter with Biopython's extended
  three-to-one table (modified residues become their parent, e.g. MSE -> M;
  unknown codes become X). Chains are the ``_struct_asym`` instances of the
  entity, named by the author chain id their atoms carry.
* **Where each SEQRES residue sits**: the last first-model atom row of a chain
  with that ``label_seq_id`` gives the residue (author number, insertion code,
  ATOM/HETATM flag); SEQRES residues without atoms are missing.
* **Atoms** in atom37 order: the atoms of that residue in the first model,
  named by ``label_atom_id``. Alternative locations are resolved the way
  Biopython's structure builder does it (AlphaFold2 reads structures with it):
  per atom the location with the highest occupancy, the first one on ties; a
  residue id that occurs with several residue names (micro-heterogeneity)
  resolves to the name that was read last. Selenomethionine's SE fills the SD
  slot; arginines whose NH1 is farther from CD than NH2 get NH1/NH2 swapped.
  Coordinates are float32 of the file's decimal text.

An entry that AlphaFold2 could not parse at all (no protein chain, a polymer
chain without atoms, a component missing from ``_chem_comp``, a residue id
defined twice as HETATM ...) is returned with ``problem`` set, so that its hits
are skipped with a warning as in AlphaFold2. Files that are not valid mmCIF
(syntax, no ``_atom_site``, non-numeric coordinates) raise
:class:`~foldkit.errors.InputError`.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import itertools
import operator
import re
from pathlib import Path

import numpy as np
from gemmi import cif

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.io.textfile import decode_text, read_input_bytes

_NULL = (".", "?")
_ATOM_TAGS = ("Cartn_x", "group_PDB", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id", "label_seq_id",
              "auth_seq_id", "auth_asym_id", "pdbx_PDB_ins_code", "Cartn_y", "Cartn_z", "occupancy",
              "pdbx_PDB_model_num")
_REQUIRED_ATOM_TAGS = ("label_atom_id", "label_comp_id", "label_asym_id", "label_seq_id", "auth_seq_id",
                       "auth_asym_id", "Cartn_x", "Cartn_y", "Cartn_z")
_CD, _NH1, _NH2, _SD, _CA = (rc.ATOM_ORDER[n] for n in ("CD", "NH1", "NH2", "SD", "CA"))

ResidueKey = tuple[str, int, str]      # (hetero flag ' ' / 'W' / 'H_<name>', author number, insertion code)


class ChainAtomsError(Exception):
    """AlphaFold2 gets no atom data for a chain (the hit is skipped with a warning)."""


@dataclasses.dataclass(frozen=True)
class ChainAtoms:
    """Atoms of one chain aligned to its SEQRES."""

    positions: np.ndarray               # [N, 37, 3] float32
    mask: np.ndarray                    # [N, 37] float32


@dataclasses.dataclass
class _Residue:
    """One residue as Biopython builds it: atom name -> chosen row, plus alternatives."""

    name: str
    atoms: dict[str, int] = dataclasses.field(default_factory=dict)          # atom name -> selected row
    alternatives: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # name -> altloc -> row
    best_occupancy: dict[str, float] = dataclasses.field(default_factory=dict)
    rows: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _ResidueSlot:
    """A residue id of a chain: its residue(s) by name and which name is selected."""

    by_name: dict[str, _Residue]
    selected: str


class _AtomSite:
    """Columns of the first model's ``_atom_site`` rows (strings, unquoted)."""

    def __init__(self, block: cif.Block, where: str):
        table = block.find("_atom_site.", [_ATOM_TAGS[0]] + ["?" + tag for tag in _ATOM_TAGS[1:]])
        if len(table) == 0:
            raise InputError("no _atom_site records (no atoms)", path=where)
        columns: dict[str, list[str]] = {}
        for index, tag in enumerate(_ATOM_TAGS):
            if table.has_column(index):
                columns[tag] = _unquoted(list(table.column(index)))
        for tag in _REQUIRED_ATOM_TAGS:
            if tag not in columns:
                raise InputError(f"_atom_site.{tag} is missing", path=where)
        count = len(table)
        models = columns.get("pdbx_PDB_model_num", ["1"] * count)
        first = count if len(set(models)) == 1 else next(k for k, m in enumerate(models) if m != models[0])
        self.model_number = models[0]
        self.count = first
        take = lambda tag, default: columns[tag][:first] if tag in columns else [default] * first  # noqa: E731
        self.group = take("group_PDB", "ATOM")
        self.atom_name = take("label_atom_id", "")
        self.altloc = [" " if a in _NULL else a for a in take("label_alt_id", ".")]
        self.comp = take("label_comp_id", "")
        self.label_asym = take("label_asym_id", "")
        self.label_seq = take("label_seq_id", ".")
        self.auth_seq = take("auth_seq_id", ".")
        self.auth_asym = take("auth_asym_id", "")
        self.icode = [" " if c in _NULL else c for c in take("pdbx_PDB_ins_code", "?")]
        self._columns = {tag: take(tag, "1.0") for tag in ("Cartn_x", "Cartn_y", "Cartn_z", "occupancy")}
        self._where = where
        self._coords: np.ndarray | None = None
        self._occupancy: np.ndarray | None = None
        self._runs: list[tuple[int, int]] | None = None

    @property
    def runs(self) -> list[tuple[int, int]]:
        """(first row, end row) of every run of consecutive rows that share their chain ids, residue
        numbers, insertion code, residue name and record type: the rows of one residue, read at once."""
        if self._runs is None:
            keys = list(zip(self.label_asym, self.auth_asym, self.group, self.comp, self.auth_seq, self.icode,
                            self.label_seq))
            changes = map(operator.ne, itertools.islice(keys, 1, None), keys)
            starts = [0, *itertools.compress(range(1, self.count), changes)]
            self._runs = list(zip(starts, starts[1:] + [self.count]))
        return self._runs

    def _numbers(self, tag: str, what: str) -> np.ndarray:
        values = self._columns[tag]
        try:
            return np.array(values, dtype=np.float64)
        except ValueError:
            row = next(k for k, v in enumerate(values) if not _is_float(v))
            raise InputError(f"_atom_site row {row + 1}: {what} {values[row]!r} is not a number",
                             path=self._where) from None

    @property
    def coords(self) -> np.ndarray:
        """[A, 3] float32 (float32 of the decimal text, as Biopython stores it)."""
        if self._coords is None:
            xyz = [self._numbers(f"Cartn_{axis}", f"{axis} coordinate") for axis in "xyz"]
            self._coords = np.stack(xyz, axis=-1).astype(np.float32)
        return self._coords

    @property
    def occupancy(self) -> np.ndarray:
        if self._occupancy is None:
            self._occupancy = self._numbers("occupancy", "occupancy")
        return self._occupancy

    def hetero_flag(self, row: int) -> str:
        if self.group[row] != "HETATM":
            return " "
        return "W" if self.comp[row] in ("HOH", "WAT") else "H_" + self.comp[row]


def _text(value: str) -> str:
    """A CIF value without its quotes; the null markers '.' and '?' stay as they are."""
    return cif.as_string(value) if value[:1] in ("'", '"', ";") else value


def _unquoted(values: list[str]) -> list[str]:
    """Column values without quotes (only the quoted ones are converted)."""
    joined = "".join(values)                   # one scan in C: most columns hold no quote at all
    if "'" not in joined and '"' not in joined and ";" not in joined:
        return values
    for k, value in enumerate(values):
        if value[:1] in ("'", '"', ";"):
            values[k] = cif.as_string(value)
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _EntryUnusable(Exception):
    """AlphaFold2's mmCIF parser fails on this entry as a whole."""


def _loop(block: cif.Block, category: str, tags: list[str]) -> list[tuple[str, ...]]:
    """Rows of a category's ``tags`` (unquoted); none when a tag is missing."""
    table = block.find(category, tags)
    if len(table) == 0:
        return []
    return list(zip(*(_unquoted(list(table.column(k))) for k in range(len(tags)))))


def _release_date(block: cif.Block, where: str) -> datetime.date | None:
    dates = [_text(v) for v in block.find_values("_pdbx_audit_revision_history.revision_date")]
    dates = [d for d in dates if d not in _NULL]
    if not dates:
        return None
    earliest = min(dates)
    try:
        return datetime.date.fromisoformat(earliest)
    except ValueError:
        raise InputError(f"_pdbx_audit_revision_history.revision_date {earliest!r} is not YYYY-MM-DD",
                         path=where) from None


@functools.lru_cache(maxsize=None)
def _one_letter(code: str) -> str:
    from Bio.Data.PDBData import protein_letters_3to1_extended

    letter = protein_letters_3to1_extended.get(code, "X")
    return letter if len(letter) == 1 else "X"


class MmcifEntry:
    """One parsed mmCIF entry: release date, protein chains' SEQRES, and their atoms on demand."""

    def __init__(self, entry_id: str, path: str, release_date: datetime.date | None,
                 seqres: dict[str, str], sites: dict[str, dict[int, tuple[ResidueKey, str] | None]],
                 atom_site: _AtomSite | None, problem: str | None):
        self.entry_id = entry_id
        self.path = path
        self.release_date = release_date
        self.seqres = seqres                # author chain id -> SEQRES one-letter sequence
        self.sites = sites                  # chain -> SEQRES index -> (residue key, name) or None (missing)
        self.problem = problem              # why AlphaFold2 cannot use the entry (None: usable)
        self._atom_site = atom_site
        self._slots: dict[str, dict[ResidueKey, _ResidueSlot]] | None = None
        self._chain_atoms: dict[str, ChainAtoms] = {}

    def __repr__(self) -> str:
        chains = ", ".join(f"{c}:{len(s)}" for c, s in self.seqres.items())
        return f"MmcifEntry({self.entry_id}, released {self.release_date}, chains {chains or '-'})"

    # ------------------------------------------------------------------ residues (Biopython's model)

    def _build_slots(self) -> dict[str, dict[ResidueKey, _ResidueSlot]]:
        """Residues per author chain of the first model, built row by row like Biopython does."""
        site = self._atom_site
        slots: dict[str, dict[ResidueKey, _ResidueSlot]] = collections.defaultdict(dict)
        current_chain = current_key = current_name = None
        residue: _Residue | None = None
        for start, end in site.runs:                # the rows of a run all give the same answers
            if site.auth_seq[start] == ".":
                continue
            chain = site.auth_asym[start]
            try:
                key = (site.hetero_flag(start), int(site.auth_seq[start]), site.icode[start])
            except ValueError:
                raise _EntryUnusable(f"author residue number {site.auth_seq[start]!r} is not an integer") from None
            name = site.comp[start]
            if chain != current_chain:
                current_chain, current_key, current_name = chain, None, None
            if key != current_key or name != current_name:
                current_key, current_name = key, name
                residue = self._open_residue(slots[chain], key, name, site)
            if residue is not None:
                residue.rows.extend(range(start, end))
        return dict(slots)

    @staticmethod
    def _open_residue(chain_slots: dict[ResidueKey, _ResidueSlot], key: ResidueKey, name: str,
                      site: _AtomSite) -> _Residue:
        slot = chain_slots.get(key)
        if slot is None:
            residue = _Residue(name)
            chain_slots[key] = _ResidueSlot({name: residue}, name)
            return residue
        if key[0] != " ":
            raise _EntryUnusable(f"hetero residue {key[0]} {key[1]}{key[2].strip()} is defined twice")
        if len(slot.by_name) == 1 and name in slot.by_name:
            return slot.by_name[name]                # the same residue continued later in the file
        if len(slot.by_name) == 1:
            (only,) = slot.by_name.values()
            if any(site.altloc[r] == " " for r in only.rows):
                raise _EntryUnusable(f"residue {key[1]}{key[2].strip()} occurs with two names and blank "
                                     f"alternative locations")
        slot.by_name.setdefault(name, _Residue(name))
        slot.selected = name
        return slot.by_name[name]

    @staticmethod
    def _place_atoms(residue: _Residue, site: _AtomSite) -> None:
        """Atom name -> chosen row, with Biopython's alternative-location rules."""
        occupancy = site.occupancy
        for row in residue.rows:
            atom, altloc = site.atom_name[row], site.altloc[row]
            if altloc == " ":
                if atom not in residue.atoms:
                    residue.atoms[atom] = row                # a second blank copy is dropped
                continue
            alternatives = residue.alternatives.get(atom)
            if alternatives is None:
                alternatives = residue.alternatives[atom] = {}
                residue.best_occupancy[atom] = -np.inf
                earlier = residue.atoms.get(atom)            # a blank-altloc copy read before
                candidates = [row] + ([earlier] if earlier is not None else [])
            else:
                candidates = [row]
            for candidate in candidates:
                alternatives[site.altloc[candidate]] = candidate
                if occupancy[candidate] > residue.best_occupancy[atom]:
                    residue.best_occupancy[atom] = occupancy[candidate]
                    residue.atoms[atom] = candidate

    # ------------------------------------------------------------------ atoms of a chain

    def chain_atoms(self, chain_id: str, max_ca_ca_distance: float = 150.0) -> ChainAtoms:
        """Atom37 positions and mask of every SEQRES residue of a chain (zeros where missing)."""
        if chain_id in self._chain_atoms:
            return self._chain_atoms[chain_id]
        if chain_id not in self.seqres:
            raise ChainAtomsError(f"no protein chain {chain_id!r}")
        site = self._atom_site
        if self._slots is None:
            self._slots = self._build_slots()
        chain_slots = self._slots.get(chain_id, {})
        num_res = len(self.seqres[chain_id])
        positions = np.zeros((num_res, rc.ATOM_TYPE_NUM, 3), np.float32)   # [N, 37, 3]
        mask = np.zeros((num_res, rc.ATOM_TYPE_NUM), np.float32)           # [N, 37]
        coords = site.coords
        for index in range(num_res):
            where = self.sites[chain_id].get(index)
            if where is None:
                continue
            key, _ = where
            slot = chain_slots.get(key)
            if slot is None:
                raise ChainAtomsError(f"residue {key} of chain {chain_id} has no atoms in the model")
            residue = slot.by_name[slot.selected]
            if not residue.atoms and residue.rows:
                self._place_atoms(residue, site)
            for atom, row in residue.atoms.items():
                slot_index = rc.ATOM_ORDER.get(atom)
                if slot_index is None and atom.upper() == "SE" and residue.name == "MSE":
                    slot_index = _SD
                if slot_index is not None:
                    positions[index, slot_index] = coords[row]
                    mask[index, slot_index] = 1.0
            if (residue.name == "ARG" and mask[index, [_CD, _NH1, _NH2]].all()
                    and np.linalg.norm(positions[index, _NH1] - positions[index, _CD])
                    > np.linalg.norm(positions[index, _NH2] - positions[index, _CD])):
                positions[index, [_NH1, _NH2]] = positions[index, [_NH2, _NH1]]
        _check_ca_distances(positions, mask, max_ca_ca_distance, chain_id)
        result = ChainAtoms(positions, mask)
        self._chain_atoms[chain_id] = result
        return result


def _check_ca_distances(positions: np.ndarray, mask: np.ndarray, limit: float, chain_id: str) -> None:
    """Consecutive resolved CA atoms (no unresolved one between them) must be within ``limit`` Å."""
    previous = None
    for index in range(len(mask)):
        if mask[index, _CA]:
            if previous is not None:
                distance = float(np.linalg.norm(positions[index, _CA].astype(np.float64) - previous))
                if distance > limit:
                    raise ChainAtomsError(f"CA-CA distance {distance:.1f} A between residues {index - 1} "
                                          f"and {index} of chain {chain_id} exceeds {limit}")
            previous = positions[index, _CA].astype(np.float64)
        else:
            previous = None


def _protein_chains(block: cif.Block) -> dict[str, list[tuple[str, int]]]:
    """label_asym_id -> SEQRES monomers (name, number) of polymer entities with a peptide component."""
    polymers: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    for entity, number, monomer in _loop(block, "_entity_poly_seq.", ["entity_id", "num", "mon_id"]):
        try:
            polymers[entity].append((monomer, int(number)))
        except ValueError:
            raise _EntryUnusable(f"_entity_poly_seq.num {number!r} is not an integer") from None
    types = {comp: kind for comp, kind in _loop(block, "_chem_comp.", ["id", "type"])}
    instances: dict[str, list[str]] = collections.defaultdict(list)
    for asym, entity in _loop(block, "_struct_asym.", ["id", "entity_id"]):
        instances[entity].append(asym)
    chains: dict[str, list[tuple[str, int]]] = {}
    for entity, monomers in polymers.items():
        missing = [m for m, _ in monomers if m not in types]
        if missing:
            raise _EntryUnusable(f"component {missing[0]} of entity {entity} is not in _chem_comp")
        if any("peptide" in types[m].lower() for m, _ in monomers):
            for asym in instances.get(entity, []):
                chains[asym] = monomers
    return chains


def _seqres_and_sites(block: cif.Block, site: _AtomSite):
    chains = _protein_chains(block)
    if not chains:
        raise _EntryUnusable("no protein chains")
    first_number = {asym: min(n for _, n in monomers) for asym, monomers in chains.items()}
    author_of: dict[str, str] = {}
    sites: dict[str, dict[int, tuple[ResidueKey, str] | None]] = {}
    for row, _ in site.runs:                        # the first row of each run stands for the run
        asym = site.label_asym[row]
        author_of[asym] = site.auth_asym[row]
        if asym not in chains:
            continue
        try:
            key = (site.hetero_flag(row), int(site.auth_seq[row]), site.icode[row])
            index = int(site.label_seq[row]) - first_number[asym]
        except ValueError:
            raise _EntryUnusable(f"_atom_site row {row + 1}: residue numbers "
                                 f"{site.label_seq[row]!r}/{site.auth_seq[row]!r} are not integers") from None
        sites.setdefault(site.auth_asym[row], {})[index] = (key, site.comp[row])
    seqres: dict[str, str] = {}
    for asym, monomers in chains.items():
        if asym not in author_of or author_of[asym] not in sites:
            raise _EntryUnusable(f"protein chain {asym} has no atoms in model {site.model_number}")
        author = author_of[asym]
        for index in range(len(monomers)):
            sites[author].setdefault(index, None)
        seqres[author] = "".join(_one_letter(name) for name, _ in monomers)
    return seqres, sites


def parse_mmcif(text: str, entry_id: str, path: str | Path | None = None) -> MmcifEntry:
    """Parse an mmCIF text into an :class:`MmcifEntry` (``entry_id`` names it in features and logs)."""
    where = str(path) if path is not None else entry_id
    try:
        document = cif.read_string(text)
    except (RuntimeError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        found = re.match(r"\S*?:(\d+):\d*(\(\d+\))?:?\s*", message)
        line = int(found.group(1)) if found else None
        raise InputError(f"mmCIF syntax error: {message[found.end():] if found else message}",
                         path=where, line=line) from None
    if len(document) == 0:
        raise InputError("no mmCIF data block", path=where)
    block = document[0]
    site = _AtomSite(block, where)
    site.coords                                     # non-numeric coordinates are an input error
    site.occupancy
    release_date = _release_date(block, where)
    try:
        seqres, sites = _seqres_and_sites(block, site)
        entry = MmcifEntry(entry_id, where, release_date, seqres, sites, site, None)
        entry._slots = entry._build_slots()
        return entry
    except _EntryUnusable as exc:
        return MmcifEntry(entry_id, where, release_date, {}, {}, None, str(exc))


def read_mmcif(path: str | Path, entry_id: str | None = None) -> MmcifEntry:
    """Read an mmCIF file (plain or gzip)."""
    path = Path(path)
    text = decode_text(read_input_bytes(path), path)
    return parse_mmcif(text, entry_id or path.name.split(".")[0].lower(), path)


class MmcifCache:
    """Parsed entries by path, kept across queries (least recently used dropped beyond ``max_entries``)."""

    def __init__(self, max_entries: int = 512):
        self.max_entries = max_entries
        self._entries: collections.OrderedDict[tuple[str, str], MmcifEntry] = collections.OrderedDict()

    def get(self, path: str | Path, entry_id: str) -> MmcifEntry:
        key = (str(path), entry_id)
        entry = self._entries.get(key)
        if entry is None:
            entry = read_mmcif(path, entry_id)
            self._entries[key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
