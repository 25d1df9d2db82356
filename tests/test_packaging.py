"""Packaging: every subpackage is listed in pyproject.toml and the bundled data ships."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def test_every_subpackage_is_listed():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "socialmarl").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    missing = found - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert cfg["tool"]["setuptools"]["package-dir"]["socialmarl.data"] == "data"
    assert (ROOT / "data" / "bluesky_sample" / "meta.json").is_file()


def test_every_bundled_data_file_matches_a_package_data_pattern():
    # a data file no pattern matches would be missing from wheels (and from non-editable
    # installs) while every test on a checkout still passes
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = cfg["tool"]["setuptools"]["package-data"]["socialmarl.data"]
    data = ROOT / "data"
    shipped = {p for pat in patterns for p in data.glob(pat) if p.is_file()}
    files = {
        p for p in data.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    unshipped = sorted(str(p.relative_to(ROOT)) for p in files - shipped)
    assert not unshipped, f"add patterns for {unshipped} to [tool.setuptools.package-data]"


def test_the_flat_namespace_is_the_public_api_without_plumbing():
    """``sm.<name>`` resolves for every public name, each to the object its module defines;
    the sub-packages export their own names; file plumbing is not public."""
    import importlib

    import socialmarl as sm

    for name in sm.__all__:
        assert getattr(sm, name) is not None, name
    for module, names in sm._PARTS.items():
        mod = importlib.import_module("socialmarl" + module)
        for name in names:
            assert getattr(sm, name) is getattr(mod, name), f"sm.{name} is not {module}.{name}"
    plumbing = {"atomic_write_text", "atomic_write_bytes", "save_json", "config_to_dict",
                "config_from_dict", "append_text", "check_writable_dir", "as_float", "lazy_names"}
    assert not plumbing & set(sm.__all__), sorted(plumbing & set(sm.__all__))
    # every sub-package's own list resolves too (``sm.networks.load_edgelist`` ...)
    for sub in ("networks", "game", "learning", "analysis", "networks.bluesky",
                "networks.loaders"):
        pkg = importlib.import_module(f"socialmarl.{sub}")
        for name in pkg.__all__:
            assert getattr(pkg, name) is not None, f"socialmarl.{sub}.{name}"
    assert sm.networks.load_edgelist is sm.load_edgelist
    assert sm.learning.TrainConfig is sm.TrainConfig and sm.analysis.evaluate is sm.evaluate
