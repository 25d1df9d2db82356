"""Sweeps in this process: the grid file, jobs, the tidy table, skip / resume, grid changes."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import socialmarl as sm
from socialmarl.analysis.evaluation import evaluate
from socialmarl.analysis.metrics import summarise
from socialmarl.sweeps.job import job_finished, run_job
from socialmarl.sweeps.spec import SweepSpec, load_sweep_spec
from socialmarl.sweeps.sweep import read_results, sweep

TRAIN = {"num_updates": 3, "envs_per_alpha": 2, "num_minibatches": 1, "episode_length": 5,
         "allow_wait": False, "checkpoint_every": 1}
GRID = {
    "name": "test",
    "networks": [{"network": "bluesky_sample", "nodes": 24, "label": "social"},
                 {"network": "camp_sample", "nodes": 10, "label": "camp"}],
    "alphas": [0.0, 1.0],
    "seeds": [0, 1],
    "train": TRAIN,
    "evaluate": {"episodes": 6, "n_boot": 30, "seed": 5},
    "jobs": {"cpus": 1},
}


def grid(**changes):
    g = copy.deepcopy(GRID)
    g.update(changes)
    return g


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    return sweep(grid(), out, engine="local", progress=False)


# ---------------------------------------------------------------- the grid
def test_yaml_and_json_grids_give_the_same_jobs(tmp_path):
    import yaml

    (tmp_path / "g.yaml").write_text(yaml.safe_dump(GRID))
    (tmp_path / "g.json").write_text(json.dumps(GRID))
    a, b = load_sweep_spec(tmp_path / "g.yaml"), load_sweep_spec(tmp_path / "g.json")
    assert [j.id for j in a.plan()] == [j.id for j in b.plan()]
    assert len(a.cells()) == 2 * 2 * 2


@pytest.mark.parametrize("bad, match", [
    ({"alphas": [0.0, 1.5]}, r"alpha.*1\.5"),
    ({"alphas": [0.5, 0.5]}, "distinct"),
    ({"seeds": [-1]}, "seeds"),
    ({"networks": []}, "no networks"),
    ({"networks": ["no_such_network"]}, "unknown network 'no_such_network'"),
    ({"train": {"lr": -1.0}}, "lr"),
    ({"train": {"no_such_setting": 1}}, "no_such_setting"),
    ({"train": {"alphas": [0.5]}}, "set by the sweep itself"),
    ({"grid": {"sigma": []}}, r"grid\.sigma"),
    ({"evaluate": {"episodes": 0}}, "episodes"),
    ({"evaluate": {"epsiodes": 3}}, "epsiodes"),
    ({"jobs": {"cpus": 0}}, "cpus"),
    ({"network": "x"}, "unknown key"),
    ({"networks": [{"network": "camp_sample", "nodes": 500}]}, "nodes=500"),
    ({"networks": [{"network": "camp_sample", "human_weights": True}]}, "dynamic camp"),
    ({"networks": ["camp_sample", "camp_sample"]}, "appear twice"),
])
def test_bad_grids_are_named_before_any_work(tmp_path, bad, match):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(grid(**bad)))
    with pytest.raises(ValueError, match=match):
        load_sweep_spec(path)
    assert not (tmp_path / "jobs").exists()


def test_malformed_grid_files_name_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("networks: [camp_sample\n")
    with pytest.raises(ValueError, match=r"a\.yaml: not valid YAML"):
        load_sweep_spec(tmp_path / "a.yaml")
    (tmp_path / "b.json").write_text("{\"networks\": }")
    with pytest.raises(ValueError, match=r"b\.json: not valid JSON \(line 1"):
        load_sweep_spec(tmp_path / "b.json")
    (tmp_path / "c.toml").write_text("x")
    with pytest.raises(ValueError, match="must end in"):
        load_sweep_spec(tmp_path / "c.toml")
    with pytest.raises(FileNotFoundError):
        load_sweep_spec(tmp_path / "missing.yaml")


def test_jobs_split_by_max_populations_and_by_swept_settings():
    spec = SweepSpec.from_dict(grid(grid={"sigma": [0.5, 1.0]}, alphas=[0.0, 0.5, 1.0],
                                    jobs={"max_populations": 4, "cpus": 1}))
    jobs = spec.plan()
    # 2 networks x 2 sigmas x ceil(6 populations / 4) jobs
    assert len(jobs) == 2 * 2 * 2
    assert all(len(j.populations) <= 4 for j in jobs)
    cells = {(j.network.label, j.settings["sigma"], a, s) for j in jobs for a, s in j.populations}
    assert len(cells) == len(spec.cells()) == 2 * 2 * 3 * 2
    assert len({j.id for j in jobs}) == len(jobs)


def test_memory_sizing_keeps_each_job_under_the_worker_memory():
    from socialmarl.sweeps.spec import population_memory_bytes

    nets = SweepSpec.from_dict(grid()).load_networks()
    g = nets["social"].graph
    per = population_memory_bytes(g.num_nodes, g.num_edges, 2, 5)
    budget = 2.5 * per / 2**30  # room for two populations of the social piece
    spec = SweepSpec.from_dict(grid(jobs={"worker_memory_gb": budget, "cpus": 1}))
    social = [j for j in spec.plan(nets) if j.network.label == "social"]
    assert [len(j.populations) for j in social] == [2, 2]
    assert population_memory_bytes(1000, 14559, 32, 20) > population_memory_bytes(
        200, 1480, 32, 20) > population_memory_bytes(200, 1480, 8, 20)


# ---------------------------------------------------------------- the table
def test_table_is_tidy_with_a_row_per_network_alpha_seed_metric(first):
    t = first.table
    assert list(t.columns[:4]) == ["network", "kind", "alpha", "seed"]
    assert not t.duplicated(["network", "alpha", "seed", "metric"]).any()
    per_net = t.groupby("network")[["alpha", "seed"]].apply(
        lambda d: set(map(tuple, d.drop_duplicates().to_numpy())))
    assert per_net["social"] == per_net["camp"] == {(0.0, 0), (0.0, 1), (1.0, 0), (1.0, 1)}
    assert set(t[t.network == "camp"].kind) == {"camp"}
    assert set(t[t.network == "social"].kind) == {"social"}
    # attention rows only where human weights exist (the social piece, not the camp)
    att = t[t.metric.str.startswith("attention_spearman")]
    assert set(att.network) == {"social"}
    assert set(att.metric) == {"attention_spearman", "attention_spearman_uniform",
                               "attention_spearman_popularity"}
    for name in ("results.parquet", "results.csv", "sweep.json", "attention_fit.csv"):
        assert (first.out_dir / name).is_file(), name
    pd.testing.assert_frame_equal(read_results(first.out_dir), t, check_dtype=False)
    import pyarrow.parquet as pq

    meta = pq.read_schema(first.out_dir / "results.parquet").metadata
    assert json.loads(meta[b"socialmarl.sweep"]) == json.loads(
        (first.out_dir / "sweep.json").read_text())
    csv = pd.read_csv(first.out_dir / "results.csv")
    assert np.allclose(csv.value.to_numpy(float), t.value.to_numpy(float), equal_nan=True)


def test_table_values_equal_an_evaluation_of_the_saved_run(first):
    """Recompute one population's numbers from its run folder, outside the sweep."""
    t = first.table
    row = t[(t.network == "social") & (t.alpha == 1.0) & (t.seed == 1)]
    run = sm.load_run(first.out_dir / row.run_dir.iloc[0])
    (alpha, seed), policy = [(p, pol) for p, pol in zip(run.populations, run.policies)
                             if p == (1.0, 1)][0]
    rec = evaluate(policy, run.graph, alpha=alpha, episodes=6, game_config=run.config.game,
                   seed=5)
    ref = summarise(rec.outputs, rec.truth, run.graph, beliefs=rec.beliefs, flips=rec.flips,
                    edge_active=rec.edge_active, n_boot=30, seed=5).set_index("metric")
    mine = row.set_index("metric")
    for m in ("accuracy_final", "lying_rate", "edge_disagreement_final"):
        assert mine.value[m] == pytest.approx(ref.value[m], abs=1e-12), m


def test_attention_rows_equal_an_attention_fit_of_the_saved_attention(first):
    t = first.table
    learned = {}
    for folder in sorted((first.out_dir / "jobs").iterdir()):
        info = json.loads((folder / "done.json").read_text())
        if not folder.name.startswith("social"):
            continue
        att = np.load(folder / "attention.npy", allow_pickle=False)
        for (a, s), x in zip(info["populations"], att):
            learned[(a, s)] = x
    net = sm.sweeps.networks.load_sweep_network(SweepSpec.from_dict(grid()).networks[0])
    fit = sm.AttentionFit(n_boot=30, n_perm=20, seed=5).fit(net.graph, learned,
                                                            net.graph.edge_weight)
    ref = fit.table_[(fit.table_.model == "learned") & (fit.table_.metric == "spearman")]
    mine = t[(t.metric == "attention_spearman")]
    for _, r in ref.iterrows():
        got = mine[(mine.alpha == r.alpha) & (mine.seed == r.seed)].value.iloc[0]
        assert got == pytest.approx(r.value)


# ---------------------------------------------------------------- nothing lost
def test_a_second_run_skips_everything_and_gives_the_same_table(first):
    before = {p: p.stat().st_mtime_ns for p in (first.out_dir / "jobs").rglob("*")
              if p.is_file()}
    again = sweep(grid(), first.out_dir, engine="local", progress=False)
    assert again.jobs == [] and again.reused == len(SweepSpec.from_dict(grid()).plan())
    pd.testing.assert_frame_equal(again.table, first.table)
    after = {p: p.stat().st_mtime_ns for p in (first.out_dir / "jobs").rglob("*")
             if p.is_file()}
    assert after == before


def test_an_interrupted_job_resumes_to_the_uninterrupted_numbers(first, tmp_path):
    spec = SweepSpec.from_dict(grid())
    job = spec.plan()[0].to_dict()
    # an interrupted job: its run stopped after 1 of 3 updates (checkpoint written), no done
    from socialmarl.learning.trainer import Trainer
    from socialmarl.sweeps.networks import load_sweep_network

    net = load_sweep_network(spec.networks[0])
    folder = tmp_path / "jobs" / job["folder"]
    torch.set_num_threads(1)
    tr = Trainer(net.graph, out_dir=folder / "run", camp=net.camp, progress=False,
                 alphas=[0.0, 1.0], seeds=[0, 1], device="cpu", **TRAIN)
    tr.train(1)
    assert (folder / "run" / "checkpoint.pt").is_file() and job_finished(folder, job["id"]) is None
    res = run_job(job, tmp_path)
    assert res["status"] == "resumed"
    got = pd.read_csv(folder / "metrics.csv")
    ref = pd.read_csv(first.out_dir / "jobs" / job["folder"] / "metrics.csv")
    pd.testing.assert_frame_equal(got, ref)


def test_a_job_folder_without_a_checkpoint_starts_over(first, tmp_path):
    spec = SweepSpec.from_dict(grid())
    job = spec.plan()[1].to_dict()
    run = tmp_path / "jobs" / job["folder"] / "run"
    run.mkdir(parents=True)
    (run / "log.csv").write_text("update,alpha\n1,0.0\n")  # a crash before any checkpoint
    assert run_job(job, tmp_path)["status"] == "finished"
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "jobs" / job["folder"] / "metrics.csv"),
        pd.read_csv(first.out_dir / "jobs" / job["folder"] / "metrics.csv"))


def test_a_damaged_result_file_makes_the_job_run_again(first, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(first.out_dir, out)
    folder = sorted((out / "jobs").iterdir())[0]
    (folder / "metrics.csv").write_text("damaged")
    res = sweep(grid(), out, engine="local", progress=False)
    assert [j["folder"] for j in res.jobs] == [folder.name]
    pd.testing.assert_frame_equal(res.table, first.table)


def test_a_failing_job_is_reported_and_the_others_finish(tmp_path):
    spec = SweepSpec.from_dict(grid())
    bad = spec.plan()[0]
    run = tmp_path / "jobs" / bad.folder_name / "run"
    run.mkdir(parents=True)
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="1 of 2 jobs failed"):
        res = sweep(grid(), tmp_path, engine="local", progress=False)
    assert [j["status"] for j in res.jobs] == ["failed", "finished"]
    assert "checkpoint" in res.failed[0]["error"]
    assert (tmp_path / "jobs" / bad.folder_name / "error.txt").is_file()
    assert set(res.table.network) == {"camp"}
    with pytest.raises(sm.sweeps.SweepError, match="1 of 1 jobs failed"):
        sweep(grid(), tmp_path, engine="local", progress=False, raise_on_failure=True)


def test_a_changed_grid_names_new_and_dropped_cells_and_trains_only_new_ones(first, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(first.out_dir, out)
    with pytest.warns(UserWarning) as record:
        res = sweep(grid(alphas=[0.0, 0.5]), out, engine="local", progress=False)
    text = str(record[0].message)
    assert "4 new cells" in text and "alpha 0.5" in text
    assert "4 cells of the earlier grid no longer belong" in text and "alpha 1.0" in text
    assert len(res.changes["new_cells"]) == 4 and len(res.changes["dropped_cells"]) == 4
    # only the alpha 0.5 populations were trained; the alpha 0 ones came from the first run
    assert sorted(p for j in res.jobs for p in [j["populations"]]) == [2, 2]
    assert set(res.table.alpha) == {0.0, 0.5}
    keep = ["network", "alpha", "seed", "metric", "value"]
    old0 = first.table[(first.table.alpha == 0.0)
                       & ~first.table.metric.str.startswith("attention")][keep]
    new0 = res.table[(res.table.alpha == 0.0)
                     & ~res.table.metric.str.startswith("attention")][keep]
    pd.testing.assert_frame_equal(old0.reset_index(drop=True), new0.reset_index(drop=True))
    # the earlier folders are untouched
    assert all((out / "jobs" / p.name / "done.json").is_file()
               for p in (first.out_dir / "jobs").iterdir())


def test_grouping_into_jobs_does_not_change_the_numbers(first, tmp_path):
    res = sweep(grid(jobs={"max_populations": 1, "cpus": 1}), tmp_path, engine="local",
                progress=False)
    assert len(res.jobs) == 8
    keep = ["network", "alpha", "seed", "metric", "value", "ci_low", "ci_high"]
    a = first.table[keep].sort_values(keep[:4]).reset_index(drop=True)
    b = res.table[keep].sort_values(keep[:4]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, rtol=1e-5, atol=1e-6)


def test_engine_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="engine='spark'"):
        sweep(grid(), tmp_path, engine="spark", progress=False)
    with pytest.raises(ValueError, match="address is for engine='ray'"):
        sweep(grid(), tmp_path, engine="local", address="auto", progress=False)
    import socialmarl.sweeps.engines as engines

    monkeypatch.setattr(engines, "ray_available", lambda: False)
    with pytest.raises(ImportError, match=r"socialmarl\[cluster\]"):
        sweep(grid(), tmp_path, engine="ray", progress=False)
    assert engines.resolve_engine("auto") == "local"


def test_cli_sweep_writes_the_table_and_reports_failures(tmp_path, capsys):
    from socialmarl.apps.cli import main

    path = tmp_path / "g.json"
    small = grid(networks=[{"network": "camp_sample", "nodes": 8, "label": "camp"}])
    path.write_text(json.dumps(small))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--engine", "local",
                 "--no-progress", "--no-figures"]) == 0
    text = capsys.readouterr().out
    assert "1 jobs run, 0 already finished, 0 failed" in text
    assert (out / "results.parquet").is_file()
    assert main(["sweep", str(path), "--out", str(out), "--engine", "local",
                 "--no-progress", "--no-figures"]) == 0
    assert "0 jobs run, 1 already finished" in capsys.readouterr().out
    path.write_text(json.dumps(grid(alphas=[2.0])))
    assert main(["sweep", str(path), "--out", str(out), "--engine", "local"]) == 2
    assert "alpha" in capsys.readouterr().err


def test_no_warning_when_the_grid_is_unchanged(first):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep(grid(), first.out_dir, engine="local", progress=False)


def test_ray_tasks_ask_for_cpus_a_gpu_on_cuda_and_retries(monkeypatch):
    """The Ray engine's contract, with a stand-in for ray: one task per job, num_cpus from
    the job, num_gpus=1 for a sweep on cuda, retries only when a worker dies."""
    import sys
    import types

    from socialmarl.sweeps.engines import run_on_ray

    calls, done = [], []

    class Ref:
        def __init__(self, job):
            self.job = job

    class Task:
        def options(self, **kw):
            calls.append(kw)
            return self

        def remote(self, job, sweep_dir):
            return Ref(job)

    fake = types.ModuleType("ray")
    fake.is_initialized = lambda: False
    inits = []
    fake.init = lambda **kw: inits.append(kw)
    fake.shutdown = lambda: inits.append("shutdown")
    fake.remote = lambda fn: Task()
    fake.wait = lambda refs, num_returns=1: (refs[:1], refs[1:])
    fake.get = lambda ref: {"id": ref.job["id"], "status": "finished"}
    fake.exceptions = types.SimpleNamespace(RayTaskError=type("E1", (Exception,), {}),
                                            RayError=type("E2", (Exception,), {}))
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    jobs = [{"id": "a", "folder": "a", "cpus": 3, "populations": [[0.0, 0]]},
            {"id": "b", "folder": "b", "cpus": 3, "populations": [[1.0, 0]]}]
    run_on_ray(jobs, "out", lambda j, r, e: done.append((j["id"], r, e)), max_retries=5,
               gpus=1.0)
    assert [c["num_cpus"] for c in calls] == [3, 3]
    assert all(c["num_gpus"] == 1.0 and c["max_retries"] == 5 and c["retry_exceptions"] is False
               for c in calls)
    assert [d[0] for d in done] == ["a", "b"] and all(d[2] is None for d in done)
    assert inits[0] == {"include_dashboard": False, "log_to_driver": False}
    assert inits[-1] == "shutdown"  # a Ray instance the sweep started is stopped
    inits.clear()
    monkeypatch.setenv("RAY_ADDRESS", "head:6379")
    run_on_ray(jobs[:1], "out", lambda j, r, e: None)
    assert inits[0]["address"] == "head:6379"


# ---------------------------------------------------------------- review findings
def test_every_job_is_an_alphas_by_seeds_block():
    """A trainer trains every alpha with every seed: a job listing a ragged set of
    populations would train more than it lists."""
    from socialmarl.apps.reproduce import preset_sweep
    from socialmarl.sweeps.spec import population_blocks

    for spec in (preset_sweep("paper"), SweepSpec.from_dict(
            grid(alphas=[0.0, 0.3, 0.6, 1.0], seeds=[0, 1, 2],
                 jobs={"max_populations": 2, "cpus": 1}))):
        jobs = spec.plan()
        for j in jobs:
            assert len(j.populations) == len(j.alphas) * len(j.seeds)
            assert set(j.populations) == {(a, s) for a in j.alphas for s in j.seeds}
        per_net = {}
        for j in jobs:
            per_net.setdefault(j.network.label, []).extend(j.populations)
        assert all(len(p) == len(set(p)) == len(spec.alphas) * len(spec.seeds)
                   for p in per_net.values())
    blocks = population_blocks([0.0, 1.0], [0, 1, 2, 3, 4], 3)
    assert [len(b) for b in blocks] == [3, 2, 3, 2]


def test_missing_cells_are_trained_as_blocks_and_nothing_twice(first, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(first.out_dir, out)
    # a new alpha (all seeds) and a new seed (all alphas): not one alphas x seeds block
    with pytest.warns(UserWarning, match="new cells"):
        res = sweep(grid(alphas=[0.0, 0.5, 1.0], seeds=[0, 1, 2]), out, engine="local",
                    progress=False)
    trained = []
    for j in res.jobs:
        info = json.loads((out / "jobs" / j["folder"] / "done.json").read_text())
        trained += [(j["folder"].rsplit("-", 1)[0], *p) for p in info["populations"]]
        pops = {tuple(p) for p in info["populations"]}
        alphas, seeds = {a for a, _ in pops}, {s for _, s in pops}
        assert pops == {(a, s) for a in alphas for s in seeds}
    # per network: exactly the 9 - 4 = 5 missing cells
    assert len(trained) == len(set(trained)) == 2 * 5
    assert len(res.table.groupby(["network", "alpha", "seed"])) == 2 * 9


def test_a_job_is_identified_by_its_graph_not_by_how_it_was_named(first, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(first.out_dir, out)
    renamed = grid()
    renamed["networks"] = [{"network": "bluesky_sample", "nodes": 24, "label": "bsky"},
                           {"network": "camp_sample", "nodes": 10, "label": "camp"}]
    with pytest.warns(UserWarning, match="0 populations trained now, the other cells were "
                      "found finished"):
        res = sweep(renamed, out, engine="local", progress=False)
    assert res.jobs == []  # the same graphs: nothing is trained again
    assert set(res.table.network) == {"bsky", "camp"}  # labels from the grid, not the files
    same = grid()
    same["networks"] = [{"network": "camp_sample", "nodes": 10, "label": "a"},
                        {"network": "camp_sample", "nodes": 10, "label": "b"}]
    with pytest.raises(ValueError, match="'a' and 'b' are the same graph"):
        SweepSpec.from_dict(same).plan()
    other = SweepSpec.from_dict(grid(networks=[{"network": "camp_sample", "nodes": 11}]))
    assert other.plan()[0].base_id not in {j.base_id for j in SweepSpec.from_dict(
        grid()).plan()}


def test_a_setting_moved_into_the_grid_keeps_its_cells_and_gets_its_column(first, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(first.out_dir, out)
    train = {k: v for k, v in TRAIN.items() if k != "episode_length"}
    with pytest.warns(UserWarning, match="8 populations trained now"):
        res = sweep(grid(train=train, grid={"episode_length": [5, 6]}), out, engine="local",
                    progress=False)
    assert sum(j["populations"] for j in res.jobs) == 2 * 4  # only episode_length 6 trains
    assert list(res.table.columns[:3]) == ["network", "kind", "episode_length"]
    assert set(res.table.episode_length) == {5, 6}
    assert not res.table.episode_length.isna().any()


def test_grid_values_and_evaluation_rules_are_checked_before_any_work(tmp_path):
    for bad, match in (({"grid": {"experts": [[0], [0, 1]]}}, "single numbers"),
                       ({"grid": {"sigma": [0.5, 0.5]}}, "appears twice"),
                       ({"grid": {"sigma": [1, 1.0]}}, "appears twice"),
                       ({"evaluate": {"game": {"p_signl": 0.0}}}, "p_signl"),
                       ({"evaluate": {"game": {"alpha": 0.5}}}, "set by the evaluation"),
                       ({"networks": [{"network": "camp_sample",
                                       "train": {"lr": -1.0}}]}, "lr")):
        with pytest.raises(ValueError, match=match):
            SweepSpec.from_dict(grid(**bad))
    # YAML 1.1 reads 1e-3 as a string: it is taken as the number it spells
    spec = SweepSpec.from_dict(grid(train={**TRAIN, "lr": "1e-3"}, grid={"sigma": ["0.5"]}))
    assert spec.train["lr"] == 1e-3 and spec.grid["sigma"] == [0.5]


def test_a_folder_that_is_not_a_sweeps_is_not_written_into(tmp_path):
    (tmp_path / "results.csv").write_text("mine\n")
    with pytest.raises(FileExistsError, match="not a sweep's folder"):
        sweep(grid(), tmp_path, engine="local", progress=False)
    assert (tmp_path / "results.csv").read_text() == "mine\n"


def test_a_named_cluster_without_ray_is_an_error_not_a_local_run(monkeypatch):
    import socialmarl.sweeps.engines as engines

    monkeypatch.setattr(engines, "ray_available", lambda: False)
    with pytest.raises(ImportError, match="Ray is not installed"):
        engines.resolve_engine("auto", "head:6379")
    monkeypatch.setenv("RAY_ADDRESS", "head:6379")
    with pytest.raises(ImportError, match="Ray is not installed"):
        engines.resolve_engine("auto")
    assert engines.resolve_engine("local") == "local"  # an explicit local run still works
