"""retain_freed_memory: freed CPU buffers are reused without page faults (glibc)."""

from __future__ import annotations

import resource

import pytest
import torch

import socialmarl as sm
from socialmarl.learning import cpu_memory

glibc = pytest.mark.skipif(cpu_memory._glibc() is None,
                           reason="retain_freed_memory needs glibc (Linux); it is a no-op here")


def _faults_per_cycle(cycles: int = 7, mib: int = 64) -> float:
    """Median minor page faults of one allocate / touch / free of a ``mib`` MiB tensor.

    (The median, because another allocation may now and then take the freed block.)
    """
    numel = mib * 2**20 // 4
    for _ in range(2):  # warm-up: the heap grows to hold the block
        torch.ones(numel)
    counts = []
    for _ in range(cycles):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = torch.ones(numel)  # every page written
        del t
        counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return float(sorted(counts)[cycles // 2])


@glibc
def test_retained_memory_is_reused_without_page_faults():
    pages = 64 * 2**20 // resource.getpagesize()
    try:
        assert sm.retain_freed_memory(False) is True
        default = _faults_per_cycle()
        assert sm.retain_freed_memory() is True
        kept = _faults_per_cycle()
    finally:
        sm.retain_freed_memory(False)
    # glibc's default maps a 64 MiB block afresh each time: one fault per page (or per
    # huge page where transparent huge pages are on); kept memory needs (almost) none.
    assert default > 0.9 * pages or default > 20 * max(kept, 1.0)
    assert kept < 0.05 * pages


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(cpu_memory, "_glibc", lambda: None)
    assert sm.retain_freed_memory() is False
    assert sm.retain_freed_memory(False) is False
