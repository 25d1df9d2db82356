"""Teaching widgets: play the consensus game with sliders and watch what changes.

:func:`explore_game` is a pure function: it builds a network, plays one short batched
episode of :class:`~socialmarl.game.ConsensusGame` with a hand-written strategy of
:mod:`socialmarl.heuristics`, and returns a figure (accuracy and agreement over the steps;
the network coloured by the stated opinions at the last step) together with the numbers it
plotted. :func:`game_explorer` wraps it in ipywidgets sliders when a widget front end can
be reached and otherwise returns the static figure.

The rule for "a widget front end can be reached" (:func:`widget_frontend_available`):
ipywidgets imports, *and* the code runs inside an IPython kernel (``get_ipython()`` has a
``kernel``) whose kernel has a comm manager (the channel widgets talk through). A plain
Python process, a terminal IPython session or a missing ipywidgets give the static figure;
``static=True`` forces it, ``static=False`` forces the widgets. Headless kernels
(``jupyter nbconvert --execute``, nbval) also have a comm manager, so they build the
widgets too; nothing renders them there.

Everything is seeded by one ``seed`` (graph, game and layout): the same arguments always
give the same numbers and the same picture.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .game import ConsensusGame
from .heuristics import STRATEGIES
from .networks.generators import (
    barabasi_albert_graph,
    complete_graph,
    karate_club,
    ring_graph,
    stochastic_block_graph,
    watts_strogatz_graph,
)
from .networks.graph import Graph
from .observation import to_env_actions
from .plots import plot_network_opinions, plot_over_steps

__all__ = [
    "FAMILIES",
    "WIDGET_RANGES",
    "make_network",
    "explore_game",
    "widget_frontend_available",
    "game_explorer",
]

#: Network families of the explorer: key -> what it is.
FAMILIES: dict[str, str] = {
    "ring": "ring, each agent sees 2 neighbours on each side",
    "small_world": "Watts-Strogatz small world (k=4, rewiring p=0.1)",
    "barabasi_albert": "Barabasi-Albert preferential attachment (m=2)",
    "sbm": "two polarised communities (SBM, ~6 friends inside, ~0.3 across)",
    "complete": "complete graph, everybody sees everybody",
    "karate_club": "Zachary's karate club (34 members; n is ignored)",
}

#: Slider ranges ``(min, max, step)`` of the widgets; :func:`explore_game` accepts the same.
WIDGET_RANGES: dict[str, tuple[float, float, float]] = {
    "alpha": (0.0, 1.0, 0.05),
    "sigma": (0.0, 3.0, 0.1),
    "n": (6, 200, 2),
    "episodes": (1, 64, 1),
    "steps": (1, 30, 1),
}


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not (lo <= v <= hi):
        raise ValueError(f"{name}={v!r}: need an integer in [{lo}, {hi}]")
    return int(v)


def _check_float(name: str, v: Any, lo: float, hi: float, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}={v!r}: need a number in [{lo}, {hi}] ({what})")
    v = float(v)
    if math.isnan(v) or not (lo <= v <= hi):
        raise ValueError(f"{name}={v!r} is outside [{lo}, {hi}]; {what}")
    return v


def make_network(family: str, n: int = 60, *, seed: int = 0) -> Graph:
    """The explorer's network of one family (see :data:`FAMILIES`), seeded.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    n : int
        Number of agents, 6 to 200 (ignored by ``"karate_club"``, which has 34).
    seed : int
        Seed of the random families.

    Examples
    --------
    >>> g = make_network("ring", 6)
    >>> g.num_nodes, g.in_degree().tolist()
    (6, [4, 4, 4, 4, 4, 4])
    >>> make_network("sbm", 20, seed=1).node_attrs["block"][-1]
    1
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown network family {family!r}; choose one of {list(FAMILIES)}")
    lo, hi, _ = WIDGET_RANGES["n"]
    n = _check_int("n", n, int(lo), int(hi))
    seed = _check_int("seed", seed, 0, 2**31 - 1)
    if family == "ring":
        return ring_graph(n, k=2)
    if family == "small_world":
        return watts_strogatz_graph(n, 4, 0.1, seed=seed)
    if family == "barabasi_albert":
        return barabasi_albert_graph(n, 2, seed=seed)
    if family == "sbm":
        half = n // 2
        p_in = min(1.0, 6.0 / max(half - 1, 1))
        p_out = min(1.0, 0.3 / max(n - half, 1))
        return stochastic_block_graph([half, n - half], p_in, p_out, seed=seed)
    if family == "complete":
        return complete_graph(n)
    return karate_club()


def _play(game: ConsensusGame, strategy: str) -> tuple[pd.DataFrame, np.ndarray]:
    """One episode: per-step means over environments, and environment 0's outputs (T, N)."""
    policy = STRATEGIES[strategy]
    obs = game.reset()
    rows, outputs = [], []
    for t in range(game.config.episode_length):
        own = obs.to_agent_frame()
        actions = to_env_actions(policy(own), own.flips)
        obs, reward, _, info = game.step(actions)
        outputs.append(actions[0].cpu().numpy())
        rows.append({
            "step": t,
            "accuracy": float(info["accuracy"].mean()),
            "agreement": float(info["agreement"].mean()),
            "reward": float(reward.mean()),
            "truth_reward": float(info["truth_reward"].mean()),
            "conformity_reward": float(info["conformity_reward"].mean()),
            "truth_env0": int(info["truth"][0]),
        })
    return pd.DataFrame(rows), np.stack(outputs)


def explore_game(
    alpha: float = 0.5,
    sigma: float = 1.0,
    family: str = "small_world",
    n: int = 60,
    strategy: str = "signal_then_majority",
    other_play: bool = False,
    episodes: int = 16,
    steps: int = 10,
    seed: int = 0,
) -> tuple[Figure, pd.DataFrame]:
    """Play one short episode in ``episodes`` parallel games and draw what happened.

    Parameters
    ----------
    alpha : float in [0, 1]
        Truth weight of the reward (1 - alpha rewards conformity).
    sigma : float in [0, 3]
        Signal noise.
    family : str
        Network family, a key of :data:`FAMILIES`.
    n : int in [6, 200]
        Number of agents (the karate club always has 34).
    strategy : str
        A key of :data:`socialmarl.heuristics.STRATEGIES` (``follow_signal``,
        ``signal_then_majority``, ``always_one``).
    other_play : bool
        Relabel 0 and 1 per agent at random (the strategy acts in its own frame).
    episodes : int in [1, 64]
        Parallel environments (the lines are means over them).
    steps : int in [1, 30]
        Episode length ``T``.
    seed : int
        Seeds the graph, the game and the layout.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Left: ``accuracy`` and ``agreement`` against the step, and the accuracy of the own
        signal alone, ``Phi(1 / (2 sigma))``, dashed. Right: environment 0's network at the
        last step, nodes coloured by stated opinion. Made without pyplot (nothing to close).
    table : pandas.DataFrame
        One row per step: ``step`` (0-based), the plotted ``accuracy`` and ``agreement``,
        mean ``reward``, ``truth_reward`` and ``conformity_reward``, and ``truth_env0``.

    Examples
    --------
    >>> fig, table = explore_game(family="ring", n=12, strategy="follow_signal", steps=3)
    >>> list(table.columns[:3]), len(table)
    (['step', 'accuracy', 'agreement'], 3)
    >>> fig.axes[0].lines[0].get_ydata().tolist() == table["accuracy"].tolist()
    True
    >>> explore_game(alpha=2)
    Traceback (most recent call last):
    ...
    ValueError: alpha=2.0 is outside [0.0, 1.0]; alpha weights truth (1) against conformity (0)
    """
    alpha = _check_float("alpha", alpha, 0.0, 1.0, "alpha weights truth (1) against conformity (0)")
    sigma = _check_float("sigma", sigma, 0.0, 3.0, "sigma is the signal noise")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    if not isinstance(other_play, (bool, np.bool_)):
        raise ValueError(f"other_play={other_play!r}: need True or False")
    episodes = _check_int("episodes", episodes, 1, int(WIDGET_RANGES["episodes"][1]))
    steps = _check_int("steps", steps, 1, int(WIDGET_RANGES["steps"][1]))
    graph = make_network(family, n, seed=seed)
    game = ConsensusGame(graph, num_envs=episodes, episode_length=steps, alpha=alpha,
                         sigma=sigma, other_play=bool(other_play), seed=seed)
    table, outputs = _play(game, strategy)

    fig = Figure(figsize=(10.5, 4.4), layout="constrained")
    ax_lines, ax_net = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1.0]})
    long = table.melt(id_vars="step", value_vars=["accuracy", "agreement"], var_name="metric")
    plot_over_steps(long, ["accuracy", "agreement"], ax=ax_lines)
    alone = 1.0 if sigma == 0 else 0.5 * (1.0 + math.erf(0.5 / sigma / math.sqrt(2.0)))
    ax_lines.axhline(alone, ls="--", lw=1, color="0.4", label="own signal alone")
    ax_lines.set_ylim(-0.02, 1.02)
    ax_lines.legend(frameon=False, fontsize="small", loc="lower right")
    op = ", other-play" if other_play else ""
    ax_lines.set_ylabel("share of agents / of edges")
    ax_lines.set_title(f"{strategy}: alpha={alpha:g}, sigma={sigma:g}{op} ({episodes} games)\n"
                       f"mean reward per agent and step {table['reward'].mean():+.4f}",
                       fontsize="medium")
    pos = None
    if family in ("ring", "complete"):
        pos = nx.circular_layout(graph.to_networkx())
    plot_network_opinions(graph, outputs, step=-1, seed=seed, pos=pos, ax=ax_net,
                          node_size=60.0 if graph.num_nodes <= 80 else 25.0)
    ax_net.set_title(f"{graph.name}: game 0 at step {steps - 1} (truth = "
                     f"{int(table['truth_env0'].iloc[-1])})", fontsize="medium")
    return fig, table


def widget_frontend_available() -> bool:
    """Whether ipywidgets can be shown: ipywidgets imports and an IPython kernel with a comm
    manager runs this code.

    Examples
    --------
    >>> widget_frontend_available()  # plain Python (doctest): no kernel
    False
    """
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None) if shell is not None else None
    return getattr(kernel, "comm_manager", None) is not None


def game_explorer(static: bool | None = None, **defaults: Any) -> Any:
    """Sliders over :func:`explore_game`, or its static figure without a widget front end.

    Parameters
    ----------
    static : bool, optional
        ``True``: return the static figure; ``False``: build the widgets (needs
        ipywidgets); ``None`` (default): widgets when :func:`widget_frontend_available`.
    **defaults
        Starting values for :func:`explore_game` (``alpha``, ``sigma``, ``family``, ``n``,
        ``strategy``, ``other_play``, ``episodes``, ``steps``, ``seed``); checked first.
        ``seed`` stays fixed in the widgets.

    Returns
    -------
    ipywidgets.interactive or matplotlib.figure.Figure
        The widget box (sliders, drop-downs and an output area; ``.result`` holds the
        latest ``(figure, table)``), or the figure.

    Examples
    --------
    >>> fig = game_explorer(static=True, family="complete", n=8, steps=2)
    >>> type(fig).__name__
    'Figure'
    """
    unknown = sorted(set(defaults) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown}; choose from {list(_DEFAULTS)}")
    values = {**_DEFAULTS, **defaults}
    if static is None:
        static = not widget_frontend_available()
    if static:
        return explore_game(**values)[0]
    explore_game(**{**values, "episodes": 1, "steps": 1})  # validates the starting values
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError as err:
        raise ImportError(
            "game_explorer(static=False) needs ipywidgets: pip install ipywidgets, or pass "
            "static=True for the figure"
        ) from err

    def slider(cls: Any, name: str) -> Any:
        lo, hi, step = WIDGET_RANGES[name]
        return cls(value=values[name], min=lo, max=hi, step=step, description=name,
                   continuous_update=False)

    def draw(**kw: Any) -> tuple[Figure, pd.DataFrame]:
        fig, table = explore_game(**kw)
        display(fig)
        return fig, table

    return w.interactive(
        draw,
        alpha=slider(w.FloatSlider, "alpha"),
        sigma=slider(w.FloatSlider, "sigma"),
        family=w.Dropdown(options=[(v.split(" (")[0].split(",")[0], k) for k, v in
                                   FAMILIES.items()], value=values["family"],
                          description="network"),
        n=slider(w.IntSlider, "n"),
        strategy=w.Dropdown(options=list(STRATEGIES), value=values["strategy"],
                            description="strategy"),
        other_play=w.Checkbox(value=bool(values["other_play"]), description="other-play"),
        episodes=slider(w.IntSlider, "episodes"),
        steps=slider(w.IntSlider, "steps"),
        seed=w.fixed(values["seed"]),
    )


_DEFAULTS: dict[str, Any] = {
    "alpha": 0.5,
    "sigma": 1.0,
    "family": "small_world",
    "n": 60,
    "strategy": "signal_then_majority",
    "other_play": False,
    "episodes": 16,
    "steps": 10,
    "seed": 0,
}
