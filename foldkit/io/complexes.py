"""Protein complexes from FASTA: ColabFold's ':' convention and AlphaFold2's one-file-per-complex.

Two conventions, chosen by the model preset:

* ColabFold (any preset but ``multimer``): every record is one prediction; its
  chains are separated by ``:`` (``>complex1`` / ``SEQA:SEQB:SEQB``); a record
  without ``:`` is a single chain. Several records and files are allowed.
* AlphaFold2 (``--model-preset multimer``): every FASTA file is one complex,
  every record one chain (``>A ...`` / ``SEQA`` / ``>B ...`` / ``SEQB``); the
  complex is named after the file (``complex.fasta`` -> ``complex``, as
  AlphaFold2 names its output folder). Records may share a header (homomers).

Chains get the ids ``A``-``Z``, ``a``-``z``, ``0``-``9`` in the order given
(at most 62, AlphaFold2's ``PDB_CHAIN_IDS``). A homo-oligomer repeats a
sequence. Entities are numbered by first appearance of their sequence and
copies of an entity by order (``entity_id``/``sym_id`` as AlphaFold-Multimer's
``add_assembly_features`` assigns them); the features lay the chains out
entity by entity (:attr:`Complex.feature_order`), which is the order of
``asym_id`` 1, 2, ...

Errors (:class:`~foldkit.errors.InputError`, naming file, record, line and
column): an empty chain (``A::B``, a leading or trailing ``:``), a chain of
only ``X``, more than 62 chains, a complex longer than ``max_length``
residues, a ``:`` in a record read with the AlphaFold2 convention, and two
complexes with the same name.
"""

from __future__ import annotations

import dataclasses
import os
import string
from pathlib import Path
from typing import Iterable, Sequence

from foldkit.errors import InputError
from foldkit.io.fasta import Query, parse_fasta, safe_record_name
from foldkit.io.textfile import display_name, read_text

CHAIN_IDS = string.ascii_uppercase + string.ascii_lowercase + string.digits   # AlphaFold2's PDB_CHAIN_IDS
MAX_CHAINS = len(CHAIN_IDS)
SEPARATOR = ":"
DEFAULT_MAX_LENGTH = 5000        # residues of a whole complex; None disables the check
MULTIMER_PRESET = "multimer"
LIMIT_OPTION = "--max-complex-length"


@dataclasses.dataclass(frozen=True)
class ComplexChain:
    """One chain of a complex."""

    chain_id: str              # A, B, ... in the order given
    sequence: str
    description: str           # AlphaFold2's chain_id_map.json description (the record's header)
    entity_id: int             # 1, 2, ... by first appearance of the sequence
    sym_id: int                # 1, 2, ... copy number within the entity
    line: int = dataclasses.field(default=0, compare=False)      # where the chain starts in its file
    column: int = dataclasses.field(default=0, compare=False)

    def __len__(self) -> int:
        return len(self.sequence)


@dataclasses.dataclass(frozen=True)
class Complex:
    """A prediction target of one or more chains."""

    id: str                    # record id (ColabFold) or file stem (AlphaFold2)
    description: str
    chains: tuple[ComplexChain, ...]
    path: str = dataclasses.field(default="", compare=False)
    line: int = dataclasses.field(default=0, compare=False)
    convention: str = "colabfold"          # "colabfold" | "alphafold2"

    @property
    def num_residues(self) -> int:
        return sum(len(chain) for chain in self.chains)

    @property
    def sequences(self) -> tuple[str, ...]:
        return tuple(chain.sequence for chain in self.chains)

    @property
    def num_entities(self) -> int:
        return len({chain.entity_id for chain in self.chains})

    @property
    def is_monomer(self) -> bool:
        return len(self.chains) == 1

    @property
    def is_homomer(self) -> bool:
        """Several copies of one sequence (AlphaFold-Multimer then skips the UniProt search and pairing)."""
        return len(self.chains) > 1 and self.num_entities == 1

    @property
    def is_heteromer(self) -> bool:
        return self.num_entities > 1

    @property
    def distinct_chains(self) -> tuple[ComplexChain, ...]:
        """The first chain of each distinct sequence: the chains whose MSAs are searched."""
        return tuple(chain for chain in self.chains if chain.sym_id == 1)

    @property
    def feature_order(self) -> tuple[ComplexChain, ...]:
        """Chains as the features lay them out (entity by entity): ``asym_id`` k is the k-th of these."""
        return tuple(sorted(self.chains, key=lambda chain: (chain.entity_id, chain.sym_id)))

    def first_copy(self, chain: ComplexChain) -> ComplexChain:
        """The chain whose search outputs ``chain`` reuses (itself for the first copy)."""
        return next(c for c in self.chains if c.entity_id == chain.entity_id and c.sym_id == 1)

    def chain_id_map(self) -> dict[str, dict[str, str]]:
        """AlphaFold2's ``msas/chain_id_map.json`` content: chain id -> description and sequence."""
        return {chain.chain_id: {"description": chain.description, "sequence": chain.sequence}
                for chain in self.chains}

    def summary(self, max_listed: int = 12) -> str:
        """'chains A 137, B 77 (214 residues)'; copies: 'chains A 99, B 99 (198 residues, 1 distinct sequence)'."""
        listed = ", ".join(f"{c.chain_id} {len(c)}" for c in self.chains[:max_listed])
        if len(self.chains) > max_listed:
            listed += f", ... ({len(self.chains) - max_listed} more)"
        noun = "chain" if len(self.chains) == 1 else "chains"
        distinct = "" if self.num_entities == len(self.chains) else \
            f", {self.num_entities} distinct sequence{'s' * (self.num_entities > 1)}"
        return f"{noun} {listed} ({self.num_residues} residues{distinct})"


def make_complex(complex_id: str, description: str, chains: Sequence[tuple[str, str]], *, path: str = "",
                 line: int = 0, convention: str = "colabfold",
                 positions: Sequence[tuple[int, int]] | None = None) -> Complex:
    """A complex from (sequence, description) pairs in order: chain ids, entities and copies assigned."""
    if not chains:
        raise InputError("a complex needs at least one chain", path=path or None, record=complex_id)
    if len(chains) > MAX_CHAINS:
        raise InputError(f"{len(chains)} chains; at most {MAX_CHAINS} are possible (chain ids "
                         f"{CHAIN_IDS[0]}-{CHAIN_IDS[-1]})", path=path or None, record=complex_id, line=line or None)
    entities: dict[str, int] = {}
    copies: dict[int, int] = {}
    built = []
    for k, (sequence, chain_description) in enumerate(chains):
        entity = entities.setdefault(sequence, len(entities) + 1)
        copies[entity] = copies.get(entity, 0) + 1
        where = positions[k] if positions is not None else (0, 0)
        built.append(ComplexChain(CHAIN_IDS[k], sequence, chain_description, entity, copies[entity], *where))
    return Complex(complex_id, description, tuple(built), path, line, convention)


# --------------------------------------------------------------------------- reading


def _sequence_positions(text: str, header_line: int) -> list[tuple[int, int]]:
    """(line, column) of every sequence character (':' included) of the record whose header is on
    ``header_line``, in the order ``parse_fasta`` reads them."""
    positions = []
    lines = text.split("\n")
    for number in range(header_line + 1, len(lines) + 1):
        line = lines[number - 1].rstrip("\r")
        if line.startswith(">"):
            break
        for column, char in enumerate(line, start=1):
            if char == "*":
                break
            if char not in " \t":
                positions.append((number, column))
    return positions


def _split_chains(query: Query, text: str, path: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The ':'-separated chains of a record, each with the position of its first residue."""
    positions = _sequence_positions(text, query.line)
    chains, starts, start = [], [], 0
    for k, part in enumerate(query.sequence.split(SEPARATOR)):
        end = start + len(part)
        if not part:
            # the empty chain sits at the separator that ends it (or the one before, at the end)
            at = positions[min(end, len(positions) - 1)] if positions else (query.line, 0)
            count = query.sequence.count(SEPARATOR) + 1
            raise InputError(f"empty chain (chain {k + 1} of {count}) at this ':'; ':' separates the chains "
                             "of a complex (remove the extra ':')", path=path, record=query.id, line=at[0],
                             column=at[1])
        chains.append(part)
        starts.append(positions[start] if start < len(positions) else (query.line, 0))
        start = end + 1
    return chains, starts


def _check_chain(sequence: str, chain_id: str, record: str, path: str, where: tuple[int, int]) -> None:
    if set(sequence) == {"X"}:
        raise InputError(f"chain {chain_id} ({len(sequence)} residues) is only X (unknown residues); nothing "
                         "to predict", path=path, record=record, line=where[0] or None, column=where[1] or None)


def _check_length(complex_: Complex, max_length: int | None) -> None:
    if max_length is not None and complex_.num_residues > max_length:
        raise InputError(f"the complex has {complex_.num_residues} residues ({complex_.summary()}), more than "
                         f"the limit of {max_length} ({LIMIT_OPTION})", path=complex_.path or None,
                         record=complex_.id, line=complex_.line or None)


def complexes_from_text(text: str, path: str, model_preset: str | None = None,
                        max_length: int | None = DEFAULT_MAX_LENGTH, name: str | None = None) -> list[Complex]:
    """The complexes of one FASTA text (see the module docstring); ``name`` names an AlphaFold2-convention
    complex (default: the file's stem)."""
    if model_preset == MULTIMER_PRESET:
        queries = parse_fasta(text, path, chain_separator=True, unique_ids=False)
        for query in queries:
            if SEPARATOR in query.sequence:
                offset = query.sequence.index(SEPARATOR)
                line, column = _sequence_positions(text, query.line)[offset]
                raise InputError("':' in a chain: with --model-preset multimer every record is one chain and "
                                 "every FASTA file one complex (AlphaFold2's convention); ':'-separated chains "
                                 "are ColabFold's convention, used without --model-preset multimer",
                                 path=path, record=query.id, line=line, column=column)
        starts = [(_sequence_positions(text, q.line) or [(q.line, 0)])[0] for q in queries]
        for k, (query, where) in enumerate(zip(queries, starts)):
            if k < MAX_CHAINS:
                _check_chain(query.sequence, CHAIN_IDS[k], query.id, path, where)
        complex_id = name if name is not None else complex_name(path)
        headers = [f"{q.id} {q.description}".strip() for q in queries]
        made = make_complex(complex_id, headers[0], list(zip((q.sequence for q in queries), headers)), path=path,
                            line=queries[0].line, convention="alphafold2", positions=starts)
        _check_length(made, max_length)
        return [made]
    complexes = []
    for query in parse_fasta(text, path, chain_separator=True):
        sequences, starts = _split_chains(query, text, path)
        header = f"{query.id} {query.description}".strip()
        for k, (sequence, where) in enumerate(zip(sequences, starts)):
            if k < MAX_CHAINS:
                _check_chain(sequence, CHAIN_IDS[k], query.id, path, where)
        made = make_complex(query.id, query.description, [(s, header) for s in sequences], path=path,
                            line=query.line, convention="colabfold", positions=starts)
        _check_length(made, max_length)
        complexes.append(made)
    return complexes


def complex_name(path: str | os.PathLike) -> str:
    """The complex name of an AlphaFold2-convention file: its name without .gz and the last extension."""
    name = Path(str(path)).name
    name = name[:-3] if name.endswith(".gz") else name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return stem or name


def read_complexes(paths: str | os.PathLike | Iterable[str | os.PathLike], model_preset: str | None = None,
                   max_length: int | None = DEFAULT_MAX_LENGTH) -> list[Complex]:
    """Every complex of one or more FASTA files (plain, gzip, '-' for stdin), in order.

    ``model_preset == "multimer"``: AlphaFold2's convention (one complex per
    file); anything else: ColabFold's (one complex per record, ':' between
    chains). Names must be unique over all files (they become folder names).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Complex] = []
    owners: dict[str, Complex] = {}
    for path in paths:
        name = display_name(path)
        stem = "stdin" if str(path) == "-" else complex_name(path)
        for made in complexes_from_text(read_text(path), name, model_preset, max_length, name=stem):
            key = safe_record_name(made.id).casefold()
            if key in owners:
                first = owners[key]
                raise InputError(f"two complexes are named '{made.id}' (the other in {first.path}, line "
                                 f"{first.line}); names become output folders, rename one",
                                 path=name, record=made.id, line=made.line or None)
            owners[key] = made
            found.append(made)
    return found
