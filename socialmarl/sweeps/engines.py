"""Where a sweep's jobs run: in this process one after another, or as Ray tasks.

Both engines run the same function, :func:`socialmarl.sweeps.job.run_job`, on the same job
descriptions, and call ``on_done(job, result, error)`` as each job ends; nothing else
differs, so a sweep gives the same table on either (CPU, same ``jobs.cpus``).

Ray (the ``cluster`` extra: ``pip install "socialmarl[cluster]"``) is used as it is meant
to be, with no scheduler of our own: each job is one task
(``ray.remote(run_job).options(num_cpus=..., num_gpus=..., max_retries=...)``). A task
whose worker process dies (killed, out of memory, a node lost) is retried by Ray up to
``max_retries`` times, and the retried job resumes from its checkpoint; an exception
raised by the job itself is not retried (it would fail again) and is reported. Ray is
started on this machine (``ray.init()``) unless an address is given (``address=`` /
``--address``, or the ``RAY_ADDRESS`` environment variable) or Ray is already running in
this process; a Ray instance the sweep started is shut down when it ends. On a cluster the
results folder must be on storage every node sees (a shared file system), and every node
needs socialmarl installed, as Ray's own documentation advises for checkpoints and code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .job import run_job

__all__ = ["ENGINES", "ray_available", "resolve_engine", "engine_device", "run_in_process",
           "run_on_ray", "run_job_in_worker"]

#: the engines :func:`socialmarl.sweeps.sweep.sweep` takes
ENGINES = ("auto", "local", "ray")

OnDone = Callable[[dict[str, Any], "dict[str, Any] | None", "BaseException | None"], None]


def ray_available() -> bool:
    """Whether Ray can be imported (the ``cluster`` extra is installed)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_engine(engine: str, address: str | None = None) -> str:
    """``"local"`` or ``"ray"`` for an engine name; ``auto`` picks Ray when installed (and
    refuses to fall back to this machine when a cluster is named but Ray is missing).

    Examples
    --------
    >>> resolve_engine("local")
    'local'
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; choose one of {list(ENGINES)}")
    address = address or os.environ.get("RAY_ADDRESS")
    if engine == "auto":
        if address and not ray_available():
            raise ImportError(
                f"a Ray cluster is named ({address!r}) but Ray is not installed here: pip "
                "install 'socialmarl[cluster]', or drop --address / RAY_ADDRESS to run here"
            )
        return "ray" if ray_available() else "local"
    if engine == "ray" and not ray_available():
        raise ImportError(
            "engine='ray' needs Ray: pip install 'socialmarl[cluster]' (or ray>=2.9); "
            "engine='local' runs the same sweep in this process"
        )
    if engine == "local" and address and os.environ.get("RAY_ADDRESS") != address:
        raise ValueError("an address is for engine='ray'; drop it or choose engine='ray'")
    return engine


def engine_device(device: str, engine: str) -> str:
    """The device a sweep runs on: checked here for this process; for Ray only by name (the
    workers have the GPUs, and each task sees its own GPU as ``cuda``).

    Examples
    --------
    >>> engine_device("cuda:1", "ray"), engine_device("cpu", "local")
    ('cuda', 'cpu')
    """
    if engine == "local":
        from ..common.checks import as_device

        return str(as_device(device))
    name = str(device).strip().lower()
    if name == "cpu" or name.startswith("cuda"):
        return "cpu" if name == "cpu" else "cuda"
    raise ValueError(f"device={device!r}: a sweep runs on 'cpu' or 'cuda'")


def run_job_in_worker(job: dict[str, Any], sweep_dir: str) -> dict[str, Any]:
    """:func:`run_job` in a process that does nothing else (a Ray worker): freed CPU memory
    is kept for reuse first (:func:`socialmarl.learning.cpu_memory.retain_freed_memory`,
    1.6x faster updates at 1000 agents on the project's CPU; the numbers do not change)."""
    from ..learning.cpu_memory import retain_freed_memory

    retain_freed_memory()
    return run_job(job, sweep_dir)


def run_in_process(jobs: Sequence[dict[str, Any]], sweep_dir: str,
                   on_done: OnDone) -> None:
    """Run the jobs here, one after another; a failing job is reported and the rest run."""
    for job in jobs:
        try:
            result = run_job(job, sweep_dir)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # reported per job; the sweep goes on
            on_done(job, None, exc)
        else:
            on_done(job, result, None)


def run_on_ray(jobs: Sequence[dict[str, Any]], sweep_dir: str, on_done: OnDone, *,
               address: str | None = None, max_retries: int = 3, gpus: float = 0.0) -> None:
    """Run every job as a Ray task and report each as it ends.

    Parameters
    ----------
    jobs, sweep_dir, on_done
        As :func:`run_in_process`.
    address : str, optional
        An existing cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); default
        ``RAY_ADDRESS`` or a new local instance.
    max_retries : int
        Retries of a task whose worker died.
    gpus : float
        GPUs per job (1 for a sweep on ``cuda``).
    """
    import ray

    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address or os.environ.get("RAY_ADDRESS"):
            kwargs["address"] = address or os.environ["RAY_ADDRESS"]
        ray.init(**kwargs)
        started = True
    try:
        task = ray.remote(run_job_in_worker)
        pending = {}
        for job in jobs:
            ref = task.options(num_cpus=job["cpus"], num_gpus=gpus, max_retries=max_retries,
                               retry_exceptions=False, name=f"socialmarl-{job['folder']}",
                               ).remote(job, sweep_dir)
            pending[ref] = job
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            job = pending.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                on_done(job, None, cause if isinstance(cause, BaseException) else exc)
            except ray.exceptions.RayError as exc:  # worker lost more often than allowed
                on_done(job, None, exc)
            else:
                on_done(job, result, None)
    finally:
        if started:
            ray.shutdown()
