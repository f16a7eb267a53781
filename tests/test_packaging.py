"""The container image and the installed package, checked without a Docker engine.

The Dockerfile is parsed into instructions and held to the rules of docs/deploy.md (non-root, a data
volume, a health check, no secrets). Then the package is installed the way the image installs it
(a real, non-editable `pip install`) into a fresh venv, and its commands run from outside the repo.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form argument, or None for the shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return [str(v) for v in value] if isinstance(value, list) else None

    def words(self) -> list[str]:
        form = self.exec_form()
        return form if form is not None else shlex.split(self.args)


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped (Dockerfile syntax, `\\` escape)."""
    out: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # comments inside a continued instruction
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    if pending.strip():
        keyword, _, args = pending.strip().partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    return out


def env_values(instructions: list[Instruction], keyword: str = "ENV") -> dict[str, str]:
    """Names set by ENV (or ARG): both `ENV K=V K2=V2` and the legacy `ENV K V`."""
    values: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword != keyword:
            continue
        words = shlex.split(ins.args)
        if keyword == "ENV" and words and "=" not in words[0]:
            values[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            name, _, value = word.partition("=")
            values[name] = value
    return values


def _copy_sources(ins: Instruction) -> list[str]:
    words = [w for w in ins.words() if not w.startswith("--")]
    return words[:-1]


def dockerfile_problems(text: str) -> list[str]:
    """Everything docs/deploy.md promises about the image that can be read off the Dockerfile."""
    instructions = parse_dockerfile(text)
    problems: list[str] = []
    keywords = [i.keyword for i in instructions]
    if not instructions or instructions[0].keyword not in ("FROM", "ARG"):
        problems.append("the Dockerfile must start with FROM")
    froms = [i.args.split()[-1] for i in instructions if i.keyword == "FROM"]
    if not froms or not froms[-1].startswith("python:3.11-slim"):
        problems.append(f"the final stage must be FROM python:3.11-slim (got {froms})")
    # Non-root before the process starts.
    first_start = min(
        (n for n, k in enumerate(keywords) if k in ("ENTRYPOINT", "CMD")), default=len(instructions)
    )
    if first_start == len(instructions):
        problems.append("no ENTRYPOINT or CMD")
    users = [i for i in instructions[:first_start] if i.keyword == "USER"]
    if not users:
        problems.append("no USER before ENTRYPOINT/CMD: the bot would run as root")
    else:
        user = users[-1].args.split(":")[0].strip()
        if user in ("0", "root", ""):
            problems.append(f"USER {users[-1].args} runs as root")
    if any(i.keyword == "USER" for i in instructions[first_start:]):
        problems.append("USER changes after ENTRYPOINT/CMD")
    # The data folder is a volume, and the one the bot uses.
    env = env_values(instructions)
    data_dir = env.get("ACCESSBOT_DATA_DIR", "")
    volumes: list[str] = []
    for ins in instructions:
        if ins.keyword == "VOLUME":
            volumes += ins.words()
    if not data_dir:
        problems.append("ENV ACCESSBOT_DATA_DIR is not set")
    elif data_dir.rstrip("/") not in [v.rstrip("/") for v in volumes]:
        problems.append(f"no VOLUME for ACCESSBOT_DATA_DIR={data_dir} (volumes: {volumes})")
    if env.get("ACCESSBOT_RULES") != "/app/rules.yaml":
        problems.append("ENV ACCESSBOT_RULES must be /app/rules.yaml")
    copies = [i for i in instructions if i.keyword in ("COPY", "ADD")]
    if not any(i.words()[-1] == "/app/rules.yaml" and "rules.yaml" in _copy_sources(i) for i in copies):
        problems.append("rules.yaml is not copied to /app/rules.yaml")
    # Health, signals, entry point.
    checks = [i for i in instructions if i.keyword == "HEALTHCHECK"]
    if not checks:
        problems.append("no HEALTHCHECK")
    else:
        _, cmd_word, command = checks[-1].args.partition("CMD")
        form = Instruction("CMD", command.strip(), checks[-1].line).words() if cmd_word else []
        if form[:2] != ["accessbot", "health"]:
            problems.append(f"HEALTHCHECK must run `accessbot health` (got {checks[-1].args!r})")
    stops = [i.args for i in instructions if i.keyword == "STOPSIGNAL"]
    if stops[-1:] != ["SIGTERM"]:
        problems.append(f"STOPSIGNAL must be SIGTERM (got {stops})")
    entry = [i.exec_form() for i in instructions if i.keyword == "ENTRYPOINT"]
    if entry[-1:] != [["accessbot"]]:
        problems.append(f'ENTRYPOINT must be ["accessbot"] (got {entry})')
    cmd = [i.exec_form() for i in instructions if i.keyword == "CMD"]
    if cmd[-1:] != [["run"]]:
        problems.append(f'CMD must be ["run"] (got {cmd})')
    if not any(i.keyword == "RUN" and "pip install --no-cache-dir ." in i.args for i in instructions):
        problems.append("the package must be installed with pip install --no-cache-dir .")
    # No secrets baked in.
    for keyword in ("ENV", "ARG"):
        for name in env_values(instructions, keyword):
            if _SECRET_NAME.search(name):
                problems.append(f"{keyword} {name} bakes a secret into the image: pass it at run time")
    for ins in copies:
        for source in _copy_sources(ins):
            if Path(source).name.startswith(".env") or source.endswith(".env"):
                problems.append(f"line {ins.line}: {ins.keyword} {source} copies an env file into the image")
    return problems


def dockerignore_patterns(text: str) -> set[str]:
    patterns = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("!"):
            continue
        patterns.add(line.removeprefix("/").removeprefix("**/").rstrip("/"))
    return patterns


def test_dockerfile_meets_the_deployment_rules() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_dockerignore_keeps_secrets_data_and_venv_out_of_the_build_context() -> None:
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text(encoding="utf-8"))
    for needed in (".env", "data", ".venv", ".git"):
        assert needed in patterns, f".dockerignore must exclude {needed}"
    negated = [line for line in DOCKERIGNORE.read_text().splitlines() if line.strip().startswith("!")]
    assert not any(".env" in line or "data" in line for line in negated), negated


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("USER 10001:10001", "USER root"), "runs as root"),
        (lambda t: t.replace("USER 10001:10001", ""), "no USER"),
        (lambda t: t.replace("VOLUME /data", "VOLUME /srv"), "no VOLUME"),
        (lambda t: t.replace('CMD ["accessbot", "health"]', "CMD true"), "HEALTHCHECK must run"),
        (lambda t: t + "\nENV SLACK_BOT_TOKEN=xoxb-1\n", "ENV SLACK_BOT_TOKEN bakes a secret"),
        (lambda t: t + "\nARG DISCORD_TOKEN\n", "ARG DISCORD_TOKEN bakes a secret"),
        (lambda t: t + "\nCOPY .env /app/.env\n", "copies an env file"),
        (lambda t: t + "\nUSER 0\n", "USER changes after"),
    ],
)
def test_the_dockerfile_checks_catch_each_mistake(change: object, expected: str) -> None:
    """The rules above are only worth something if a broken Dockerfile fails them."""
    assert callable(change)
    original = DOCKERFILE.read_text(encoding="utf-8")
    changed = change(original)
    assert changed != original, "the mutation did not apply: update this test with the Dockerfile"
    problems = dockerfile_problems(changed)
    assert any(expected in p for p in problems), problems


def test_parser_joins_continuations_and_reads_both_env_forms() -> None:
    text = (
        "FROM python:3.11-slim\n# note\nENV A=1 \\\n    # inside\n    B=two\n"
        'ENV C three\nUSER 1\nCMD ["run"]\n'
    )
    instructions = parse_dockerfile(text)
    assert [i.keyword for i in instructions] == ["FROM", "ENV", "ENV", "USER", "CMD"]
    assert env_values(instructions) == {"A": "1", "B": "two", "C": "three"}
    assert instructions[-1].exec_form() == ["run"]


# -- the installed package -------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _can_build_without_isolation() -> bool:
    """setuptools builds wheels by itself from 70.1; before that it needs the `wheel` package."""
    try:
        setuptools_version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    if _version_tuple(setuptools_version) >= (70, 1):
        return True
    try:
        importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCESSBOT_", "SLACK_", "DISCORD_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return env


def _run(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_installed_package_runs_health_doctor_and_console_outside_the_repo(tmp_path: Path) -> None:
    """What the image does: a non-editable pip install, then the commands, away from the source tree.

    Dependencies come from this environment (a .pth file adds its site-packages), so nothing but the
    build itself is needed; the build uses this environment's setuptools when it can build a wheel.
    """
    started = time.monotonic()
    # Build from a copy: pip builds in-tree, and the repo's build/ must not race other test runs.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, _clean_env())
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            tmp_path,
            _clean_env(),
        ).stdout.strip()
    )
    here = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site_packages / "_accessbot_test_deps.pth").write_text("\n".join(here) + "\n")

    no_isolation = _can_build_without_isolation()
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet"]
    if no_isolation:
        install.append("--no-build-isolation")
    installed = _run([*install, str(source)], tmp_path, _clean_env())
    isolation = "off" if no_isolation else "on, so pip fetched setuptools>=68 from the package index"
    assert installed.returncode == 0, (
        f"pip install failed (build isolation {isolation}):\n{installed.stdout}\n{installed.stderr}"
    )
    accessbot = venv / "bin" / "accessbot"
    assert accessbot.exists(), "the console script was not installed"

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    data.chmod(0o700)
    env = _clean_env(ACCESSBOT_DATA_DIR=str(data), ACCESSBOT_RULES=str(ROOT / "rules.yaml"))

    where = _run([str(python), "-c", "import bot; print(bot.__file__)"], outside, env)
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where

    version = _run([str(accessbot), "--version"], outside, env)
    assert version.returncode == 0 and version.stdout.strip() == "accessbot 0.1.0", version

    health = _run([str(accessbot), "health"], outside, env)
    assert (health.returncode, health.stdout) == (0, "ok\n"), health.stderr

    doctor = _run([str(accessbot), "doctor"], outside, env)
    assert doctor.returncode == 0, doctor.stdout
    assert "all good" in doctor.stdout

    # The locale files are package data: a console session proves they were installed.
    console = _run([str(accessbot), "console"], outside, env, stdin="what step am I on?\n")
    assert console.returncode == 0, console.stderr
    assert "Create a PhysioNet account" in console.stdout, console.stdout
    health = _run([str(accessbot), "health"], outside, env)
    assert health.returncode == 0, health.stderr
    assert time.monotonic() - started < 60, "the packaging check should take well under a minute"
