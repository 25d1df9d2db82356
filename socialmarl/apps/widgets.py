"""Teaching widgets: play the consensus game with sliders and watch what changes.

:func:`explore_game` is a pure function: it builds a network, plays one short batched
episode of :class:`~socialmarl.game.game.ConsensusGame` with a hand-written strategy of
:mod:`socialmarl.game.strategies` (or, given ``policy=``, a trained
:class:`~socialmarl.learning.policy.AttentionPolicy`), and returns a figure (accuracy and agreement
over the steps; the reward and its two weighted parts, ``alpha x truth`` and
``(1 - alpha) x conformity``, over the steps; the network coloured by the stated opinions at
the last step) together with the numbers it plotted. :func:`game_explorer` wraps it in
ipywidgets sliders when a widget front end can be reached and otherwise returns the static
figure.

The rule for "a widget front end can be reached" (:func:`widget_frontend_available`):
ipywidgets imports, *and* the code runs inside an IPython kernel (``get_ipython()`` has a
``kernel``) whose kernel has a comm manager (the channel widgets talk through). A plain
Python process, a terminal IPython session or a missing ipywidgets give the static figure;
``static=True`` forces it, ``static=False`` forces the widgets. Headless kernels
(``jupyter nbconvert --execute``, nbval) also have a comm manager, so they build the
widgets too; nothing renders them there.

Everything is seeded by one ``seed`` (graph, game, layout and a policy's action sampling):
the same arguments always give the same numbers and the same picture.

What alpha moves: a hand-written strategy ignores alpha, and a trained policy does not
observe it (it learned its behaviour at its training alpha), so accuracy, agreement and
the network picture stay put when only alpha changes; the reward panel shows what alpha
does to the same play, re-weighting truth against conformity.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from ..analysis.plots import plot_network_opinions, plot_over_steps
from ..common.checks import as_float, as_int
from ..game import measures
from ..game.game import ConsensusGame
from ..game.measures import lies
from ..game.observation import to_env_actions
from ..game.strategies import STRATEGIES
from ..learning.actions import sample_actions
from ..learning.policy import AttentionPolicy
from ..networks.generators import (
    barabasi_albert_graph,
    complete_graph,
    karate_club,
    ring_graph,
    stochastic_block_graph,
    watts_strogatz_graph,
)
from ..networks.graph import Graph

__all__ = [
    "FAMILIES",
    "FAMILY_LABELS",
    "FIXED_SIZES",
    "LEARNED",
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
    "karate_club": "Zachary's karate club (34 members; the size is fixed)",
}

#: Short labels of the families in the widget's drop-down (the long text is its tooltip).
FAMILY_LABELS: dict[str, str] = {
    "ring": "ring",
    "small_world": "small world (Watts-Strogatz)",
    "barabasi_albert": "Barabasi-Albert",
    "sbm": "two communities (SBM)",
    "complete": "complete graph",
    "karate_club": "karate club (34)",
}

#: Families of a fixed size: ``n`` does not apply and the widget's ``n`` slider is disabled.
FIXED_SIZES: dict[str, int] = {"karate_club": 34}

#: The widget's strategy entry that plays the ``policy`` given to :func:`game_explorer`.
LEARNED = "learned policy"

#: Slider ranges ``(min, max, step)`` of the widgets; :func:`explore_game` accepts the same.
WIDGET_RANGES: dict[str, tuple[float, float, float]] = {
    "alpha": (0.0, 1.0, 0.05),
    "sigma": (0.0, 3.0, 0.1),
    "n": (6, 200, 2),
    "episodes": (1, 64, 1),
    "steps": (1, 30, 1),
}


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
    n = as_int(n, "n", minimum=int(lo), maximum=int(hi))
    seed = as_int(seed, "seed", minimum=0, maximum=2**31 - 1)
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


def _play(
    game: ConsensusGame, strategy: str, policy: AttentionPolicy | None, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """One episode: per-step means over environments, and environment 0's outputs (T, N).

    A ``policy`` samples its actions like :func:`socialmarl.analysis.evaluation.evaluate`
    (Gumbel-max on its logits, a generator seeded with ``seed + 1``), from its own GRU state.
    """
    alpha = float(game.config.alpha)
    dev = game.device
    gen = torch.Generator(device=dev).manual_seed(seed + 1)
    obs = game.reset()
    h = None if policy is None else policy.initial_state(game.config.num_envs, dev)
    rows, outputs = [], []
    for t in range(game.config.episode_length):
        own = obs.to_agent_frame()
        lying = float("nan")
        if policy is None:
            actions = STRATEGIES[strategy](own)
        else:
            out = policy(own, h)
            h = out.hidden
            actions = sample_actions(out.logits, gen)
            # pooled over environments and agents (the last two axes); NaN if none guesses
            lying = float(measures.lying_rate(lies(actions, out.belief), actions))
        env_actions = to_env_actions(actions, own.flips)
        obs, reward, _, info = game.step(env_actions)
        outputs.append(env_actions[0].cpu().numpy())
        truth_r = float(info["truth_reward"].mean())
        conf_r = float(info["conformity_reward"].mean())
        rows.append({
            "step": t,
            "accuracy": float(info["accuracy"].mean()),
            "agreement": float(info["agreement"].nanmean()),  # NaN: no active edge
            "reward": float(reward.mean()),
            "truth_reward": truth_r,
            "conformity_reward": conf_r,
            "truth_term": alpha * truth_r,
            "conformity_term": (1.0 - alpha) * conf_r,
            "wait_rate": float(measures.wait_rate(env_actions).mean()),
            "lying_rate": lying,
            "truth_env0": int(info["truth"][0]),
        })
    return pd.DataFrame(rows), np.stack(outputs)


def _check_policy(policy: Any, graph: Graph, family: str) -> AttentionPolicy:
    if not isinstance(policy, AttentionPolicy):
        raise ValueError(
            f"policy must be a trained socialmarl AttentionPolicy (e.g. from "
            f"sm.load_population), got {type(policy).__name__}"
        )
    if policy.num_agents != graph.num_nodes:
        fixed = FIXED_SIZES.get(family)
        fix = (f"choose n={policy.num_agents}" if fixed is None else
               f"choose a family of adjustable size with n={policy.num_agents}")
        raise ValueError(
            f"the policy plays {policy.num_agents} agents but the {family!r} network has "
            f"{graph.num_nodes}; {fix} (or the network it was trained on)"
        )
    return policy


def _legend_below(ax: Any, ncols: int) -> None:
    """A legend in rows under the panel, where it covers no line."""
    ax.legend(frameon=False, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncols=ncols, handlelength=1.6, columnspacing=1.0)


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
    policy: AttentionPolicy | None = None,
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
        Number of agents (not used by the families of :data:`FIXED_SIZES`: the karate club
        always has 34).
    strategy : str
        A key of :data:`socialmarl.game.strategies.STRATEGIES` (``follow_signal``,
        ``signal_then_majority``, ``always_one``); not used when ``policy`` is given.
    other_play : bool
        Relabel 0 and 1 per agent at random (the strategy acts in its own frame).
    episodes : int in [1, 64]
        Parallel environments (the lines are means over them).
    steps : int in [1, 30]
        Episode length ``T``.
    seed : int
        Seeds the graph, the game, the layout and the policy's action sampling.
    policy : AttentionPolicy, optional
        A trained population (e.g. from :func:`socialmarl.load_population`) for the same
        number of agents as the network; it plays instead of ``strategy``, sampling its
        actions like :func:`socialmarl.analysis.evaluation` does (on the policy's device; a
        2-action policy plays without the wait action). The policy does not observe alpha:
        its behaviour (accuracy, agreement, waits, lies, the network picture) responds to
        alpha only through retraining at another alpha, and moving alpha here changes only
        how its play is rewarded.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Top left (``fig.axes[0]``): ``accuracy`` and ``agreement`` against the step, the
        accuracy of the own signal alone, ``Phi(1 / (2 sigma))``, dashed, and with a policy
        ``waiting`` and ``lying`` (``wait_rate`` and ``lying_rate`` of ``table``). Right
        (``fig.axes[1]``): environment 0's network at the last step, nodes coloured by
        stated opinion, the legend below it. Bottom left (``fig.axes[2]``): the
        mean ``reward`` and its two parts ``alpha x truth`` and ``(1 - alpha) x
        conformity`` (solid; the parts add up to the reward), and the unweighted truth and
        conformity rewards (dotted), on a fixed scale; each line's gid is its column of
        ``table``. Made without pyplot (nothing to close).
    table : pandas.DataFrame
        One row per step: ``step`` (0-based), the plotted ``accuracy`` and ``agreement``,
        the mean ``reward`` per agent, its unweighted parts ``truth_reward`` and
        ``conformity_reward`` (means of the game's ``info``), the weighted parts
        ``truth_term = alpha * truth_reward`` and ``conformity_term = (1 - alpha) *
        conformity_reward``, ``wait_rate`` (share of agents waiting), ``lying_rate``
        (share of definite guesses against the agent's own belief head, pooled over the
        environments; NaN at a step where nobody guesses, and for a hand-written strategy,
        which has no belief) and ``truth_env0``. ``agreement`` averages the environments
        with an active edge.

    Examples
    --------
    >>> fig, table = explore_game(family="ring", n=12, strategy="follow_signal", steps=3)
    >>> list(table.columns[:3]), len(table)
    (['step', 'accuracy', 'agreement'], 3)
    >>> fig.axes[0].lines[0].get_ydata().tolist() == table["accuracy"].tolist()
    True
    >>> bool(abs(table["truth_term"] + table["conformity_term"] - table["reward"]).max() < 1e-6)
    True

    A (here untrained) population of 12 agents plays instead of a strategy:

    >>> from socialmarl.learning.policy import AttentionPolicy
    >>> _ = torch.manual_seed(0)
    >>> fig, table = explore_game(family="ring", n=12, steps=3, policy=AttentionPolicy(12))
    >>> table[["wait_rate", "lying_rate"]].notna().all().tolist()
    [True, True]
    >>> explore_game(alpha=2)
    Traceback (most recent call last):
    ...
    ValueError: alpha=2.0 is outside [0, 1]; alpha weights truth (1) against conformity (0)
    """
    alpha = as_float(alpha, "alpha", minimum=0.0, maximum=1.0,
                     what="alpha weights truth (1) against conformity (0)")
    sigma = as_float(sigma, "sigma", minimum=0.0, maximum=3.0, what="sigma is the signal noise")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    if not isinstance(other_play, (bool, np.bool_)):
        raise ValueError(f"other_play={other_play!r}: need True or False")
    episodes = as_int(episodes, "episodes", minimum=1, maximum=int(WIDGET_RANGES["episodes"][1]))
    steps = as_int(steps, "steps", minimum=1, maximum=int(WIDGET_RANGES["steps"][1]))
    graph = make_network(family, n, seed=seed)
    device = torch.device("cpu")
    allow_wait = True
    if policy is not None:
        policy = _check_policy(policy, graph, family)
        device = policy.fc1.weight.device
        allow_wait = policy.config.num_actions == 3
    game = ConsensusGame(graph, num_envs=episodes, episode_length=steps, alpha=alpha,
                         sigma=sigma, other_play=bool(other_play), allow_wait=allow_wait,
                         device=device, seed=seed)
    if policy is None:
        table, outputs = _play(game, strategy, None, seed)
    else:
        was_training = policy.training
        policy.eval()
        try:
            with torch.no_grad():
                table, outputs = _play(game, strategy, policy, seed)
        finally:
            policy.train(was_training)

    fig = Figure(figsize=(11.0, 7.8), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.15, 1.0])
    ax_lines = fig.add_subplot(grid[0, 0])
    ax_net = fig.add_subplot(grid[:, 1])
    ax_reward = fig.add_subplot(grid[1, 0])

    shown = {"accuracy": "accuracy", "agreement": "agreement"}
    if policy is not None:
        shown.update(wait_rate="waiting", lying_rate="lying")
    long = table.melt(id_vars="step", value_vars=list(shown), var_name="metric")
    long["metric"] = long["metric"].map(shown)
    plot_over_steps(long, list(shown.values()), ax=ax_lines)
    alone = 1.0 if sigma == 0 else 0.5 * (1.0 + math.erf(0.5 / sigma / math.sqrt(2.0)))
    ax_lines.axhline(alone, ls="--", lw=1, color="0.4", label="own signal alone")
    ax_lines.set_ylim(-0.02, 1.02)
    _legend_below(ax_lines, 3)
    op = ", other-play" if other_play else ""
    who = strategy if policy is None else LEARNED
    ax_lines.set_ylabel("share of agents / of edges")
    ax_lines.set_title(f"{who}: sigma={sigma:g}{op} ({episodes} games)", fontsize="medium")

    colours = {"truth": "#009E73", "conformity": "#CC79A7"}
    x = table["step"].to_numpy()
    ax_reward.axhline(0.0, lw=0.8, color="0.75")
    for col, label, style in (
        ("reward", "reward", dict(color="black", lw=2.2, marker="o", ms=3)),
        ("truth_term", f"{alpha:g} x truth", dict(color=colours["truth"], lw=1.6)),
        ("conformity_term", f"{1 - alpha:g} x conformity",
         dict(color=colours["conformity"], lw=1.6)),
        ("truth_reward", "truth (unweighted)", dict(color=colours["truth"], lw=1, ls=":")),
        ("conformity_reward", "conformity (unweighted)",
         dict(color=colours["conformity"], lw=1, ls=":")),
    ):
        (line,) = ax_reward.plot(x, table[col].to_numpy(dtype=float), label=label, **style)
        line.set_gid(col)
    lo = min(game.config.reward_wrong, game.config.reward_right, 0.0)
    hi = max(game.config.reward_wrong, game.config.reward_right, 0.0)
    pad = 0.05 * (hi - lo)
    ax_reward.set_ylim(lo - pad, hi + pad)  # fixed: a move of alpha moves the lines
    ax_reward.set_xlabel("step")
    ax_reward.set_ylabel("mean reward per agent")
    ax_reward.set_title(f"reward = {alpha:g} x truth + {1 - alpha:g} x conformity "
                        f"(mean {table['reward'].mean():+.4f})", fontsize="medium")
    _legend_below(ax_reward, 3)

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


#: Width of every control's description, and of the drop-downs (labels fit in full).
_DESCRIPTION_WIDTH = "6em"
_DROPDOWN_WIDTH = "26em"
_SLIDER_WIDTH = "30em"


def game_explorer(
    static: bool | None = None, *, policy: AttentionPolicy | None = None, **defaults: Any
) -> Any:
    """Sliders over :func:`explore_game`, or its static figure without a widget front end.

    Parameters
    ----------
    static : bool, optional
        ``True``: return the static figure; ``False``: build the widgets (needs
        ipywidgets); ``None`` (default): widgets when :func:`widget_frontend_available`.
    policy : AttentionPolicy, optional
        A trained population: the strategy drop-down gains :data:`LEARNED` (``"learned
        policy"``), selected at the start unless ``strategy`` is given, which plays it
        (see :func:`explore_game`; it responds to alpha only through retraining, the
        reward panel does respond). The static figure shows the policy.
    **defaults
        Starting values for :func:`explore_game` (``alpha``, ``sigma``, ``family``, ``n``,
        ``strategy``, ``other_play``, ``episodes``, ``steps``, ``seed``); checked first.
        ``seed`` stays fixed in the widgets.

    Returns
    -------
    ipywidgets.interactive or matplotlib.figure.Figure
        The widget box (sliders, drop-downs and an output area; ``.result`` holds the
        latest ``(figure, table)``, or ``None`` while the output area shows why a choice
        cannot be played, e.g. a policy for another number of agents than the karate
        club's), or the figure. In the box the ``n`` slider is disabled
        and shows the real size while the chosen network has a fixed size
        (:data:`FIXED_SIZES`) or the learned policy plays (its number of agents); it comes
        back, at the value it had, for the other choices. The network drop-down shows short
        labels (:data:`FAMILY_LABELS`) with the long description as its tooltip.

    Examples
    --------
    >>> fig = game_explorer(static=True, family="complete", n=8, steps=2)
    >>> type(fig).__name__
    'Figure'

    In Jupyter, a population trained on the karate club next to the hand-written
    strategies (``n`` is disabled there: the club has 34 members):

    >>> import socialmarl as sm
    >>> policies, config, graph = sm.load_population("runs/karate")  # doctest: +SKIP
    >>> game_explorer(family="karate_club", policy=policies[0])  # doctest: +SKIP
    """
    unknown = sorted(set(defaults) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown}; choose from {list(_DEFAULTS)}")
    values = {**_DEFAULTS, **defaults}
    learned = policy is not None and defaults.get("strategy", LEARNED) == LEARNED
    if learned:
        values["strategy"] = _DEFAULTS["strategy"]
    if policy is not None and not isinstance(policy, AttentionPolicy):
        raise ValueError(f"policy must be a trained socialmarl AttentionPolicy, got "
                         f"{type(policy).__name__}")
    if static is None:
        static = not widget_frontend_available()
    if static:
        return explore_game(**values, policy=policy if learned else None)[0]
    explore_game(**{**values, "episodes": 1, "steps": 1})  # validates the starting values
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError as err:
        raise ImportError(
            "game_explorer(static=False) needs ipywidgets: pip install ipywidgets, or pass "
            "static=True for the figure"
        ) from err

    style = {"description_width": _DESCRIPTION_WIDTH}

    def slider(cls: Any, name: str) -> Any:
        lo, hi, step = WIDGET_RANGES[name]
        return cls(value=values[name], min=lo, max=hi, step=step, description=name,
                   continuous_update=False, style=style, layout=w.Layout(width=_SLIDER_WIDTH))

    def dropdown(options: Any, value: str, description: str) -> Any:
        return w.Dropdown(options=options, value=value, description=description, style=style,
                          layout=w.Layout(width=_DROPDOWN_WIDTH))

    family = dropdown([(FAMILY_LABELS[k], k) for k in FAMILIES], values["family"], "network")
    strategies = list(STRATEGIES) + ([] if policy is None else [LEARNED])
    strategy = dropdown(strategies, LEARNED if learned else values["strategy"], "strategy")
    n = slider(w.IntSlider, "n")
    chosen_n = {"value": n.value}  # the user's n, given back when the size is free again

    def sync_n(_: Any = None) -> None:
        """Disable ``n`` (showing the real size) while the size is fixed; restore it after."""
        family.tooltip = FAMILIES[family.value]
        fixed, why = FIXED_SIZES.get(family.value), f"{FAMILY_LABELS[family.value]} is fixed"
        if fixed is None and policy is not None and strategy.value == LEARNED:
            fixed, why = policy.num_agents, "the learned policy plays this many agents"
        if fixed is not None:
            if not n.disabled:
                chosen_n["value"] = n.value
            n.disabled, n.tooltip = True, f"{fixed} agents: {why}"
            n.value = fixed
        elif n.disabled:
            n.disabled, n.tooltip = False, None
            n.value = chosen_n["value"]

    # registered before interactive's own observers, so n is right before it redraws
    family.observe(sync_n, names="value")
    strategy.observe(sync_n, names="value")
    sync_n()

    last: dict[str, Any] = {}

    def draw(**kw: Any) -> tuple[Figure, pd.DataFrame] | None:
        key = tuple(sorted(kw.items()))
        if last.get("key") != key:  # one change can notify twice (family, then n)
            learned = kw["strategy"] == LEARNED
            args = {**kw, "strategy": _DEFAULTS["strategy"] if learned else kw["strategy"]}
            try:
                last["result"] = explore_game(**args, policy=policy if learned else None)
            except ValueError as err:  # e.g. a policy for another number of agents
                last["result"] = None
                last["error"] = str(err)
            last["key"] = key
        if last["result"] is None:
            print(f"Cannot play this: {last['error']}")
            return None
        display(last["result"][0])
        return last["result"]

    return w.interactive(
        draw,
        alpha=slider(w.FloatSlider, "alpha"),
        sigma=slider(w.FloatSlider, "sigma"),
        family=family,
        n=n,
        strategy=strategy,
        other_play=w.Checkbox(value=bool(values["other_play"]), description="other-play",
                              style=style, layout=w.Layout(width=_SLIDER_WIDTH)),
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
