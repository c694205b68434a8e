"""Every command line ends on an error the same way: the exact ERROR and hint lines, the same exit statuses."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import bundler.cli
import deploy.cli
import probes.cli
import runner.__main__
from bundler.errors import ArtifactError, BundlerError, ZipLayoutError
from deploy.errors import DeployArtifactError, DeployError
from handler.errors import ChromeCrashed, InvalidComposition, RenderzipError
from probes.errors import DockerUnavailable
from regression.errors import RenderFailed
from tooling.cli_errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandLineError,
    error_lines,
    run_command,
)

Capture = pytest.CaptureFixture[str]
OS_HINT = "hint: check that the path exists and that you may read (or write) it"


def _raises(error: BaseException) -> Callable[[], int]:
    def command() -> int:
        raise error

    return command


@pytest.mark.parametrize(
    ("error", "lines"),
    [
        (
            ZipLayoutError("unsafe path in the zip: '../x'"),
            ["ERROR unsafe path in the zip: '../x'", f"hint: {ZipLayoutError.hint}"],
        ),
        (InvalidComposition("index.html: no data-width"), ["ERROR InvalidComposition: index.html: no data-width"]),
        (
            ChromeCrashed("Chrome closed its DevTools pipe", -9, "last words"),
            ["ERROR ChromeCrashed: Chrome closed its DevTools pipe (exit status -9)\nlast Chrome output:\nlast words"],
        ),
        (
            DockerUnavailable("no socket"),
            ["ERROR cannot reach the Docker engine: no socket", f"hint: {DockerUnavailable.hint}"],
        ),
        (
            DeployError("stack s does not exist", "deploy it first"),
            ["ERROR stack s does not exist", "hint: deploy it first"],
        ),
        (
            RenderFailed("fixture a: no result", "Traceback...\nKeyError: 'x'"),
            ["ERROR fixture a: no result", "Traceback...\nKeyError: 'x'"],
        ),
        (
            FileNotFoundError(errno.ENOENT, "No such file or directory", "/nowhere/out.mp4"),
            ["ERROR /nowhere/out.mp4: No such file or directory", OS_HINT],
        ),
        (CommandLineError("nothing to run", "pass a command"), ["ERROR nothing to run", "hint: pass a command"]),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_each_family_of_error_gives_its_lines(error: Exception, lines: list[str], capsys: Capture) -> None:
    assert error_lines(error) == lines
    assert run_command(_raises(error), (BundlerError, RenderzipError, DeployError, type(error))) == EXIT_ERROR
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "".join(line + "\n" for line in lines))


def test_an_unknown_error_keeps_its_traceback(capsys: Capture) -> None:
    assert run_command(_raises(KeyError("bug")), (BundlerError,)) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and err.endswith("KeyError: 'bug'\n")


def test_interrupted_is_130(capsys: Capture) -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_command(interrupted, (BundlerError,)) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"


def test_after_error_runs_after_the_lines(capsys: Capture) -> None:
    def after(error: Exception) -> None:
        print(f"after {type(error).__name__}", file=sys.stderr)

    assert run_command(_raises(InvalidComposition("x")), (RenderzipError,), after_error=after) == EXIT_ERROR
    assert capsys.readouterr().err == "ERROR InvalidComposition: x\nafter InvalidComposition\n"


def test_the_two_zip_errors_have_different_names() -> None:
    assert ArtifactError.__name__ != DeployArtifactError.__name__
    assert issubclass(DeployArtifactError, DeployError) and issubclass(ArtifactError, BundlerError)


# --- each command line, through its own main() -----------------------------------------


def test_bundler_refuses_an_old_runtime(capsys: Capture) -> None:
    assert bundler.cli.main(["build", "--runtime", "python3.10"]) == EXIT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "ERROR runtime 'python3.10' is too old: the handler needs Python 3.11 or newer",
        "hint: use --runtime one of python3.11, python3.12, python3.13, python3.14 and --arch one of x86_64, aarch64",
    ]


def test_bundler_size_gate_without_a_zip(tmp_path: Path, capsys: Capture) -> None:
    assert bundler.cli.main(["size-gate", "--zip", str(tmp_path / "none.zip")]) == EXIT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        f"ERROR no zip at {tmp_path / 'none.zip'}",
        "hint: build it first with `nox -s build_zip`",
    ]


def test_probes_run_with_nothing_to_run(tmp_path: Path, capsys: Capture) -> None:
    assert probes.cli.main(["run", "--task-dir", str(tmp_path)]) == EXIT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "ERROR nothing to run",
        "hint: python -m probes run --task-dir DIR -- -c 'print(1)'",
    ]


def test_deploy_config_that_is_not_json(tmp_path: Path, capsys: Capture) -> None:
    argv = ["render", str(tmp_path), "-o", str(tmp_path / "o.mp4"), "--stack", "s", "--config", "{"]
    assert deploy.cli.main(argv) == EXIT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "ERROR --config is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        """hint: pass an object, e.g. '{"FramesPerChunk": 60}'""",
    ]


def test_deploy_template_into_a_missing_directory(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "missing" / "template.json"
    assert deploy.cli.main(["template", "-o", str(out)]) == EXIT_ERROR
    assert capsys.readouterr().err.splitlines() == [f"ERROR {out}: No such file or directory", OS_HINT]


def test_deploy_template_writes(tmp_path: Path, capsys: Capture) -> None:
    assert deploy.cli.main(["template", "-o", str(tmp_path / "t.json")]) == EXIT_OK
    assert capsys.readouterr().err == f"wrote {tmp_path / 't.json'}\n"


def test_handler_render_error_shows_the_code_then_the_log(tmp_path: Path, capsys: Capture) -> None:
    log = tmp_path / "handler.log"
    argv = ["render", str(tmp_path / "empty"), "-o", str(tmp_path / "out.mp4"), "--log", str(log)]
    (tmp_path / "empty").mkdir()
    assert runner.__main__.main(argv) == EXIT_ERROR
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("ERROR InvalidComposition: ") and err[0].endswith(": no index.html")
    assert err[1] == f"handler log: {log} (last 2 lines)"
    assert '"event":"error"' in err[3] and len(err) == 4
