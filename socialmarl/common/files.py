"""Writing result files safely: atomic replacement, ordinary permissions, no leftovers.

Every file socialmarl writes (checkpoints, logs, tables, figures, crawl caches) goes
through :func:`atomic_write_bytes`: the bytes go to a temporary file in the same folder,
are flushed to disk, and the temporary file is renamed over the target. A crash or a
``kill -9`` mid-write leaves the previous file intact, never a half-written one.

Conventions chosen here:

* **Permissions.** The finished file has the permissions a plain ``open(path, "w")``
  would have given: those of the file it replaces, or ``0o666`` less the process umask
  for a new file (``-rw-r--r--`` under the usual umask 022), so results on a shared
  teaching server are readable by others exactly as any other file the user writes.
* **Temporary names.** ``.<name>~<host>~<pid>~<random>.tmp`` beside the target. The name
  says which process on which machine wrote it, so :func:`remove_stale_temp_files` can
  tell the leftovers of a killed process (its pid is gone on this host) from a write in
  progress. Temporary files of other hosts (a shared network folder) and of the older
  ``.<name>.<random>.tmp`` scheme are removed only when older than a day.
* **Appending** (:func:`append_text`) is for logs that grow a line at a time; a crash can
  lose at most the line being written, and readers of the log (resume) rewrite it whole
  from their own record with :func:`atomic_write_text`.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import tempfile
import time
from pathlib import Path

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "append_text",
    "remove_stale_temp_files",
    "check_writable_dir",
    "default_file_mode",
]

_SEP = "~"
_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)~(?P<host>[A-Za-z0-9.-]+)~(?P<pid>\d+)~[a-z0-9_]+\.tmp$")
_OLD_TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
_STALE_AFTER_S = 24 * 3600.0


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # elsewhere: the only portable way is to set it and put it back
    os.umask(old)
    return old


def default_file_mode(path: str | os.PathLike | None = None) -> int:
    """The permission bits a plain ``open(path, "w")`` would leave on ``path``.

    Those of the existing file, or ``0o666`` less the umask for a new one.

    Examples
    --------
    >>> import os, tempfile
    >>> mode = default_file_mode(os.path.join(tempfile.mkdtemp(), "new.txt"))
    >>> oct(mode) == oct(0o666 & ~_umask())
    True
    """
    if path is not None:
        try:
            return stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            pass
    return 0o666 & ~_umask()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, with the permissions ``open()`` would give.

    The bytes go to a temporary file in the same folder, which is flushed, given the
    target's permissions (see :func:`default_file_mode`) and renamed over ``path``. A crash
    mid-write leaves the previous file intact, never a half-written one.

    Parameters
    ----------
    path : str or PathLike
        The file to write; missing parent folders are created.
    data : bytes
        The whole new content.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_bytes(pathlib.Path(tempfile.mkdtemp()) / "x.bin", b"abc")
    >>> p.read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = default_file_mode(path)
    prefix = f".{path.name}{_SEP}{_HOST}{_SEP}{os.getpid()}{_SEP}"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "hi").read_text()
    'hi'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def append_text(path: str | os.PathLike, text: str, *, sync: bool = True) -> Path:
    """Append ``text`` (UTF-8) to ``path``, creating it (and its folder) if needed.

    With ``sync`` the data is flushed to disk before returning, so a log line written
    before a crash is still there after it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = append_text(p, "a\\n"); _ = append_text(p, "b\\n")
    >>> p.read_text()
    'a\\nb\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (owned by someone else) or cannot tell: keep its file
    return True


def remove_stale_temp_files(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Delete temporary files that killed writers left in ``folder``; return what went.

    A temporary file of :func:`atomic_write_bytes` is stale when the process named in it
    no longer runs on this host, or, for files of other hosts and of older socialmarl
    versions, when it is more than a day old. Nothing else is touched.

    Parameters
    ----------
    folder : str or PathLike
        The folder to clean (a missing folder is fine).
    recursive : bool
        Also clean every sub-folder.

    Returns
    -------
    list of Path
        The files removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> dead = d / f".log.csv~{_HOST}~999999999~abc123.tmp"
    >>> _ = dead.write_text("half a line")
    >>> [p.name for p in remove_stale_temp_files(d)] == [dead.name]
    True
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    now = time.time()
    candidates = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
    for p in sorted(candidates):
        m = _TEMP_RE.match(p.name)
        if m is not None and m["host"] == _HOST:
            stale = not _pid_alive(int(m["pid"]))
        elif m is not None or _OLD_TEMP_RE.match(p.name):
            try:
                stale = now - p.stat().st_mtime > _STALE_AFTER_S
            except OSError:
                stale = False
        else:
            stale = False
        if stale and p.is_file():
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def check_writable_dir(folder: str | os.PathLike, what: str = "results folder") -> Path:
    """Create ``folder`` if needed and check that files can be created in it.

    Raises ``PermissionError`` naming the folder and the fix, before any work is done,
    instead of failing at the first checkpoint hours later.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_writable_dir(pathlib.Path(tempfile.mkdtemp()) / "run").is_dir()
    True
    """
    folder = Path(folder)
    fix = "choose another folder (--out) or change its permissions"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise NotADirectoryError(f"{what} {folder} is a file, not a folder; {fix}") from exc
    except PermissionError as exc:
        raise PermissionError(f"cannot create the {what} {folder}: permission denied; {fix}") \
            from exc
    if not folder.is_dir():
        raise NotADirectoryError(f"{what} {folder} is not a folder; {fix}")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".write-test{_SEP}{_HOST}{_SEP}"
                                     f"{os.getpid()}{_SEP}", suffix=".tmp")
    except OSError as exc:
        raise PermissionError(
            f"cannot write into the {what} {folder} ({exc.strerror or exc}); {fix}"
        ) from exc
    os.close(fd)
    os.unlink(probe)
    return folder
