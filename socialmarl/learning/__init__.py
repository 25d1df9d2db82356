"""Learning to play: the attention policy, PPO with other-play, curricula, run folders.

* :mod:`.policy` -- :class:`AttentionPolicy` (shared parameters, sparse attention over
  in-neighbours, a GRU) and its :class:`PolicyConfig`;
* :mod:`.population` -- :class:`StackedPolicy`, ``P`` populations as one model;
* :mod:`.config` -- :class:`TrainConfig`, holding the game's and the policy's configs;
* :mod:`.trainer` -- :class:`Trainer` / :func:`train` (closed: starting policies and the
  agents that learn are constructor arguments);
* :mod:`.rollout` -- the one rollout routine of training and evaluation;
* :mod:`.runs` -- run folders (config, log, checkpoint, graph), written and read in one place;
* :mod:`.ppo`, :mod:`.curricula`, :mod:`.actions` -- the pieces of an update;
* :mod:`.checkpoint` -- checkpoint files (data, not code; checksummed);
* :mod:`._kernels` -- hand-written autograd kernels the policy runs on (private).

Layer: uses :mod:`socialmarl.common`, :mod:`socialmarl.networks` and :mod:`socialmarl.game`.
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".policy": ("AttentionPolicy", "PolicyConfig", "PolicyOutput", "attention_matrix"),
    ".config": ("TrainConfig",),
    ".trainer": ("Trainer", "train", "load_population", "TrainingDivergedError"),
    ".runs": ("load_run", "Run", "RunExistsError"),
    ".rollout": ("rollout", "Rollout"),
    ".checkpoint": ("CheckpointError", "save_checkpoint", "load_checkpoint"),
})
