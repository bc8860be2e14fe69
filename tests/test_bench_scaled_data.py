"""benchmarks/scaled_data.py: the scaled AlphaFold2 data directory of ``bench_pipeline.py --scaled-data N``."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from foldkit.io.fasta import read_fasta
from foldkit.msa.databases import LAYOUT, resolve_databases
from tests.msa.af2_data import DATA_DIR

SCALED = Path(__file__).resolve().parents[1] / "benchmarks" / "scaled_data.py"
SEQDB = [("1abc_A", "MKTAYIAKQRQISFVKSHFSRQ"), ("2def_B", "GSHMLEDPVDAFQLGWNR"), ("3ghi_C", "ACDEFGHIKLMNPQRSTVWY"),
         ("4jkl_D", "MSTNPKPQRKTKRNTNRRPQDVKFPGG"), ("5mno_E", "PEPTIDESEQWENCE")]


def _module():
    spec = importlib.util.spec_from_file_location("scaled_data", SCALED)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seqdb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seqdb") / "seqdb.fasta"
    path.write_text("".join(f">{name} pdb split=train\n{sequence}\n" for name, sequence in SEQDB))
    return path


def test_layout_counts_and_af2_databases_accept_it(tmp_path, seqdb):
    scaled = _module()
    counts = scaled.build_scaled_data_dir(tmp_path / "data", 12, DATA_DIR, seqdb)
    for key in ("uniref90", "mgnify", "small_bfd"):
        own = read_fasta(DATA_DIR / LAYOUT[key])
        records = read_fasta(tmp_path / "data" / LAYOUT[key])
        assert counts[key] == len(records) == len(own) + 12
        assert [r.sequence for r in records[:len(own)]] == [r.sequence for r in own]     # the miniature first
        assert len({r.id for r in records}) == len(records)                              # no name twice
    for preset in ("full_dbs", "reduced_dbs"):
        databases = resolve_databases(tmp_path / "data", preset)
        assert databases.uniref90 == tmp_path / "data" / LAYOUT["uniref90"]
        assert databases.searches_templates
    assert (tmp_path / "data" / LAYOUT["pdb70"]).parent.joinpath("pdb70_hhm.ffdata").resolve() == \
        (DATA_DIR / "pdb70" / "pdb70_hhm.ffdata").resolve()


def test_slices_differ_per_database_and_variants_are_distinct(tmp_path, seqdb):
    scaled = _module()
    scaled.build_scaled_data_dir(tmp_path / "a", 12, DATA_DIR, seqdb)
    scaled.build_scaled_data_dir(tmp_path / "b", 12, DATA_DIR, seqdb)
    added = {}
    for key in ("uniref90", "mgnify", "small_bfd"):
        first = (tmp_path / "a" / LAYOUT[key]).read_text()
        assert first == (tmp_path / "b" / LAYOUT[key]).read_text()                       # deterministic
        added[key] = read_fasta(tmp_path / "a" / LAYOUT[key])[-12:]
    assert added["uniref90"][0].id == "UniRef90_seqdb_1abc_A"                           # database 0 starts at 0
    assert added["mgnify"][0].id == "MGYP_seqdb_2def_B"                                 # database 1 at 5 // 3
    assert added["small_bfd"][0].id == "seqdb_4jkl_D"                                   # database 2 at 10 // 3
    originals = dict(SEQDB)
    for record in added["uniref90"]:
        chain = record.id.removeprefix("UniRef90_seqdb_")
        if "_v" in chain:                       # a later pass: same length, not the original, 2 passes here
            base = chain.rsplit("_v", 1)[0]
            assert len(record.sequence) == len(originals[base]) and record.sequence != originals[base]
        else:
            assert record.sequence == originals[chain]
    assert [r.id for r in added["uniref90"]][5:7] == ["UniRef90_seqdb_1abc_A_v1", "UniRef90_seqdb_2def_B_v1"]
    with pytest.raises(FileExistsError):
        scaled.build_scaled_data_dir(tmp_path / "a", 1, DATA_DIR, seqdb)


@pytest.mark.skipif(not shutil.which("jackhmmer"), reason="the HMMER jackhmmer program is needed")
def test_jackhmmer_inclusion_equals_the_binary_on_scaled_databases(tmp_path):
    """On databases of 200,000 sequences a Fab query has domains with conditional E-values between 0.001 and
    0.01: foldkit's in-process jackhmmer must include exactly the domains the jackhmmer binary includes with
    AlphaFold2's flags (jackhmmer's --incdomE default 0.001, not pyhmmer's 0.01)."""
    from foldkit.msa.jackhmmer import QueryRecord, jackhmmer_stockholm
    from foldkit.msa.search import JackhmmerSettings
    from tests.conftest import AF2_REFERENCE

    shared = AF2_REFERENCE.parents[1]
    _module().build_scaled_data_dir(tmp_path / "data", 200000, DATA_DIR, shared / "train" / "seqdb" / "seqdb.fasta.gz")
    fasta = AF2_REFERENCE / "pipeline" / "mono_full_templates" / "input.fasta"
    query = read_fasta(fasta)[0]
    database = tmp_path / "data" / "uniref90" / "uniref90.fasta"
    binary_out = tmp_path / "binary.sto"
    subprocess.run(["jackhmmer", "-o", "/dev/null", "-A", str(binary_out), "--noali", "--F1", "0.0005", "--F2",
                    "5e-05", "--F3", "5e-07", "--incE", "0.0001", "-E", "0.0001", "--cpu", "2", "-N", "1",
                    str(fasta), str(database)], check=True)

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#=GF AU")]

    ours = jackhmmer_stockholm(QueryRecord(query.id, query.description, query.sequence), database,
                               JackhmmerSettings()).stockholm
    assert body(ours) == body(binary_out.read_text())
    loose = jackhmmer_stockholm(QueryRecord(query.id, query.description, query.sequence), database,
                                JackhmmerSettings(incdom_e=0.01)).stockholm
    assert body(loose) != body(binary_out.read_text())        # the case really has such domains
