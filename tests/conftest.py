"""Shared test set-up: Qt without a screen, and the research data (skip when absent)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

from gaitanon_core.paths import shared_data_dir

SHARED_DATA = shared_data_dir()
HAVE_SHARED_DATA = (SHARED_DATA / "casiab64").is_dir() and (SHARED_DATA / "clips").is_dir()

needs_shared_data = pytest.mark.skipif(
    not HAVE_SHARED_DATA,
    reason=f"research data not found at {SHARED_DATA} (set GAITANON_DATA or place ../shared/data beside the repository)",
)


@pytest.fixture
def shared_data():
    if not HAVE_SHARED_DATA:
        pytest.skip(f"research data not found at {SHARED_DATA}")
    return SHARED_DATA
