"""Parameter folders: list the known presets, verify files, fetch the official AlphaFold2 archive.

A parameters folder holds ``params_<model>.npz`` files (in the folder or in
its ``params/`` subfolder), as the official archive unpacks. Official names
(model_1..5, model_1..5_ptm, model_1..5_multimer_v3) are checked against the
packaged presets; any other file needs a sidecar ``params_<model>.json``
config (see :mod:`foldkit.predict.models`; a multimer config, with only a
``model`` section and ``global_config.multimer_mode``, is checked against the
multimer network's tree).

:func:`fetch_params` downloads the archive (``urllib``, any URL scheme it
supports, ``file://`` included) with a progress bar into a hidden staging
folder inside the destination, extracts the monomer and multimer v3
parameter files and the licence, verifies every parameter file, and only then moves them into place
(one rename per file); on any error or Ctrl-C the staging folder is removed
and the destination is left as it was.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

import numpy as np

from foldkit.errors import FoldkitError, InputError
from foldkit.model import config as config_lib
from foldkit.model import multimer_config as multimer_config_lib
from foldkit.model import params as params_lib
from foldkit.model.params_check import describe_params_file

OFFICIAL_PARAMS_URL = "https://storage.googleapis.com/alphafold/alphafold_params_2022-12-06.tar"
OFFICIAL_PARAMS_SIZE = "about 5.3 GB"
OFFICIAL_MODEL_NAMES = config_lib.MODEL_NAMES + multimer_config_lib.MULTIMER_MODEL_NAMES
_PARAMS_MEMBER = re.compile(r"^params_(?P<name>[A-Za-z0-9_.+-]+)\.(?P<ext>npz|json)$")
_LICENCE_MEMBER = re.compile(r"^LICEN[CS]E(\.[A-Za-z0-9]+)?$")
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- list

@dataclasses.dataclass(frozen=True)
class PresetInfo:
    """One known model preset and where its file is (None: not found)."""

    name: str
    uses_templates: bool
    has_ptm: bool
    path: Path | None
    multimer: bool = False


def list_presets(params_dir: Path | None = None) -> list[PresetInfo]:
    """The official presets (monomer, then multimer) with their file in ``params_dir`` (when given)."""
    from foldkit.predict.models import find_params_files

    found = find_params_files(Path(params_dir)) if params_dir is not None and Path(params_dir).is_dir() else {}
    infos = []
    for name in config_lib.MODEL_NAMES:
        config = config_lib.preset(name)
        infos.append(PresetInfo(name, config.uses_templates, config.has_pae_head, found.get(name)))
    for name in multimer_config_lib.MULTIMER_MODEL_NAMES:
        config = multimer_config_lib.multimer_preset(name)
        infos.append(PresetInfo(name, config.uses_templates, config.has_pae_head, found.get(name), multimer=True))
    return infos


# --------------------------------------------------------------------------- verify

@dataclasses.dataclass(frozen=True)
class VerifyResult:
    path: Path
    ok: bool
    message: str


def verify_params_file(path: Path) -> str:
    """A one-line description of a valid parameter file; InputError naming every difference otherwise."""
    from foldkit.predict.models import _choice, expected_spec

    path = Path(path)
    match = _PARAMS_MEMBER.match(path.name)
    name = match.group("name") if match and match.group("ext") == "npz" else None
    if name in OFFICIAL_MODEL_NAMES and not path.with_suffix(".json").is_file():
        return describe_params_file(path)
    if name is None:
        raise InputError("parameter files are named params_<model>.npz", path=str(path))
    multimer = _multimer_sidecar(path.with_suffix(".json"), name)
    if multimer is not None:
        expected, source = multimer, str(path.with_suffix(".json"))
    else:
        choice = _choice(name, path)          # reads the sidecar config (InputError without one)
        expected, source = expected_spec(choice), choice.config_source
    headers = params_lib.read_header_spec(path)
    diff = params_lib.diff_spec({k: s for k, (s, _) in headers.items()}, expected)
    if not diff.ok:
        raise InputError(f"does not match its config {source}: {diff.message()}", path=str(path))
    not_float32 = sorted(k for k, (_, dtype) in headers.items() if dtype != np.float32)
    if not_float32:
        raise InputError(f"{len(not_float32)} arrays are not float32 (first: {not_float32[0]})", path=str(path))
    count = sum(int(np.prod(shape)) for shape, _ in headers.values())
    return (f"{path}: {len(headers)} arrays, {count:,} float32 values; matches the tree of its config "
            f"{source}")


def _multimer_sidecar(sidecar: Path, name: str) -> params_lib.ParamSpec | None:
    """The parameter tree of a multimer sidecar config, None when the sidecar is absent or not multimer."""
    if not sidecar.is_file():
        return None
    try:
        content = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None                        # reported by the monomer path with line and column
    if not (isinstance(content, dict) and multimer_config_lib.is_multimer_tree(content)):
        return None
    try:
        config = multimer_config_lib.MultimerConfig.from_dict(content.get("config", content), name=name)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"invalid multimer model config: {exc}", path=str(sidecar)) from None
    from foldkit.model.multimer_network import param_spec_from_init

    return param_spec_from_init(config)


def verify_params_dir(params_dir: Path) -> list[VerifyResult]:
    """Check every ``params_*.npz`` of a folder (and its ``params/``); InputError when there is none."""
    from foldkit.predict.models import find_params_files

    params_dir = Path(params_dir)
    if not params_dir.is_dir():
        raise InputError("parameters folder not found", path=str(params_dir))
    files = find_params_files(params_dir)
    if not files:
        raise InputError(f"no params_<model>.npz files here; `foldkit params fetch {params_dir}` downloads the "
                         "official ones", path=str(params_dir))
    results = []
    for name, path in sorted(files.items()):
        try:
            results.append(VerifyResult(path, True, verify_params_file(path)))
        except InputError as exc:
            results.append(VerifyResult(path, False, str(exc)))
    return results


# --------------------------------------------------------------------------- fetch

def _download(url: str, target: Path, progress: bool) -> int:
    """Stream ``url`` into ``target`` with a tqdm bar; returns the byte count (checked against Content-Length)."""
    from tqdm import tqdm

    try:
        response = urllib.request.urlopen(url, timeout=60)  # noqa: S310 (user-chosen URL, file:// in tests)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FoldkitError(f"cannot download {url}: {reason}") from None
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        with open(target, "wb") as handle, tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                                                desc=Path(url).name or "download", disable=not progress) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (urllib.error.URLError, OSError) as exc:
                    raise FoldkitError(f"download of {url} failed after {received} bytes: {exc}") from None
                if not chunk:
                    break
                handle.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received != expected:
        raise FoldkitError(f"download of {url} is incomplete: {received} of {expected} bytes")
    return received


def _wanted(member: tarfile.TarInfo) -> str | None:
    """The file name to extract for an archive member, or None to skip it; unsafe members are refused."""
    name = member.name
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith(("/", "\\")) or ".." in parts:
        raise InputError(f"archive member {name!r} points outside the destination; refused")
    if not parts or member.isdir():
        return None
    base = parts[-1]
    match = _PARAMS_MEMBER.match(base)
    known = match and (match.group("name") in OFFICIAL_MODEL_NAMES or match.group("ext") == "json")
    is_custom_npz = match and match.group("ext") == "npz"
    if not (known or is_custom_npz or _LICENCE_MEMBER.match(base)):
        return None
    if not member.isfile():
        raise InputError(f"archive member {name!r} is a link or special file, not a regular file; refused")
    return base


def _is_unsupported_multimer(name: str) -> bool:
    """Multimer files other than v3 (v1/v2 weights: another tree, no preset)."""
    match = _PARAMS_MEMBER.match(name)
    return bool(match and "multimer" in match.group("name")
                and match.group("name") not in multimer_config_lib.MULTIMER_MODEL_NAMES)


def fetch_params(dest: str | Path, url: str = OFFICIAL_PARAMS_URL, progress: bool = True,
                 log: Callable[[str], None] = print) -> list[Path]:
    """Download, verify and unpack the parameter archive at ``url`` into ``dest``; returns the files placed.

    Extracted: monomer ``params_model_*.npz``, multimer
    ``params_model_*_multimer_v3.npz`` (older multimer versions are skipped),
    custom ``params_<name>.npz`` with their ``params_<name>.json`` config, and
    the licence file. Every parameter file
    is verified before any is moved into ``dest``.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError("destination exists and is not a folder", path=str(dest))
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest))
    try:
        archive = staging / "archive.tar"
        log(f"downloading {url}")
        size = _download(url, archive, progress)
        log(f"downloaded {size:,} bytes; unpacking")
        extracted = _extract(archive, staging / "files", url)
        archive.unlink()
        npz_files = [p for p in extracted if p.suffix == ".npz"]
        if not npz_files:
            raise InputError("the archive holds no params_<model>.npz file", path=url)
        for path in npz_files:
            log(f"verified {verify_params_file(path)}")
        placed = []
        for path in sorted(extracted, key=lambda p: p.suffix != ".json"):   # configs before their npz
            target = dest / path.name
            os.replace(path, target)
            placed.append(target)
        log(f"{len(npz_files)} parameter files in {dest}")
        return placed
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: Path, folder: Path, url: str) -> list[Path]:
    folder.mkdir()
    extracted: list[Path] = []
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                base = _wanted(member)
                if base is None:
                    continue
                if _is_unsupported_multimer(base):
                    continue
                if (folder / base).exists():
                    raise InputError(f"archive holds {base!r} twice", path=url)
                source = tar.extractfile(member)
                with source, open(folder / base, "wb") as handle:
                    shutil.copyfileobj(source, handle, _CHUNK)
                extracted.append(folder / base)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"not a readable tar archive ({exc})", path=url) from None
    return extracted
