"""The client against a misbehaving server: statuses, slow jobs, bad answers, cut downloads, resuming."""

from __future__ import annotations

import dataclasses
import time

import pytest

from foldkit.errors import InputError
from foldkit.msa.server import MsaServerError, fetch_server_msas, record_cache_dir
from tests.msa.server.conftest import FAST, SleepLog

RECORD = "mono_full_templates"


def run(server, sequence, tmp_path, sleep=None, settings=FAST, url=None, **options):
    return fetch_server_msas([(RECORD, sequence)], {RECORD: record_cache_dir(tmp_path)}, url=url or server.url,
                             settings=settings, log=lambda text: None, progress=False,
                             sleep=sleep or SleepLog(), **options)


def cached_entries(tmp_path):
    return sorted(p.parent.name for p in record_cache_dir(tmp_path).glob("*/source.json"))


def tickets(tmp_path):
    return list(record_cache_dir(tmp_path).glob("ticket_*.json"))


def test_rate_limit_maintenance_and_slow_job(server, monomers, tmp_path):
    server.scripts.submit = ["RATELIMIT", "MAINTENANCE", "UNKNOWN"]
    server.scripts.poll = ["PENDING", "RUNNING", "RUNNING", "MAINTENANCE", "RUNNING", "RUNNING"]
    sleep = SleepLog()
    settings = dataclasses.replace(FAST, backoff_initial=1.0, backoff_max=3.0, poll_interval=0.5)
    results = run(server, monomers[RECORD], tmp_path, sleep=sleep, settings=settings)
    assert len(results[RECORD].unpaired) == 132
    assert server.counts["submit_msa"] == 4 and server.counts["status"] == 7 and server.counts["download"] == 1
    # three submit back-offs doubling (1, 2, then capped at 3), polls every 0.5 s, the MAINTENANCE poll waits 3 s
    assert sleep.waits[:3] == [1.0, 2.0, 3.0]
    assert sleep.waits[3:] == [0.5, 0.5, 0.5, 3.0, 0.5, 0.5, 0.5]


def test_server_error_fails_with_the_servers_words_and_is_not_resumed(server, monomers, tmp_path):
    server.scripts.poll = ["RUNNING", "ERROR"]
    with pytest.raises(MsaServerError) as failure:
        run(server, monomers[RECORD], tmp_path)
    message = str(failure.value)
    assert "\n" not in message and server.url in message and f"record {RECORD}" in message
    assert "answered ERROR" in message
    assert not tickets(tmp_path) and not cached_entries(tmp_path)
    run(server, monomers[RECORD], tmp_path)                 # a rerun submits a fresh job
    assert server.counts["submit_msa"] == 2


def test_error_on_submit_and_endless_rate_limit(server, monomers, tmp_path):
    server.scripts.submit = ["ERROR"]
    with pytest.raises(MsaServerError, match="submitting answered ERROR"):
        run(server, monomers[RECORD], tmp_path)
    server.scripts.submit = ["RATELIMIT"] * 10
    with pytest.raises(MsaServerError, match=r"RATELIMIT \(reason: too many requests, slow down\) after 4 waits"):
        run(server, monomers[RECORD], tmp_path)
    assert server.counts["submit_msa"] == 1 + 5


def test_html_error_page_is_one_line(server, monomers, tmp_path):
    server.scripts.submit = ["HTML"]
    with pytest.raises(MsaServerError) as failure:
        run(server, monomers[RECORD], tmp_path)
    message = str(failure.value)
    assert "\n" not in message and "<" not in message
    assert 'did not answer with a job status but HTTP 200 (text/html): "502 Bad Gateway Bad Gateway' in message


def test_wrong_path_and_unreachable_server(server, monomers, tmp_path):
    with pytest.raises(MsaServerError, match=r'HTTP 404 \(text/plain; charset=utf-8\): "404 page not found"'):
        run(server, monomers[RECORD], tmp_path, url=server.url + "/not-the-api")
    closed = "http://127.0.0.1:9"                             # discard port: nothing listens
    with pytest.raises(MsaServerError, match=r"POST http://127.0.0.1:9/ticket/msa failed 3 times"):
        run(server, monomers[RECORD], tmp_path, url=closed)


@pytest.mark.parametrize("problem", ["cut", "corrupt"])
def test_truncated_download_is_fetched_again(server, monomers, tmp_path, problem):
    server.scripts.download = [problem]
    results = run(server, monomers[RECORD], tmp_path)
    assert server.counts["download"] == 2 and len(results[RECORD].unpaired) == 132


def test_always_truncated_leaves_nothing_and_resumes_without_resubmitting(server, monomers, tmp_path):
    server.scripts.download = ["cut"] * 3
    with pytest.raises(MsaServerError, match=rf"record {RECORD}: .* failed 3 times \(the answer was cut short"):
        run(server, monomers[RECORD], tmp_path)
    assert not cached_entries(tmp_path) and len(tickets(tmp_path)) == 1
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    server.reset_counts()
    results = run(server, monomers[RECORD], tmp_path)          # resumes the saved ticket
    assert server.counts == {"status": 1, "download": 1}
    assert len(results[RECORD].unpaired) == 132 and not tickets(tmp_path)


def test_interrupted_while_waiting_resumes_the_ticket(server, monomers, tmp_path):
    server.scripts.poll = ["PENDING", "RUNNING", "RUNNING"]
    with pytest.raises(KeyboardInterrupt):
        run(server, monomers[RECORD], tmp_path, sleep=SleepLog(interrupt_at=2))
    assert server.counts["submit_msa"] == 1 and len(tickets(tmp_path)) == 1 and not cached_entries(tmp_path)
    results = run(server, monomers[RECORD], tmp_path)
    assert server.counts["submit_msa"] == 1 and server.counts["download"] == 1
    assert len(results[RECORD].unpaired) == 132
    server.reset_counts()
    run(server, monomers[RECORD], tmp_path)
    assert sum(server.counts.values()) == 0


def test_forgotten_ticket_is_resubmitted(server, monomers, tmp_path):
    server.scripts.poll = ["RUNNING"]
    with pytest.raises(KeyboardInterrupt):
        run(server, monomers[RECORD], tmp_path, sleep=SleepLog(interrupt_at=1))
    server.jobs.clear()                                        # the server restarted and lost the job
    run(server, monomers[RECORD], tmp_path)
    assert server.counts["submit_msa"] == 2 and server.counts["status"] == 3


def test_gives_up_after_max_wait_keeping_the_ticket(server, monomers, tmp_path):
    server.scripts.poll = ["RUNNING"] * 1000
    settings = dataclasses.replace(FAST, max_wait=0.2, poll_interval=0.02)
    with pytest.raises(MsaServerError, match=r"gave up after .* RUNNING \(ticket .*run the same command again"):
        run(server, monomers[RECORD], tmp_path, sleep=time.sleep, settings=settings)
    assert len(tickets(tmp_path)) == 1


def drop(name):
    return lambda files: {k: v for k, v in files.items() if k != name}


def corrupt_uniref(files):
    text = files["uniref.a3m"].decode()
    first_hit = text.index("\n>", text.index("\n") + 1) + 1
    line_end = text.index("\n", first_hit)
    return dict(files, **{"uniref.a3m": (text[:line_end + 3] + "1" + text[line_end + 4:]).encode()})


@pytest.mark.parametrize("edit, expected", [
    (drop("bfd.mgnify30.metaeuk30.smag30.a3m"), "holds ['msa.sh', 'pdb70.m8', 'uniref.a3m'] but not "
                                                "bfd.mgnify30.metaeuk30.smag30.a3m"),
    (corrupt_uniref, "uniref.a3m from the server is not a valid alignment of the query: uniref.a3m entry >101, "
                     "record 'UniRef90_"),
    (lambda files: dict(files, **{"uniref.a3m": b"<html>oops</html>"}), "an entry starts with '<html>oops</html>'"),
    (lambda files: dict(files, **{"pdb70.m8": b"101\t1abc_A\n"}), "pdb70.m8 line 1 is not an m8 hit line"),
])
def test_bad_archive_contents(server, monomers, tmp_path, edit, expected):
    server.scripts.edit_archive = edit
    with pytest.raises(MsaServerError) as failure:
        run(server, monomers[RECORD], tmp_path)
    message = str(failure.value)
    assert expected in message and f"record {RECORD}" in message and "\n" not in message
    assert not cached_entries(tmp_path) and not tickets(tmp_path)


def test_download_that_is_not_an_archive(server, monomers, tmp_path):
    server.scripts.download = ["html"]
    with pytest.raises(MsaServerError, match=r"is not a tar.gz archive: HTTP 200 \(text/html\)"):
        run(server, monomers[RECORD], tmp_path)


def test_templates_archive_problems(server, monomers, tmp_path):
    server.scripts.template = ["cut", "html"]
    with pytest.raises(MsaServerError, match=r"templates of record\(s\) mono_full_templates .* is not a tar.gz"):
        run(server, monomers[RECORD], tmp_path, templates=True)
    assert server.counts["template"] == 2
    entry = record_cache_dir(tmp_path) / cached_entries(tmp_path)[0]
    assert not (entry / "templates").exists() and not [p for p in entry.iterdir() if p.name.startswith(".")]
    results = run(server, monomers[RECORD], tmp_path, templates=True)
    assert results[RECORD].chains[0].template_dir == entry / "templates"
    assert server.counts["submit_msa"] == 1


def test_bad_queries_are_input_errors(server, tmp_path):
    with pytest.raises(InputError, match=f"record '{RECORD}': chain 1 is not a protein sequence .*letters '-1'"):
        run(server, "AC-1", tmp_path)
    assert sum(server.counts.values()) == 0
