"""Sessions of renderzip: `nox -l` lists them; each takes options after `--`."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["build_zip", "size_gate", "lock_diff", "tests"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
BUILD_LOCK = ROOT / "lockfiles" / "build.txt"
DEV_LOCK = ROOT / "lockfiles" / "dev.txt"


def _install_build(session: nox.Session) -> None:
    """The bundler's few hash-pinned packages: the build sessions need neither Playwright nor moto."""
    session.install("--require-hashes", "-r", str(BUILD_LOCK))


def _install_dev(session: nox.Session) -> None:
    """Install the hash-pinned tools; nothing floats."""
    session.install("--require-hashes", "-r", str(DEV_LOCK))


def _bundler(session: nox.Session, command: str, *args: str) -> None:
    _install_build(session)
    session.run("python", "-m", "bundler", command, *args, env={"PYTHONPATH": str(ROOT)})


@nox.session
def build_zip(session: nox.Session) -> None:
    """Build dist/handler.zip and its manifest from the lockfiles (`-- --chrome-source`, `--runtime`, `-o`)."""
    _bundler(session, "build", *session.posargs)


@nox.session
def size_gate(session: nox.Session) -> None:
    """Check the built zip against Lambda's limits (`-- --gate-mib N --layers-bytes N --zip PATH`)."""
    _bundler(session, "size-gate", *session.posargs)


@nox.session
def lock_diff(session: nox.Session) -> None:
    """Compare what the built zip vendors with the lockfiles (`-- --zip PATH --runtime R`)."""
    _bundler(session, "lock-diff", *session.posargs)


@nox.session
def lock(session: nox.Session) -> None:
    """Regenerate the lockfiles (`-- --only runtime|artifacts|build|dev|bootstrap --runtime R`)."""
    _bundler(session, "lock", *session.posargs)


def _ensure_zip(session: nox.Session) -> None:
    if not (ROOT / "dist" / "handler.zip").is_file():
        session.log("dist/handler.zip is missing: building it first")
        session.run("python", "-m", "bundler", "build", env={"PYTHONPATH": str(ROOT)})


@nox.session
def render(session: nox.Session) -> None:
    """Render a composition on this machine (`-- DIR -o OUT.mp4 [--chunks N] [--workers N]`)."""
    if not session.posargs:
        session.error(
            "Usage: nox -s render -- DIR -o OUT.mp4 [--chunks N] [--workers N] [--pages K]"
            " [--capture jpeg|png] [--codec h264|h265]"
        )
    _install_dev(session)
    _ensure_zip(session)
    session.run("python", "-m", "runner", "render", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session
def probe(session: nox.Session) -> None:
    """BeginFrame probe inside the Lambda image on the built zip (`-- --image REF|standin --deadline S`)."""
    _install_dev(session)
    _ensure_zip(session)
    session.run("python", "-m", "probes.probe", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session
def regression(session: nox.Session) -> None:
    """Fixtures rendered in the Lambda image against baselines (`-- --image REF|standin --fixture NAME
    --update-baselines --out DIR`)."""
    _install_dev(session)
    _ensure_zip(session)
    env = {"PYTHONPATH": str(ROOT), "CI": os.environ.get("CI", "")}
    session.run("python", "-m", "regression", *session.posargs, env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """The performance figures as ratios measured in one run (`-- --only throughput`); writes dist/bench*.json."""
    _install_dev(session)
    _ensure_zip(session)
    session.run("python", "-m", "benchmarks", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session
def standin(session: nox.Session) -> None:
    """Build (or reuse) the stand-in Lambda image and print its tag (`-- --runtime R --rebuild`); needs root."""
    _install_dev(session)
    session.run(
        "python", "-m", "probes", "image", "--image", "standin", *session.posargs, env={"PYTHONPATH": str(ROOT)}
    )


def _deploy_tool(session: nox.Session, command: str, *args: str) -> None:
    _install_dev(session)
    session.run("python", "-m", "deploy", command, *args, env={"PYTHONPATH": str(ROOT)})


@nox.session
def deploy(session: nox.Session) -> None:
    """Upload the zip and create or update the stack (`-- --stack NAME [--region R] [--runtime-version-arn ARN]`)."""
    if not any(arg == "--stack" or arg.startswith("--stack=") for arg in session.posargs):
        session.error("Usage: nox -s deploy -- --stack NAME [--region R] [--runtime-version-arn ARN] [--zip PATH]")
    _deploy_tool(session, "up", *session.posargs)


@nox.session
def distributed(session: nox.Session) -> None:
    """The state machine run for real: moto executes it, each task a container of the Lambda image."""
    _install_dev(session)
    _ensure_zip(session)
    if os.environ.get("RENDERZIP_PROVISION", "1") != "0":
        session.run("python", "-m", "probes", "provision", env={"PYTHONPATH": str(ROOT)})
    args = session.posargs or ["tests/integration/distributed"]
    session.run("python", "-m", "pytest", "-m", "distributed", *args, env={"PYTHONPATH": str(ROOT)})


@nox.session
def statemachine(session: nox.Session) -> None:
    """Print the Step Functions definition (`-- --max-concurrency N`)."""
    _deploy_tool(session, "statemachine", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, and the import contracts of pyproject.toml (`lint-imports`)."""
    _install_dev(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT)})


@nox.session
def tests(session: nox.Session) -> None:
    """The whole pytest suite (`-- PYTEST-ARGS`); as root, first installs the system parts it needs."""
    _install_dev(session)
    if os.environ.get("RENDERZIP_PROVISION", "1") != "0":
        # As root: apt-get installs Docker, debootstrap, faketime, ... and dockerd is started; otherwise it lists them.
        session.run("python", "-m", "probes", "provision", env={"PYTHONPATH": str(ROOT)})
    args = session.posargs or ["tests"]
    session.run("python", "-m", "pytest", *args, env={"PYTHONPATH": str(ROOT), "CI": os.environ.get("CI", "")})
