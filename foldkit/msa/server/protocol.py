"""The ColabFold MMseqs2 API as foldkit speaks it: endpoints, form fields, modes, statuses, file names.

Sources: ColabFold's client (``colabfold/colabfold.py``, ``run_mmseqs2``) and the
MMseqs2-App server (``backend/server.go``, ``worker.go``, ``jobsystem.go``,
``templates.go`` of soedinglab/MMseqs2-App), which runs api.colabfold.com.

Requests (``application/x-www-form-urlencoded``):

* ``POST {url}/ticket/msa`` with ``q`` = the queries as FASTA numbered from
  101 (``>101\\nSEQ\\n>102\\n...``) and ``mode`` = ``env`` (UniRef30 +
  environmental databases), ``all`` (UniRef30 only), ``env-nofilter`` or
  ``nofilter``;
* ``POST {url}/ticket/pair`` with ``q`` = the distinct chains of one complex,
  numbered the same way, and ``mode`` = ``pairgreedy`` or ``paircomplete``
  (``-env`` appended to pair the environmental databases too);
* ``GET {url}/ticket/{id}``: the job's status;
* ``GET {url}/result/download/{id}``: the result, a tar.gz archive;
* ``GET {url}/template/{name,name,...}``: a tar.gz of template data for up to
  20 pdb70 hits (``pdb70_a3m.ffdata/.ffindex``, ``pdb70_hhm.ffdata/.ffindex``
  and ``<pdb id>.cif`` files).

Submit and status replies are JSON ``{"id": ..., "status": ...}``; a
rate-limited submit is answered (HTTP 429) with ``{"status": "RATELIMIT",
"reason": ...}``. Statuses: PENDING, RUNNING, COMPLETE, ERROR, UNKNOWN (the
server does not know the ticket), RATELIMIT and MAINTENANCE.

Result archives: ``uniref.a3m``, ``bfd.mgnify30.metaeuk30.smag30.a3m`` (env
modes) and ``pdb70.m8`` (template hits, unless the mode says ``notemplates``)
for an MSA job; ``pair.a3m`` for a pairing job. Each A3M file holds one entry
per query, entries separated by a NUL byte, each starting with the query's
number as its header (``>101``); a pairing job with ``-env`` holds two
entries per query (UniRef, then environmental). ``pdb70.m8`` is tab-separated:
query number, target (``1abc_A``), identity, alignment length, mismatches, gap
openings, query start/end, target start/end, E-value, bit score (and a CIGAR
string on recent servers).
"""

from __future__ import annotations

import dataclasses

DEFAULT_SERVER_URL = "https://api.colabfold.com"
FIRST_QUERY_NUMBER = 101                 # ColabFold numbers the queries of a job 101, 102, ...
MAX_TEMPLATE_HITS = 20                   # template names ColabFold sends to the template endpoint per query

SUBMIT_MSA = "ticket/msa"
SUBMIT_PAIR = "ticket/pair"
STATUS = "ticket/{ticket}"
DOWNLOAD = "result/download/{ticket}"
TEMPLATES = "template/{names}"

UNIREF_A3M = "uniref.a3m"
ENV_A3M = "bfd.mgnify30.metaeuk30.smag30.a3m"
TEMPLATE_M8 = "pdb70.m8"
PAIR_A3M = "pair.a3m"

PENDING, RUNNING, COMPLETE = "PENDING", "RUNNING", "COMPLETE"
ERROR, UNKNOWN, RATELIMIT, MAINTENANCE = "ERROR", "UNKNOWN", "RATELIMIT", "MAINTENANCE"
WAITING = frozenset({PENDING, RUNNING})
BACK_OFF = frozenset({RATELIMIT, MAINTENANCE})
STATUSES = frozenset({PENDING, RUNNING, COMPLETE, ERROR, UNKNOWN, RATELIMIT, MAINTENANCE})

PAIRING_STRATEGIES = {"greedy": "pairgreedy", "complete": "paircomplete"}


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Timeouts, retries and waits of the client (seconds). Tests shrink the waits."""

    request_timeout: float = 30.0        # one submit / status request
    download_timeout: float = 600.0      # one archive download
    max_retries: int = 5                 # network errors, HTTP 5xx, truncated downloads (per request)
    max_backoffs: int = 12               # RATELIMIT / MAINTENANCE / UNKNOWN answers (per job)
    retry_delay: float = 5.0             # first wait after a network error (doubles each time)
    backoff_initial: float = 10.0        # first wait after RATELIMIT / MAINTENANCE (doubles each time)
    backoff_max: float = 300.0           # longest single wait
    poll_interval: float = 5.0           # wait between status polls (ColabFold: 5 s + up to 5 s)
    poll_jitter: float = 5.0             # random extra wait added to each poll
    max_wait: float = 4 * 3600.0         # give up on a job after this long (resume later from its ticket)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"ServerSettings.{field.name} must not be negative")


def msa_mode(use_env: bool = True, use_filter: bool = True) -> str:
    """The ``mode`` field of an MSA job, as ColabFold builds it."""
    if use_filter:
        return "env" if use_env else "all"
    return "env-nofilter" if use_env else "nofilter"


def pair_mode(strategy: str = "greedy", use_env: bool = False) -> str:
    """The ``mode`` field of a pairing job: ``pairgreedy`` / ``paircomplete`` (+ ``-env``)."""
    try:
        mode = PAIRING_STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"pairing strategy must be one of {sorted(PAIRING_STRATEGIES)}, not {strategy!r}") from None
    return mode + "-env" if use_env else mode


def mode_uses_env(mode: str) -> bool:
    return "env" in mode.split("-")


def numbered_fasta(sequences: list[str]) -> str:
    """The ``q`` field: the sequences as FASTA named 101, 102, ..."""
    return "".join(f">{FIRST_QUERY_NUMBER + k}\n{sequence}\n" for k, sequence in enumerate(sequences))


def expected_a3m_files(endpoint: str, mode: str) -> tuple[str, ...]:
    """The A3M files a result archive of this job must hold."""
    if endpoint == SUBMIT_PAIR:
        return (PAIR_A3M,)
    return (UNIREF_A3M, ENV_A3M) if mode_uses_env(mode) else (UNIREF_A3M,)
