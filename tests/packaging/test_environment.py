"""environment.yml must carry every runtime dependency of pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO_ROOT

# conda-forge names that differ from the PyPI names
CONDA_ALIASES = {"matplotlib": {"matplotlib", "matplotlib-base"}}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_names() -> set[str]:
    names = set()
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)", line)
        if m and not line.strip().startswith("- -e"):
            names.add(_name(m.group(1)))
    return names


def test_every_runtime_dependency_is_in_environment_yml():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    conda = _conda_names()
    missing = [dep for dep in project["dependencies"]
               if not (CONDA_ALIASES.get(_name(dep), {_name(dep)}) & conda)]
    assert not missing, f"environment.yml lacks {missing}"


def test_environment_installs_foldkit_from_checkout():
    text = (REPO_ROOT / "environment.yml").read_text()
    assert "-e ." in text and "conda-forge" in text and "bioconda" in text
