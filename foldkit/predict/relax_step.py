"""Amber relaxation of a record's ranked predictions inside ``foldkit predict``.

Which models: AlphaFold2 v2.3's ``--models-to-relax`` (``best``, the default;
``all``; ``none``) or ColabFold's ``--num-relax N`` (the best N; ``--amber``
alone relaxes all). Files, per relaxed prediction ``<name>``:

* ``relaxed_<name>.pdb`` (hydrogens, pLDDT as B-factor of every atom) and
  ``relaxed_<name>.cif`` (the same atoms, pLDDT also in ``_ma_qa_metric``);
  the chains of a complex are relaxed together and keep their ids;
* ``relax_metrics.json``: per name AlphaFold2's ``remaining_violations``
  (0/1 per residue) and ``remaining_violations_count``, plus energies,
  attempts, RMSDs and rounds (:class:`foldkit.relax.RelaxMetrics`), the
  unrelaxed model's sha256 and the settings; ``"status": "failed"`` with the
  reason where a model could not be relaxed (its unrelaxed model is used);
* ``relax_<name>`` seconds in ``timings.json``.

``ranked_<k>.pdb`` and ``ranked_0.cif`` take the relaxed structure where
there is one. Resume: an entry of ``relax_metrics.json`` is written after its
files, and a relaxation whose entry names the same unrelaxed model and
settings (and whose files are intact) is reused, never run again; an
interrupted one has no entry and is redone. Files of models no longer relaxed
are removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from foldkit.predict import outputs as out
from foldkit.predict import records
from foldkit.relax.config import RelaxSettings

MODES = ("best", "all", "none")
METRICS_FILE = "relax_metrics.json"
Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class RelaxChoice:
    """Which ranked predictions of a record are relaxed, and how."""

    models_to_relax: str = "best"                  # AlphaFold2 v2.3: best | all | none
    num_relax: int | None = None                   # ColabFold: the best N (takes precedence)
    settings: RelaxSettings = RelaxSettings()

    def __post_init__(self):
        if self.models_to_relax not in MODES:
            raise ValueError(f"models_to_relax must be one of {MODES}, not {self.models_to_relax!r}")

    def count(self, num_predictions: int) -> int:
        if self.num_relax is not None:
            return min(self.num_relax, num_predictions)
        return {"best": min(1, num_predictions), "all": num_predictions, "none": 0}[self.models_to_relax]

    @property
    def active(self) -> bool:
        return self.num_relax != 0 if self.num_relax is not None else self.models_to_relax != "none"

    def resume_key(self) -> dict:
        """Settings a finished record must share (nothing when no model is relaxed)."""
        if not self.active:
            return {}
        which = f"best {self.num_relax}" if self.num_relax is not None else self.models_to_relax
        return {"relax": {"models": which, **self.settings.as_record()}}


def relax_choice(models_to_relax: str | None = None, amber: bool = False, num_relax: int | None = None,
                 use_gpu: bool = False) -> RelaxChoice:
    """The choice from AlphaFold2's flag (``--models-to-relax``, default best) or ColabFold's (``--amber``
    relaxes every prediction, ``--num-relax N`` the best N); giving both kinds is an error."""
    from foldkit.errors import InputError

    colabfold = amber or num_relax is not None
    if colabfold and models_to_relax is not None:
        raise InputError("give --models-to-relax (AlphaFold2) or --amber/--num-relax (ColabFold), not both")
    settings = RelaxSettings(use_gpu=use_gpu)
    if colabfold:
        return RelaxChoice("all", num_relax, settings)
    return RelaxChoice(models_to_relax or "best", None, settings)


def relaxed_files(name: str) -> tuple[str, str]:
    return f"relaxed_{name}.pdb", f"relaxed_{name}.cif"


@dataclasses.dataclass
class RelaxedModels:
    """The texts of a record's relaxed predictions, by prediction name."""

    pdb: dict[str, str]
    cif: dict[str, str]

    def pdb_text(self, prediction: out.Prediction) -> str:
        """The relaxed PDB of a prediction, else its unrelaxed PDB."""
        return self.pdb.get(prediction.name) or out.pdb_text(prediction)

    def cif_text(self, prediction: out.Prediction, block_name: str) -> str:
        return self.cif.get(prediction.name) or out.model_cif_string(prediction, block_name)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _load_metrics(record_dir: Path) -> dict:
    try:
        content = json.loads((record_dir / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _reusable(record_dir: Path, entry: dict | None, key: dict) -> tuple[str, str] | None:
    """The stored texts of a finished relaxation with this key, if its files are intact."""
    if not entry or any(entry.get(k) != v for k, v in key.items()):
        return None
    if entry.get("status") == "failed":
        return "", ""
    pdb_name, cif_name = relaxed_files(entry["name"])
    try:
        pdb_text, cif_text = (record_dir / pdb_name).read_text(), (record_dir / cif_name).read_text()
    except OSError:
        return None
    if _sha256(pdb_text) != entry.get("pdb_sha256") or _sha256(cif_text) != entry.get("cif_sha256"):
        return None
    return pdb_text, cif_text


def _relax_one(prediction: out.Prediction, settings: RelaxSettings, block_name: str, log: Log) -> dict:
    """Relax one prediction: the entry for relax_metrics.json plus its texts (under '_pdb' / '_cif')."""
    from foldkit.relax import relax_chains, relaxed_mmcif_string, relaxed_pdb_string

    result = relax_chains(list(prediction.structure_chains), settings, prediction.name, log)
    relaxed_chains = tuple(chain.protein for chain in result.chains)
    relaxed_prediction = (dataclasses.replace(prediction, chains=relaxed_chains) if prediction.chains
                          else dataclasses.replace(prediction, protein=relaxed_chains[0]))
    pdb_text = relaxed_pdb_string(result.chains)
    cif_text = relaxed_mmcif_string(result.chains, block_name) + out.modelcif_qa_text(relaxed_prediction)
    entry = {"status": "relaxed", **result.metrics.to_json()}
    return {**entry, "_pdb": pdb_text, "_cif": cif_text}


def relax_ranked(record_dir: Path, ranked: list[out.Prediction], choice: RelaxChoice, block_name: str,
                 timer, log: Log) -> RelaxedModels:
    """Relax the chosen ranked predictions (best first) into ``record_dir``; see the module docstring."""
    previous = _load_metrics(record_dir)
    chosen = ranked[:choice.count(len(ranked))]
    settings_record = choice.settings.as_record()
    metrics: dict[str, dict] = {}
    relaxed = RelaxedModels({}, {})
    for prediction in chosen:
        name = prediction.name
        key = {"name": name, "input_sha256": _sha256(out.pdb_text(prediction)), "settings": settings_record}
        stored = _reusable(record_dir, previous.get(name), key)
        if stored is not None:
            entry = previous[name]
            timer.add(f"relax_{name}", float(entry.get("seconds") or 0.0))
            if stored[0]:
                relaxed.pdb[name], relaxed.cif[name] = stored
                log(f"{name}: relaxed earlier, reused")
            else:
                log(f"warning: {name}: relaxation failed earlier ({entry.get('error')}); the unrelaxed model is "
                    "kept")
            metrics[name] = entry
            _write_metrics(record_dir, previous, metrics)
            continue
        log(f"{name}: Amber relaxation")
        start = time.perf_counter()
        try:
            entry = _relax_one(prediction, choice.settings, block_name, lambda m: log(f"{name}: relax {m}"))
        except Exception as exc:        # a model that cannot be relaxed must not stop the prediction
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log(f"warning: {name}: relaxation failed ({reason}); the unrelaxed model is kept")
            entry = {"status": "failed", "error": reason}
        seconds = time.perf_counter() - start
        timer.add(f"relax_{name}", seconds)
        pdb_text, cif_text = entry.pop("_pdb", ""), entry.pop("_cif", "")
        if pdb_text:
            pdb_name, cif_name = relaxed_files(name)
            records.atomic_write_text(record_dir / pdb_name, pdb_text)
            records.atomic_write_text(record_dir / cif_name, cif_text)
            relaxed.pdb[name], relaxed.cif[name] = pdb_text, cif_text
            entry.update(pdb_sha256=_sha256(pdb_text), cif_sha256=_sha256(cif_text))
            log(f"{name}: relaxed in {seconds:.1f} s, {entry['remaining_violations_count']} violating residue(s) "
                f"left, heavy-atom RMSD {entry['rmsd_heavy_to_input']:.3f} Å")
        metrics[name] = {**key, **entry, "seconds": round(seconds, 3)}
        _write_metrics(record_dir, previous, metrics)
    _remove_stale(record_dir, set(metrics))
    if metrics:
        records.atomic_write_json(record_dir / METRICS_FILE, metrics)
    return relaxed


def _write_metrics(record_dir: Path, previous: dict, metrics: dict) -> None:
    """relax_metrics.json after each model: this run's entries, plus earlier ones not yet revisited."""
    records.atomic_write_json(record_dir / METRICS_FILE, {**previous, **metrics})


def _remove_stale(record_dir: Path, keep: set[str]) -> None:
    """Delete relaxed files and the metrics file left by earlier runs for models not relaxed now."""
    for path in list(record_dir.glob("relaxed_*.pdb")) + list(record_dir.glob("relaxed_*.cif")):
        name = path.name[len("relaxed_"):-len(path.suffix)]
        if name not in keep:
            path.unlink()
    if not keep and (record_dir / METRICS_FILE).is_file():
        (record_dir / METRICS_FILE).unlink()
