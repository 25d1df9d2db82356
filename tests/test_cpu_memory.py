"""retain_freed_memory: freed CPU buffers stay with the process for reuse (glibc)."""

from __future__ import annotations

import resource

import pytest
import torch

import socialmarl as sm
from socialmarl.learning import cpu_memory

glibc = pytest.mark.skipif(cpu_memory._glibc() is None,
                           reason="retain_freed_memory needs glibc (Linux); it is a no-op here")


def _resident_pages() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1])


def _pages_returned_by_free(mib: int = 64) -> int:
    """Resident pages the process gives back to the OS when a ``mib`` MiB tensor is freed."""
    t = torch.ones(mib * 2**20 // 4)  # every page written, so resident
    before = _resident_pages()
    del t
    return before - _resident_pages()


@glibc
def test_freed_memory_stays_with_the_process_for_reuse():
    # The property the speed-up rests on: with retain_freed_memory a freed block stays in
    # the heap (resident, no munmap), so later allocations of the training loop can take it
    # without page faults; glibc's default hands a block this large back at once. (Whether
    # the very next request of the same size lands in that block depends on the heap's
    # layout, an aligned request needing a few bytes more, so the test does not time or
    # count faults of one repeated size: benchmarks/bench_train.py measures the gain.)
    pages = 64 * 2**20 // resource.getpagesize()
    try:
        assert sm.retain_freed_memory(False) is True
        default = _pages_returned_by_free()
        assert sm.retain_freed_memory() is True
        kept = _pages_returned_by_free()
    finally:
        sm.retain_freed_memory(False)
    assert default > 0.9 * pages
    assert kept < 0.05 * pages


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(cpu_memory, "_glibc", lambda: None)
    assert sm.retain_freed_memory() is False
    assert sm.retain_freed_memory(False) is False
