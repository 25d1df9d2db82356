"""Sweeps: grids of networks x alphas x seeds x settings, run here or on a Ray cluster.

* :mod:`.spec` -- the grid (:class:`SweepSpec`, read from YAML or JSON), its cells and jobs;
* :mod:`.networks` -- the sweep's networks, loaded alike by the driver and the workers;
* :mod:`.job` -- one job: train its populations, evaluate them, write its results;
* :mod:`.engines` -- where jobs run: this process, or Ray tasks with retries;
* :mod:`.sweep` -- :func:`sweep`: plan, skip what is done, run the rest, one tidy table.

Layer: above analysis (a sweep trains, evaluates and tabulates); below the applications.
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".spec": ("SweepSpec", "NetworkSpec", "Job", "load_sweep_spec"),
    ".job": ("run_job",),
    ".sweep": ("sweep", "SweepResult", "SweepError", "read_results"),
})
