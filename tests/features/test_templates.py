"""Template raw features from a structure + alignment, then processing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from foldkit import constants as rc
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.features.templates import (TemplateHit, align_sequences, mapping_from_alignment,
                                        stack_template_features)
from foldkit.io.msa_files import Msa
from foldkit.protein import Protein
from tests.conftest import TRAIN_DIR


@pytest.fixture(scope="module")
def template_chain() -> Protein:
    with np.load(TRAIN_DIR / "structures" / "shard_012.npz", allow_pickle=False) as shard:
        i = int(np.flatnonzero(shard["full_atom"])[0])
        o, n = int(shard["offsets"][i]), int(shard["seq_len"][i])
        return Protein(aatype=shard["aatype"][o:o + n].astype(np.int32),
                       atom_positions=shard["atom37_positions"][o:o + n].astype(np.float32),
                       atom_mask=shard["atom37_mask"][o:o + n].astype(np.float32),
                       residue_index=shard["residue_index"][o:o + n].astype(np.int32),
                       chain_id=str(shard["chain_id"][i]))


def test_mapping_from_alignment():
    assert mapping_from_alignment("AB-CD", "A-XCD") == {0: 0, 2: 2, 3: 3}


def test_template_features_follow_alignment(template_chain):
    seq = template_chain.sequence
    # query: residues 5..44 of the template with two point mutations and one deleted residue
    query = seq[5:20] + seq[21:45]
    query = query[:3] + ("A" if query[3] != "A" else "G") + query[4:]
    mapping = align_sequences(query, seq)
    assert mapping[0] == 5 and mapping[14] == 19 and mapping[15] == 21 and mapping[20] == 26
    hit = TemplateHit("tmpl_A", template_chain, mapping, sum_probs=12.5)
    raw = stack_template_features(query, [hit])
    assert raw["template_aatype"].shape == (1, len(query), 22)
    assert raw["template_all_atom_positions"].dtype == np.float32
    np.testing.assert_array_equal(raw["template_all_atom_positions"][0, 20], template_chain.atom_positions[26]
                                  * template_chain.atom_mask[26][:, None])
    hh = rc.table("HHBLITS_AA_TO_ID")
    assert raw["template_aatype"][0, 0].argmax() == hh[seq[5]]
    assert raw["template_sequence"][0][0] == seq[5]
    config = FeatureConfig(max_msa_clusters=6, max_extra_msa=4, max_templates=2, num_recycle=0,
                           use_templates=True, reduce_msa_clusters_by_max_templates=True).deterministic()
    features = process_features(make_raw_features(query, [Msa.single_sequence(query)],
                                                  template_features=raw), config)
    assert features["template_mask"][0].tolist() == [1.0, 0.0]
    ca, cb = rc.ATOM_ORDER["CA"], rc.ATOM_ORDER["CB"]
    for q, t in mapping.items():
        aatype = int(template_chain.aatype[t])
        assert features["template_aatype"][0, 0, q] == aatype
        atom = ca if rc.RESTYPES_WITH_X[aatype] == "G" else cb
        np.testing.assert_array_equal(features["template_pseudo_beta"][0, 0, q],
                                      template_chain.atom_positions[t, atom] * template_chain.atom_mask[t, atom])
    assert features["template_sum_probs"][0, 0, 0] == 12.5


def test_unaligned_residues_are_gaps(template_chain):
    query = "W" * 3 + template_chain.sequence[:20]
    hit = TemplateHit("t", template_chain, {i + 3: i for i in range(20)})
    raw = stack_template_features(query, [hit])
    assert raw["template_sequence"][0].startswith("---")
    assert raw["template_aatype"][0, :3].argmax(-1).tolist() == [21, 21, 21]
    assert not raw["template_all_atom_masks"][0, :3].any()
    empty = stack_template_features(query, [])
    assert empty["template_aatype"].shape == (0, len(query), 22)


def test_template_from_pdb_file(template_chain, tmp_path):
    structure = pytest.importorskip("foldkit.io.structure")
    from foldkit.features.templates import template_hit_from_file
    from foldkit.io.pdb_format import to_pdb_string

    template_chain = dataclasses.replace(template_chain, chain_id="B")
    path = tmp_path / "tmpl.pdb"
    path.write_text(to_pdb_string(template_chain))
    assert hasattr(structure, "read_structure")
    query = template_chain.sequence[10:60]
    hit = template_hit_from_file(path, query, chain_id=template_chain.chain_id)
    assert hit.query_to_template[0] == 10
    raw = stack_template_features(query, [hit])
    np.testing.assert_allclose(raw["template_all_atom_positions"][0, 0],
                               template_chain.atom_positions[10] * template_chain.atom_mask[10][:, None], atol=1e-3)
