"""HHblits and HHsearch through the HH-suite binaries, with AlphaFold2 v2.3's flags.

One thin wrapper (:func:`run_binary`) builds nothing itself: it runs a
command with a timeout and turns a failure into a :class:`FoldkitError`
naming the binary. Binaries are found on PATH or given explicitly
(``--hhblits-binary``, ``--hhsearch-binary``, ``--kalign-binary``); a missing
one is a one-line error naming the option that needs it and how to install it.

AlphaFold2's commands (``tool_settings`` of the reference cases)::

    hhblits -i <query.fasta> -cpu 4 -oa3m <out.a3m> -o /dev/null -n 3 -e 0.001 -maxseq 1000000
            -realign_max 100000 -maxfilt 100000 -min_prefilter_hits 1000 -d <bfd> -d <uniref30>
    hhsearch -i <query.a3m> -o <out.hhr> -maxseq 1000000 -d <pdb70>

foldkit also passes ``-maxres`` fitted to the query and the databases
(:mod:`foldkit.msa.hh_capacity`: the same output, without sizing start-up
matrices for 20,001 columns), rerunning at the default if anything was
truncated. The thread count (``-cpu``) does not change HH-suite's results; foldkit
passes ``min(4, cores given to the search)`` to HHblits and the cores given to
HHsearch (AlphaFold2 leaves HHsearch at its default of 2).

Debian's ``hhsuite`` package installs ``hhblits``/``hhsearch`` as links to a
bash script (``simd-dispatch``) that greps ``/proc/cpuinfo`` and then runs
``libexec/hhsuite/<name>-<avx2|avx|...|plain>``; :func:`simd_binary` picks that
same program directly (saving the ~20 ms of bash and grep per call).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from foldkit.errors import FoldkitError
from foldkit.msa import hh_capacity

INSTALL_HINT = {
    "hhblits": "install HH-suite (`conda install -c bioconda hhsuite` or `apt-get install hhsuite`)",
    "hhsearch": "install HH-suite (`conda install -c bioconda hhsuite` or `apt-get install hhsuite`)",
    "kalign": "install Kalign (`conda install -c bioconda kalign3` or `apt-get install kalign`)",
}
DEFAULT_TIMEOUT_S = 48 * 3600.0   # a full-size BFD search takes hours, never days


@dataclasses.dataclass(frozen=True)
class HHblitsSettings:
    """AlphaFold2's HHblits flags (``alphafold.data.tools.hhblits`` defaults)."""

    n_cpu: int = 4                      # -cpu (upper bound; see module docstring)
    n_iter: int = 3                     # -n
    e_value: float = 0.001              # -e
    maxseq: int = 1_000_000             # -maxseq
    realign_max: int = 100_000          # -realign_max
    maxfilt: int = 100_000              # -maxfilt
    min_prefilter_hits: int = 1000      # -min_prefilter_hits
    all_seqs: bool = False              # -all
    alt: int | None = None              # -alt
    p: int = 20                         # -p (passed only when not HHblits' default 20)
    z: int = 500                        # -Z (passed only when not HHblits' default 500)
    fit_maxres: bool = True             # -maxres fitted to query and databases (hh_capacity); same output


@dataclasses.dataclass(frozen=True)
class HHsearchSettings:
    maxseq: int = 1_000_000             # -maxseq
    n_cpu: int = 2                      # -cpu (HHsearch's default; AlphaFold2 does not pass it)
    fit_maxres: bool = True             # -maxres fitted to query and database (hh_capacity); same output


class ToolTimeout(FoldkitError):
    """A tool ran past its time limit (not retried)."""


@dataclasses.dataclass(frozen=True)
class ToolRun:
    text: str            # the tool's main output file (A3M or HHR)
    seconds: float
    command: tuple[str, ...]


def find_binary(name: str, given: str | Path | None, needed_for: str) -> str:
    """Path of ``name`` (``given`` or on PATH); FoldkitError with the option and install hint when absent."""
    option = f"--{name}-binary"
    if given is not None and str(given) != "":
        path = shutil.which(str(given)) if os.sep not in str(given) else str(given)
        if path is None or not (Path(path).is_file() and os.access(path, os.X_OK)):
            raise FoldkitError(f"{option} {given}: not an executable file ({needed_for} needs {name}; "
                               f"{INSTALL_HINT[name]})")
        return path
    path = shutil.which(name)
    if path is None:
        raise FoldkitError(f"{name} not found on PATH: {needed_for} needs it; {INSTALL_HINT[name]}, "
                           f"or give {option} PATH")
    return path


SIMD_LEVELS = ("avx2", "avx", "sse4.1", "ssse3", "sse3", "sse2", "sse")   # simd-dispatch's order of preference


def simd_binary(binary: str | Path) -> str:
    """The program Debian's ``simd-dispatch`` script would run for ``binary`` (unchanged for anything else).

    The script, reached through a link named after the tool (``/usr/bin/hhsearch``), runs
    ``<link folder>/../libexec/hhsuite/<tool>-<level>`` for the first level in :data:`SIMD_LEVELS` that
    ``/proc/cpuinfo`` matches (as grep's pattern) and that exists as an executable, else ``<tool>-plain``."""
    path = str(binary)
    try:
        if Path(path).resolve().name != "simd-dispatch":
            return path
    except OSError:
        return path
    base = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(path)), "..", "libexec", "hhsuite",
                                         os.path.basename(path)))
    cpuinfo = _cpuinfo()
    for level in SIMD_LEVELS:
        if re.search(level, cpuinfo) and os.access(f"{base}-{level}", os.X_OK):
            return f"{base}-{level}"
    return f"{base}-plain" if os.access(f"{base}-plain", os.X_OK) else path


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def run_binary(command: Sequence[str], name: str, timeout: float | None = DEFAULT_TIMEOUT_S,
               cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run ``command``; a start failure, non-zero exit or timeout is a FoldkitError naming ``name``."""
    try:
        result = subprocess.run(list(map(str, command)), check=False, capture_output=True, text=True,
                                errors="replace", timeout=timeout, cwd=cwd)
    except FileNotFoundError:
        raise FoldkitError(f"{name} could not be started: {command[0]} not found ({INSTALL_HINT.get(name, '')})") \
            from None
    except PermissionError:
        raise FoldkitError(f"{name} could not be started: {command[0]} is not executable") from None
    except subprocess.TimeoutExpired:
        raise ToolTimeout(f"{name} did not finish within {timeout:.0f} s (command: {' '.join(map(str, command))})") \
            from None
    if result.returncode != 0:
        raise FoldkitError(f"{name} failed with exit code {result.returncode}: {_last_error(result.stderr)}")
    return result


def _last_error(stderr: str) -> str:
    """The most telling line of a tool's stderr (its last ERROR line, else its last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "rror" in line]
    chosen = (errors or lines or ["(no message)"])[-1]
    return chosen[:400]


def hhblits_command(binary: str, query_fasta: Path, databases: Sequence[Path], out_a3m: Path,
                    settings: HHblitsSettings, cpus: int, maxres: int | None = None) -> list[str]:
    command = [binary, "-i", str(query_fasta), "-cpu", str(max(1, min(settings.n_cpu, cpus))), "-oa3m", str(out_a3m),
               "-o", "/dev/null", "-n", str(settings.n_iter), "-e", str(settings.e_value),
               "-maxseq", str(settings.maxseq), "-realign_max", str(settings.realign_max),
               "-maxfilt", str(settings.maxfilt), "-min_prefilter_hits", str(settings.min_prefilter_hits)]
    if settings.all_seqs:
        command.append("-all")
    if settings.alt is not None:
        command += ["-alt", str(settings.alt)]
    if settings.p != HHblitsSettings.p:
        command += ["-p", str(settings.p)]
    if settings.z != HHblitsSettings.z:
        command += ["-Z", str(settings.z)]
    if maxres is not None:
        command += ["-maxres", str(maxres)]
    for database in databases:
        command += ["-d", str(database)]
    return command


def hhblits(binary: str, query_fasta_text: str, databases: Sequence[Path],
            settings: HHblitsSettings = HHblitsSettings(), cpus: int = 4,
            timeout: float | None = DEFAULT_TIMEOUT_S) -> ToolRun:
    """The A3M that HHblits writes (``-oa3m``) for the query FASTA text."""
    if not databases:
        raise ValueError("hhblits needs at least one database")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="foldkit_hhblits_") as tmp:
        query, out = Path(tmp) / "query.fasta", Path(tmp) / "output.a3m"
        query.write_text(query_fasta_text)
        command = _run_fitted(
            lambda maxres: hhblits_command(simd_binary(binary), query, databases, out, settings, cpus, maxres),
            "hhblits", fitted_maxres(query_fasta_text, databases, settings.fit_maxres), timeout)
        text = _read_output(out, "hhblits")
    return ToolRun(text, time.perf_counter() - start, tuple(command))


def hhsearch_command(binary: str, query_a3m: Path, database: Path, out_hhr: Path, settings: HHsearchSettings,
                     cpus: int | None, maxres: int | None = None) -> list[str]:
    command = [binary, "-i", str(query_a3m), "-o", str(out_hhr), "-maxseq", str(settings.maxseq)]
    if cpus is not None and cpus != settings.n_cpu:
        command += ["-cpu", str(max(1, cpus))]
    if maxres is not None:
        command += ["-maxres", str(maxres)]
    return command + ["-d", str(database)]


def hhsearch(binary: str, query_a3m_text: str, database: Path, settings: HHsearchSettings = HHsearchSettings(),
             cpus: int | None = None, timeout: float | None = DEFAULT_TIMEOUT_S) -> ToolRun:
    """The .hhr text of HHsearch for the query MSA (A3M text) against one database (PDB70 prefix)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="foldkit_hhsearch_") as tmp:
        query, out = Path(tmp) / "query.a3m", Path(tmp) / "output.hhr"
        query.write_text(query_a3m_text)
        command = _run_fitted(
            lambda maxres: hhsearch_command(simd_binary(binary), query, database, out, settings, cpus, maxres),
            "hhsearch", fitted_maxres(query_a3m_text, [database], settings.fit_maxres), timeout)
        text = _read_output(out, "hhsearch")
    return ToolRun(text, time.perf_counter() - start, tuple(command))


def fitted_maxres(query_text: str, databases: Sequence[Path], fit: bool) -> int | None:
    """The ``-maxres`` to try first for this query and these databases (None: HH-suite's default)."""
    return hh_capacity.fitted_maxres(hh_capacity.query_columns(query_text), databases) if fit else None


def _run_fitted(build: Callable[[int | None], list[str]], name: str, maxres: int | None,
                timeout: float | None) -> list[str]:
    """Run ``build(maxres)``; rerun ``build(None)`` (HH-suite's default) if the fitted ``-maxres`` truncated
    anything or the run failed (not if it timed out). Returns the command whose output stands."""
    command = build(maxres)
    if maxres is None:
        run_binary(command, name, timeout)
        return command
    try:
        truncated = hh_capacity.reports_truncation(run_binary(command, name, timeout).stderr)
    except ToolTimeout:
        raise
    except FoldkitError:
        truncated = True                   # whatever failed, the default's run decides (and reports it)
    if truncated:
        command = build(None)
        run_binary(command, name, timeout)
    return command


def _read_output(path: Path, name: str) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        raise FoldkitError(f"{name} exited without error but wrote no output file") from None
