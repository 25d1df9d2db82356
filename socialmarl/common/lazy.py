"""Names of a package loaded on first use (PEP 562), so importing the package stays cheap.

A sub-package lists which of its modules defines each public name;
:func:`lazy_names` returns the module-level ``__getattr__`` and ``__dir__`` that import a
module when one of its names is first touched, and cache the value on the package.

Examples
--------
>>> import socialmarl.analysis as analysis
>>> "summarise" in dir(analysis)
True
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, parts: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` from ``{".module": (names...)}``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    parts : mapping
        Relative module name -> the public names it defines.

    Examples
    --------
    >>> getattr_, dir_, all_ = lazy_names("socialmarl.analysis",
    ...                                   {".metrics": ("summarise",)})
    >>> all_
    ['summarise']
    """
    where = {name: module for module, names in parts.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, list(where)
