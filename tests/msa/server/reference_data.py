"""What the test MSA server answers with, built from shared/reference/af2/pipeline at test time.

For a monomer case, the "UniRef" hits are AlphaFold's uniref90 jackhmmer hits
(Stockholm converted to A3M rows), the "environmental" hits its bfd+uniref30
hhblits A3M (or small_bfd) followed by its mgnify hits, and the template hits
its hhsearch hits (``pdb_hits.hhr``) written as m8 rows. The server's merge
order (UniRef, then environmental) is therefore AlphaFold's row order
(uniref90, bfd, mgnify), which the case's ``raw_features.npz`` records.

For the heteromer case, the pairing is built by species from the two chains'
UniProt hits (first hit of each species shared by both chains, in chain A's
order), as MMseqs2's taxonomy-based pairing pairs them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foldkit.features.raw import species_id
from foldkit.io.fasta import read_fasta
from foldkit.io.msa_files import Msa, format_a3m, merge_msas, read_a3m, read_stockholm

_HHR_HIT = re.compile(
    r"^\s*\d+\s+(?P<name>\S+)\s.*?(?P<prob>[\d.]+)\s+(?P<evalue>\S+)\s+(?P<pvalue>\S+)\s+(?P<score>[\d.-]+)\s+"
    r"(?P<ss>[\d.-]+)\s+(?P<cols>\d+)\s+(?P<qs>\d+)-(?P<qe>\d+)\s+(?P<ts>\d+)-(?P<te>\d+)\s*\((?P<tlen>\d+)\)\s*$")


@dataclasses.dataclass(frozen=True)
class SequenceHits:
    """Server answers for one sequence: A3M rows (query excluded) and m8 columns after the query number."""

    uniref_rows: str
    env_rows: str
    m8_rows: tuple[str, ...] = ()


def hit_rows(msa: Msa) -> str:
    """A3M text of every row but the query."""
    text = format_a3m(msa)
    first_record_end = text.index("\n", text.index("\n") + 1) + 1
    return text[first_record_end:]


def m8_from_hhr(path: Path) -> tuple[str, ...]:
    """hhsearch's hit list as m8 columns (target, identity, length, ..., E-value, bits, CIGAR)."""
    rows, in_table = [], False
    for line in path.read_text().splitlines():
        if line.startswith(" No Hit"):
            in_table = True
            continue
        if in_table:
            if not line.strip():
                break
            hit = _HHR_HIT.match(line)
            assert hit, f"unexpected hhr hit line: {line!r}"
            cols = int(hit["cols"])
            rows.append("\t".join([hit["name"], "0.500", str(cols), "0", "0", hit["qs"], hit["qe"], hit["ts"],
                                   hit["te"], hit["evalue"], hit["score"], f"{cols}M"]))
    return tuple(rows)


def monomer_case(case_dir: Path) -> tuple[str, SequenceHits]:
    """(query sequence, its server answers) of a monomer pipeline case."""
    sequence = read_fasta(case_dir / "input.fasta")[0].sequence
    return sequence, chain_hits(case_dir / "msas", sequence, templates=case_dir / "msas" / "pdb_hits.hhr")


def chain_hits(msa_dir: Path, sequence: str, templates: Path | None = None) -> SequenceHits:
    uniref = read_stockholm(msa_dir / "uniref90_hits.sto", query_sequence=sequence)
    if (msa_dir / "bfd_uniref_hits.a3m").is_file():
        bfd = read_a3m(msa_dir / "bfd_uniref_hits.a3m", query_sequence=sequence)
    else:
        bfd = read_stockholm(msa_dir / "small_bfd_hits.sto", query_sequence=sequence)
    mgnify = read_stockholm(msa_dir / "mgnify_hits.sto", query_sequence=sequence)
    m8 = m8_from_hhr(templates) if templates is not None and templates.is_file() else ()
    return SequenceHits(hit_rows(uniref), hit_rows(bfd) + hit_rows(mgnify), m8)


def cut_columns(msa: Msa, width: int) -> Msa:
    """The first ``width`` columns (rows without a residue there dropped), as a server would align a shorter query."""
    keep = [i for i, row in enumerate(msa.sequences) if i == 0 or row[:width].strip("-")]
    return Msa(tuple(msa.sequences[i][:width] for i in keep), tuple(msa.deletion_matrix[i][:width] for i in keep),
               tuple(msa.descriptions[i] for i in keep))


def cut_chain_hits(msa_dir: Path, sequence: str, width: int) -> tuple[SequenceHits, Msa, Msa]:
    """(server answers, UniRef part, environmental part) of a chain's AlphaFold2 searches cut to ``width``
    residues (the query being ``sequence[:width]``); template hits from ``pdb_hits.hhr`` where it exists."""
    uniref = cut_columns(read_stockholm(msa_dir / "uniref90_hits.sto", query_sequence=sequence), width)
    if (msa_dir / "bfd_uniref_hits.a3m").is_file():
        bfd = read_a3m(msa_dir / "bfd_uniref_hits.a3m", query_sequence=sequence)
    else:
        bfd = read_stockholm(msa_dir / "small_bfd_hits.sto", query_sequence=sequence)
    mgnify = read_stockholm(msa_dir / "mgnify_hits.sto", query_sequence=sequence)
    env = merge_msas([cut_columns(bfd, width), cut_columns(mgnify, width)])
    m8 = m8_from_hhr(msa_dir / "pdb_hits.hhr") if (msa_dir / "pdb_hits.hhr").is_file() else ()
    return SequenceHits(hit_rows(uniref), hit_rows(env), m8), uniref, env


def _a3m_record(msa: Msa, i: int) -> str:
    """Row ``i`` of ``msa`` as an A3M record (header and row)."""
    return format_a3m(Msa((msa.sequences[i],), (msa.deletion_matrix[i],), (msa.descriptions[i],),
                          None if msa.rows is None else (msa.rows[i],)))


def species_pairing(msa_a: Msa, msa_b: Msa) -> tuple[str, str]:
    """Paired hit rows (A3M, query excluded) of two chains: one row per species both chains have."""
    first_b: dict[str, int] = {}
    for i in range(1, len(msa_b)):
        first_b.setdefault(species_id(msa_b.descriptions[i]), i)
    rows_a, rows_b, used = [], [], set()
    for i in range(1, len(msa_a)):
        species = species_id(msa_a.descriptions[i])
        if species and species in first_b and species not in used:
            used.add(species)
            j = first_b[species]
            rows_a.append(_a3m_record(msa_a, i))
            rows_b.append(_a3m_record(msa_b, j))
    return "".join(rows_a), "".join(rows_b)


def heteromer_case(case_dir: Path) -> tuple[tuple[str, str], dict[str, SequenceHits], tuple[str, str], list[str]]:
    """(chain sequences, hits per sequence, paired rows per chain, shared species) of the 2-chain case."""
    queries = read_fasta(case_dir / "input.fasta")
    chains = (queries[0].sequence, queries[1].sequence)
    hits = {seq: chain_hits(case_dir / "msas" / label, seq) for label, seq in zip("AB", chains)}
    uniprot = [read_stockholm(case_dir / "msas" / label / "uniprot_hits.sto", query_sequence=seq)
               for label, seq in zip("AB", chains)]
    paired = species_pairing(*uniprot)
    shared = sorted({species_id(d) for d in uniprot[0].descriptions[1:]}
                    & {species_id(d) for d in uniprot[1].descriptions[1:]} - {""})
    return chains, hits, paired, shared


def pdb70_entries(data_dir: Path) -> dict[str, tuple[bytes, bytes]]:
    """pdb70 name -> (A3M entry, HHM entry) of the miniature pdb70 database (without the NUL ends)."""
    entries = {}
    tables = {}
    for kind in ("a3m", "hhm"):
        data = (data_dir / "pdb70" / f"pdb70_{kind}.ffdata").read_bytes()
        for line in (data_dir / "pdb70" / f"pdb70_{kind}.ffindex").read_text().splitlines():
            name, offset, length = line.split("\t")
            tables.setdefault(name, {})[kind] = data[int(offset):int(offset) + int(length)].rstrip(b"\0")
    for name, kinds in tables.items():
        entries[name] = (kinds["a3m"], kinds["hhm"])
    return entries


def mmcif_files(data_dir: Path) -> dict[str, bytes]:
    """PDB id -> mmCIF text of the miniature data directory."""
    return {path.stem.lower(): path.read_bytes()
            for path in sorted((data_dir / "pdb_mmcif" / "mmcif_files").glob("*.cif"))}
