"""Shared test fixtures: paths to the repository and to ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FOLDKIT_SHARED", REPO_ROOT.parent / "shared")).resolve()
AF2_REFERENCE = SHARED_DIR / "reference" / "af2"
CASP_DIR = SHARED_DIR / "casp"
SCORING_DIR = SHARED_DIR / "scoring"
TRAIN_DIR = SHARED_DIR / "train"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.fail(f"../shared not found at {SHARED_DIR} (set FOLDKIT_SHARED)")
    return SHARED_DIR


@pytest.fixture(scope="session")
def af2_reference(shared_dir) -> Path:
    return AF2_REFERENCE


@pytest.fixture(scope="session")
def casp_dir(shared_dir) -> Path:
    return CASP_DIR


@pytest.fixture(scope="session")
def scoring_dir(shared_dir) -> Path:
    return SCORING_DIR


@pytest.fixture(scope="session")
def train_dir(shared_dir) -> Path:
    return TRAIN_DIR
