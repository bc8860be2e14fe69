"""FASTA reading: what is accepted, how it is normalised, how record ids become file names."""

from __future__ import annotations

import gzip
import io
import sys

import pytest

from foldkit.errors import InputError
from foldkit.io.fasta import Query, parse_fasta, read_fasta, record_file_names, safe_record_name
from tests.conftest import REPO_ROOT


def test_multi_record_wrapped_lowercase_crlf_star(tmp_path):
    path = tmp_path / "q.fasta"
    path.write_bytes(b">one first protein\r\nmkv\r\nLLa*\r\n\r\n>two\tsecond\r\nACDX\r\n")
    queries = read_fasta(path)
    assert queries == [Query("one", "first protein", "MKVLLA"), Query("two", "second", "ACDX")]
    assert [q.line for q in queries] == [1, 5]
    assert len(queries[0]) == 6


def test_spaces_inside_sequence_lines_are_ignored():
    (query,) = parse_fasta(">a\nMKV LLA\tGG\n")
    assert query.sequence == "MKVLLAGG"


def test_gzip_and_stdin(tmp_path, monkeypatch):
    path = tmp_path / "q.fa.gz"
    path.write_bytes(gzip.compress(b">z\nMKV\n"))
    assert read_fasta(path)[0].sequence == "MKV"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b">s desc\nACD\n")))
    (query,) = read_fasta("-")
    assert (query.id, query.description, query.sequence) == ("s", "desc", "ACD")


def test_rare_letters_policy_warns_and_maps():
    with pytest.warns(UserWarning, match=r"record 'r'.*U->C x1.*O->K x1.*B->X x1.*Z->X x1.*J->X x1"):
        (query,) = parse_fasta(">r\nAUOBZJa\n")
    assert query.sequence == "ACKXXXA"


def test_examples_read():
    queries = read_fasta(REPO_ROOT / "examples" / "two_targets.fasta")
    assert [q.id for q in queries] == ["T1084", "T1078"]
    assert [len(q) for q in queries] == [73, 138]


@pytest.mark.parametrize("text, fragments", [
    ("", ["file is empty"]),
    ("MKV\n", ["line 1", "column 1", "before the first '>' header"]),
    (">a\n>b\nMK\n", ["record 'a'", "line 1", "header without sequence"]),
    (">a\nMK\n>a\nLL\n", ["record 'a'", "line 3", "duplicate record id", "line 1"]),
    (">a\nMK1V\n", ["record 'a'", "line 2", "column 3", "digit '1'"]),
    (">a\nMK-V\n", ["line 2", "column 3", "gap '-'"]),
    (">a\nMK#V\n", ["column 3", "symbol '#'"]),
    (">a\nMKé\n", ["column 3", "non-ASCII character 'é'"]),
    (">a\nMK*V\n", ["column 4", "'*' inside the sequence"]),
    (">a\nMK*\nLL\n", ["line 3", "after the terminal '*'"]),
    (">\nMK\n", ["line 1", "header without an id"]),
])
def test_rejected(text, fragments):
    with pytest.raises(InputError) as info:
        parse_fasta(text, "x.fasta")
    message = str(info.value)
    assert message.startswith("x.fasta")
    for fragment in fragments:
        assert fragment in message


def test_binary_rejected(tmp_path):
    path = tmp_path / "b.fasta"
    path.write_bytes(b">a\nMK\x00\x01\x02")
    with pytest.raises(InputError, match=r"b.fasta, line 2, column 3: binary data"):
        read_fasta(path)
    path.write_bytes(b">a\nMK\xff\xfe\n")
    with pytest.raises(InputError, match=r"line 2, column 3: non-UTF-8 byte 0xff"):
        read_fasta(path)


@pytest.mark.parametrize("record_id, name", [
    ("sp|P69905|HBA_HUMAN", "sp_P69905_HBA_HUMAN"),
    ("../../etc/passwd", "____etc_passwd"),
    (".hidden", "hidden"),
    ("a/b", "a_b"),
    ("x\x00y", "x_y"),
    ("...", "_"),
    ("T1024", "T1024"),
])
def test_safe_record_name(record_id, name):
    safe = safe_record_name(record_id)
    assert safe == name
    assert "/" not in safe and ".." not in safe and "\x00" not in safe and not safe.startswith(".")


def test_name_collisions_are_errors():
    queries = parse_fasta(">a/b\nMK\n>a_b\nLL\n")
    with pytest.raises(InputError, match=r"records 'a/b' \(line 1\) and 'a_b' both become the file name 'a_b'"):
        record_file_names(queries, "q.fasta")
    case = parse_fasta(">Abc\nMK\n>aBC\nLL\n")
    with pytest.raises(InputError, match="both become"):
        record_file_names(case)
    assert record_file_names(parse_fasta(">a\nMK\n>b\nLL\n")) == {"a": "a", "b": "b"}
