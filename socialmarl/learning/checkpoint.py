"""Checkpoint files: data, not code, with an integrity check.

A checkpoint is a dict of tensors, numbers and strings written with ``torch.save`` and
read with ``torch.load(..., weights_only=True)``, so loading one never runs code.
``torch.load`` does not verify the zip archive's checksums, so a file with a few flipped
bytes inside a tensor loads and quietly gives other numbers. :func:`save_checkpoint`
therefore stores a SHA-256 digest of the whole content (:func:`state_digest`: every
tensor's dtype, shape and bytes, every key, string and number, in a fixed order) under
``"checksum"``, and :func:`load_checkpoint` recomputes it.

Every way a file can be unusable becomes a ``ValueError`` (``FileNotFoundError`` for a
missing one) that names the file, says what is wrong and what to do: truncated or
corrupted archives, files that are not checkpoints, checkpoints that hold Python objects
(refused by ``weights_only``), missing entries, and a digest that does not match.

Format history: ``socialmarl-checkpoint-1`` (no checksum; still read) and
``socialmarl-checkpoint-2`` (with ``"checksum"``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..common.files import atomic_write_bytes

__all__ = ["FORMAT", "save_checkpoint", "load_checkpoint", "state_digest", "CheckpointError"]

FORMAT = "socialmarl-checkpoint-2"
_READABLE = ("socialmarl-checkpoint-1", FORMAT)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used (corrupted, truncated, foreign or altered)."""


def _feed(h: Any, obj: Any) -> None:
    """Feed ``obj`` into hash ``h`` in a canonical, type-tagged order."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(b"T" + str(obj.dtype).encode() + repr(tuple(obj.shape)).encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(b"D" + struct.pack("<q", len(obj)))
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update((b"L" if isinstance(obj, list) else b"U") + struct.pack("<q", len(obj)))
        for v in obj:
            _feed(h, v)
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        h.update(b"S" + struct.pack("<q", len(b)) + b)
    elif obj is None or isinstance(obj, (bool, int, float)):
        h.update(b"P" + repr(obj).encode() + b";")
    else:
        raise TypeError(f"cannot digest a {type(obj).__name__} in a checkpoint")


def state_digest(state: Any) -> str:
    """SHA-256 (hex) of a checkpoint's content, independent of how it was serialised.

    Examples
    --------
    >>> import torch
    >>> a = state_digest({"w": torch.ones(2), "step": 3})
    >>> a == state_digest({"step": 3, "w": torch.ones(2)})
    True
    >>> a == state_digest({"w": torch.tensor([1.0, 1.0000001]), "step": 3})
    False
    """
    h = hashlib.sha256()
    _feed(h, state)
    return h.hexdigest()


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` (plain tensors, numbers, strings) atomically, with its digest.

    Parameters
    ----------
    state : dict
        The checkpoint content; ``"format"`` and ``"checksum"`` are set here.
    path : str or PathLike
        The file to write.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> p = save_checkpoint({"w": torch.arange(3.0)}, pathlib.Path(tempfile.mkdtemp()) / "c.pt")
    >>> load_checkpoint(p)["w"].tolist()
    [0.0, 1.0, 2.0]
    """
    content = {k: v for k, v in state.items() if k != "checksum"}
    content["format"] = FORMAT
    content["checksum"] = state_digest(content)
    buf = io.BytesIO()
    torch.save(content, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, verified, or raise a clear error.

    Parameters
    ----------
    path : str or PathLike
        The checkpoint file.
    required : tuple of str
        Entries that must be present.

    Returns
    -------
    dict
        The content (tensors on the CPU).

    Raises
    ------
    FileNotFoundError
        No such file.
    CheckpointError
        (a ``ValueError``) The file is not a readable socialmarl checkpoint, lacks an entry,
        or its content does not match its digest.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.pt"
    >>> _ = p.write_bytes(b"not a checkpoint")
    >>> load_checkpoint(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    socialmarl.learning.checkpoint.CheckpointError: ...c.pt: not a readable checkpoint ...
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; pass the checkpoint file inside it")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the checkpoint file is empty (an interrupted copy?); "
                              "restore it from a backup or train again")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: not a readable checkpoint (a checkpoint is a torch zip archive; this "
            "file is not one: another kind of file, or cut short before its end); restore it "
            "from a backup or train again"
        )
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        text = str(exc)
        if "weights only load failed" in text.lower():
            why = re.search(r"WeightsUnpickler error: ([^\n]+)", text)
            raise CheckpointError(
                f"{path}: refused: the file holds Python objects, not only tensors and plain "
                f"data ({why.group(1).strip() if why else 'not allowed by weights_only'}), "
                "and loading it could run code; socialmarl checkpoints never do, so it was "
                "not written by socialmarl or has been altered. Do not load it."
            ) from exc
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupted: "
            f"{type(exc).__name__}: {first}); restore it from a backup or train again"
        ) from exc
    found = repr(sd.get("format")) if isinstance(sd, dict) else f"a {type(sd).__name__}"
    if not isinstance(sd, dict) or sd.get("format") not in _READABLE:
        raise CheckpointError(
            f"{path}: not a socialmarl checkpoint (found format {found}; expected one of "
            f"{list(_READABLE)}); was it written by another program?"
        )
    if sd["format"] != "socialmarl-checkpoint-1":
        stored = sd.get("checksum")
        content = {k: v for k, v in sd.items() if k != "checksum"}
        try:
            actual = state_digest(content)
        except TypeError as exc:
            raise CheckpointError(f"{path}: unexpected content ({exc})") from exc
        if stored != actual:
            raise CheckpointError(
                f"{path}: the content does not match its checksum (the file was corrupted "
                "or edited after it was written); restore it from a backup or train again"
            )
    missing = [k for k in required if k not in sd]
    if missing:
        raise CheckpointError(
            f"{path}: the checkpoint lacks {missing}; it was written by another program "
            "or an incompatible socialmarl version"
        )
    return sd
