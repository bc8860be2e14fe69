"""Chain grouping, mapping enumeration, the greedy search beyond the enumeration limit, forced mappings."""

import pytest

from foldkit.errors import InputError
from foldkit.eval.complex.alignment import group_chains
from foldkit.eval.complex.contacts import ComplexContacts
from foldkit.eval.complex.mapping import choose_mapping, count_mappings, parse_mapping
from foldkit.eval.complex.qs import QsCalculator
from foldkit.eval.complex.residue_map import PairAlignments
from foldkit.eval.complex.structure import read_complex
from tests.eval.complex.reference_complex import COMPLEX_DIR, reference_rows


def _setup(pair_id):
    row = reference_rows()[pair_id]
    target, model = read_complex(COMPLEX_DIR / row["target_file"]), read_complex(COMPLEX_DIR / row["model_file"])
    groups = group_chains(target, model)
    calc = QsCalculator(PairAlignments(target, model), ComplexContacts.of(target), ComplexContacts.of(model))
    return row, target, model, groups, calc


def _text(target, model, chain_map):
    return ";".join(sorted(f"{target.chain_ids[t]}:{model.chain_ids[m]}" for t, m in enumerate(chain_map) if m >= 0))


def test_groups_of_hetero_and_homo_oligomers(scoring_dir):
    _, target, model, groups, _ = _setup("1EXB__real_dockq_example")
    assert [[target.chain_ids[t] for t in g] for g in groups.target] == [["A", "B", "D", "C"], ["E", "G", "F", "H"]]
    assert count_mappings(groups) == 24 * 24
    _, target, model, groups, _ = _setup("1AY7__extra_copyB")
    assert [[model.chain_ids[m] for m in g] for g in groups.model] == [["A"], ["B", "C"]]
    assert count_mappings(groups) == 2
    _, target, model, groups, _ = _setup("6QWN__real_assembly1")     # other chain names, peptide
    assert groups.model == ((0,), (1,)) and groups.unassigned_model == ()


@pytest.mark.parametrize("pair_id", ["1EXB__real_dockq_example", "2HHB__swapAC_BD_noise0.5",
                                     "5EIL__cycleABC_noise0.5", "5EIL__dropC_noise0.3", "1A2K__real_dockq_example"])
def test_greedy_search_finds_the_enumerated_optimum(scoring_dir, pair_id):
    row, target, model, groups, calc = _setup(pair_id)
    enumerated = choose_mapping(calc, groups, target, model)
    greedy = choose_mapping(calc, groups, target, model, max_enumerated=1)
    assert enumerated.method in ("enumerated", "single") and greedy.method == "greedy"
    assert greedy.qs_global == pytest.approx(enumerated.qs_global, abs=1e-9)
    assert _text(target, model, greedy.chain_map) == row["chain_mapping_ost"]


def test_parse_mapping(scoring_dir):
    _, target, model, _, _ = _setup("1AY7__renumber_rename_noise0.5")
    assert parse_mapping("A:Y, B:X", target, model) == (model.index_of("Y"), model.index_of("X"))
    assert parse_mapping("B:X", target, model) == (-1, model.index_of("X"))
    for text, words in (("C:X", "native chain 'C'"), ("A:Q", "model chain 'Q'"), ("AY", "NATIVE_CHAIN:MODEL_CHAIN"),
                        ("A:Y,A:X", "twice"), ("A:Y,B:Y", "twice")):
        with pytest.raises(InputError, match=words):
            parse_mapping(text, target, model)
