# Inputs and settings shared by the casp_benchmark rules.

import shlex
import sys

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from casp_inputs import (  # noqa: E402
    TargetSet,
    chains_fasta_text,
    check_group,
    existing_models,
    target_fasta_text,
    target_names,
    target_query,
)
from foldkit.commands.af2_options import options_from_config  # noqa: E402
from foldkit.commands.predict import server_options_from_config  # noqa: E402
from foldkit.errors import InputError  # noqa: E402

RESULTS = str(config["results"]).rstrip("/")
FOLDKIT = str(config.get("foldkit", "foldkit"))
MSA = config["msa"]
PREDICT = config["predict"]
SCORE = config["score"]


def as_bool(value):
    """A config flag; also the strings true/false/yes/no/1/0 that --config may pass."""
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false", "yes", "no", "1", "0", ""):
            raise WorkflowError(f"expected true or false, not {value!r}")
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


PREDICT_MODELS = as_bool(config.get("predict_models", True))

try:
    TARGET_SET = TargetSet.from_config(config)
    TARGETS = target_names(TARGET_SET, config["targets"])
    GROUP = check_group(config.get("group", "900"))
    QUERIES = {t: target_query(TARGET_SET, t) for t in TARGETS} if PREDICT_MODELS else {}
    EXISTING = existing_models(config["existing_models"], TARGETS) if config.get("existing_models") else {}
except InputError as error:
    raise WorkflowError(f"casp_benchmark input: {error}")

if not PREDICT_MODELS and not EXISTING:
    raise WorkflowError("predict_models is false and existing_models is not set: nothing to score")
if not PREDICT_MODELS:
    missing = [t for t in TARGETS if not EXISTING.get(t)]
    if missing and config["targets"] != "all":
        raise WorkflowError(f"no CASP-named model file under {config['existing_models']} for: {', '.join(missing)}")
    if missing:
        print(f"casp_benchmark: targets without a model file, left out: {', '.join(missing)}", file=sys.stderr)
        TARGETS = [t for t in TARGETS if t not in missing]
if MSA["mode"] not in ("single", "search", "a3m_dir", "af2", "server"):
    raise WorkflowError(f"msa.mode must be single, search, a3m_dir, af2 or server, not {MSA['mode']!r}")
if MSA["mode"] == "search" and not MSA.get("databases"):
    raise WorkflowError("msa.mode is search but msa.databases is empty")
if MSA["mode"] == "a3m_dir" and not MSA.get("a3m_dir"):
    raise WorkflowError("msa.mode is a3m_dir but msa.a3m_dir is empty")

wildcard_constraints:
    target="[THR][0-9]{4}(s[0-9]+)?",

COMPLEX_TARGETS = sorted(t for t, query in QUERIES.items() if ":" in query.sequence)
if COMPLEX_TARGETS:
    wildcard_constraints:
        complex="|".join(COMPLEX_TARGETS),

REPORT_DIR = f"{RESULTS}/report"
REPORT_FILES = [f"{REPORT_DIR}/{name}" for name in
                ("report.md", "report.html", "per_target.csv", "per_model.csv", "gdt_curves.png", "gdt_by_unit.png")]
SCORE_FILES = {"scores": f"{RESULTS}/scores/scores.csv", "summary": f"{RESULTS}/scores/summary.csv",
               "curves_csv": f"{RESULTS}/scores/gdt_curves.csv", "curves_png": f"{RESULTS}/scores/gdt_curves.png"}


def model_options(predict):
    """`foldkit predict` options choosing the model(s), seeds and the models to relax (Amber)."""
    if predict.get("params_dir"):
        options = ["--params-dir", str(predict["params_dir"])]
        if predict.get("models"):
            options += ["--models", ",".join(predict["models"])]
    elif predict.get("model"):
        options = ["--model", str(predict["model"])]
    else:
        raise WorkflowError("predict: set params_dir (a folder of params_<model>.npz, e.g. from "
                            "`foldkit params fetch DIR`) or a bundled model")
    if str(predict.get("num_seeds", "")).strip():      # empty: foldkit's default (1 per monomer, 5 per multimer model)
        options += ["--num-seeds", str(int(predict["num_seeds"]))]
    options += ["--random-seed", str(int(predict.get("random_seed", 0)))]
    relax = str(predict.get("models_to_relax", "best"))
    if relax not in ("best", "all", "none"):
        raise WorkflowError(f"predict.models_to_relax must be best, all or none, not {relax!r}")
    options += ["--models-to-relax", relax]
    return " ".join(shlex.quote(o) for o in options) + (" " + predict["extra"] if predict.get("extra") else "")


def msa_options(msa):
    """`foldkit msa` options for mode single or search."""
    if msa["mode"] == "single":
        return "--backend single"
    options = ["--backend", str(msa.get("backend", "jackhmmer"))]
    for database in msa["databases"]:
        options += ["--db", str(database)]
    return " ".join(shlex.quote(o) for o in options) + (" " + msa["extra"] if msa.get("extra") else "")


def af2_options(msa):
    """`foldkit msa`/`foldkit predict` options of AlphaFold2's input pipeline (mode af2)."""
    try:
        return " ".join(shlex.quote(o) for o in options_from_config(msa.get("af2")))
    except InputError as error:
        raise WorkflowError(str(error))


AF2_OPTIONS = af2_options(MSA) if MSA["mode"] == "af2" and PREDICT_MODELS else ""


def server_options(msa):
    """(`foldkit msa`, `foldkit predict`) options of mode server (MSAs from an MMseqs2 server)."""
    try:
        fetch, predict = server_options_from_config(msa.get("server"))
    except InputError as error:
        raise WorkflowError(str(error))
    return " ".join(shlex.quote(o) for o in fetch), " ".join(shlex.quote(o) for o in predict)


SERVER_MSA_OPTIONS, SERVER_PREDICT_OPTIONS = (server_options(MSA) if MSA["mode"] == "server" and PREDICT_MODELS
                                              else ("", ""))
