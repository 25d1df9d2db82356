"""Plain-dataclass configuration that serialises to and from JSON.

Every saved result in socialmarl carries the config that made it; these helpers are the one
place that turns a config dataclass into JSON-safe data and back. Files are written with
:mod:`socialmarl.common.files` (atomic, ordinary permissions).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, TypeVar

from .files import atomic_write_bytes, atomic_write_text

__all__ = [
    "config_to_dict",
    "config_from_dict",
    "save_json",
    "load_json",
    "atomic_write_bytes",
    "atomic_write_text",
    "field_docs",
]

T = TypeVar("T")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-safe dict of a config dataclass (tuples become lists).

    Examples
    --------
    >>> import socialmarl as sm
    >>> config_to_dict(sm.GameConfig(alpha=0.5))["alpha"]
    0.5
    """
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"expected a config dataclass, got {type(cfg).__name__}")
    out = dataclasses.asdict(cfg)
    return json.loads(json.dumps(out))


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build config ``cls`` from a dict, rejecting unknown keys with a clear error.

    Examples
    --------
    >>> import socialmarl as sm
    >>> config_from_dict(sm.GameConfig, {"alpha": 0.25}).alpha
    0.25
    """
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} field(s) {unknown}; valid fields are {sorted(names)}"
        )
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            v = data[f.name]
            kwargs[f.name] = tuple(v) if isinstance(v, list) and "tuple" in str(f.type) else v
    return cls(**kwargs)


def save_json(path: str | os.PathLike, data: Any) -> Path:
    """Write JSON atomically; config dataclasses are converted with :func:`config_to_dict`."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = config_to_dict(data)
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def load_json(path: str | os.PathLike) -> Any:
    """Read a UTF-8 JSON file; a missing, unreadable or malformed file is named in the error.

    The same reader as the loaders' (:func:`socialmarl.common.reading.read_json`): the
    message gives the line and column of a syntax error and how to fix it.
    """
    from .reading import read_json

    return read_json(path)


def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings of a config dataclass (the string under each field).

    Examples
    --------
    >>> import socialmarl as sm
    >>> field_docs(sm.GameConfig)["sigma"].startswith("Standard deviation")
    True
    """
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for prev, node in zip(body, body[1:]):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[prev.target.id] = " ".join(node.value.value.split())
    return docs
