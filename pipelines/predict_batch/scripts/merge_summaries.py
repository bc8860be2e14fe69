"""Merge the per-record ``summary.csv`` files of ``foldkit predict`` into one table.

Every input has foldkit's columns (id, length, best_model, mean_plddt, ptm,
seconds, folder); the merged ``folder`` is made relative to the results
folder (``records/<name>/<folder>``). Used by the Snakemake rule
``merge_summary`` (``script:``) or on its own:
``python merge_summaries.py RESULTS OUT.csv IN.csv...``.
"""

import csv
import os
import sys
from pathlib import Path


def merge_summaries(inputs: list[str | Path], output: str | Path, results: str | Path) -> int:
    """Write the merged table to ``output``; returns the number of rows."""
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    for path in map(Path, inputs):
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if header is None:
                header = list(reader.fieldnames or [])
            elif list(reader.fieldnames or []) != header:
                raise SystemExit(f"{path}: columns {reader.fieldnames} differ from the first file's {header}")
            for row in reader:
                if "folder" in row:
                    row["folder"] = os.path.relpath(path.parent / row["folder"], results)
                rows.append(row)
    if header is None:
        raise SystemExit("no summary.csv to merge")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".{output.name}.tmp")
    with temporary.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(output)
    return len(rows)


if __name__ == "__main__" and "snakemake" not in globals():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    merge_summaries(sys.argv[3:], sys.argv[2], sys.argv[1])
elif "snakemake" in globals():
    smk = globals()["snakemake"]
    count = merge_summaries(list(smk.input), smk.output[0], smk.params.results)
    Path(smk.log[0]).write_text(f"merged {count} records into {smk.output[0]}\n")
