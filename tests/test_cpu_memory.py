"""retain_freed_memory: freed CPU buffers stay with the process for reuse (glibc)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

import socialmarl as sm
from socialmarl.learning import cpu_memory

glibc = pytest.mark.skipif(cpu_memory._glibc() is None,
                           reason="retain_freed_memory needs glibc (Linux); it is a no-op here")


# Measured in a fresh interpreter: in this one, earlier tests leave large free blocks in
# the heap (a `socialmarl train` run turns retain_freed_memory on), and glibc serves a big
# request from such a block before it considers mmap, whatever the settings now are.
_MEASURE = r"""
import json, torch
import socialmarl as sm

def resident():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1])

def returned_by_free(mib=64):
    t = torch.ones(mib * 2**20 // 4)  # every page written, so resident
    before = resident()
    del t
    return before - resident()

assert sm.retain_freed_memory(False) is True
default = returned_by_free()
assert sm.retain_freed_memory() is True
kept = returned_by_free()
print(json.dumps({"default": default, "kept": kept}))
"""


@glibc
def test_freed_memory_stays_with_the_process_for_reuse():
    # The property the speed-up rests on: with retain_freed_memory a freed block stays in
    # the heap (resident, no munmap), so later allocations of the training loop can take it
    # without page faults; glibc's default hands a block this large back at once. (Whether
    # the very next request of the same size lands in that block depends on the heap's
    # layout, an aligned request needing a few bytes more, so the test does not time or
    # count faults of one repeated size: benchmarks/bench_train.py measures the gain.)
    out = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True,
                         check=True, timeout=120)
    pages = json.loads(out.stdout.strip().splitlines()[-1])
    full = 64 * 2**20 // resource.getpagesize()
    assert pages["default"] > 0.9 * full
    assert pages["kept"] < 0.05 * full


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(cpu_memory, "_glibc", lambda: None)
    assert sm.retain_freed_memory() is False
    assert sm.retain_freed_memory(False) is False
