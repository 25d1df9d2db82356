"""Opening data files for the loaders, with one translation of every way a file is unreadable.

All network loaders (:mod:`socialmarl.networks.loaders`, the crawl format's
:func:`~socialmarl.networks.bluesky.format.read_crawl`, :mod:`socialmarl.networks.bundled`)
and :func:`socialmarl.common.config_io.load_json` open their files through this module, so
a bad file gives the same kind of error everywhere.

Conventions
-----------
* **Text** is UTF-8 (a leading byte-order mark is skipped). A name ending in ``.gz`` is
  gunzipped on the fly; nothing else is decompressed.
* **Errors.** A missing path raises ``FileNotFoundError``; a folder where a file belongs
  raises :class:`NotAFileError` and a file where a folder belongs :class:`NotAFolderError`
  (both are ``ValueError``, and also ``IsADirectoryError`` / ``NotADirectoryError`` so
  older ``except`` clauses keep working); a file that cannot be decoded or parsed raises
  :class:`UnreadableFileError` (a ``ValueError``). Messages read
  ``"<path>[, line L]: <what is wrong>; <what to do>"`` and the low-level exception
  (``UnicodeDecodeError``, ``EOFError``, ``gzip.BadGzipFile``, ``zlib.error``,
  ``csv.Error``, pandas' ``ParserError``, ``json.JSONDecodeError``) is
  chained as ``__cause__``.
* **Cost.** Nothing is checked ahead of reading: a good file is read exactly once and at
  full speed. Only after a failure is the file looked at again (its first bytes, or a scan
  for the first byte that is not UTF-8, to report its line and offset).

:func:`file_errors` is the one mechanism: a context manager that turns the low-level
exceptions raised while reading ``path`` (by Python, ``csv``, ``gzip`` or pandas) into
these messages. :func:`open_text`, :func:`read_text` and :func:`read_json` use it; loaders
that hand a path to pandas wrap the read in ``with file_errors(path):``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = [
    "UnreadableFileError",
    "NotAFileError",
    "UnreadablePermissionError",
    "NotAFolderError",
    "existing_file",
    "existing_folder",
    "file_errors",
    "open_text",
    "read_text",
    "read_json",
    "require_columns",
    "parse_number",
]

GZIP_MAGIC = b"\x1f\x8b"
_BINARY_KINDS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook or a .zip download?)"),
    (GZIP_MAGIC, "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ", "xz-compressed data"),
    (b"SQLite format 3", "an SQLite database"),
)


class UnreadableFileError(ValueError):
    """A file that cannot be read as what it should be: not UTF-8, binary, bad gzip, bad CSV."""


class NotAFileError(ValueError, IsADirectoryError):
    """A folder was given where a file belongs (a ``ValueError`` and an ``IsADirectoryError``)."""


class UnreadablePermissionError(UnreadableFileError, PermissionError):
    """A file this user may not read (an :class:`UnreadableFileError` and a ``PermissionError``)."""


class NotAFolderError(ValueError, NotADirectoryError):
    """A file was given where a folder belongs (a ``ValueError`` and a ``NotADirectoryError``)."""


def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def existing_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a :class:`~pathlib.Path` after checking that it is an existing file.

    Parameters
    ----------
    path : str or PathLike
        The file (``~`` is expanded).
    what : str
        How messages call it, e.g. ``"edge-list file"``.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    NotAFileError
        When ``path`` is a folder.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> try:
    ...     existing_file(d, "edge-list file")
    ... except NotAFileError as exc:
    ...     print(str(exc).endswith("is a folder; pass the file inside it"))
    True
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{what} {str(p)!r} does not exist; check the path")
    if p.is_dir():
        raise NotAFileError(f"{what} {str(p)!r} is a folder; pass the file inside it")
    return p


def existing_folder(path: str | os.PathLike, what: str, holds: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` after checking that it is an existing folder.

    Parameters
    ----------
    path : str or PathLike
        The folder (``~`` is expanded).
    what : str
        How messages call it, e.g. ``"Bluesky dump folder"``.
    holds : str
        What the folder should hold, for the message when ``path`` is a file.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    NotAFolderError
        When ``path`` is a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "followers.csv.gz"
    >>> _ = f.write_bytes(b"")
    >>> try:
    ...     existing_folder(f, "dump folder", "followers.csv.gz")
    ... except NotAFolderError as exc:
    ...     print(str(exc).split("' ")[1])
    is a file; pass the folder that holds followers.csv.gz
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{what} {str(p)!r} does not exist; check the path")
    if not p.is_dir():
        raise NotAFolderError(f"{what} {str(p)!r} is a file; pass the folder that holds {holds}")
    return p


# ---------------------------------------------------------------------------- diagnosis
def _head(path: Path, n: int = 4096, decompress: bool = False) -> bytes:
    """The first ``n`` bytes of the file (decompressed when asked), or b"" if unreadable."""
    try:
        opener = gzip.open if decompress else open
        with opener(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError, zlib.error):
        return b""


def _binary_kind(head: bytes) -> str | None:
    """What binary data ``head`` starts with ("" if unknown), or None when it looks like text."""
    for magic, kind in _BINARY_KINDS:
        if head.startswith(magic):
            return kind
    return "" if b"\x00" in head else None


def _first_bad_utf8(path: Path) -> tuple[int, int, int] | None:
    """``(offset, line, byte)`` of the first byte that is not UTF-8, or None.

    Streams the (decompressed) file once with an incremental decoder; used on the error
    path only.
    """
    dec = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    try:
        with (gzip.open(path, "rb") if _is_gz(path) else open(path, "rb")) as fh:
            while True:
                chunk = fh.read(1 << 20)
                try:
                    dec.decode(chunk, not chunk)
                except UnicodeDecodeError as exc:
                    data = exc.object  # undecoded bytes kept from the last chunk + this one
                    pos = exc.start
                    line += data[:pos].count(b"\n")
                    return offset - (len(data) - len(chunk)) + pos, line, data[pos]
                if not chunk:
                    return None
                line += chunk.count(b"\n")
                offset += len(chunk)
    except (OSError, EOFError, zlib.error):
        return None


def _decode_message(path: Path, exc: UnicodeDecodeError) -> str:
    gz = _is_gz(path)
    if not gz and _head(path, 2) == GZIP_MAGIC:
        return (
            f"{path}: the file is gzip-compressed but its name does not end in .gz; rename "
            f"it to {path.name}.gz"
        )
    head = _head(path, decompress=gz)
    found = _first_bad_utf8(path)
    if found is None:  # could not re-read: report what the decoder saw
        offset, line, byte = exc.start, None, exc.object[exc.start]
    else:
        offset, line, byte = found
    of = " of the decompressed text" if gz else ""
    where = f"byte 0x{byte:02x} at offset {offset}{of}"
    kind = _binary_kind(head)
    if kind is not None:
        what = "holds binary data" if gz else "is a binary file"
        return (
            f"{path}: {what}{f' ({kind})' if kind else ''}, not UTF-8 text ({where}); pass "
            "the text file itself, or export the data as UTF-8 text"
        )
    at = f", line {line}" if line is not None else ""
    fix = (
        "decompress it, save it as UTF-8 and compress it again" if gz else "save it as UTF-8"
    )
    return (
        f"{path}{at}: not UTF-8 text ({where}); {fix} (a file from Excel or an old system is "
        "often latin-1 / cp1252: e.g. `iconv -f latin1 -t utf-8`)"
    )


def _gzip_message(path: Path, exc: BaseException) -> str:
    if _is_gz(path):
        head = _head(path, 2)
        if head and head != GZIP_MAGIC:
            plain = path.name[: -len(".gz")]
            return (
                f"{path}: not gzip-compressed although its name ends in .gz; if it is plain "
                f"text rename it to {plain}, otherwise download or write it again"
            )
    return f"{path}: a truncated or corrupted gzip file ({exc}); download or write it again"


@contextmanager
def file_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn the low-level errors raised while reading ``path`` into clear ``ValueError`` s.

    Inside the block a ``UnicodeDecodeError`` becomes an :class:`UnreadableFileError`
    saying "not UTF-8 text" with the line and byte offset of the first bad byte (or "looks
    like a PNG image / a binary file"); ``EOFError``, ``gzip.BadGzipFile`` and
    ``zlib.error`` become "a truncated or corrupted gzip file" (or "not gzip-compressed
    although its name ends in .gz"); ``csv.Error`` and pandas' ``ParserError`` /
    ``EmptyDataError`` become malformed-CSV messages; ``IsADirectoryError`` becomes
    :class:`NotAFileError` and ``PermissionError`` :class:`UnreadablePermissionError`.
    Every message starts with ``path`` and ends with the fix, and the original exception is
    chained. Other exceptions pass unchanged, and nothing is done while the block succeeds.

    Parameters
    ----------
    path : str or PathLike
        The file being read (named in the messages).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "names.csv"
    >>> _ = p.write_bytes("id\\nJos\\u00e9\\n".encode("latin-1"))
    >>> try:
    ...     with file_errors(p):
    ...         p.read_text(encoding="utf-8")
    ... except ValueError as exc:
    ...     print(str(exc)[len(str(p)):].split(";")[0])
    , line 2: not UTF-8 text (byte 0xe9 at offset 6)
    """
    p = Path(path)
    try:
        yield
    except (NotAFileError, UnreadableFileError):
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(_decode_message(p, exc)) from exc
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFileError(_gzip_message(p, exc)) from exc
    except csv.Error as exc:
        raise UnreadableFileError(
            f"{p}: not a readable CSV file ({exc}); check that it is plain comma-separated "
            "text"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFileError(
            f"{p}: the file is empty; expected a header row and data rows"
        ) from exc
    except pd.errors.ParserError as exc:
        raise UnreadableFileError(
            f"{p}: malformed CSV ({exc}); every row must have as many fields as the header"
        ) from exc
    except IsADirectoryError as exc:
        raise NotAFileError(f"{p} is a folder; pass the file inside it") from exc
    except PermissionError as exc:
        raise UnreadablePermissionError(
            f"{p}: permission denied, this user may not read it; give read access "
            f"(chmod u+r '{p}', or ask its owner) or copy it somewhere readable"
        ) from exc


@contextmanager
def open_text(path: str | os.PathLike) -> Iterator[IO[str]]:
    """Open a UTF-8 text file for reading (``*.gz`` gunzipped), under :func:`file_errors`.

    Errors raised while the file is read inside the ``with`` block are translated, so
    ``for line in fh`` needs no try/except. Lines keep their endings (``newline=""``, as
    the ``csv`` module wants).

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.txt.gz"
    >>> _ = p.write_bytes(gzip.compress(b"a b\\nb c\\n")[:-12])     # cut short
    >>> try:
    ...     with open_text(p) as fh:
    ...         rows = fh.readlines()
    ... except ValueError as exc:
    ...     print("truncated or corrupted gzip" in str(exc), str(p) in str(exc))
    True True
    """
    p = Path(path)
    with file_errors(p):
        if _is_gz(p):
            fh: IO[str] = io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8-sig", newline="")
        else:
            fh = open(p, encoding="utf-8-sig", newline="")
        with fh:
            yield fh


def read_text(path: str | os.PathLike) -> str:
    """The whole text of a UTF-8 file (``*.gz`` gunzipped); errors as :func:`file_errors`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("h\\u00e9")
    >>> read_text(p)
    'hé'
    """
    with open_text(path) as fh:
        return fh.read()


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Parse a UTF-8 JSON file, naming the file, line and column when it is malformed.

    Raises
    ------
    FileNotFoundError
        When the file is missing.
    ValueError
        When it is a folder, not UTF-8, or not valid JSON.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "meta.json"
    >>> _ = p.write_text('{"r": 0.5,\\n "q": }')
    >>> try:
    ...     read_json(p)
    ... except ValueError as exc:
    ...     print(str(exc)[len(str(p)):])
    , line 2, column 7: not valid JSON (Expecting value); fix the file or write it again
    """
    p = existing_file(path, what)
    text = read_text(p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(
            f"{p}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); fix "
            "the file or write it again"
        ) from exc


def require_columns(
    path: str | os.PathLike, header: Sequence[str], needed: Sequence[str], line: int = 1
) -> None:
    """Raise ``ValueError`` naming the first of ``needed`` missing from ``header``.

    Examples
    --------
    >>> try:
    ...     require_columns("pairs.csv", ["id1", "id2"], ["id1", "id2", "q"])
    ... except ValueError as exc:
    ...     print(exc)
    pairs.csv, line 1: has no column 'q'; it needs columns id1, id2, q (found id1, id2)
    """
    missing = [c for c in needed if c not in header]
    if missing:
        found = ", ".join(header) if header else "nothing"
        raise ValueError(
            f"{path}, line {line}: has no column {missing[0]!r}; it needs columns "
            f"{', '.join(needed)} (found {found})"
        )


def parse_number(
    value: Any,
    where: str,
    name: str,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """``value`` as an int or finite float within ``[low, high]``, or a clear ``ValueError``.

    Parameters
    ----------
    value : Any
        A string cell or a JSON value (``bool`` and ``None`` are rejected).
    where : str
        Prefix of the message, e.g. ``"nodes.csv, line 3"``.
    name : str
        The field's name.
    integer : bool
        Require a whole number (``"3"``, ``3`` or ``3.0``) and return an ``int``.
    low, high : float, optional
        Inclusive bounds.

    Examples
    --------
    >>> parse_number("7", "nodes.csv, line 2", "age", integer=True)
    7
    >>> try:
    ...     parse_number("old", "nodes.csv, line 2", "age", integer=True)
    ... except ValueError as exc:
    ...     print(exc)
    nodes.csv, line 2: age = 'old' is not an integer; fix the value
    """
    kind = "an integer" if integer else "a number"
    bad = ValueError(f"{where}: {name} = {value!r} is not {kind}; fix the value")
    if isinstance(value, bool) or value is None:
        raise bad
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError) as exc:
        raise bad from exc
    if x != x or x in (float("inf"), float("-inf")) or (integer and x != int(x)):
        raise bad
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        raise ValueError(f"{where}: {name} = {value!r} is outside [{lo}, {hi}]; fix the value")
    return int(x) if integer else x
