"""Fixtures: a local MSA server answering from the AlphaFold2 pipeline reference data, fast client settings."""

from __future__ import annotations

import pytest

from foldkit.msa.server import ServerSettings
from tests.msa.server.fake_server import reference_server
from tests.msa.server.reference_data import heteromer_case, monomer_case

MONOMER_CASES = ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates")
FAST = ServerSettings(poll_interval=0.0, poll_jitter=0.0, retry_delay=0.0, backoff_initial=0.0,
                      max_retries=2, max_backoffs=4, request_timeout=10.0, download_timeout=10.0)


@pytest.fixture
def server(af2_reference):
    with reference_server(af2_reference) as running:
        yield running


@pytest.fixture(scope="session")
def monomers(af2_reference) -> dict[str, str]:
    """Case name -> query sequence."""
    return {case: monomer_case(af2_reference / "pipeline" / case)[0] for case in MONOMER_CASES}


@pytest.fixture(scope="session")
def heteromer(af2_reference):
    """(chain sequences, paired rows per chain, shared species) of multi_hetero_2chain."""
    chains, _, paired, shared = heteromer_case(af2_reference / "pipeline" / "multi_hetero_2chain")
    return chains, paired, shared


class SleepLog:
    """An injected ``sleep`` that records the waits instead of sleeping."""

    def __init__(self, interrupt_at: int | None = None):
        self.waits: list[float] = []
        self.interrupt_at = interrupt_at

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.interrupt_at is not None and len(self.waits) >= self.interrupt_at:
            raise KeyboardInterrupt


@pytest.fixture
def sleep_log():
    return SleepLog()
