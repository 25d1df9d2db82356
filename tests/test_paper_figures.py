"""Paper figures: drawn data equal the seed-level numbers, labels in words, skips and saving."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from scipy import stats  # noqa: E402

from socialmarl.analysis.paper_figures import (  # noqa: E402
    FIGURE_NAMES,
    FigureSkipped,
    paper_figures,
    save_paper_figures,
)
from tests.synthetic_sweep import synthetic_table  # noqa: E402

NB = 300


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _seed_cell(t, net, alpha, metric, ci=0.95):
    """Mean and Student-t interval over seeds, recomputed with scipy."""
    v = t[(t.network == net) & np.isclose(t.alpha, alpha) & (t.metric == metric)].value
    return v.mean(), *stats.t.interval(ci, v.size - 1, loc=v.mean(), scale=stats.sem(v))


def _seed_cell_bootstrap(t, net, alpha, metric, n_boot=NB, seed=0, ci=0.95):
    """Mean and percentile interval over seeds, recomputed with NumPy (seeds sorted by id)."""
    v = t[(t.network == net) & np.isclose(t.alpha, alpha) & (t.metric == metric)]
    v = v.sort_values("seed").value.to_numpy()
    rng = np.random.default_rng(seed)
    reps = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(1)
    return v.mean(), *np.quantile(reps, [(1 - ci) / 2, 1 - (1 - ci) / 2])


def _texts(ax):
    out = [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
    if ax.get_legend() is not None:
        out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if getattr(a, "get_gid", lambda: None)() == gid]


def test_all_four_figures_labelled_in_words_with_networks_in_legends():
    t = synthetic_table()
    figs = paper_figures(t, n_boot=NB)
    assert list(figs) == list(FIGURE_NAMES) and figs.skipped == {}
    for name, fig in figs.items():
        assert fig._suptitle is not None and fig._suptitle.get_text()
        letters = []
        for ax in fig.axes:
            texts = _texts(ax)
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title(), name
            assert not any("_" in s for s in texts), (name, texts)
            assert ax.lines, f"{name}: an axes without data"
            letters += [x.get_text() for x in ax.texts if x.get_gid() == "panel-label"]
        assert letters == list("abc"[:len(fig.axes)]), name
        legend = " ".join(s for ax in fig.axes for s in _texts(ax))
        nets = ["bluesky-like"] if name == "attention_conformity" else ["bluesky-like", "camp"]
        assert all(n in legend for n in nets), (name, legend)
        assert "conformity 1 - α" in [ax.get_xlabel() for ax in fig.axes]


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_accuracy_lines_and_bands_are_the_seed_level_numbers(method):
    t = synthetic_table(seeds=4, noise=0.03)
    kw = {} if method == "t" else dict(method="bootstrap")  # Student-t bands by default
    ax = paper_figures(t, n_boot=NB, **kw)["accuracy_conformity"].axes[0]
    cell = _seed_cell if method == "t" else _seed_cell_bootstrap
    for net in ("bluesky-like", "camp"):
        (line,) = _by_gid(ax, f"{net}:line")
        (band,) = _by_gid(ax, f"{net}:band")
        assert isinstance(band, PolyCollection)
        alphas = sorted(t.alpha.unique(), reverse=True)  # conformity increasing
        want = np.array([cell(t, net, a, "accuracy_final") for a in alphas])
        np.testing.assert_allclose(line.get_xdata(), [1 - a for a in alphas])
        np.testing.assert_allclose(line.get_ydata(), want[:, 0])
        ys = band.get_paths()[0].vertices[:, 1]
        for v in want[:, 1:].ravel():
            assert np.isclose(ys, v).any()
        assert ys.min() == pytest.approx(want[:, 1].min())
        assert ys.max() == pytest.approx(want[:, 2].max())


def test_lying_markers_are_hollow_where_beliefs_are_uninformative():
    t = synthetic_table(informative_above=0.6)
    fig = paper_figures(t, n_boot=NB)["lying_conformity"]
    ax = fig.axes[0]
    (hollow,) = _by_gid(ax, "bluesky-like:hollow")
    (filled,) = _by_gid(ax, "bluesky-like:filled")
    np.testing.assert_allclose(sorted(hollow.get_xdata()), [0.5, 0.75, 1.0])
    np.testing.assert_allclose(sorted(filled.get_xdata()), [0.0, 0.25])
    assert hollow.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))
    # belief panels with the own-signal baselines and the chance / coin-flip references
    assert [a.get_ylabel().replace("\n", " ").split(" (")[0] for a in fig.axes[1:]] == [
        "final belief accuracy", "final belief Brier score"]
    (base,) = _by_gid(fig.axes[1], "bluesky-like:baseline")
    want = [_seed_cell(t, "bluesky-like", a, "signal_accuracy")[0] for a in (1, .75, .5, .25, 0)]
    np.testing.assert_allclose(base.get_ydata(), want)
    refs = [ln.get_ydata()[0] for a in fig.axes[1:] for ln in _by_gid(a, "reference")]
    assert refs == [0.5, 0.25]


def test_social_vs_camp_draws_changes_from_alpha_one():
    t = synthetic_table(seeds=4, noise=0.02)
    fig = paper_figures(t, n_boot=NB)["social_vs_camp"]
    assert len(fig.axes) == 2
    for ax, m in zip(fig.axes, ["accuracy_final", "agreement_final"]):
        for net in ("bluesky-like", "camp"):
            (line,) = _by_gid(ax, f"{net}:line")
            d = t[(t.network == net) & (t.metric == m)].groupby("alpha").value.mean()
            np.testing.assert_allclose(line.get_ydata(), (d - d[1.0]).to_numpy()[::-1])
            (band,) = _by_gid(ax, f"{net}:band")
            # the band at alpha 0: Welch's t interval of (alpha 0) - (alpha 1) over seeds
            a0, a1 = (t[(t.network == net) & (t.metric == m) & (t.alpha == a)].value
                      for a in (0.0, 1.0))
            ci = stats.ttest_ind(a0, a1, equal_var=False).confidence_interval(0.95)
            ys = band.get_paths()[0].vertices[:, 1]
            assert np.isclose(ys, ci.low).any() and np.isclose(ys, ci.high).any()
        assert line.get_linestyle() == "--"  # the camp is dashed


def test_attention_baselines_are_horizontal_lines_with_intervals():
    t = synthetic_table(uniform=0.05, popularity=0.15)
    ax = paper_figures(t, n_boot=NB)["attention_conformity"].axes[0]
    (u,) = _by_gid(ax, "bluesky-like:uniform")
    (p,) = _by_gid(ax, "bluesky-like:popularity")
    assert list(u.get_ydata()) == [pytest.approx(0.05)] * 2
    assert list(p.get_ydata()) == [pytest.approx(0.15)] * 2
    assert _by_gid(ax, "bluesky-like:uniform-interval")
    (best,) = _by_gid(ax, "bluesky-like:best")
    assert list(best.get_xdata()) == [1.0]  # alpha 0: the most conforming population


def test_absent_inputs_skip_figures_with_a_reason_never_empty_axes():
    t = synthetic_table(networks={"bluesky-like": "social"}, human=())
    t = t[t.metric != "lying_rate"]
    with pytest.warns(FigureSkipped) as rec:
        figs = paper_figures(t, n_boot=NB)
    assert list(figs) == ["accuracy_conformity"]
    assert set(figs.skipped) == {"lying_conformity", "social_vs_camp", "attention_conformity"}
    assert "no camp" in figs.skipped["social_vs_camp"]
    assert "human weights" in figs.skipped["attention_conformity"]
    assert len(rec) == 3
    # without belief metrics the lying panel stands alone, every marker hollow
    t = synthetic_table()
    t = t[~t.metric.str.startswith("belief_")]
    fig = paper_figures(t, n_boot=NB)["lying_conformity"]
    assert len(fig.axes) == 1 and "not measured" in fig.axes[0].get_title()
    assert not len(_by_gid(fig.axes[0], "bluesky-like:filled")[0].get_xdata())


def test_save_paper_figures_writes_png_and_svg_and_refuses_a_second_time(tmp_path):
    t = synthetic_table(seeds=3, networks={"bluesky-like": "social", "camp": "camp"})
    paths = save_paper_figures(t, tmp_path, n_boot=100)
    assert sorted(p.name for p in paths) == sorted(
        f"{n}.{f}" for n in FIGURE_NAMES for f in ("png", "svg"))
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" if p.suffix == ".png" else b"<svg" in data
    svg = (tmp_path / "accuracy_conformity.svg").read_text()
    assert "final accuracy (share of agents right)" in svg.replace("\n", " ") or (
        "final accuracy (share of agents" in svg)
    before = {p: p.stat().st_mtime_ns for p in paths}
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_paper_figures(t, tmp_path, n_boot=100)
    assert {p: p.stat().st_mtime_ns for p in paths} == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = save_paper_figures(t, tmp_path, n_boot=100, overwrite=True)
    assert sorted(again) == sorted(paths)
    assert plt.get_fignums() == []  # closed after saving
