"""The indexed (fast) PDB/TS reading path gives exactly what the line-by-line path gives: values and errors."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.io import casp_ts, pdb_format
from foldkit.io.atom_table import build_chains, select_model
from foldkit.io.line_index import index_lines
from foldkit.io.pdb_columns import standard_numbers, text_column
from foldkit.io.structure import read_structure
from tests.io.pdb_text import atom_line, residue_lines, simple_chain

PATH = "x.pdb"


def _outcome(read):
    """(AtomTable or None, error message or None) of a reading function."""
    try:
        return read(), None
    except InputError as exc:
        return None, str(exc)


def _assert_codes_consistent(table):
    """The parser's integer codes spell the columns, one code per distinct value."""
    for name, (distinct, codes) in table.codes.items():
        assert len(set(distinct)) == len(distinct), name
        np.testing.assert_array_equal(np.array(distinct, dtype=str)[codes], getattr(table, name), err_msg=name)


def _assert_same_tables(fast, slow):
    for field in dataclasses.fields(fast):
        if field.name == "codes":
            continue
        ours, theirs = getattr(fast, field.name), getattr(slow, field.name)
        assert ours.dtype == theirs.dtype, field.name
        np.testing.assert_array_equal(ours, theirs, err_msg=field.name)
    _assert_codes_consistent(fast)
    _assert_codes_consistent(slow)


def _both_pdb(text: str):
    index = index_lines(text.encode())
    assert index is not None
    fast = _outcome(lambda: pdb_format.atom_table_from_lines(pdb_format.scan_pdb_index(index, PATH), PATH))
    slow = _outcome(lambda: pdb_format.atom_table_from_lines(pdb_format.scan_pdb_lines(text.splitlines(), PATH),
                                                             PATH))
    return fast, slow


def _check_pdb(text: str):
    (fast, fast_error), (slow, slow_error) = _both_pdb(text)
    assert fast_error == slow_error
    if slow is not None:
        _assert_same_tables(fast, slow)
    return slow, slow_error


@pytest.mark.parametrize("text", [
    "a\r\nb\rc\x0bd\x0c\x1ce\x1d\x1ef\r\r\ng\n\nh", "x", "x\n", "\n\n", "a\r", "ATOM\r\nEND \x0b", "  \t\n\x1f",
])
def test_index_splits_like_splitlines(text):
    index = index_lines(text.encode())
    assert [index.line(i) for i in range(len(index))] == text.splitlines()


def test_index_rejects_non_ascii():
    assert index_lines("REMARK é\n".encode()) is None


def _lines() -> list[str]:
    lines = simple_chain(["MET", "ALA", "GLY", "SER"], first=-2)
    lines += residue_lines(40, "MSE", "B", 7, 20.0, record="HETATM", occupancy=0.5, b_factor=123.45, altloc="A")
    lines.append(atom_line(90, "O", "HOH", "B", 300, (-0.001, -999.999, 9999.999), record="HETATM"))
    return lines


def _variants() -> dict[str, str]:
    lines = _lines()
    plain = "\n".join(lines) + "\nEND\n"
    long_lines = [line + "  EXTRA COLUMNS" for line in lines]
    return {
        "plain": plain,
        "crlf": plain.replace("\n", "\r\n"),
        "lone-cr-in-header": "REMARK a\r \nREMARK b\r\n" + plain,
        "no-final-newline": plain.rstrip("\n"),
        "cut-to-66": "\n".join(line[:66] for line in lines) + "\n",
        "cut-to-54": "\n".join(line[:54] for line in lines) + "\n",
        "long-lines": "\n".join(long_lines) + "\n",
        "mixed-lengths": "\n".join(line.rstrip() if i % 3 else line for i, line in enumerate(lines)) + "\n",
        "many-length-runs": "\n".join(line.rstrip() if i % 2 else line for i, line in enumerate(lines * 40)) + "\n",
        "models": "MODEL        1\n" + plain.replace("END\n", "ENDMDL\nMODEL        7\n") + plain,
        "end-stops": "\n".join(lines[:5]) + "\nEND\n" + "\n".join(lines[5:]) + "\n",
        "end-with-tab": "\n".join(lines[:5]) + "\nEND\t\n" + "\n".join(lines[5:]) + "\n",
        "endmdl-is-not-end": "\n".join(lines[:5]) + "\nENDMDL\n" + "\n".join(lines[5:]) + "\n",
        "left-aligned-coordinates": "\n".join(line[:30] + "12.5    " + line[38:] for line in lines) + "\n",
        "plus-sign": "\n".join(line[:30] + "  +1.500" + line[38:] for line in lines) + "\n",
        "two-decimals": "\n".join(line[:30] + "   12.50" + line[38:54] + " 1.000" + line[60:] for line in lines) + "\n",
        "left-aligned-resseq": "\n".join(line[:22] + "12  " + line[26:] for line in lines) + "\n",
        "lower-case-names": "\n".join(line[:12] + line[12:20].lower() + line[20:] for line in lines) + "\n",
        "atom-prefix-only": "\n".join("ATOMXX" + line[6:] for line in lines) + "\n",
        "same-names-written-differently": "\n".join(
            line[:12] + (line[13:16] + " " if i % 2 else line[12:16]) + line[16:17] + (line[17:20].lower() if i % 3
            else line[17:20]) + line[20:] for i, line in enumerate(lines)) + "\n",
    }


def _same_proteins(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype, field.name
                np.testing.assert_array_equal(x, y, err_msg=field.name)
            else:
                assert x == y, field.name


@pytest.mark.parametrize("name", sorted(_variants()))
def test_fast_path_equals_line_by_line(name):
    table, error = _check_pdb(_variants()[name])
    assert error is None
    assert len(table) > 0
    # Chains built with the parser's integer codes equal chains built from the str columns alone.
    first_model = select_model(table, None, PATH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_proteins(build_chains(first_model, PATH, all_chains=True),
                       build_chains(dataclasses.replace(first_model, codes=None), PATH, all_chains=True))


def test_differently_written_names_are_one_residue():
    table, _ = _check_pdb(_variants()["same-names-written-differently"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chains = build_chains(table, PATH, all_chains=True)
    assert [c.sequence for c in chains] == ["MAGS", "M"]
    assert chains[0].atom_mask.sum() == 16


def _bad_variants() -> dict[str, str]:
    lines = _lines()
    good = "\n".join(lines)

    def replace(row: int, start: int, text: str) -> str:
        changed = list(lines)
        changed[row] = changed[row][:start] + text + changed[row][start + len(text):]
        return "REMARK x\r \n" + "\n".join(changed) + "\n"        # a lone CR: line numbers must still agree

    return {
        "letter-in-coordinate": replace(3, 42, "9x7"),
        "two-dots": replace(4, 30, " -12.8.2"),
        "blank-coordinate": replace(5, 46, "        "),
        "letter-in-occupancy": replace(6, 56, "O"),
        "hybrid36-resseq": replace(7, 22, "A000"),
        "blank-resseq": replace(8, 22, "    "),
        "blank-atom-name": replace(9, 12, "    "),
        "blank-resname": replace(10, 17, "   "),
        "short-record": "REMARK\n" + good + "\n" + lines[0][:40] + "\n",
        "bad-model": "MODEL        X\n" + good + "\n",
        "no-atoms": "REMARK nothing\nEND\n" + good + "\n",
    }


@pytest.mark.parametrize("name", sorted(_bad_variants()))
def test_fast_path_errors_equal_line_by_line(name):
    _, error = _check_pdb(_bad_variants()[name])
    assert error is not None and error.startswith(PATH)


def test_random_standard_fields_parse_exactly():
    rng = np.random.default_rng(7)
    n = 5000
    coords = np.round(rng.uniform(-999.999, 9999.999, (n, 3)), 3)
    coords[:100] = np.round(rng.uniform(-1.0, 1.0, (100, 3)), 3)
    occupancy = np.round(rng.uniform(-99.99, 999.99, (n, 2)), 2)
    resseq = rng.integers(-999, 10000, n)
    lines = [atom_line(i + 1, "CA", "ALA", "A", int(resseq[i]), tuple(coords[i]), occupancy=occupancy[i, 0],
                       b_factor=occupancy[i, 1]) for i in range(n)]
    table, error = _check_pdb("\n".join(lines) + "\n")
    assert error is None
    expected = np.array([[float(line[c:c + 8]) for c in (30, 38, 46)] for line in lines])
    np.testing.assert_array_equal(table.coords, expected)
    np.testing.assert_array_equal(table.occupancy, [float(line[54:60]) for line in lines])
    np.testing.assert_array_equal(table.b_factor, [float(line[60:66]) for line in lines])
    np.testing.assert_array_equal(table.resseq, resseq)


def _ts_variants() -> dict[str, str]:
    model = "\n".join(line[:21] + " " + line[22:] for line in simple_chain(["ALA", "GLY", "SER"], first=5))
    body = f"MODEL  1\nPARENT 1abc_A\n{model}\nTER\nEND\nMODEL  2\nPARENT N/A\n{model}\nEND\n"
    header = "PFRMAT TS\nTARGET T0001\nAUTHOR 1234\n"
    return {
        "valid": header + body,
        "valid-crlf": (header + body).replace("\n", "\r\n"),
        "blank-lines": header + "\n\n" + body.replace("TER\n", "\n   \nTER\n"),
        "unclosed-last": header + body[:-4],
        "before-model": header + model + "\n" + body,
        "after-end": header + body + model + "\n",
        "twice": header + body + body,
        "no-end-before-model": header + body.replace("TER\nEND\n", ""),
        "empty-model": header + "MODEL 3\nPARENT N/A\nEND\n" + body,
        "no-pfrmat": "TARGET T0001\n" + body,
        "rr": "PFRMAT RR\n" + body,
    }


@pytest.mark.parametrize("name", sorted(_ts_variants()))
def test_ts_fast_scan_equals_line_by_line(name):
    text = _ts_variants()[name]
    fast, fast_error = _outcome(lambda: casp_ts.scan_ts_index(index_lines(text.encode()), PATH))
    slow, slow_error = _outcome(lambda: casp_ts.scan_ts(text.splitlines(), PATH))
    assert fast_error == slow_error
    if slow is None:
        return
    assert (fast.target, fast.blocks) == (slow.target, slow.blocks)
    np.testing.assert_array_equal(fast.atoms.line_numbers, slow.atoms.line_numbers)
    np.testing.assert_array_equal(fast.atoms.models, slow.atoms.models)
    assert list(fast.atoms.lines) == list(slow.atoms.lines)
    _assert_same_tables(pdb_format.atom_table_from_lines(fast.atoms, PATH),
                        pdb_format.atom_table_from_lines(slow.atoms, PATH))


def test_casp_files_take_the_indexed_path(casp_dir):
    """Even natives with stray carriage returns in their REMARK lines are read through the byte index."""
    path = casp_dir / "natives" / "T1024-D1.pdb"
    data = path.read_bytes()
    assert b"\r" in data
    index = index_lines(data)
    assert index is not None
    atoms = pdb_format.scan_pdb_index(index, str(path))
    assert atoms.index is not None and len(atoms.line_numbers) > 1000
    assert len(read_structure(path)) == 193


def test_non_ascii_file_reads_line_by_line(tmp_path):
    path = tmp_path / "accent.pdb"
    path.write_text("REMARK café\n" + "\n".join(simple_chain(["ALA", "CYS"])) + "\nEND\n", encoding="utf-8")
    assert read_structure(path).sequence == "AC"


def test_standard_numbers_fall_back_per_group():
    lines = _lines() * 700                                           # > 2048 rows: several row blocks
    matrix = np.frombuffer("".join(line.ljust(80) for line in lines).encode(), dtype=np.uint8).reshape(-1, 80)
    assert all(group is not None for group in dataclasses.astuple(standard_numbers(matrix)))
    for start, text, group in ((40, "x", "coords"), (57, " ", "occupancy_and_b"), (22, "+", "resseq")):
        bad = matrix.copy()
        bad[len(lines) - 1, start] = ord(text)                      # the last row only, in the last block
        numbers = standard_numbers(bad)
        assert [name for name, value in dataclasses.asdict(numbers).items() if value is None] == [group]


def test_text_column_merges_spellings():
    rows = [" CA ", "CA  ", " ca ", " N  ", "N   ", " CA "]
    matrix = np.frombuffer("".join(rows).encode(), dtype=np.uint8).reshape(-1, 4)
    column = text_column(matrix, 0, 4, upper=True)
    assert column.values.tolist() == ["CA", "CA", "CA", "N", "N", "CA"]
    assert sorted(column.distinct) == ["CA", "N"]
    np.testing.assert_array_equal(np.array(column.distinct)[column.codes], column.values)
