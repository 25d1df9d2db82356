"""Keep freed CPU memory in the process: fewer page faults when training on the CPU.

A PPO update allocates and frees the same large buffers (tens of megabytes) every
minibatch. glibc's ``malloc`` hands such blocks back to the kernel when they are freed,
so every new buffer is touched afresh, page by page: about 40,000 to 150,000 minor page
faults per update at N = 1000 (``benchmarks/README.md``). :func:`retain_freed_memory`
tells glibc to keep freed memory for reuse instead, as PyTorch's CUDA caching allocator
does on the GPU (and as the tcmalloc / jemalloc allocators that PyTorch's CPU tuning guide
suggests do). The cost: the process keeps its peak memory until it exits.

It changes a process-wide setting, so nothing in socialmarl turns it on by itself except
the ``socialmarl train`` command (a process of its own) and the benchmarks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_DEFAULTS = {_M_TRIM_THRESHOLD: 128 * 1024, _M_TOP_PAD: 128 * 1024,
             _M_MMAP_THRESHOLD: 128 * 1024, _M_MMAP_MAX: 65536}


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (not musl)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def retain_freed_memory(enable: bool = True) -> bool:
    """Keep memory freed by PyTorch on the CPU for reuse instead of returning it to the OS.

    Sets glibc's ``mallopt`` so that large blocks come from the heap (``M_MMAP_MAX = 0``)
    and the heap is trimmed only when 2 GiB of it are free (``M_TRIM_THRESHOLD``).
    Training on the CPU then reuses its buffers without page faults; on the project's
    2-core machine this made whole training updates 10-35% faster (benchmarks/README.md).
    The process keeps its peak memory until it exits. ``enable=False`` restores glibc's
    documented defaults (without its dynamic mmap threshold).

    Parameters
    ----------
    enable : bool
        True to keep freed memory, False to restore the defaults.

    Returns
    -------
    bool
        True if the setting was applied; False where the C library is not glibc
        (macOS, Windows, musl), where this does nothing.

    Examples
    --------
    >>> import sys
    >>> ok = retain_freed_memory()
    >>> ok == sys.platform.startswith("linux") or not ok
    True
    >>> _ = retain_freed_memory(False)
    """
    libc = _glibc()
    if libc is None:
        return False
    if enable:
        settings = {_M_MMAP_MAX: 0, _M_TRIM_THRESHOLD: 2**31 - 1, _M_TOP_PAD: 64 * 2**20}
    else:
        settings = _DEFAULTS
    ok = True
    for param, value in settings.items():
        ok &= bool(libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)))
    return ok
