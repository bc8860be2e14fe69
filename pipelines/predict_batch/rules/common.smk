# Inputs and settings shared by the predict_batch rules.

import re
import shlex
import sys

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from batch_inputs import chains_fasta_text, fasta_text, load_records  # noqa: E402
from foldkit.commands.af2_options import options_from_config  # noqa: E402
from foldkit.commands.predict import server_options_from_config  # noqa: E402
from foldkit.errors import InputError  # noqa: E402

RESULTS = str(config["results"]).rstrip("/")
FOLDKIT = str(config.get("foldkit", "foldkit"))
MSA = config["msa"]
PREDICT = config["predict"]

try:
    RECORDS = load_records(str(config.get("fasta_dir") or ""), str(config.get("samplesheet") or ""))
except InputError as error:
    raise WorkflowError(f"predict_batch input: {error}")

wildcard_constraints:
    name="|".join(re.escape(name) for name in sorted(RECORDS)),

if MSA["mode"] not in ("single", "search", "a3m_dir", "af2", "server"):
    raise WorkflowError(f"msa.mode must be single, search, a3m_dir, af2 or server, not {MSA['mode']!r}")
if MSA["mode"] == "search" and not MSA.get("databases"):
    raise WorkflowError("msa.mode is search but msa.databases is empty")
if MSA["mode"] == "a3m_dir" and not MSA.get("a3m_dir"):
    raise WorkflowError("msa.mode is a3m_dir but msa.a3m_dir is empty")


COMPLEXES = sorted(name for name, record in RECORDS.items() if record.is_complex)
MONOMERS = sorted(name for name, record in RECORDS.items() if not record.is_complex)
if COMPLEXES:
    wildcard_constraints:
        complex="|".join(re.escape(name) for name in COMPLEXES),


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


AF2_OPTIONS = af2_options(MSA) if MSA["mode"] == "af2" else ""


def server_options(msa):
    """(`foldkit msa`, `foldkit predict`) options of mode server (MSAs from an MMseqs2 server)."""
    try:
        fetch, predict = server_options_from_config(msa.get("server"))
    except InputError as error:
        raise WorkflowError(str(error))
    return " ".join(shlex.quote(o) for o in fetch), " ".join(shlex.quote(o) for o in predict)


SERVER_MSA_OPTIONS, SERVER_PREDICT_OPTIONS = server_options(MSA) if MSA["mode"] == "server" else ("", "")
