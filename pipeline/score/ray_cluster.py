"""Ray itself for `stance score --engine ray`: importing it quietly, connecting to a cluster
or starting a local one (and stopping it), the cluster's size and the actors it gets, and
Ray Data without its notices. `import ray` happens here only, when the engine runs."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.encoders.base import available_cores
from pipeline.errors import EngineError, error_line

if TYPE_CHECKING:
    from types import ModuleType

NOT_INSTALLED = "Ray is not installed; pip install '.[ray]'"
_CONNECT_TIMEOUT_S = 5.0
# Ray's own logs and warnings stay out of the command's output unless asked for.
_QUIET_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "1",
}


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster a run uses: its CPUs, and the actors and threads per actor chosen."""

    cpus: float
    workers: int
    nodes: int = 1

    @property
    def threads(self) -> int:
        """Threads of each actor's model: the cores per actor, at least one."""
        return max(1, int(self.cpus // self.workers))

    @property
    def cpus_per_actor(self) -> float:
        """The CPUs each actor asks Ray for: its threads, or a share when there are more
        actors than CPUs (they then share cores)."""
        return min(float(self.threads), self.cpus / self.workers)

    @property
    def actor_options(self) -> dict[str, Any]:
        """Ray options of the actors. On a cluster of several nodes, Ray Data's own: an
        actor lost with its node restarts and its blocks run again. On one machine, an
        actor that dies (out of memory, say) stops the run instead of restarting forever,
        and Ray prints no notice about restarting actors whose arguments are in its store."""
        options: dict[str, Any] = {"num_cpus": self.cpus_per_actor}
        if self.nodes == 1:
            options["max_restarts"] = 0
        return options


def import_ray() -> ModuleType:
    """Ray and Ray Data, or one line saying how to install them."""
    for name, value in _QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)  # read when Ray starts; the user's settings win
    try:
        import ray
        import ray.data
    except ImportError:
        raise EngineError(NOT_INSTALLED) from None
    return ray


@contextlib.contextmanager
def ray_session(ray: ModuleType, address: str | None) -> Iterator[tuple[float, int]]:
    """Ray for one run: the caller's connection if there is one, else the cluster at
    `address` (or $RAY_ADDRESS), else a local instance with this machine's cores, stopped
    at the end. Yields the cluster's CPU count and its number of nodes."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        check_reachable(address)
    if ray.is_initialized():
        yield _cluster_size(ray)
        return
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address is None:
            ray.init(num_cpus=available_cores(), include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "a local Ray instance"
        raise EngineError(
            f"{where}: Ray could not start or connect ({error_line(error, limit=300)})"
        ) from None
    try:
        yield _cluster_size(ray)
    finally:
        ray.shutdown()


def _cluster_size(ray: ModuleType) -> tuple[float, int]:
    """The cluster's CPUs, and how many nodes are alive."""
    cpus = float(ray.cluster_resources().get("CPU", 0))
    if cpus <= 0:
        raise EngineError("the Ray cluster has no CPUs to run actors on")
    return cpus, sum(1 for node in ray.nodes() if node.get("Alive"))


def check_reachable(address: str) -> None:
    """Fail fast, in one line, when nothing listens at a `host:port` address: Ray itself
    retries for minutes. Other forms (`auto`, `local`, `ray://...`) are left to Ray."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise EngineError(f"{address}: no Ray cluster answers there ({reason})") from None


@contextlib.contextmanager
def quiet_ray_data(ray: ModuleType) -> Iterator[None]:
    """Ray Data without its execution notices and advice (fewer blocks than actors, say)
    or its own deprecation notices; progress bars only on a terminal."""
    with warnings.catch_warnings():
        for category in (UserWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"ray\.data")
        context = ray.data.DataContext.get_current()  # made on first use, with notices
        settings = {
            "enable_progress_bars": sys.stderr.isatty(),
            "print_on_execution_start": False,
            "enable_auto_log_stats": False,
        }
        saved = {name: getattr(context, name) for name in settings}
        logger = logging.getLogger("ray.data")
        saved_level = logger.level
        logger.setLevel(logging.CRITICAL)  # a failed task reaches the driver as an exception
        for name, value in settings.items():
            setattr(context, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(context, name, value)
            logger.setLevel(saved_level)
