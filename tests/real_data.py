"""The real data sets for tests: found by :func:`socialmarl.real_data_dir`, else a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialmarl.networks.bundled import real_data_dir


def real_data(name: str) -> Path:
    """The folder of real data set ``name``; skips the test with a reason when absent."""
    folder = real_data_dir(name)
    if folder is None:
        pytest.skip(f"real data set {name!r} is absent (put it in ../shared/data or set "
                    "SOCIALMARL_SHARED_DATA)")
    return folder
