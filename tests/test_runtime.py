"""digest.runtime: the usable CPU count from affinity and cgroup quotas, and who is sized by it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digest.config import parse_config
from digest.runtime import cgroup_quota, cpu_budget


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_cgroup_v2_quota_is_read_from_cpu_max(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "cg",
        {"cgroup.controllers": "cpu", "kubepods/pod1/cpu.max": "150000 100000\n"},
    )
    proc = _tree(tmp_path, {"cgroup": "0::/kubepods/pod1\n"}) / "cgroup"
    assert cgroup_quota(root, proc) == 1.5


def test_cgroup_v2_parent_quota_caps_the_child(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "cg",
        {
            "cgroup.controllers": "cpu",
            "a/cpu.max": "100000 100000",
            "a/b/cpu.max": "max 100000",
        },
    )
    proc = _tree(tmp_path, {"cgroup": "0::/a/b\n"}) / "cgroup"
    assert cgroup_quota(root, proc) == 1.0


def test_cgroup_v2_in_a_container_reads_the_mount_root(tmp_path: Path) -> None:
    # A container sees its own cgroup as "/", and its cpu.max at the mount root.
    root = _tree(tmp_path / "cg", {"cgroup.controllers": "cpu", "cpu.max": "50000 100000"})
    proc = _tree(tmp_path, {"cgroup": "0::/\n"}) / "cgroup"
    budget = cpu_budget(root=root, proc_cgroup=proc)
    assert budget.quota == 0.5
    assert budget.cpus == 1  # never below one
    assert budget.source == "cgroup quota" or budget.affinity == 1


def test_cgroup_v1_cfs_quota(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "cg",
        {
            "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000",
            "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
        },
    )
    proc = _tree(tmp_path, {"cgroup": "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n"})
    assert cgroup_quota(root, proc / "cgroup") == 1.0


def test_no_quota_means_affinity(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "cg",
        {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"},
    )
    proc = _tree(tmp_path, {"cgroup": "2:cpu:/\n"}) / "cgroup"
    budget = cpu_budget(root=root, proc_cgroup=proc)
    assert budget.quota is None
    assert budget.cpus == len(os.sched_getaffinity(0))
    assert budget.source == "affinity"


def test_override_wins(tmp_path: Path) -> None:
    budget = cpu_budget(3, root=tmp_path, proc_cgroup=tmp_path / "none")
    assert (budget.cpus, budget.source) == (3, "[runtime] threads")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux affinity")
def test_pools_follow_the_affinity_mask_not_the_host_count() -> None:
    # A real process pinned to one CPU (what `taskset -c 0` does): every pool sizes for one.
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]});"
        "from digest.runtime import usable_cpus; from digest.extract import auto_processes;"
        "print(usable_cpus(), auto_processes(), os.cpu_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[:2] == ["1", "1"]


def test_runtime_threads_key_reaches_the_app(tmp_path: Path) -> None:
    from digest.app import build_app
    from digest.embed import HashingEmbedder

    config = parse_config({"runtime": {"threads": 1}})
    app = build_app(config, state_dir=tmp_path, embedder=HashingEmbedder())
    try:
        assert app.cpus == 1
        assert getattr(app.summarizer, "threads", 1) == 1
    finally:
        app.close()


def test_runtime_threads_key_is_checked() -> None:
    from digest.errors import ConfigError

    with pytest.raises(ConfigError, match=r"runtime\.threads"):
        parse_config({"runtime": {"threads": -1}})


def test_usable_cpus_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from digest.runtime import usable_cpus

    caplog.set_level(logging.INFO, logger="digest.runtime")
    usable_cpus(97)  # a figure no other test uses
    usable_cpus(97)
    lines = [r.getMessage() for r in caplog.records if "97 usable CPUs" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.slow  # loads the real MiniLM (in a subprocess)
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs to tell the sizes apart")
def test_torch_threads_follow_the_budget_when_minilm_loads() -> None:
    code = (
        "from digest.embed import MiniLMEmbedder;"
        "MiniLMEmbedder(threads=1).embed(['one sentence']); import os, torch;"
        "print(os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads())"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode and "not installed" in proc.stderr:
        pytest.skip("MiniLM package not installed")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # One thread, and idle OpenMP threads sleep instead of spinning against other processes.
    assert proc.stdout.split()[-2:] == ["PASSIVE", "1"]
