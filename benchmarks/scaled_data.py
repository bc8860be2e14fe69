"""An AlphaFold2-layout data directory with larger sequence databases, for ``bench_pipeline.py --scaled-data N``.

The miniature data directory (``shared/reference/af2/pipeline/data``) holds a few hundred sequences per
database, so fixed start-up costs dominate a benchmark on it. This builds, in a folder, a directory with
AlphaFold2's layout (:data:`foldkit.msa.databases.LAYOUT`) where the three jackhmmer databases (UniRef90,
MGnify, small BFD) hold the miniature's own sequences followed by ``N`` sequences of ``seqdb.fasta.gz``
(``shared/train/seqdb``, 21,402 PDB chains); everything else (PDB70, BFD, UniRef30, the mmCIF folder,
obsolete.dat, pdb_seqres, UniProt) is a symbolic link to the miniature's file.

Each database takes a different, deterministic slice of seqdb: database ``i`` of the three starts at
``i * len(seqdb) // 3`` and takes ``N`` consecutive sequences, wrapping around. With ``N`` above seqdb's size
each further pass gives variants instead of repeats: every residue substituted with probability 0.15 by
one of the 20 amino acids drawn uniformly (numpy generator seeded by database and pass), so every added
sequence is distinct and homologues of a query stay homologues (at ~85% identity to their seqdb original).
Added sequences get a header in the database's style with the seqdb chain id (and ``_v<pass>`` for a
variant), e.g. ``>UniRef90_seqdb_1a3a_A 1a3a_A``, ``>MGYP_seqdb_1a3a_A_v2``, ``>seqdb_1a3a_A``, so no name
collides with the miniature's.

    python benchmarks/scaled_data.py OUT_DIR N      # builds OUT_DIR (must not exist)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from foldkit.io.atomic import atomic_write_text  # noqa: E402
from foldkit.io.fasta import read_fasta  # noqa: E402
from foldkit.msa.databases import LAYOUT  # noqa: E402

# database key -> header of an added sequence (from the seqdb chain id), in that database's style
SCALED_HEADERS = {
    "uniref90": lambda chain: f"UniRef90_seqdb_{chain} {chain}",
    "mgnify": lambda chain: f"MGYP_seqdb_{chain}",
    "small_bfd": lambda chain: f"seqdb_{chain}",
}


AMINO_ACIDS = np.frombuffer(b"ACDEFGHIKLMNPQRSTVWY", dtype=np.uint8)
VARIANT_SUBSTITUTION_RATE = 0.15


class SeqdbVariants:
    """seqdb's sequences, and deterministic variants of them once a database needs more than seqdb holds."""

    def __init__(self, seqdb: Path):
        queries = read_fasta(seqdb)
        self.names = [query.id for query in queries]
        lengths = np.array([len(query.sequence) for query in queries])
        self.starts = np.concatenate([[0], np.cumsum(lengths)])                 # [M + 1]
        self.residues = np.frombuffer("".join(q.sequence for q in queries).encode(), dtype=np.uint8)  # [R]
        self._rounds: dict[tuple[int, int], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.names)

    def _round(self, database: int, number: int) -> np.ndarray:
        """All residues of variant round ``number`` of ``database`` (round 0: seqdb itself)."""
        if number == 0:
            return self.residues
        key = (database, number)
        if key not in self._rounds:
            rng = np.random.default_rng([database, number])
            substituted = rng.random(len(self.residues)) < VARIANT_SUBSTITUTION_RATE          # [R]
            drawn = AMINO_ACIDS[rng.integers(0, len(AMINO_ACIDS), len(self.residues))]        # [R]
            self._rounds.clear()                     # one round kept at a time (rounds are taken in order)
            self._rounds[key] = np.where(substituted, drawn, self.residues)
        return self._rounds[key]

    def records(self, database: int, count: int):
        """``count`` (name, sequence) pairs for database ``database`` of three: consecutive seqdb sequences
        from ``database * len(seqdb) // 3``, wrapping around; each pass after the first gives variants."""
        total = len(self.names)
        start = database * total // len(SCALED_HEADERS)
        for offset in range(count):
            number, index = divmod(start + offset, total)
            residues = self._round(database, number)
            name = self.names[index] if number == 0 else f"{self.names[index]}_v{number}"
            yield name, residues[self.starts[index]:self.starts[index + 1]].tobytes().decode()


def _fasta_text(path: Path) -> str:
    text = path.read_text()
    return text if text.endswith("\n") else text + "\n"


def build_scaled_data_dir(out_dir: Path, added: int, miniature: Path, seqdb: Path) -> dict[str, int]:
    """Build ``out_dir`` (created; must not exist or be empty); returns the sequence count of each scaled
    database. ``added`` sequences of ``seqdb`` are appended to each of UniRef90, MGnify and the small BFD."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    variants = SeqdbVariants(seqdb) if added > 0 else None
    counts = {}
    for key, relative in LAYOUT.items():
        source, target = miniature / relative, out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if key in SCALED_HEADERS:
            index = list(SCALED_HEADERS).index(key)
            header = SCALED_HEADERS[key]
            extra = variants.records(index, added) if variants is not None else ()
            own = _fasta_text(source)
            text = own + "".join(f">{header(chain)}\n{sequence}\n" for chain, sequence in extra)
            atomic_write_text(target, text)
            counts[key] = sum(line.startswith(">") for line in text.splitlines())
        elif key in ("bfd", "uniref30", "pdb70"):                  # HH-suite prefixes: link each ffindex file
            for part in sorted(source.parent.glob(source.name + "_*")):
                (target.parent / part.name).symlink_to(part.resolve())
        elif source.exists():
            target.symlink_to(source.resolve())
    return counts


def main(argv=None) -> int:
    import os

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    shared = Path(os.environ.get("FOLDKIT_SHARED", REPO.parent / "shared"))
    counts = build_scaled_data_dir(Path(argv[0]), int(argv[1]), shared / "reference/af2/pipeline/data",
                                   shared / "train/seqdb/seqdb.fasta.gz")
    print(", ".join(f"{key}: {count} sequences" for key, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
