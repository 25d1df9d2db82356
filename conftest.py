"""Collection settings for the doctests of the package (``--doctest-modules``).

The adapters' doctests need their optional libraries (the ``[torchrl]`` and
``[pettingzoo]`` extras, which the ``[test]`` extra installs, so CI runs them). Without a
library its adapter module's doctests are not collected, and the reason is printed: the
adapter's own tests then fail or skip loudly in ``tests/``.
"""

from __future__ import annotations

import importlib.util

_NEEDS = {
    "socialmarl/adapters/torchrl_env.py": ("torchrl", "tensordict"),
    "socialmarl/adapters/torchrl_ppo.py": ("torchrl", "tensordict"),
    "socialmarl/adapters/pettingzoo_env.py": ("pettingzoo", "gymnasium"),
}

collect_ignore = []
for _path, _libs in _NEEDS.items():
    _missing = [lib for lib in _libs if importlib.util.find_spec(lib) is None]
    if _missing:
        print(f"conftest: not collecting the doctests of {_path}: {', '.join(_missing)} not "
              "installed (pip install -e \".[test]\" installs them)")
        collect_ignore.append(_path)
