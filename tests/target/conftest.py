"""Fixtures for target tests (helpers live in target_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from target_helpers import TargetRunner


@pytest.fixture
def target(tmp_path: Path) -> TargetRunner:
    """target-liveswitch run as a console script, with its token store, ledger and dead letter
    in this test's folder."""
    return TargetRunner(tmp_path)
