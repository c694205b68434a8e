"""`build_zip` end to end: reproducible bytes, verified inputs, a working vendored boto3."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bundler.lockfiles import load_runtime_lock
from bundler.targets import Target
from tests.conftest import in_ci, require_tool
from tests.integration.conftest import ROOT, Built, run_bundler

pytestmark = pytest.mark.slow


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checkout(destination: Path) -> Path:
    """A copy of the sources a build reads, as another clone would have them."""
    for name in ("handler", "bundler", "tooling", "lockfiles"):
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def _environment(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("SOURCE_DATE_EPOCH", "TZ", "LC_ALL", "LANG")}
    env.update(overrides)
    return env


def test_two_builds_in_different_conditions_give_the_same_sha256(built: Built, tmp_path: Path) -> None:
    first = _checkout(tmp_path / "first checkout")
    second = _checkout(tmp_path / "b")
    faketime = shutil.which("faketime")
    if faketime is None and in_ci():
        require_tool("faketime")
    run_a = run_bundler(
        "--cache-dir",
        str(built.cache_root),
        "build",
        "-o",
        "dist/handler.zip",
        cwd=first,
        umask=0o022,
        env=_environment(TZ="UTC", LC_ALL="C.UTF-8", LANG="C.UTF-8"),
    )
    assert run_a.returncode == 0, run_a.stderr
    command_b = [sys.executable, "-m", "bundler", "--cache-dir", str(built.cache_root), "build", "-o", "out/x.zip"]
    if faketime is not None:
        command_b = [faketime, "2031-07-04 23:59:59", *command_b]
    run_b = subprocess.run(
        command_b,
        cwd=second,
        umask=0o077,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=_environment(TZ="Pacific/Chatham", LC_ALL="POSIX", LANG="fr_FR.ISO-8859-1"),
    )
    assert run_b.returncode == 0, run_b.stderr
    zip_a, zip_b = first / "dist" / "handler.zip", second / "out" / "x.zip"
    assert _sha256(zip_a) == _sha256(zip_b) == _sha256(built.zip_path)
    manifest_a = json.loads((first / "dist" / "handler.zip.manifest.json").read_text())
    manifest_b = json.loads((second / "out" / "x.zip.manifest.json").read_text())
    assert manifest_a["entries"] == manifest_b["entries"]
    assert manifest_a["zip"]["sha256"] == _sha256(zip_a)


def test_zip_entries_are_normalised(built: Built) -> None:
    with zipfile.ZipFile(built.zip_path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.create_system for info in infos} == {3}
    assert {info.external_attr >> 16 for info in infos} <= {0o100644, 0o100755}
    assert not [n for n in names if n.endswith((".pyc", "/")) or "__pycache__" in n]
    assert str(ROOT).encode() not in built.zip_path.read_bytes()


def test_manifest_records_every_entry_with_its_lock_item(built: Built) -> None:
    manifest = json.loads(built.zip_path.with_name("handler.zip.manifest.json").read_text())
    with zipfile.ZipFile(built.zip_path) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
        by_path = {entry["path"]: entry for entry in manifest["entries"]}
        assert set(by_path) == set(sizes)
        for name in ("boto3/__init__.py", "bin/chromium/chromium.zst", "bin/ffmpeg.zst"):
            assert by_path[name]["sha256"] == hashlib.sha256(archive.read(name)).hexdigest()
    assert by_path["boto3/__init__.py"]["item"].startswith("wheel:boto3==")
    assert by_path["bin/chromium/chromium.zst"]["item"] == "chromium:@sparticuz/chromium@153.0.0"
    assert manifest["chrome_source"] == "sparticuz"
    digest = hashlib.sha256(built.zip_path.read_bytes()).digest()
    assert manifest["zip"]["code_sha256"] == base64.b64encode(digest).decode()
    assert manifest["totals"]["unzipped_bytes"] == sum(sizes.values())


def test_tampered_cached_download_fails_the_build_naming_it(built: Built, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(built.cache_root / "blobs", cache / "blobs")
    six = next(w for w in load_runtime_lock(Target.parse()).wheels if w.name == "six")
    cached = cache / "blobs" / "sha256" / six.sha256 / six.filename
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    out = tmp_path / "dist" / "handler.zip"
    result = run_bundler("--cache-dir", str(cache), "build", "-o", str(out))
    assert result.returncode == 2
    assert f"hash mismatch for wheel:six=={six.version}" in result.stderr
    assert f"expected sha256:{six.sha256}" in result.stderr
    assert f"got sha256:{hashlib.sha256(bytes(data)).hexdigest()}" in result.stderr
    assert not out.exists()
    assert not (cache / "derived").exists(), "nothing is packaged before every input is verified"


def test_vendored_boto3_is_the_pinned_one_and_talks_s3(built: Built, tmp_path: Path) -> None:
    task_root = tmp_path / "task"
    with zipfile.ZipFile(built.zip_path) as archive:
        archive.extractall(task_root)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import boto3, botocore, json;"
        "c = boto3.client('s3', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y');"
        "name = c.meta.service_model.service_name;"
        "print(json.dumps([boto3.__file__, boto3.__version__, botocore.__version__, name]))"
    )
    # -S: no site-packages, so only the vendored copy can be imported.
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(task_root)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    location, boto3_version, botocore_version, service = json.loads(result.stdout)
    pins = {w.name: w.version for w in load_runtime_lock(Target.parse()).wheels}
    assert location.startswith(str(task_root))
    assert (boto3_version, botocore_version, service) == (pins["boto3"], pins["botocore"], "s3")


def test_untracked_and_editor_files_in_handler_leave_the_zip_unchanged(built: Built, tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "clone")
    git = require_tool("git")
    subprocess.run([git, "init", "-q", str(checkout)], check=True)
    subprocess.run([git, "-C", str(checkout), "add", "handler", "bundler", "tooling", "lockfiles"], check=True)
    strays = {
        "handler/notes.py": "print('not part of the function')\n",
        "handler/app.py~": "editor backup\n",
        "handler/.app.py.swp": "swap\n",
        "handler/render/chrome/page/#shim.js#": "autosave\n",
        "handler/__pycache__/app.cpython-313.pyc": "bytecode\n",
    }
    for name, text in strays.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    result = run_bundler("--cache-dir", str(built.cache_root), "build", "-o", "dist/handler.zip", cwd=checkout)
    assert result.returncode == 0, result.stderr
    zip_path = checkout / "dist" / "handler.zip"
    assert _sha256(zip_path) == _sha256(built.zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        assert not set(strays) & set(archive.namelist())


def test_a_tracked_module_the_entry_point_never_imports_fails_the_build(built: Built, tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "clone")
    git = require_tool("git")
    subprocess.run([git, "init", "-q", str(checkout)], check=True)
    (checkout / "handler" / "render" / "preview.py").write_text("def preview() -> None: ...\n")
    subprocess.run([git, "-C", str(checkout), "add", "handler", "bundler", "tooling", "lockfiles"], check=True)
    result = run_bundler("--cache-dir", str(built.cache_root), "build", "-o", "dist/handler.zip", cwd=checkout)
    assert result.returncode == 2
    assert "ERROR 1 module(s) of handler/ are never imported by handler.app: handler/render/preview.py" in result.stderr
    assert not (checkout / "dist" / "handler.zip").exists()
