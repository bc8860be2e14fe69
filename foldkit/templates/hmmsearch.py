"""The multimer template search in-process with pyhmmer: ``hmmbuild --hand --amino`` + ``hmmsearch``.

AlphaFold2 v2.3 (multimer) builds a profile HMM from the template-search query
Stockholm (:func:`~foldkit.templates.query_msa.hmmbuild_query_sto`; match
columns from its ``#=GC RF`` line, i.e. the query residues) and searches
``pdb_seqres.txt`` with ``--F1 0.1 --F2 0.1 --F3 0.1 --incE 100 -E 100 --domE
100 --incdomE 100``, writing the included hits with ``-A`` as Stockholm. This
module does the same with pyhmmer and writes the alignment the way hmmsearch
does (same name "query", author line and layout), so the text equals the
``pdb_hits.sto`` of the HMMER 3.3.2 binaries.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from foldkit.errors import InputError

HMMSEARCH_THRESHOLDS = {"F1": 0.1, "F2": 0.1, "F3": 0.1, "E": 100.0, "incE": 100.0, "domE": 100.0,
                        "incdomE": 100.0}
PROFILE_NAME = b"query"
HMMER_AUTHOR = b"hmmsearch (HMMER 3.3.2)"


def build_profile(query_sto_text: str, name: bytes = PROFILE_NAME):
    """A pyhmmer HMM from a Stockholm alignment, match columns by its RF line (``hmmbuild --hand --amino``)."""
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    try:
        with easel.MSAFile(io.BytesIO(query_sto_text.encode()), format="stockholm", digital=True,
                           alphabet=alphabet) as msa_file:
            msa = msa_file.read()
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read the template-search query alignment: {exc}") from None
    if msa is None:
        raise InputError("the template-search query alignment is empty")
    if msa.reference is None:
        raise InputError("the template-search query alignment has no '#=GC RF' line (needed for --hand)")
    msa.name = name
    builder = plan7.Builder(alphabet, architecture="hand")
    hmm, _, _ = builder.build_msa(msa, plan7.Background(alphabet))
    return hmm


def load_target_sequences(pdb_seqres_path: str | os.PathLike):
    """pdb_seqres.txt as a digital pyhmmer sequence block (read once, reusable across queries)."""
    from pyhmmer import easel

    path = Path(pdb_seqres_path)
    if not path.is_file():
        raise InputError("pdb_seqres file not found (--pdb-seqres)", path=str(path))
    try:
        with easel.SequenceFile(str(path), format="fasta", digital=True,
                                alphabet=easel.Alphabet.amino()) as sequences:
            return sequences.read_block()
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read the template sequence database: {exc}", path=str(path)) from None


def search_profile(hmm, targets, cpus: int = 2) -> str:
    """hmmsearch of one profile against the target block -> the ``-A`` Stockholm text ('' without hits)."""
    from pyhmmer import hmmer

    hits = next(iter(hmmer.hmmsearch([hmm], targets, cpus=max(1, int(cpus)), **HMMSEARCH_THRESHOLDS)))
    if not any(True for _ in hits.included):
        return ""           # hmmsearch leaves the -A file empty when no hit is included
    # hmmsearch -A writes every consensus column, also those where all hits have gaps
    alignment = hits.to_msa(hmm.alphabet, trim=False, digitize=False, all_consensus_cols=True)
    alignment.name = hmm.name
    alignment.author = HMMER_AUTHOR
    buffer = io.BytesIO()
    alignment.write(buffer, "stockholm")
    return buffer.getvalue().decode()


def hmmsearch_templates(query_sto_text: str, pdb_seqres_path: str | os.PathLike, cpus: int = 2,
                        targets=None) -> str:
    """AlphaFold2's multimer template search: the pdb_hits.sto text for one chain.

    ``query_sto_text`` is :func:`~foldkit.templates.query_msa.hmmbuild_query_sto` of the chain's
    uniref90 Stockholm; pass ``targets`` (from :func:`load_target_sequences`) to reuse the
    database across chains.
    """
    hmm = build_profile(query_sto_text)
    if targets is None:
        targets = load_target_sequences(pdb_seqres_path)
    return search_profile(hmm, targets, cpus)
