"""Which networks a prediction runs: parameter files, their configs, loading.

Lookup in a parameters folder (``--params-dir DIR``): ``DIR/params_<name>.npz``
or ``DIR/params/params_<name>.npz`` (the layout the official archive unpacks
to). The config of a file is

* a sidecar ``params_<name>.json`` next to it when one exists (custom or
  small models: a JSON holding AlphaFold's ``{"data": ..., "model": ...}``
  config tree, optionally under a ``"config"`` key, as the golden
  ``*_config.json`` files do), otherwise
* the packaged preset ``<name>`` (model_1..5, model_1..5_ptm).

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
from foldkit.model import params as params_lib

BUNDLED_MODEL = "mini"
NO_BUNDLED_MODEL = ("no default model is bundled yet; pass --params-dir DIR with AlphaFold2 parameters "
                    "(see `foldkit params fetch`)")
_PARAMS_FILE = re.compile(r"^params_(?P<name>[A-Za-z0-9_.+-]+)\.npz$")


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """One network to run: its name, parameter file and config (with the raw ``data`` tree)."""

    name: str
    params_path: Path
    config: config_lib.AlphaFoldConfig
    data_tree: dict = dataclasses.field(compare=False, repr=False)
    config_source: str = "preset"          # 'preset' or the sidecar path

    @property
    def has_ptm(self) -> bool:
        return self.config.has_pae_head

    def load_params(self) -> Any:
        """Haiku nested dict, every key and shape checked against the config's tree."""
        return params_lib.load_params(self.params_path, expected=expected_spec(self))


def expected_spec(choice: ModelChoice) -> params_lib.ParamSpec:
    """The key -> shape tree the file must hold: packaged for presets, traced for sidecar configs."""
    if choice.config_source == "preset" and choice.name in params_lib.known_models():
        return params_lib.packaged_spec(choice.name)
    return dict(_traced_spec(choice.config))


@functools.lru_cache(maxsize=8)
def _traced_spec(config: config_lib.AlphaFoldConfig) -> tuple:
    """The parameter tree of a custom config (traced once per config; nothing allocated)."""
    from foldkit.model.alphafold import param_spec_from_init

    return tuple(param_spec_from_init(config).items())


def sidecar_path(params_path: Path) -> Path:
    return params_path.with_suffix(".json")


def read_sidecar_config(path: Path, name: str) -> tuple[config_lib.AlphaFoldConfig, dict]:
    """(config, data tree) from a sidecar JSON; InputError when it is not a usable config."""
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read model config ({exc})", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"model config is not valid JSON ({exc.msg})", path=str(path), line=exc.lineno,
                         column=exc.colno) from None
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


def _preset_rank(name: str) -> tuple:
    official = name in config_lib.MODEL_NAMES
    return (not official, config_lib.MODEL_NAMES.index(name) if official else 0, name)


def default_model_names(available: dict[str, Path]) -> list[str]:
    """The _ptm models when there are any (pTM ranks them, as ColabFold's default), else all."""
    names = sorted(available, key=_preset_rank)
    with_ptm = [n for n in names if n.endswith("_ptm")]
    return with_ptm or names


def _choice(name: str, path: Path) -> ModelChoice:
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        config, data_tree = read_sidecar_config(sidecar, name)
        return ModelChoice(name, path, config, data_tree, str(sidecar))
    if name not in config_lib.MODEL_NAMES:
        raise InputError(f"no config for parameters '{name}': official files are named "
                         f"params_model_1..5[_ptm].npz; a custom file needs a sidecar {sidecar.name}",
                         path=str(path))
    tree = config_lib.preset_dict(name)
    return ModelChoice(name, path, config_lib.AlphaFoldConfig.from_dict(tree, name=name), tree["data"])


def bundled_params_dir() -> Path:
    return Path(str(resources.files("foldkit").joinpath("params")))


def resolve_models(params_dir: Path | None, model_names: list[str] | None = None,
                   num_models: int | None = None) -> list[ModelChoice]:
    """The networks to run, checked to exist (files are not read here beyond the sidecar JSON)."""
    if params_dir is None:
        bundled = bundled_params_dir() / f"{BUNDLED_MODEL}.npz"
        if not bundled.is_file() or not sidecar_path(bundled).is_file():
            raise FoldkitError(NO_BUNDLED_MODEL)
        return [_choice(BUNDLED_MODEL, bundled)]
    params_dir = Path(params_dir)
    if not params_dir.is_dir():
        raise InputError("parameters folder not found; download the AlphaFold2 parameters with "
                         f"`foldkit params fetch {params_dir}` ({NO_BUNDLED_MODEL.split(';')[0]})",
                         path=str(params_dir))
    available = find_params_files(params_dir)
    if not available:
        raise InputError("no params_<model>.npz files in this folder; download them with "
                         f"`foldkit params fetch {params_dir}`", path=str(params_dir))
    names = list(model_names) if model_names else default_model_names(available)
    missing = [n for n in names if n not in available]
    if missing:
        raise InputError(f"no parameter file for {', '.join(missing)} (looked for params_<model>.npz in "
                         f"{params_dir} and {params_dir / 'params'}; found: {', '.join(sorted(available))}); "
                         f"`foldkit params fetch DIR` downloads the official ones", path=str(params_dir))
    if num_models is not None:
        if num_models < 1:
            raise InputError(f"--num-models must be at least 1, got {num_models}")
        names = names[:num_models]
    if len(set(names)) != len(names):
        raise InputError(f"a model is named twice in --models: {', '.join(names)}")
    return [_choice(name, available[name]) for name in names]
