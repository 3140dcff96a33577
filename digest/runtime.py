"""How many CPUs this process may really use: the one figure every pool and torch is sized from.

`os.cpu_count()` is the host's count. A container with a CPU quota (cgroup v2 `cpu.max`, v1
`cpu.cfs_quota_us`: a Kubernetes CPU limit, `docker run --cpus`) or an affinity mask (`taskset`,
a cpuset) may use fewer; sizing from the host's count runs more threads than CPUs, which then
wait on each other or get throttled by the quota. `[runtime] threads` overrides the figure.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


@dataclass(frozen=True)
class CpuBudget:
    """The usable CPU count and where it comes from."""

    cpus: int
    host: int
    affinity: int
    quota: float | None  # CPUs' worth of time per period, None without a quota
    source: str  # what set `cpus`: "affinity", "cgroup quota" or "[runtime] threads"

    def describe(self) -> str:
        """One line for the log: the figure and why."""
        quota = f"{self.quota:g}" if self.quota is not None else "none"
        return (
            f"{self.cpus} usable CPUs (from {self.source}; host {self.host}, "
            f"affinity {self.affinity}, cgroup quota {quota})"
        )


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _v2_quota(folder: Path) -> float | None:
    """`cpu.max` of one cgroup v2 folder: "max 100000" or "<quota> <period>"."""
    text = _read(folder / "cpu.max")
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _v1_quota(folder: Path) -> float | None:
    """`cpu.cfs_quota_us` / `cpu.cfs_period_us` of one cgroup v1 cpu folder (-1: no quota)."""
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    try:
        q, p = int(quota or ""), int(period or "")
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _ancestors(root: Path, relative: str) -> list[Path]:
    """The cgroup folder and each parent up to the mount root (a parent's quota caps too)."""
    parts = [p for p in relative.split("/") if p]
    return [root.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def cgroup_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The tightest CPU quota on this process's cgroup and its parents, in CPUs; None if none.

    Inside a container the cgroup path in /proc/self/cgroup is often not visible under the
    mount (the container sees its own cgroup as the root), so the mount root is read too.
    """
    text = _read(proc_cgroup) or ""
    quotas: list[float] = []
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, relative = fields
        if controllers == "":  # cgroup v2 (unified)
            base = root if (root / "cgroup.controllers").exists() else root / "unified"
            folders, reader = _ancestors(base, relative), _v2_quota
        elif "cpu" in controllers.split(","):
            base = next(
                (root / n for n in (controllers, "cpu", "cpu,cpuacct") if (root / n).is_dir()),
                root / "cpu",
            )
            folders, reader = _ancestors(base, relative), _v1_quota
        else:
            continue
        quotas += [q for q in map(reader, folders) if q is not None]
    return min(quotas) if quotas else None


def affinity_cpus() -> int:
    """The CPUs the scheduler lets this process run on (taskset, cpuset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_budget(
    override: int | None = None, *, root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP
) -> CpuBudget:
    """The usable CPUs: the override if set, else min(affinity, ceil(cgroup quota)), at least 1."""
    host = os.cpu_count() or 1
    affinity = affinity_cpus()
    quota = cgroup_quota(root, proc_cgroup)
    if override:
        return CpuBudget(override, host, affinity, quota, "[runtime] threads")
    cpus, source = affinity, "affinity"
    if quota is not None and math.ceil(quota) < cpus:
        cpus, source = max(1, math.ceil(quota)), "cgroup quota"
    return CpuBudget(cpus, host, affinity, quota, source)


@functools.cache
def _log_once(line: str) -> None:
    log.info("runtime: %s", line)


def usable_cpus(override: int | None = None) -> int:
    """How many CPUs to size pools and torch threads for (logged once per figure)."""
    budget = cpu_budget(override)
    _log_once(budget.describe())
    return budget.cpus


def quiet_openmp_waits() -> None:
    """Let torch's idle OpenMP threads sleep rather than spin (unless the user chose otherwise).

    Must run before torch is first imported. With GNU OpenMP's default spin-wait, two torch
    threads on two CPUs shared with any other busy process wait for each other at every
    operator: embedding 41 demo sentences took 18.7 s instead of 2.0 s (bench/cpus.py).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def size_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to `threads`, else to the usable CPUs (torch's own default
    is the host's count, or the affinity mask's). Call it before torch's first import."""
    quiet_openmp_waits()
    import torch

    cpus = threads or usable_cpus()
    if torch.get_num_threads() != cpus:
        torch.set_num_threads(cpus)
    return cpus
