"""Malformed or incomplete template inputs: one InputError (or FoldkitError for a missing binary)
naming the file and line; AlphaFold2's skips (removed entries, unusable chains) stay skips."""

from __future__ import annotations

import shutil

import pytest

from foldkit.errors import FoldkitError, InputError
from foldkit.templates.filters import parse_obsolete
from foldkit.templates.hits import parse_hhr, parse_hmmsearch_sto
from tests.templates.cases import fasta_sequences, featurizer_for, multimer_chains, pipeline_dir


def _hhr(af2_reference) -> tuple[str, str]:
    case_dir = pipeline_dir(af2_reference) / "mono_full_templates"
    (query,) = fasta_sequences(case_dir / "input.fasta")
    return query, (case_dir / "msas" / "pdb_hits.hhr").read_text()


def _cut(text: str, line_prefix: str, occurrence: int = 1, keep_chars: int | None = None) -> str:
    """The text up to the ``occurrence``-th line starting with ``line_prefix`` (and part of that line)."""
    lines = text.splitlines(keepends=True)
    seen = 0
    for number, line in enumerate(lines):
        if line.startswith(line_prefix):
            seen += 1
            if seen == occurrence:
                head = "".join(lines[:number])
                return head + (line[:keep_chars] if keep_chars is not None else "")
    raise AssertionError(f"no line {line_prefix!r}")


@pytest.mark.parametrize("cut, message", [
    (lambda t: _cut(t, "No 7"), "the hit table lists 10 hits but 6 alignment blocks follow"),
    (lambda t: _cut(t, "T 1igy_A", 2, keep_chars=30), "alignment row is not 'Q|T name start RESIDUES end"),
    (lambda t: _cut(t, "T Consensus", 3), "hit 1 (1igy_B): the query rows hold 216 columns, the template rows 160"),
    (lambda t: _cut(t, " No Hit") + " No Hit  Prob\n  1 1igy_B IGG1\n", "the hit table lists 1 hits but 0"),
    (lambda t: t.replace("Sum_probs=185.0", "Sum"), "hit 3: statistics line has no Sum_probs="),
    (lambda t: t.replace("T 1ncb_L            4 MTQSP", "T 1ncb_L            9 MTQSP"),
     "line 85: residue range 9-72 does not fit the 69 residues"),
    (lambda t: "Hello\n" + t, "not an HHsearch .hhr file"),
])
def test_truncated_or_malformed_hhr(af2_reference, cut, message):
    _, text = _hhr(af2_reference)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")) as caught:
        parse_hhr(cut(text), "pdb_hits.hhr")
    assert str(caught.value).startswith("pdb_hits.hhr")


def test_hhr_error_names_the_line(af2_reference):
    _, text = _hhr(af2_reference)
    bad = text.replace("T 1gbt_A          176 DSGGPVV  182 (223)", "T 1gbt_A          176 DSGGPVV")
    with pytest.raises(InputError) as caught:
        parse_hhr(bad, "pdb_hits.hhr")
    assert caught.value.line == bad.splitlines().index("T 1gbt_A          176 DSGGPVV") + 1


def test_hhr_of_another_query_is_refused(af2_reference):
    query, text = _hhr(af2_reference)
    case_dir = pipeline_dir(af2_reference) / "mono_full_templates"
    with pytest.raises(InputError, match="is not part of the query sequence"):
        featurizer_for(case_dir).from_hhr("A" * len(query), text, "pdb_hits.hhr")


def _sto(af2_reference) -> tuple[str, str]:
    case_dir = pipeline_dir(af2_reference) / "multi_homo_2copies"
    ((chain, sequence),) = multimer_chains(case_dir)
    return sequence, (case_dir / "msas" / chain / "pdb_hits.sto").read_text()


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("//\n", ""), "not closed by '//'"),
    (lambda t: t.replace("1o1z_A/96-123         ---", "1o1z_A/96-123         --"), "row has 99 columns"),
    (lambda t: t.replace("5zng_C/27-52          -", "5zng_C/27-52          !"), "character '!'"),
    (lambda t: t.replace("1k6p_B/1-99 ", "1k6p_B:1-99 "), "is not '<pdbid>_<chain>/<start>-<end>'"),
    (lambda t: t.replace("# STOCKHOLM 1.0", "STOCKHOLM"), "no '# STOCKHOLM 1.0' header"),
])
def test_truncated_or_malformed_hmmsearch_sto(af2_reference, edit, message):
    sequence, text = _sto(af2_reference)
    with pytest.raises(InputError, match=message) as caught:
        parse_hmmsearch_sto(edit(text), sequence, "pdb_hits.sto")
    assert str(caught.value).startswith("pdb_hits.sto")


def test_hmmsearch_sto_of_another_query_is_refused(af2_reference):
    sequence, text = _sto(af2_reference)
    with pytest.raises(InputError, match="99 match columns, the query has 98 residues"):
        parse_hmmsearch_sto(text, sequence[:-1], "pdb_hits.sto")


def test_empty_hmmsearch_output_gives_one_zero_template(af2_reference):
    sequence, _ = _sto(af2_reference)
    result = featurizer_for(pipeline_dir(af2_reference) / "multi_homo_2copies").from_hmmsearch_sto(sequence, "")
    assert result.num_templates == 0
    assert result.features["template_aatype"].shape == (1, len(sequence), 22)
    assert result.features["template_sum_probs"].shape == (1,)
    assert list(result.features["template_domain_names"]) == [""]


def _folder_without(af2_reference, tmp_path, missing: str):
    source = pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files"
    folder = tmp_path / "mmcif_files"
    folder.mkdir()
    for path in source.glob("*.cif"):
        if path.stem != missing:
            shutil.copy(path, folder / path.name)
    return folder


def test_missing_mmcif_for_a_hit(af2_reference, tmp_path):
    sequence, text = _sto(af2_reference)
    folder = _folder_without(af2_reference, tmp_path, "1o1z")
    featurizer = featurizer_for(pipeline_dir(af2_reference) / "multi_homo_2copies", mmcif_dir=folder)
    with pytest.raises(InputError, match="no mmCIF file for template hit 1o1z") as caught:
        featurizer.from_hmmsearch_sto(sequence, text, "pdb_hits.sto")
    assert str(caught.value).startswith(str(folder / "1o1z.cif"))


def test_corrupt_mmcif_for_a_hit(af2_reference, tmp_path):
    sequence, text = _sto(af2_reference)
    folder = _folder_without(af2_reference, tmp_path, "1k6p")
    good = (pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files" / "1k6p.cif").read_text()
    (folder / "1k6p.cif").write_text(good[: len(good) // 2] + "\n'unterminated\n")
    featurizer = featurizer_for(pipeline_dir(af2_reference) / "multi_homo_2copies", mmcif_dir=folder)
    with pytest.raises(InputError, match="mmCIF syntax error") as caught:
        featurizer.from_hmmsearch_sto(sequence, text)
    assert "1k6p.cif" in str(caught.value) and caught.value.line is not None


@pytest.mark.parametrize("line, message", [
    ("OBSLTE    31-JAN-94 0NCB 1N", "line 2: OBSLTE line of 27 characters"),
    ("OBSLTE    31-JAN-94 0N-B     1NCB", "line 2: '0N-B' is not a 4-character PDB id"),
    ("OBSLTE    31-JAN-94 0NCB     1N", "line 2: '1N' is not a 4-character PDB id"),
])
def test_bad_obsolete_line(line, message):
    with pytest.raises(InputError, match=message.replace("'", ".")) as caught:
        parse_obsolete(f" LIST OF OBSOLETE COORDINATE ENTRIES AND SUCCESSORS\n{line}\n", "obsolete.dat")
    assert str(caught.value).startswith("obsolete.dat, line 2")


def test_obsolete_entries_parsed(af2_reference):
    text = (pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "obsolete.dat").read_text()
    assert parse_obsolete(text) == {"0ncb": "1ncb", "0lgt": None}


def test_kalign_missing_names_binary_option_and_install(af2_reference):
    case_dir = pipeline_dir(af2_reference) / "mono_reduced_datefilter"
    (query,) = fasta_sequences(case_dir / "input.fasta")
    featurizer = featurizer_for(case_dir, kalign_binary="/nonexistent/kalign")
    with pytest.raises(FoldkitError) as caught:
        featurizer.from_hhr(query, (case_dir / "msas" / "pdb_hits.hhr").read_text())
    message = str(caught.value)
    assert "'/nonexistent/kalign' not found" in message and "--kalign-binary" in message
    assert "apt-get install kalign" in message and "conda install -c bioconda kalign" in message


def test_missing_data_paths_fail_when_the_featurizer_is_made(af2_reference, tmp_path):
    case_dir = pipeline_dir(af2_reference) / "mono_no_templates"
    with pytest.raises(InputError, match="template mmCIF folder not found"):
        featurizer_for(case_dir, mmcif_dir=tmp_path / "absent")
    with pytest.raises(InputError, match="file not found") as caught:
        featurizer_for(case_dir, obsolete_pdbs=tmp_path / "obsolete.dat")
    assert str(caught.value).startswith(str(tmp_path / "obsolete.dat"))
