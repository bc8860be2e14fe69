"""Which networks a prediction runs: parameter files, their configs, loading.

Lookup in a parameters folder (``--params-dir DIR``): ``DIR/params_<name>.npz``
or ``DIR/params/params_<name>.npz`` (the layout the official archive unpacks
to). The config of a file is

* a sidecar ``params_<name>.json`` next to it when one exists (custom or
  small models: a JSON holding AlphaFold's ``{"data": ..., "model": ...}``
  config tree, optionally under a ``"config"`` key, as the golden
  ``*_config.json`` files do; a multimer config has only ``model``, with
  ``global_config.multimer_mode`` true), otherwise
* the packaged preset ``<name>`` (model_1..5, model_1..5_ptm,
  model_1..5_multimer_v3).

Kinds: a model is a monomer model (AlphaFold2) or a multimer model
(AlphaFold-Multimer), by its config. Complexes run the multimer models,
single chains the monomer models; :func:`resolve_model_sets` picks both sets
for a run (``--models`` may name models of both kinds; each record runs the
ones of its kind). Defaults: the ``_ptm`` monomer models when there are any,
else every monomer model; every multimer model (``--model-preset``
``monomer`` / ``monomer_ptm`` narrow the monomer default to model_1..5 /
model_1..5_ptm).

``--model mini`` is foldkit's bundled default (``foldkit/params/mini.npz`` +
``mini.json``), which does not exist until it is trained.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from foldkit.errors import FoldkitError, InputError
from foldkit.model import config as config_lib
from foldkit.model import multimer_config as multimer_lib
from foldkit.model import params as params_lib

BUNDLED_MODEL = "mini"
NO_BUNDLED_MODEL = ("no default model is bundled yet; pass --params-dir DIR with AlphaFold2 parameters "
                    "(see `foldkit params fetch`)")
_PARAMS_FILE = re.compile(r"^params_(?P<name>[A-Za-z0-9_.+-]+)\.npz$")
MONOMER, MULTIMER = "monomer", "multimer"
MODEL_PRESETS = ("monomer", "monomer_ptm", "multimer")    # --model-preset (AlphaFold2's names)


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """One network to run: its name, parameter file and config (with the raw ``data`` tree; empty for
    multimer models, whose features need no TF-style data config)."""

    name: str
    params_path: Path
    config: config_lib.AlphaFoldConfig | multimer_lib.MultimerConfig
    data_tree: dict = dataclasses.field(compare=False, repr=False)
    config_source: str = "preset"          # 'preset' or the sidecar path

    @property
    def has_ptm(self) -> bool:
        return self.config.has_pae_head

    @property
    def is_multimer(self) -> bool:
        return isinstance(self.config, multimer_lib.MultimerConfig)

    @property
    def kind(self) -> str:
        return MULTIMER if self.is_multimer else MONOMER

    def load_params(self) -> Any:
        """Haiku nested dict, every key and shape checked against the config's tree."""
        return params_lib.load_params(self.params_path, expected=expected_spec(self))


def expected_spec(choice: ModelChoice) -> params_lib.ParamSpec:
    """The key -> shape tree the file must hold: packaged for presets, traced for sidecar configs."""
    if choice.config_source == "preset" and choice.name in params_lib.known_models():
        return params_lib.packaged_spec(choice.name)
    return dict(_traced_spec(choice.config))


@functools.lru_cache(maxsize=8)
def _traced_spec(config: config_lib.AlphaFoldConfig | multimer_lib.MultimerConfig) -> tuple:
    """The parameter tree of a custom config (traced once per config; nothing allocated)."""
    if isinstance(config, multimer_lib.MultimerConfig):
        from foldkit.model.multimer_network import param_spec_from_init as multimer_spec

        return tuple(multimer_spec(config).items())
    from foldkit.model.alphafold import param_spec_from_init

    return tuple(param_spec_from_init(config).items())


def sidecar_path(params_path: Path) -> Path:
    return params_path.with_suffix(".json")


def _sidecar_content(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read model config ({exc})", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"model config is not valid JSON ({exc.msg})", path=str(path), line=exc.lineno,
                         column=exc.colno) from None


def read_sidecar_config(path: Path, name: str) -> tuple[config_lib.AlphaFoldConfig | multimer_lib.MultimerConfig,
                                                        dict]:
    """(config, data tree) from a sidecar JSON; InputError when it is not a usable config.

    A multimer config (``model.global_config.multimer_mode``) gives a
    :class:`~foldkit.model.multimer_config.MultimerConfig` and an empty data tree.
    """
    content = _sidecar_content(path)
    if isinstance(content, dict) and multimer_lib.is_multimer_tree(content):
        try:
            return multimer_lib.MultimerConfig.from_dict(content.get("config", content), name=name), {}
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"invalid multimer model config: {exc}", path=str(path)) from None
    tree = content.get("config", content) if isinstance(content, dict) else None
    if not isinstance(tree, dict) or "data" not in tree or "model" not in tree:
        raise InputError('model config must hold {"data": ..., "model": ...} (optionally under "config")',
                         path=str(path))
    try:
        return config_lib.AlphaFoldConfig.from_dict(tree, name=name), tree["data"]
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"invalid model config: {exc}", path=str(path)) from None


def find_params_files(params_dir: Path) -> dict[str, Path]:
    """name -> parameter file of every ``params_<name>.npz`` in DIR and DIR/params."""
    found: dict[str, Path] = {}
    for folder in (params_dir, params_dir / "params"):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                match = _PARAMS_FILE.match(path.name)
                if match and path.is_file():
                    found.setdefault(match.group("name"), path)
    return found


OFFICIAL_NAMES = config_lib.MODEL_NAMES + multimer_lib.MULTIMER_MODEL_NAMES


def _preset_rank(name: str) -> tuple:
    official = name in OFFICIAL_NAMES
    return (not official, OFFICIAL_NAMES.index(name) if official else 0, name)


def file_kind(name: str, path: Path) -> str:
    """'multimer' or 'monomer' for a parameter file, from its sidecar config or its official name
    (a file without either counts as monomer; choosing it reports the missing config)."""
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        try:
            content = json.loads(sidecar.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return MONOMER            # reported with line and column when the model is chosen
        return MULTIMER if isinstance(content, dict) and multimer_lib.is_multimer_tree(content) else MONOMER
    return MULTIMER if name in multimer_lib.MULTIMER_MODEL_NAMES else MONOMER


def default_model_names(available: dict[str, Path], kind: str = MONOMER, model_preset: str | None = None
                        ) -> list[str]:
    """Default models of one kind. Monomer: the _ptm models when there are any (pTM ranks them, as
    ColabFold's default), else all; with preset 'monomer' the ones without _ptm (model_1..5) when there
    are any. Multimer: every multimer model (model_1..5_multimer_v3 first)."""
    names = [n for n in sorted(available, key=_preset_rank) if file_kind(n, available[n]) == kind]
    if kind == MULTIMER:
        return names
    with_ptm = [n for n in names if n.endswith("_ptm")]
    if model_preset == "monomer":
        return [n for n in names if n not in with_ptm] or names
    return with_ptm or names


def _choice(name: str, path: Path) -> ModelChoice:
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        config, data_tree = read_sidecar_config(sidecar, name)
        return ModelChoice(name, path, config, data_tree, str(sidecar))
    if name in multimer_lib.MULTIMER_MODEL_NAMES:
        return ModelChoice(name, path, multimer_lib.multimer_preset(name), {})
    if name not in config_lib.MODEL_NAMES:
        raise InputError(f"no config for parameters '{name}': official files are named "
                         f"params_model_1..5[_ptm].npz or params_model_1..5_multimer_v3.npz; a custom file needs "
                         f"a sidecar {sidecar.name}", path=str(path))
    tree = config_lib.preset_dict(name)
    return ModelChoice(name, path, config_lib.AlphaFoldConfig.from_dict(tree, name=name), tree["data"])


def bundled_params_dir() -> Path:
    return Path(str(resources.files("foldkit").joinpath("params")))


def _params_folder(params_dir: Path) -> dict[str, Path]:
    """name -> file of a parameters folder that exists and holds parameter files."""
    if not params_dir.is_dir():
        raise InputError("parameters folder not found; download the AlphaFold2 parameters with "
                         f"`foldkit params fetch {params_dir}` ({NO_BUNDLED_MODEL.split(';')[0]})",
                         path=str(params_dir))
    available = find_params_files(params_dir)
    if not available:
        raise InputError("no params_<model>.npz files in this folder; download them with "
                         f"`foldkit params fetch {params_dir}`", path=str(params_dir))
    return available


def _check_names(names: list[str], available: dict[str, Path], params_dir: Path) -> None:
    missing = [n for n in names if n not in available]
    if missing:
        raise InputError(f"no parameter file for {', '.join(missing)} (looked for params_<model>.npz in "
                         f"{params_dir} and {params_dir / 'params'}; found: {', '.join(sorted(available))}); "
                         f"`foldkit params fetch DIR` downloads the official ones", path=str(params_dir))
    if len(set(names)) != len(names):
        raise InputError(f"a model is named twice in --models: {', '.join(names)}")


def _first(names: list[str], num_models: int | None) -> list[str]:
    if num_models is None:
        return names
    if num_models < 1:
        raise InputError(f"--num-models must be at least 1, got {num_models}")
    return names[:num_models]


def resolve_models(params_dir: Path | None, model_names: list[str] | None = None,
                   num_models: int | None = None) -> list[ModelChoice]:
    """The networks to run, checked to exist (files are not read here beyond the sidecar JSON).

    Without ``model_names``: the default monomer models (or, in a folder of
    multimer files only, the multimer ones).
    """
    if params_dir is None:
        bundled = bundled_params_dir() / f"{BUNDLED_MODEL}.npz"
        if not bundled.is_file() or not sidecar_path(bundled).is_file():
            raise FoldkitError(NO_BUNDLED_MODEL)
        return [_choice(BUNDLED_MODEL, bundled)]
    params_dir = Path(params_dir)
    available = _params_folder(params_dir)
    names = list(model_names) if model_names else (default_model_names(available, MONOMER)
                                                    or default_model_names(available, MULTIMER))
    _check_names(names, available, params_dir)
    names = _first(names, num_models)
    return [_choice(name, available[name]) for name in names]


@dataclasses.dataclass(frozen=True)
class ModelSets:
    """The models of a run by kind: monomer models for single chains, multimer models for complexes."""

    monomer: tuple[ModelChoice, ...] = ()
    multimer: tuple[ModelChoice, ...] = ()

    @property
    def all(self) -> list[ModelChoice]:
        return list(self.monomer) + list(self.multimer)

    def for_kind(self, kind: str) -> list[ModelChoice]:
        return list(self.multimer if kind == MULTIMER else self.monomer)


def _kind_names(kind: str) -> str:
    return ("AlphaFold-Multimer models (params_model_1..5_multimer_v3.npz or a file with a multimer sidecar config)"
            if kind == MULTIMER else
            "monomer models (params_model_1..5[_ptm].npz or a file with a monomer sidecar config)")


def resolve_model_sets(params_dir: Path | None, model_names: list[str] | None, num_models: int | None,
                       needed: dict[str, str], model_preset: str | None = None) -> ModelSets:
    """Monomer and multimer models for a run whose records need the kinds in ``needed``
    (kind -> a record needing it, for the error message).

    ``model_names`` may name models of both kinds; a needed kind without a
    model (named, or found in the folder) is an InputError naming the record.
    ``num_models`` keeps the first N of each kind.
    """
    if params_dir is None:
        if MULTIMER in needed:
            raise InputError(f"{needed[MULTIMER]} needs AlphaFold-Multimer parameters: pass --params-dir DIR with "
                             "params_model_1..5_multimer_v3.npz (`foldkit params fetch DIR`)")
        return ModelSets(monomer=tuple(resolve_models(None, model_names, num_models)))
    params_dir = Path(params_dir)
    available = _params_folder(params_dir)
    if model_names:
        _check_names(list(model_names), available, params_dir)
        chosen = {kind: [n for n in model_names if file_kind(n, available[n]) == kind] for kind in (MONOMER, MULTIMER)}
        unused = [n for kind in chosen if kind not in needed for n in chosen[kind]]
        if unused and len(unused) == len(model_names):
            kind = file_kind(unused[0], available[unused[0]])
            other = MULTIMER if kind == MONOMER else MONOMER
            raise InputError(f"--models names only {kind} models ({', '.join(unused)}) but {needed[other]} needs "
                             f"{_kind_names(other)}")
    else:
        chosen = {kind: default_model_names(available, kind, model_preset) for kind in (MONOMER, MULTIMER)}
    sets = {}
    for kind in (MONOMER, MULTIMER):
        if kind not in needed:
            continue
        if not chosen[kind]:
            where = "--models names none" if model_names else f"none in {params_dir}"
            raise InputError(f"{needed[kind]} needs {_kind_names(kind)}; {where} (found: "
                             f"{', '.join(sorted(available))})", path=str(params_dir))
        sets[kind] = tuple(_choice(name, available[name]) for name in _first(chosen[kind], num_models))
        wrong = [c.name for c in sets[kind] if c.kind != kind]
        if wrong:    # a sidecar that does not parse as its file_kind said
            raise InputError(f"model {wrong[0]} is not a {kind} model", path=str(available[wrong[0]]))
    return ModelSets(monomer=sets.get(MONOMER, ()), multimer=sets.get(MULTIMER, ()))
