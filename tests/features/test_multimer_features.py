"""Multimer featurization against AlphaFold-Multimer's own outputs (no search runs here).

* ``pair_input_*.npz`` -> ``pad_msa(pair_and_merge(...))`` equals ``processed_features.npz`` (pipeline cases);
* each chain's raw features -> ``convert_chain_features`` + assembly ids equal ``pair_input_*.npz``;
* the tiny multimer cases' stored inputs (uniref90 .sto, bfd .a3m, uniprot .sto, template features) give their
  ``<case>_chain_features.npz`` and ``<case>_features.npz`` (the network's golden input);
* the same MSAs written as ColabFold's complex A3M (paired rows, then unpaired) and featurized without pairing
  by species give the same features.

Every array is compared exactly, dtype included.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest

from foldkit.features.multimer import (TEMPLATE_KEYS, chain_raw_features, complex_features_from_a3m,
                                       complex_features_from_chain_features)
from foldkit.features.multimer_chain import assembly_chains, convert_chain_features, pairing_msa_features
from foldkit.features.multimer_merge import pad_msa, pair_and_merge
from foldkit.features.multimer_pairing import pair_by_species
from foldkit.io.colabfold_a3m import format_colabfold_complex_a3m, read_colabfold_complex_a3m
from foldkit.io.complexes import read_complexes
from foldkit.io.msa_files import Msa, merge_msas
from foldkit.msa.af2_files import a3m_msa, stockholm_msa
from tests.conftest import AF2_REFERENCE

PIPELINE = AF2_REFERENCE / "pipeline"
MULTIMER = AF2_REFERENCE / "multimer"
PIPELINE_CASES = ("multi_hetero_2chain", "multi_homo_2copies")
TINY_CASES = ("tiny_multimer_hetero", "tiny_multimer_homo")


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def assert_same(ours: dict, reference: dict, what: str) -> None:
    assert sorted(ours) == sorted(reference), f"{what}: keys differ: {set(ours) ^ set(reference)}"
    for name, ref in reference.items():
        mine = np.asarray(ours[name])
        assert mine.dtype == ref.dtype, f"{what}/{name}: dtype {mine.dtype} != {ref.dtype}"
        assert mine.shape == ref.shape, f"{what}/{name}: shape {mine.shape} != {ref.shape}"
        assert np.array_equal(mine, ref), f"{what}/{name} differs"


@pytest.mark.parametrize("case", PIPELINE_CASES)
def test_pair_and_merge_of_pair_inputs_equals_processed_features(case):
    chains = [_load(Path(p)) for p in sorted(glob.glob(str(PIPELINE / case / "pair_input_*.npz")))]
    features = pad_msa(pair_and_merge(chains), 512)
    assert_same(features, _load(PIPELINE / case / "processed_features.npz"), case)


@pytest.mark.parametrize("case", PIPELINE_CASES)
def test_chain_conversion_and_assembly_equal_pair_inputs(case):
    (complex_,) = read_complexes(PIPELINE / case / "input.fasta", "multimer")
    raw = {c.chain_id: _load(PIPELINE / case / f"chain_{c.chain_id}_raw_features.npz")
           for c in complex_.distinct_chains}
    converted = {k: convert_chain_features(v, k) for k, v in raw.items()}
    # copies reuse the first chain's converted features, auth_chain_id included (as AlphaFold-Multimer does)
    assembled = assembly_chains([converted[complex_.first_copy(c).chain_id] for c in complex_.chains])
    assert list(assembled) == [p.stem[len("pair_input_"):] for p in sorted((PIPELINE / case).glob("pair_input_*"))]
    for key, features in assembled.items():
        assert_same(features, _load(PIPELINE / case / f"pair_input_{key}.npz"), f"{case}/{key}")
    pair_inputs: dict = {}
    features = complex_features_from_chain_features(complex_, raw, pair_inputs=pair_inputs)
    assert sorted(pair_inputs) == sorted(assembled)
    assert_same(features, _load(PIPELINE / case / "processed_features.npz"), case)


def _tiny_case_msas(case: str, chain) -> tuple[list[Msa], Msa | None]:
    unpaired = [stockholm_msa((MULTIMER / f"{case}_chain_{chain.chain_id}_uniref90.sto").read_text(),
                              MULTIMER / "uniref90", chain.sequence),
                a3m_msa((MULTIMER / f"{case}_chain_{chain.chain_id}_bfd.a3m").read_text(), MULTIMER / "bfd",
                        chain.sequence)]
    uniprot = MULTIMER / f"{case}_chain_{chain.chain_id}_uniprot.sto"
    pairing = stockholm_msa(uniprot.read_text(), uniprot, chain.sequence) if uniprot.is_file() else None
    return unpaired, pairing


@pytest.mark.parametrize("case", TINY_CASES)
def test_tiny_multimer_cases_from_their_stored_inputs(case):
    (complex_,) = read_complexes(MULTIMER / f"{case}_input.fasta", "multimer")
    stored_chains = _load(MULTIMER / f"{case}_chain_features.npz")
    raw = {}
    for chain in complex_.distinct_chains:
        unpaired, pairing = _tiny_case_msas(case, chain)
        templates = {key: stored_chains[f"{chain.chain_id}/{key}"] for key in TEMPLATE_KEYS}
        raw[chain.chain_id] = chain_raw_features(chain, unpaired, templates,
                                                 pairing if complex_.is_heteromer else None)
        reference = {k.split("/", 1)[1]: v for k, v in stored_chains.items() if k.startswith(chain.chain_id + "/")}
        assert_same(raw[chain.chain_id], reference, f"{case} chain {chain.chain_id}")
    features = complex_features_from_chain_features(complex_, raw)
    assert_same(features, _load(MULTIMER / f"{case}_features.npz"), case)


def test_colabfold_complex_a3m_of_the_same_msas_gives_the_same_features(tmp_path):
    """Paired rows (AlphaFold's species pairing, written out) + unpaired rows, read back and paired by row."""
    case = "tiny_multimer_hetero"
    (complex_,) = read_complexes(MULTIMER / f"{case}_input.fasta", "multimer")
    stored_chains = _load(MULTIMER / f"{case}_chain_features.npz")
    unpaired, pairing, all_seq = [], [], []
    for chain in complex_.distinct_chains:
        own, uniprot = _tiny_case_msas(case, chain)
        unpaired.append(merge_msas(own))
        pairing.append(merge_msas([uniprot]))
        all_seq.append(pairing_msa_features(uniprot))
    rows = pair_by_species(all_seq)                                        # [P, 2]
    paired = [Msa(*(tuple(getattr(msa, field)[k] for k in rows[:, n]) for field in
                    ("sequences", "deletion_matrix", "descriptions", "rows")))
              for n, msa in enumerate(pairing)]
    path = tmp_path / "complex.a3m"
    path.write_text(format_colabfold_complex_a3m(complex_.sequences, [1, 1], unpaired, paired))
    assert path.read_text().startswith("#23,17\t1,1\n")
    given_unpaired, given_paired = read_colabfold_complex_a3m(path, complex_)
    assert [len(m) for m in given_paired.values()] == [len(rows)] * 2
    templates = {c.chain_id: {key: stored_chains[f"{c.chain_id}/{key}"] for key in TEMPLATE_KEYS}
                 for c in complex_.distinct_chains}
    features = complex_features_from_a3m(complex_, given_unpaired, given_paired, templates)
    assert_same(features, _load(MULTIMER / f"{case}_features.npz"), "ColabFold A3M")
