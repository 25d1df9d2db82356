"""Learning to play: the attention policy, PPO with other-play, curricula, run folders.

* :mod:`.policy` -- :class:`AttentionPolicy` (shared parameters, sparse attention over
  in-neighbours, a GRU) and its :class:`PolicyConfig`;
* :mod:`.trainer` -- :class:`Trainer` / :func:`train` and :class:`TrainConfig`;
* :mod:`.ppo`, :mod:`.curricula`, :mod:`.actions` -- the pieces of an update;
* :mod:`.checkpoint` -- checkpoint files (data, not code; checksummed);
* :mod:`._kernels` -- hand-written autograd kernels the policy runs on (private).

Layer: uses :mod:`socialmarl.common`, :mod:`socialmarl.networks` and :mod:`socialmarl.game`.
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".policy": ("AttentionPolicy", "PolicyConfig", "PolicyOutput", "attention_matrix"),
    ".trainer": ("Trainer", "TrainConfig", "train", "load_population", "RunExistsError",
                 "TrainingDivergedError"),
    ".checkpoint": ("CheckpointError", "save_checkpoint", "load_checkpoint"),
})
