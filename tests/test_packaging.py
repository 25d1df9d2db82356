"""Packaging: every subpackage is listed in pyproject.toml, the bundled data ships, and
``import socialmarl`` stays light (heavy parts load on first use)."""

from __future__ import annotations

import json
import os
import re
import subprocess
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


def _modules_loaded_by(code: str) -> set[str]:
    """Top-level module names in ``sys.modules`` after running ``code`` in a fresh Python."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json\n"
         "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


HEAVY = {"torch", "matplotlib", "seaborn", "ipywidgets", "networkx", "pandas"}


def test_import_socialmarl_loads_no_heavy_dependency():
    # a property, not a timing: the flat namespace is lazy (PEP 562), so a bare import
    # (e.g. ``socialmarl --help``) pulls in none of the heavy libraries
    loaded = _modules_loaded_by("import socialmarl\nassert socialmarl.__version__")
    assert not HEAVY & loaded, f"import socialmarl loaded {sorted(HEAVY & loaded)}"


def test_game_training_and_evaluation_load_no_plotting_or_widgets():
    loaded = _modules_loaded_by(
        "import socialmarl as sm\nsm.ConsensusGame, sm.Trainer, sm.evaluate, sm.load_network"
    )
    assert "torch" in loaded  # the names did resolve
    assert not {"matplotlib", "seaborn", "ipywidgets"} & loaded, sorted(loaded & HEAVY)


def test_no_reference_to_a_design_document_the_repository_lacks():
    # the rules live in the README ("The game", "The policy" ...); "DESIGN section N"
    # pointed users at a document that does not ship
    pattern = re.compile(r"DESIGN(\.md)?,? section|DESIGN\.md")
    skip = {".git", ".ruff_cache", ".pytest_cache", ".venv", "__pycache__", "build"}
    kinds = {".py", ".md", ".ipynb", ".toml", ".yml", ".yaml", ".txt", ""}
    stale = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        for name in names:
            p = Path(folder) / name
            if Path(name).suffix not in kinds or p == Path(__file__).resolve():
                continue
            text = p.read_text(encoding="utf-8", errors="replace")
            stale += [f"{p.relative_to(ROOT)}:{i + 1}" for i, line in
                      enumerate(text.splitlines()) if pattern.search(line)]
    assert not stale, f"point these to the README section instead: {stale}"
