"""Where a batch's tasks run: ``local`` (this machine, 1..N spawned worker processes) or ``ray`` (a Ray cluster:
each task a Ray task with resource hints and retries on worker loss; Ray is the only scheduler).

Both take a list of :class:`Task` and return their result dicts in order (see :func:`scenegen.tour.tasks.run_task`),
showing rich progress in the driver as results come back. Only small values travel: file paths and numbers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from scenegen.core.errors import InputError, MissingDependencyError
from scenegen.tour.tasks import run_task

__all__ = ["LocalEngine", "RayEngine", "Task", "make_engine"]

GiB = 1 << 30


@dataclass
class Task:
    name: str
    """"train", "plan", "chunk" or "assemble"."""
    kwargs: dict
    weight: int = 1
    """Progress units (frames for a chunk)."""
    cpus: float = 1.0
    memory: int = 1 * GiB


Report = Callable[[int, dict], None]
"""Called in the driver as each task finishes: (task index, result)."""


def _init_worker(threads: int) -> None:
    import torch  # noqa: PLC0415 - in the fresh worker process

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


class LocalEngine:
    """``workers`` spawned processes on this machine, torch threads split between them (``threads`` each).
    Memory stays bounded: each worker holds one loaded run and writes its frames to disk as it goes."""

    name = "local"

    def __init__(self, workers: int = 1, threads: int | None = None):
        self.workers = max(1, int(workers))
        cpus = os.cpu_count() or 1
        self.threads = threads or max(1, cpus // self.workers)
        self._pool: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.threads,))
        return self._pool

    def run(self, tasks: list[Task], report: Report) -> list[dict]:
        results: list[dict | None] = [None] * len(tasks)
        if not tasks:
            return []
        pool = self._ensure()
        futs = {}
        queue = list(enumerate(tasks))
        queue.reverse()
        # At most two tasks per worker in flight: bounded memory in the driver too, however large the batch.
        while queue or futs:
            while queue and len(futs) < 2 * self.workers:
                i, t = queue.pop()
                futs[pool.submit(run_task, t.name, {**t.kwargs, "threads": self.threads})] = i
            done, _ = wait(list(futs), return_when=FIRST_COMPLETED)
            for f in done:
                i = futs.pop(f)
                try:
                    res = f.result()
                except Exception as e:  # noqa: BLE001 - a worker process died: that task fails, the batch goes on
                    res = {"ok": False, "error": f"worker process lost ({type(e).__name__})", "seconds": 0.0}
                    self._pool = None
                    pool = self._ensure()
                results[i] = res
                report(i, res)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayEngine:
    """Tasks as Ray tasks on the cluster at ``address`` (None: a local Ray started for this batch), with
    resource hints (CPUs, a GPU when CUDA is there, memory) and ``max_retries`` for lost workers. Outputs go to
    the batch folder, which every node must see at the same path (shared storage)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int = 1,
                 max_retries: int = 3):
        try:
            import ray  # noqa: PLC0415 - optional dependency
        except ImportError:
            raise MissingDependencyError('the ray engine needs Ray: pip install "scenegen[ray]"') from None
        self.ray = ray
        self.threads = max(1, int(threads))
        self.max_retries = max_retries
        self.workers = workers
        env = {"OMP_NUM_THREADS": str(self.threads)}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False,
                     runtime_env={"env_vars": env}, logging_level="ERROR", configure_logging=True)
        except ConnectionError as e:
            hint = ("; a cluster with token authentication also refuses a driver without its token (set "
                    "RAY_AUTH_TOKEN or ~/.ray/auth_token)") if address else ""
            raise InputError(f"cannot reach the Ray cluster: {(str(e).splitlines() or [''])[0]}{hint}",
                             field="--address") from None
        # One GPU per training / render task when the cluster has GPUs (CPU-only clusters: none asked).
        self.gpus = 1 if float(ray.cluster_resources().get("GPU", 0)) > 0 else 0
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        # Hints no node could satisfy would wait forever: cap them at the largest node.
        self.max_cpus = max([float(r.get("CPU", 1)) for r in nodes] + [1.0])
        self.max_memory = max([float(r.get("memory", 0)) for r in nodes] + [0.0]) * 0.9
        self._remote = ray.remote(run_task)

    def run(self, tasks: list[Task], report: Report) -> list[dict]:
        ray = self.ray
        results: list[dict | None] = [None] * len(tasks)
        refs = {}
        queue = list(enumerate(tasks))
        queue.reverse()
        limit = (self.workers or 8) * 2
        while queue or refs:
            while queue and len(refs) < limit:
                i, t = queue.pop()
                opts = {"num_cpus": min(max(t.cpus, self.threads), self.max_cpus), "max_retries": self.max_retries,
                        "memory": int(min(t.memory, self.max_memory)) if self.max_memory else t.memory}
                if self.gpus and t.name in ("train", "chunk"):
                    opts["num_gpus"] = self.gpus
                refs[self._remote.options(**opts).remote(t.name, {**t.kwargs, "threads": self.threads})] = i
            done, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
            for r in done:
                i = refs.pop(r)
                try:
                    res = ray.get(r)
                except Exception as e:  # noqa: BLE001 - retries exhausted: that task fails, the batch goes on
                    res = {"ok": False, "error": f"ray task lost after {self.max_retries} retries "
                                                 f"({type(e).__name__})", "seconds": 0.0}
                results[i] = res
                report(i, res)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self.ray.shutdown()


def make_engine(engine: str, workers: int, address: str | None):
    if engine == "ray":
        return RayEngine(address=address, workers=workers)
    return LocalEngine(workers=workers)
