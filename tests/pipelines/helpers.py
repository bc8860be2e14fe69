"""Run the Snakemake workflows of pipelines/ in a temporary folder."""

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

PIPELINES = REPO_ROOT / "pipelines"
BIN = Path(sys.executable).parent
FOLDKIT = str(BIN / "foldkit")


def snakemake_command() -> list[str]:
    executable = BIN / "snakemake"
    return [str(executable)] if executable.is_file() else [sys.executable, "-m", "snakemake"]


def run_workflow(name: str, workdir: Path, config: dict, *options: str, timeout: float = 600
                 ) -> subprocess.CompletedProcess:
    """``snakemake -s pipelines/<name>/Snakefile --configfile <workdir>/config.json --directory <workdir> ...``."""
    config_path = workdir / f"{name}_config.json"
    config_path.write_text(json.dumps({"foldkit": FOLDKIT, **config}, indent=1))
    command = snakemake_command() + ["-s", str(PIPELINES / name / "Snakefile"), "--configfile", str(config_path),
                                     "--directory", str(workdir), "--cores", "2", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=workdir)


def job_counts(output: str) -> dict[str, int]:
    """rule -> job count from the 'Job stats' table of a (dry) run."""
    counts = {}
    table = output.split("Job stats:", 1)[-1]
    for line in table.splitlines():
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s+(\d+)\s*", line)
        if match:
            counts[match[1]] = int(match[2])
        elif counts and not line.strip():
            break
    return counts


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"
