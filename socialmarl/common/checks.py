"""Checking and normalising user-given values: one place, one style of message.

Configs and public functions call these to turn what a user passes into plain Python
values (which serialise to JSON) or to raise an error that names the field, the value
and the fix. Conventions:

* Numbers may be Python, NumPy or one-element torch scalars (``np.float32(0.5)``,
  ``np.int64(2)``, ``torch.tensor(0.5)``); they come back as ``float`` / ``int``.
* ``bool`` is not a number here (``alpha=True`` is refused), and a float is not an
  integer (``num_envs=2.0`` is refused): both are almost always a slip.
* Real-valued settings must be finite unless a check says otherwise: ``inf`` and ``nan``
  would silently turn a training run into NaNs.
* Devices are checked before any work: an unknown name, or CUDA on a machine without it,
  is a ``ValueError`` saying which devices exist.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["as_int", "as_float", "as_probability", "as_bool", "as_device", "is_number"]


def _scalar(value: Any) -> Any:
    """Unwrap a one-element NumPy array / scalar or torch tensor; other values pass through."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "item"):
        return value
    size = value.numel() if callable(getattr(value, "numel", None)) else getattr(value, "size", 0)
    return value.item() if size == 1 else value


def is_number(value: Any) -> bool:
    """True for a real number that is not a bool (Python, NumPy or one-element tensor).

    Examples
    --------
    >>> import numpy as np
    >>> is_number(np.float32(0.5)), is_number(True), is_number("1")
    (True, False, False)
    """
    value = _scalar(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_int(value: Any, name: str, *, minimum: int | None = None,
           maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``, or a ``ValueError`` naming ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> as_int(np.int64(2), "num_envs", minimum=1)
    2
    >>> as_int(0, "num_envs", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: num_envs=0: need an integer >= 1
    """
    v = _scalar(value)
    if minimum is not None and maximum is not None:
        need = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        need = f"an integer >= {minimum}"
    elif maximum is not None:
        need = f"an integer <= {maximum}"
    else:
        need = "an integer"
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{name}={value!r}: need {need}")
    v = int(v)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ValueError(f"{name}={v!r}: need {need}")
    return v


def as_float(value: Any, name: str, *, minimum: float | None = None,
             maximum: float | None = None, positive: bool = False, finite: bool = True,
             what: str = "") -> float:
    """``value`` as a ``float``, checked, or a ``ValueError`` naming ``name`` and the fix.

    Parameters
    ----------
    value
        A real number (Python, NumPy or a one-element tensor); not a bool.
    name : str
        The field's name, used in the message.
    minimum, maximum : float, optional
        Closed bounds.
    positive : bool
        Require ``value > 0``.
    finite : bool
        Refuse ``inf`` (``nan`` is always refused).
    what : str
        What the value means, appended to the message.

    Examples
    --------
    >>> import torch
    >>> as_float(torch.tensor(0.25), "alpha", minimum=0, maximum=1)
    0.25
    >>> as_float(float("inf"), "sigma", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: sigma=inf: need a finite number >= 0
    """
    v = _scalar(value)
    tail = f"; {what}" if what else ""
    if minimum is not None and maximum is not None:
        need = f"a number in [{minimum:g}, {maximum:g}]"
    elif positive:
        need = "a number > 0"
    elif minimum is not None:
        need = f"a number >= {minimum:g}"
    elif maximum is not None:
        need = f"a number <= {maximum:g}"
    else:
        need = "a number"
    if finite:
        need = need.replace("a number", "a finite number")
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{name}={value!r}: need {need}{tail}")
    v = float(v)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name}={v!r}: need {need}{tail}")
    if minimum is not None and maximum is not None and not minimum <= v <= maximum:
        raise ValueError(f"{name}={v!r} is outside [{minimum:g}, {maximum:g}]{tail}")
    if positive and not v > 0:
        raise ValueError(f"{name}={v!r} must be > 0{tail}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}={v!r} must be >= {minimum:g}{tail}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}={v!r} must be <= {maximum:g}{tail}")
    return v


def as_probability(value: Any, name: str) -> float:
    """``value`` as a probability in [0, 1], or a ``ValueError`` naming ``name``.

    Examples
    --------
    >>> as_probability(1.5, "p_signal")
    Traceback (most recent call last):
    ...
    ValueError: p_signal=1.5 is not a probability; choose a value in [0, 1]
    """
    v = _scalar(value)
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= float(v) <= 1.0:
        shown = float(v) if isinstance(v, numbers.Real) and not isinstance(v, bool) else value
        raise ValueError(f"{name}={shown!r} is not a probability; choose a value in [0, 1]")
    return float(v)


def as_bool(value: Any, name: str) -> bool:
    """``value`` as a ``bool`` (Python or NumPy bool only).

    Examples
    --------
    >>> as_bool("yes", "allow_wait")
    Traceback (most recent call last):
    ...
    ValueError: allow_wait='yes': need True or False
    """
    v = _scalar(value)
    if isinstance(v, bool):
        return v
    if type(v).__name__ == "bool_":  # numpy.bool_
        return bool(v)
    raise ValueError(f"{name}={value!r}: need True or False")


def as_device(device: Any) -> Any:
    """A ``torch.device`` that exists on this machine, or a ``ValueError`` with the fix.

    Examples
    --------
    >>> as_device("cpu")
    device(type='cpu')
    >>> as_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not a device name; use 'cpu' or 'cuda' (or 'cuda:0', ...)
    """
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a device name; use 'cpu' or 'cuda' (or 'cuda:0', ...)"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = torch.version.cuda
            why = ("this torch is a CPU-only build" if build is None
                   else f"no CUDA device is visible (torch built for CUDA {build})")
            raise ValueError(
                f"device={device!r}: CUDA is not available here ({why}); use device 'cpu', "
                "or install a CUDA build of torch on a machine with an NVIDIA GPU"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA "
                f"device(s); use cuda:0 .. cuda:{torch.cuda.device_count() - 1}"
            )
    elif dev.type not in ("cpu", "mps", "xpu"):
        raise ValueError(f"device={device!r}: socialmarl runs on 'cpu' or 'cuda'")
    elif dev.type in ("mps", "xpu"):
        backend = getattr(torch.backends, dev.type, None) if dev.type == "mps" \
            else getattr(torch, "xpu", None)
        if backend is None or not backend.is_available():
            raise ValueError(f"device={device!r} is not available on this machine; use 'cpu'")
    return dev
