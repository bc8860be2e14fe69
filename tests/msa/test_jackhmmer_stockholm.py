"""jackhmmer via pyhmmer writes AlphaFold2's Stockholm files (compared with the stored ones)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.msa.fpu import flush_denormals
from foldkit.msa.jackhmmer import jackhmmer_stockholm, truncate_stockholm
from foldkit.msa.search import UNIREF90_SETTINGS
from tests.msa.af2_data import DATA_DIR, PIPELINE, query_of

CASES = [
    ("mono_full_templates", "uniref90/uniref90.fasta", "uniref90_hits.sto", 10000),
    ("mono_full_templates", "mgnify/mgy_clusters_2022_05.fa", "mgnify_hits.sto", 501),
    ("mono_no_templates", "uniref90/uniref90.fasta", "uniref90_hits.sto", 10000),
]


@pytest.mark.parametrize("case, database, name, limit", CASES)
def test_truncated_output_is_byte_identical_to_alphafold2s(case, database, name, limit):
    result = jackhmmer_stockholm(query_of(case), DATA_DIR / database, UNIREF90_SETTINGS)
    assert truncate_stockholm(result.stockholm, limit) == (PIPELINE / case / "msas" / name).read_text()
    assert result.num_targets == sum(1 for line in open(DATA_DIR / database) if line.startswith(">"))


def test_untruncated_small_bfd_differs_only_in_the_author_line():
    """AlphaFold2 keeps the small BFD output as jackhmmer wrote it: only the HMMER version line differs."""
    case = "mono_reduced_datefilter"
    ours = jackhmmer_stockholm(query_of(case), DATA_DIR / "small_bfd" / "bfd-first_non_consensus_sequences.fasta",
                               UNIREF90_SETTINGS).stockholm.splitlines()
    theirs = (PIPELINE / case / "msas" / "small_bfd_hits.sto").read_text().splitlines()
    assert len(ours) == len(theirs)
    differing = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert differing == [("#=GF AU jackhmmer (" + ours[3].split("(", 1)[1], "#=GF AU jackhmmer (HMMER 3.3.2)")]
    assert "pyhmmer" in differing[0][0]


def test_blocks_over_threads_give_the_same_file():
    """The database in small blocks searched by two threads: same hits, E-values and file as streamed."""
    query = query_of("mono_full_templates")
    database = DATA_DIR / "uniref90" / "uniref90.fasta"
    streamed = jackhmmer_stockholm(query, database, UNIREF90_SETTINGS, threads=1)
    blocks = jackhmmer_stockholm(query, database, UNIREF90_SETTINGS, threads=2, block_sequences=150)
    assert blocks.stockholm == streamed.stockholm and blocks.num_hits == streamed.num_hits == 61
    assert blocks.num_targets == streamed.num_targets


def test_gzipped_database_gives_the_same_file(tmp_path):
    query = query_of("mono_full_templates")
    database = DATA_DIR / "uniref90" / "uniref90.fasta"
    packed = tmp_path / "uniref90.fasta.gz"
    packed.write_bytes(gzip.compress(database.read_bytes()))
    plain, gzipped = (jackhmmer_stockholm(query, path, UNIREF90_SETTINGS) for path in (database, packed))
    assert gzipped.stockholm == plain.stockholm and gzipped.num_hits == plain.num_hits == 61
    assert gzipped.num_targets == plain.num_targets


def test_truncation_keeps_alphafold2s_lines():
    text = ("# STOCKHOLM 1.0\n#=GF ID q-i1\n\n#=GS q DE query\n#=GS a/1-5 DE x\n#=GS b/1-5 DE y\n\n"
            "q      MKV-A\na/1-5  MKVLA\n#=GR a/1-5 PP 99*99\nb/1-5  MRV-A\n#=GC PP_cons 99999\n"
            "#=GC RF xxx.x\n//\n")
    assert truncate_stockholm(text, 2) == ("# STOCKHOLM 1.0\n\n#=GS q DE query\n#=GS a/1-5 DE x\n\n"
                                           "q      MKV-A\na/1-5  MKVLA\n#=GC RF xxx.x\n//\n")


def test_bad_database_names_file_and_line(tmp_path):
    bad = tmp_path / "db.fasta"
    bad.write_text(">a\nMKV\n>b\nMK1V\n")
    for threads in (1, 2):                        # streamed, and read as blocks
        with pytest.raises(InputError, match=r"db.fasta, line 4: .*illegal character 1"):
            jackhmmer_stockholm(query_of("mono_no_templates"), bad, UNIREF90_SETTINGS, threads)
    with pytest.raises(InputError, match="database not found"):
        jackhmmer_stockholm(query_of("mono_no_templates"), tmp_path / "absent.fasta", UNIREF90_SETTINGS)
    (tmp_path / "empty.fasta").write_text("")
    with pytest.raises(InputError, match="empty.fasta: empty sequence database"):
        jackhmmer_stockholm(query_of("mono_no_templates"), tmp_path / "empty.fasta", UNIREF90_SETTINGS)
    (tmp_path / "text.fasta").write_text("not a fasta file\n")
    with pytest.raises(InputError, match="text.fasta"):
        jackhmmer_stockholm(query_of("mono_no_templates"), tmp_path / "text.fasta", UNIREF90_SETTINGS)


def test_flush_denormals_is_scoped_to_the_block():
    tiny = np.float32(1e-40)                      # a float32 subnormal
    with flush_denormals() as active:
        inside = np.float32(tiny * np.float32(3.0))
    outside = np.float32(tiny * np.float32(3.0))
    assert outside > 0                            # IEEE behaviour restored after the block
    if active:
        assert inside == 0
