"""Training metrics: one JSON record per step in ``metrics.jsonl`` and a loss-curve PNG."""

from __future__ import annotations

import json
from pathlib import Path

METRICS_NAME = "metrics.jsonl"
PLOT_NAME = "loss.png"


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file (a torn last line is skipped)."""
    records = []
    path = Path(path)
    if not path.is_file():
        return records
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


class MetricsLog:
    """Appends step records to ``run_dir/metrics.jsonl``.

    ``keep_up_to``: on resume, records after the restored step (written after
    the last checkpoint) are dropped so the file matches the resumed run.
    """

    def __init__(self, run_dir: str | Path, keep_up_to: int = 0):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / METRICS_NAME
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= keep_up_to]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def append(self, record: dict) -> None:
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def plot(self) -> Path | None:
        """Write ``loss.png``: the total loss per step and its running mean."""
        records = read_metrics(self.path)
        if not records:
            return None
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        steps = np.asarray([r["step"] for r in records])
        loss = np.asarray([r["loss"] for r in records])
        window = max(1, min(50, len(loss) // 10))
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        ax.plot(steps, loss, color="0.7", linewidth=0.8, label="loss")
        ax.plot(steps[window - 1:], smooth, color="C0", linewidth=1.5, label=f"mean of {window}")
        ax.set_xlabel("step")
        ax.set_ylabel("total loss")
        ax.legend(loc="upper right")
        fig.tight_layout()
        target = self.run_dir / PLOT_NAME
        fig.savefig(target)
        plt.close(fig)
        return target
