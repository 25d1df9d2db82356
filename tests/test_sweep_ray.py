"""Sweeps on a real local Ray cluster (2 CPUs, no dashboard), started and stopped here.

The same grid in this process and as Ray tasks gives the same table; a worker killed in
the middle of a job is retried by Ray and the job resumes from its checkpoint to the same
numbers; a second run skips every finished job.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="Ray is the cluster extra: pip install -e '.[cluster]'")

from socialmarl.sweeps.sweep import sweep  # noqa: E402

GRID = {
    "networks": [{"network": "bluesky_sample", "nodes": 30, "label": "social"},
                 {"network": "camp_sample", "nodes": 10, "label": "camp"}],
    "alphas": [0.0, 1.0],
    "seeds": [0, 1],
    "train": {"num_updates": 12, "envs_per_alpha": 4, "num_minibatches": 2,
              "episode_length": 8, "allow_wait": False, "checkpoint_every": 2},
    "evaluate": {"episodes": 8, "n_boot": 30, "seed": 3},
    "jobs": {"cpus": 1},
}


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_table(tmp_path_factory):
    return sweep(copy.deepcopy(GRID), tmp_path_factory.mktemp("local"), engine="local",
                 progress=False).table


def _values(table: pd.DataFrame) -> pd.DataFrame:
    keep = ["network", "kind", "alpha", "seed", "metric", "value", "ci_low", "ci_high", "n"]
    return table[keep].sort_values(keep[:5]).reset_index(drop=True)


def test_ray_and_in_process_give_the_same_table(cluster, local_table, tmp_path):
    res = sweep(copy.deepcopy(GRID), tmp_path, engine="ray", progress=False)
    assert res.engine == "ray"
    assert [j["status"] for j in res.jobs] == ["finished", "finished"]
    assert {j["pid"] for j in res.jobs}.isdisjoint({os.getpid()})  # ran in Ray workers
    pd.testing.assert_frame_equal(_values(res.table), _values(local_table))
    again = sweep(copy.deepcopy(GRID), tmp_path, engine="ray", progress=False)
    assert again.jobs == [] and again.reused == 2
    pd.testing.assert_frame_equal(again.table, res.table)


def test_a_killed_worker_is_retried_and_the_table_is_unchanged(cluster, local_table, tmp_path):
    grid = copy.deepcopy(GRID)
    grid["networks"] = grid["networks"][:1]  # one job: the one we kill
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "res", sweep(grid, tmp_path, engine="ray", max_retries=2, progress=False)))
    thread.start()
    killed = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and killed is None and thread.is_alive():
        for folder in (tmp_path / "jobs").glob("*") if (tmp_path / "jobs").exists() else []:
            run = folder / "run"
            log = run / "log.csv"
            # mid-training: at least one checkpoint written, training not finished
            if (run / "checkpoint.pt").is_file() and log.is_file():
                rows = len(log.read_text().splitlines()) - 1
                if 0 < rows < 2 * 2 * 12:
                    pid = json.loads((folder / "running.json").read_text())["pid"]
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
                    break
        time.sleep(0.01)
    thread.join(timeout=300)
    assert killed is not None, "the job finished before it could be killed"
    res = result["res"]
    assert [j["status"] for j in res.jobs] == ["resumed"]
    assert res.jobs[0]["pid"] != killed
    want = _values(local_table)
    pd.testing.assert_frame_equal(_values(res.table),
                                  want[want.network == "social"].reset_index(drop=True))
