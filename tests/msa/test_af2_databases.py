"""AlphaFold2's data directory: layout, presets, databases given alone, missing and malformed files."""

from __future__ import annotations

import shutil

import pytest

from foldkit.errors import InputError
from foldkit.msa.databases import LAYOUT, check_ffindex, resolve_databases
from tests.msa.af2_data import DATA_DIR


def test_full_and_reduced_presets_read_the_layout():
    full = resolve_databases(DATA_DIR)
    assert full.db_preset == "full_dbs"
    assert full.uniref90 == DATA_DIR / "uniref90" / "uniref90.fasta"
    assert full.hhblits_databases == (DATA_DIR / LAYOUT["bfd"], DATA_DIR / LAYOUT["uniref30"])
    assert full.small_bfd is None and full.searches_templates
    assert full.obsolete_pdbs == DATA_DIR / "pdb_mmcif" / "obsolete.dat"
    reduced = resolve_databases(DATA_DIR, "reduced_dbs")
    assert reduced.small_bfd == DATA_DIR / LAYOUT["small_bfd"]
    assert reduced.bfd is None and reduced.hhblits_databases == ()


def test_databases_given_alone_without_a_directory():
    alone = resolve_databases(None, None, {"uniref90": DATA_DIR / LAYOUT["uniref90"],
                                           "small_bfd": DATA_DIR / LAYOUT["small_bfd"]})
    assert alone.db_preset == "reduced_dbs"               # inferred: only the small BFD among the third MSAs
    assert alone.mgnify is None and not alone.searches_templates
    with pytest.raises(InputError, match="--template-mmcif-dir is missing"):
        resolve_databases(None, None, {"uniref90": DATA_DIR / LAYOUT["uniref90"], "pdb70": DATA_DIR / LAYOUT["pdb70"]})
    with pytest.raises(InputError, match="no database"):
        resolve_databases(None, None, {})


def test_option_replaces_the_directory_file(tmp_path):
    copy = tmp_path / "my_uniref90.fasta"
    shutil.copyfile(DATA_DIR / LAYOUT["uniref90"], copy)
    databases = resolve_databases(DATA_DIR, "full_dbs", {"uniref90": copy})
    assert databases.uniref90 == copy and databases.mgnify == DATA_DIR / LAYOUT["mgnify"]
    with pytest.raises(InputError, match="--small-bfd is searched under --db-preset reduced_dbs"):
        resolve_databases(DATA_DIR, "full_dbs", {"small_bfd": copy})


def _partial_data_dir(tmp_path, drop: str):
    """A data directory of symlinks to the miniature one, without ``drop``."""
    root = tmp_path / "data"
    for sub in DATA_DIR.iterdir():
        (root / sub.name).mkdir(parents=True)
        for item in sub.iterdir():
            if item.relative_to(DATA_DIR).as_posix() != drop:
                (root / sub.name / item.name).symlink_to(item)
    return root


@pytest.mark.parametrize("drop, option", [
    ("uniref90/uniref90.fasta", "--uniref90"),
    ("bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt_cs219.ffindex", "--bfd"),
    ("pdb_mmcif/mmcif_files", "--template-mmcif-dir"),
    ("pdb_mmcif/obsolete.dat", "--obsolete-pdbs"),
])
def test_missing_file_names_file_and_option(tmp_path, drop, option):
    root = _partial_data_dir(tmp_path, drop)
    with pytest.raises(InputError) as error:
        resolve_databases(root, "full_dbs")
    message = str(error.value)
    assert drop.rsplit("/", 1)[-1] in message and option in message and "\n" not in message


def test_reduced_preset_does_not_need_bfd(tmp_path):
    root = _partial_data_dir(tmp_path, "bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt_a3m.ffdata")
    assert resolve_databases(root, "reduced_dbs").small_bfd is not None
    with pytest.raises(InputError, match="sorted_opt_a3m.ffdata"):
        resolve_databases(root, "full_dbs")


def test_malformed_and_truncated_ffindex(tmp_path):
    index = tmp_path / "db_a3m.ffindex"
    index.write_text("a\t0\t10\nb\tx\t5\n")
    with pytest.raises(InputError, match="line 2"):
        check_ffindex(index, 100)
    index.write_text("a\t0\t10\nb\t10\t95\n")
    with pytest.raises(InputError, match="after the end of the 100-byte .ffdata"):
        check_ffindex(index, 100)
    index.write_text("a\t0\t10\nb\t10")
    with pytest.raises(InputError, match="truncated ffindex"):
        check_ffindex(index, 100)
    index.write_text("a\t0\t10\nb\t10\t90\n")
    check_ffindex(index, 100)


def test_data_directory_with_a_truncated_ffdata(tmp_path):
    root = _partial_data_dir(tmp_path, "pdb70/pdb70_a3m.ffdata")
    data = DATA_DIR / "pdb70" / "pdb70_a3m.ffdata"
    (root / "pdb70" / "pdb70_a3m.ffdata").write_bytes(data.read_bytes()[:1000])
    with pytest.raises(InputError, match="pdb70_a3m.ffindex.*truncated database"):
        resolve_databases(root, "full_dbs")
