"""``--custom-templates DIR``: the user's own mmCIF/PDB files as the template database.

Behaviour (ColabFold offers the same option; this is foldkit's own design):

* Every ``*.cif``, ``*.mmcif``, ``*.pdb``, ``*.ent`` file of ``DIR`` (gzip
  accepted, not recursive) is read. mmCIF files with ``_entity_poly_seq`` are
  read exactly like PDB entries (:mod:`foldkit.templates.mmcif`: SEQRES,
  release date, atoms). PDB files, and mmCIF files without polymer sequence
  records (e.g. predicted models), are read with gemmi: the SEQRES records
  are the chain sequences when present, otherwise the modelled residues; a
  blank chain id becomes "A".
* Each file is one entry named after its file name, lower case, letters and
  digits only ("My-model_2.pdb" -> "mymodel2"; repeated names get a suffix
  "x2", "x3"); its protein chains are the templates ``<entry>_<chain>``
  (these are the ``template_domain_names``).
* Search: hmmsearch (pyhmmer) of the query profile against the chain
  sequences, with AlphaFold2's multimer template-search thresholds. The
  profile is built like AlphaFold2's multimer one from the UniRef90
  Stockholm when it is given, otherwise from the query sequence alone.
* Featurization: the same code as for PDB hits (hmmsearch path: file order,
  duplicates of a kept template sequence dropped, at most ``max_hits``),
  without obsolete-entry remapping. Files with a release date are held to
  ``max_template_date``; files without one (PDB files, models) pass.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.textfile import decode_text, read_input_bytes
from foldkit.templates.hits import TemplateHit
from foldkit.templates.hmmsearch import build_profile, search_profile
from foldkit.templates.mmcif import MmcifCache, MmcifEntry, parse_mmcif
from foldkit.templates.query_msa import hmmbuild_query_sto

STRUCTURE_SUFFIXES = (".cif", ".mmcif", ".pdb", ".ent")
_CHAIN_NAME = re.compile(r"^\w+$")


@dataclasses.dataclass(frozen=True)
class CustomTemplateSource:
    """Template entries read from the user's folder (a TemplateSource for the featurizer)."""

    entries: dict[str, MmcifEntry]
    require_release_date: bool = False

    def split_name(self, hit: TemplateHit, path: str | None) -> tuple[str, str]:
        entry_id, _, chain_id = hit.name.partition("_")
        if entry_id not in self.entries or not chain_id:
            raise InputError(f"hit {hit.name!r} names no entry of the custom template folder", path=path)
        return entry_id, chain_id

    def entry(self, entry_id: str, cache: MmcifCache) -> MmcifEntry:
        return self.entries[entry_id]


@dataclasses.dataclass(frozen=True)
class CustomTemplateSearch:
    """Hits of a query against a custom template folder, ready for the featurizer."""

    sto_text: str                        # hmmsearch -A Stockholm (pdb_hits.sto layout)
    source: CustomTemplateSource
    notes: tuple[str, ...] = ()          # files or chains that were not usable, and why


def _structure_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError("custom template folder not found (--custom-templates)", path=str(folder))
    files = []
    for path in sorted(folder.iterdir()):
        name = path.name.lower().removesuffix(".gz")
        if path.is_file() and name.endswith(STRUCTURE_SUFFIXES):
            files.append(path)
    if not files:
        raise InputError(f"no structure files ({', '.join(STRUCTURE_SUFFIXES)}) in the custom template folder "
                         f"(--custom-templates)", path=str(folder))
    return files


def _entry_ids(files: list[Path]) -> list[str]:
    ids, used = [], set()
    for path in files:
        stem = path.name.lower().removesuffix(".gz").rsplit(".", 1)[0]
        base = re.sub(r"[^a-z0-9]", "", stem) or "template"
        candidate, count = base, 1
        while candidate in used:
            count += 1
            candidate = f"{base}x{count}"
        used.add(candidate)
        ids.append(candidate)
    return ids


def _mmcif_text_from_gemmi(path: Path) -> str:
    """mmCIF text of any structure file gemmi reads, with polymer sequences and component types filled in."""
    import gemmi

    try:
        structure = gemmi.read_structure(str(path))
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputError(f"cannot read structure: {str(exc).splitlines()[0] if str(exc) else exc}",
                         path=str(path)) from None
    if len(structure) == 0:
        raise InputError("no models in the structure file", path=str(path))
    for model in structure:
        for chain in model:
            if not chain.name.strip():
                chain.name = "A"
    structure.setup_entities()
    for entity in structure.entities:
        if entity.entity_type == gemmi.EntityType.Polymer and not entity.full_sequence and entity.subchains:
            subchain = structure[0].get_subchain(entity.subchains[0])
            entity.full_sequence = [residue.name for residue in subchain]
    structure.assign_label_seq_id(force=True)
    document = structure.make_mmcif_document()
    block = document.sole_block()
    for row in block.find("_chem_comp.", ["id", "type"]):
        if row[1] in (".", "?"):
            info = gemmi.find_tabulated_residue(gemmi.cif.as_string(row[0]))
            row[1] = gemmi.cif.quote("L-peptide linking" if info is not None and info.is_amino_acid()
                                     else "non-polymer")
    return document.as_string()


def read_template_structure(path: Path, entry_id: str) -> MmcifEntry:
    """An entry from a user's mmCIF or PDB file (see the module docstring)."""
    text = decode_text(read_input_bytes(path), path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".cif", ".mmcif")):
        entry = parse_mmcif(text, entry_id, path)
        if entry.problem is None:
            return entry
        release_date = entry.release_date
    else:
        from foldkit.io.structure import read_structure_file

        read_structure_file(path)           # foldkit's strict reader: located errors in broken PDB files
        release_date = None
    entry = parse_mmcif(_mmcif_text_from_gemmi(path), entry_id, path)
    entry.release_date = release_date
    return entry


def load_custom_templates(folder: str | Path) -> tuple[CustomTemplateSource, list[str]]:
    """Every usable entry of the folder, and notes on what was skipped."""
    files = _structure_files(Path(folder))
    entries: dict[str, MmcifEntry] = {}
    notes: list[str] = []
    for path, entry_id in zip(files, _entry_ids(files)):
        entry = read_template_structure(path, entry_id)
        if entry.problem is not None:
            notes.append(f"{path}: not usable as a template: {entry.problem}")
            continue
        for chain in list(entry.seqres):
            if not _CHAIN_NAME.match(chain):
                notes.append(f"{path}: chain {chain!r} skipped (chain ids must be letters, digits or '_')")
        entries[entry_id] = entry
    if not entries:
        raise InputError("no usable protein chain in the custom template folder (--custom-templates): "
                         + "; ".join(notes), path=str(folder))
    return CustomTemplateSource(entries), notes


def _target_sequences(source: CustomTemplateSource):
    """Digital sequences '<entry>_<chain>' with pdb_seqres-style descriptions."""
    from pyhmmer import easel

    alphabet = easel.Alphabet.amino()
    sequences = []
    for entry_id, entry in source.entries.items():
        for chain, sequence in entry.seqres.items():
            if not _CHAIN_NAME.match(chain) or not sequence:
                continue
            text = easel.TextSequence(name=f"{entry_id}_{chain}".encode(),
                                      description=f"mol:protein length:{len(sequence)}  {Path(entry.path).name}"
                                      .encode(), sequence=sequence)
            sequences.append(text.digitize(alphabet))
    return easel.DigitalSequenceBlock(alphabet, sequences)


def _single_sequence_profile(query_sequence: str):
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    query = easel.TextSequence(name=b"query", sequence=query_sequence).digitize(alphabet)
    hmm, _, _ = plan7.Builder(alphabet).build(query, plan7.Background(alphabet))
    return hmm


def custom_template_hits(query_sequence: str, custom_dir: str | Path, *, uniref90_sto_text: str | None = None,
                         cpus: int = 2) -> CustomTemplateSearch:
    """Search the query against the structures of ``custom_dir`` (see the module docstring).

    Feed the result to :meth:`TemplateFeaturizer.from_custom`.
    """
    source, notes = load_custom_templates(custom_dir)
    if uniref90_sto_text is not None:
        hmm = build_profile(hmmbuild_query_sto(uniref90_sto_text))
    else:
        hmm = _single_sequence_profile(query_sequence)
    if hmm.M != len(query_sequence):
        raise InputError(f"the query profile has {hmm.M} match states but the query has {len(query_sequence)} "
                         f"residues (UniRef90 alignment of another query?)")
    sto_text = search_profile(hmm, _target_sequences(source), cpus)
    return CustomTemplateSearch(sto_text, source, tuple(notes))
