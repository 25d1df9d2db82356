"""The smoke-test switch that notebooks and examples read to shrink their budgets.

CI and the test suite run every notebook top to bottom; there, training budgets shrink so
the whole notebook suite takes minutes on a CPU. The switch is on when the environment
variable ``SOCIALMARL_SMOKE`` is set to anything but ``""``/``"0"``/``"false"``, or when
``CI`` is set (as on most CI services). ``notebooks/conftest.py`` sets ``SOCIALMARL_SMOKE``
for nbval, so ``python -m pytest`` checks the notebooks at the budget their stored outputs
were made with.
"""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["smoke_test", "budget"]

T = TypeVar("T")

_OFF = {"", "0", "false", "no", "off"}


def smoke_test() -> bool:
    """Whether a smoke-test run is asked for (``SOCIALMARL_SMOKE`` or ``CI`` set).

    Returns
    -------
    bool
        True when budgets should shrink.

    Examples
    --------
    >>> import os
    >>> from socialmarl.common.smoke import smoke_test
    >>> old = os.environ.pop("SOCIALMARL_SMOKE", None), os.environ.pop("CI", None)
    >>> smoke_test()
    False
    >>> os.environ["SOCIALMARL_SMOKE"] = "1"
    >>> smoke_test()
    True
    >>> for key, value in zip(("SOCIALMARL_SMOKE", "CI"), old):
    ...     _ = os.environ.pop(key, None)
    ...     if value is not None:
    ...         os.environ[key] = value
    """
    for key in ("SOCIALMARL_SMOKE", "CI"):
        if os.environ.get(key, "").strip().lower() not in _OFF:
            return True
    return False


def budget(full: T, smoke: T) -> T:
    """``smoke`` in a smoke-test run (see :func:`smoke_test`), ``full`` otherwise.

    Parameters
    ----------
    full, smoke
        The value for a normal run and for a smoke-test run.

    Returns
    -------
    The chosen value.

    Examples
    --------
    >>> import os
    >>> from socialmarl.common.smoke import budget
    >>> old = os.environ.pop("SOCIALMARL_SMOKE", None), os.environ.pop("CI", None)
    >>> budget(full=500, smoke=20)
    500
    >>> os.environ["CI"] = "true"
    >>> budget(full=500, smoke=20)
    20
    >>> for key, value in zip(("SOCIALMARL_SMOKE", "CI"), old):
    ...     _ = os.environ.pop(key, None)
    ...     if value is not None:
    ...         os.environ[key] = value
    """
    return smoke if smoke_test() else full
