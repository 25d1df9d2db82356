"""The game for other learning libraries: TorchRL and PettingZoo environments.

* :mod:`.torchrl_env` -- :class:`ConsensusTorchRLEnv`, a native batched TorchRL ``EnvBase``
  (``B`` environments, one agent group of ``N``);
* :mod:`.torchrl_ppo` -- :func:`train_torchrl_ppo`, TorchRL's own collector and PPO loss
  training a shared per-agent MLP on the TorchRL environment;
* :mod:`.pettingzoo_env` -- :class:`ConsensusParallelEnv`, a PettingZoo ``ParallelEnv``
  (one game, agents named by node id or account handle).

Both libraries are optional extras (``pip install "socialmarl[torchrl]"``,
``pip install "socialmarl[pettingzoo]"``). Importing this package imports neither: each
name is loaded on first use, and using one without its library raises an ``ImportError``
that names the extra to install.

Layer: above :mod:`socialmarl.learning`; uses :mod:`socialmarl.common`,
:mod:`socialmarl.networks`, :mod:`socialmarl.game` and :mod:`socialmarl.learning`.
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".torchrl_env": ("ConsensusTorchRLEnv", "observation_features"),
    ".torchrl_ppo": ("train_torchrl_ppo", "TorchRLPPOResult"),
    ".pettingzoo_env": ("ConsensusParallelEnv", "observation_vectors"),
})
