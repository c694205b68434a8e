"""Prepare the packaged Chromium and ffmpeg for use: once per container, atomically.

The zip ships both binaries as runs of independent zstd frames
(``bin/artifacts.json`` lists them). Preparing decodes every frame on every
core into a directory named by the content hash of that identity file, under
``/tmp`` on Lambda and the user cache elsewhere. A ``.ready`` sentinel is
written last: a directory without it is a broken earlier attempt (a timed-out
invocation, a full disk) and is redone. An exclusive ``flock`` makes two
processes preparing at once wait for each other instead of racing.

The artifact is either a directory (``/var/task`` on Lambda, or an unzipped
zip) or the built ``handler.zip`` itself, so a local render uses exactly the
pinned files a Lambda render uses. Small files (libraries, SwiftShader, fonts)
are linked in place from a directory artifact and copied out of a zip.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import handler
from handler import RENDERER_RELEASE
from handler.errors import RuntimeUnavailable
from handler.render.artifacts import BESIDE_BINARY, IDENTITY_PATH, ArtifactsDoc

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

SENTINEL = ".ready"
UNUSED_DAYS = 30  # a prepared runtime unused this long is removed when another is built
STALE_BUILD_S = 86400  # a ".preparing-" directory this old belongs to a build that died
LAYOUT_VERSION = 3
PACKAGE_ROOT = Path(handler.__file__).resolve().parent.parent
RENDER_DIR = Path(__file__).resolve().parent

ENV_ARTIFACT = "RENDERZIP_ARTIFACT"
ENV_RUNTIME_DIR = "RENDERZIP_RUNTIME_DIR"

# The files of the renderer that the zip ships: its modules, the page script, the typing marker.
SOURCE_SUFFIXES = (".py", ".js")
SOURCE_NAMES = ("py.typed",)


def is_source(name: str) -> bool:
    """Whether a file under the package is source that ships (not bytecode, not an editor's file)."""
    leaf = name.rsplit("/", 1)[-1]
    return leaf in SOURCE_NAMES or (leaf.endswith(SOURCE_SUFFIXES) and not leaf.startswith("."))


def render_sources(directory: Path = RENDER_DIR) -> list[Path]:
    """Every source file of the renderer, sorted: all of it decides pixels or a chunk's bytes."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and is_source(path.name)
    )


@functools.cache
def renderer_version(directory: Path = RENDER_DIR) -> str:
    """The release plus a digest of the whole renderer directory; read once, when an identity is first made.

    A plan made by one build of the renderer is refused by another that would render it
    differently, instead of mixing their chunks in one video.
    """
    digest = hashlib.sha256()
    for path in render_sources(directory):
        name = path.relative_to(directory).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{RENDERER_RELEASE}+{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class RuntimeIdentity:
    """What, besides the plan's own files, decides the rendered pixels and bytes."""

    chromium_version: str
    chromium_sha256: str
    ffmpeg_version: str
    ffmpeg_sha256: str
    renderer_version: str = field(default_factory=renderer_version)

    def as_dict(self) -> dict[str, str]:
        return {
            "chromium_version": self.chromium_version,
            "chromium_sha256": self.chromium_sha256,
            "ffmpeg_version": self.ffmpeg_version,
            "ffmpeg_sha256": self.ffmpeg_sha256,
            "renderer_version": self.renderer_version,
        }


@dataclass(frozen=True)
class Runtime:
    """Prepared binaries and the environment Chromium needs."""

    root: Path
    chromium: Path
    ffmpeg: Path
    identity: RuntimeIdentity
    source: str

    def chromium_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        libs = str(self.root / "lib")
        env["LD_LIBRARY_PATH"] = libs + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        env["FONTCONFIG_PATH"] = str(self.root / "fontconfig")
        env["FONTCONFIG_FILE"] = str(self.root / "fontconfig" / "fonts.conf")
        env["HOME"] = str(self.root / "home")
        env["XDG_CONFIG_HOME"] = str(self.root / "home" / ".config")
        env["XDG_CACHE_HOME"] = str(self.root / "home" / ".cache")
        env["TZ"] = "UTC"
        return env


# --- where things are -------------------------------------------------------


def on_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ or "LAMBDA_TASK_ROOT" in os.environ


def locate_artifact() -> Path:
    """The artifact to prepare from: explicit, the task root we run from, or the built zip."""
    explicit = os.environ.get(ENV_ARTIFACT)
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not (path / IDENTITY_PATH).is_file() and not zipfile.is_zipfile(path):
            raise RuntimeUnavailable(f"{ENV_ARTIFACT}={explicit} is neither an unzipped artifact nor a zip")
        return path
    if (PACKAGE_ROOT / IDENTITY_PATH).is_file():
        return PACKAGE_ROOT
    built = PACKAGE_ROOT / "dist" / "handler.zip"
    if built.is_file():
        return built
    raise RuntimeUnavailable(
        f"no packaged Chromium and ffmpeg: {PACKAGE_ROOT / IDENTITY_PATH} is missing and {built} is not built; "
        f"run `nox -s build_zip` or set {ENV_ARTIFACT}"
    )


def default_runtime_root() -> Path:
    explicit = os.environ.get(ENV_RUNTIME_DIR)
    if explicit:
        return Path(explicit).expanduser()
    if on_lambda():
        return Path(tempfile.gettempdir()) / "renderzip-runtime"
    cache = os.environ.get("RENDERZIP_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "renderzip"
    )
    return Path(cache).expanduser() / "runtime"


# --- reading the artifact ---------------------------------------------------


class _Artifact:
    """Uniform read access to a directory artifact or a zip artifact."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None

    def read(self, name: str) -> bytes:
        try:
            if self.zip is not None:
                return self.zip.read(name)
            return (self.path / name).read_bytes()
        except (KeyError, FileNotFoundError) as error:
            raise RuntimeUnavailable(f"{self.path}: {name} is missing from the artifact") from error

    def files_under(self, prefix: str) -> list[str]:
        if self.zip is not None:
            return sorted(n for n in self.zip.namelist() if n.startswith(prefix + "/") and not n.endswith("/"))
        base = self.path / prefix
        return sorted(p.relative_to(self.path).as_posix() for p in base.rglob("*") if p.is_file())

    def place(self, name: str, dest: Path) -> None:
        """Put one small file at ``dest``: a link into a directory artifact, a copy out of a zip."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self.zip is None:
            dest.symlink_to(self.path / name)
            return
        with self.zip.open(name) as source, dest.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        if name.endswith(".so") or ".so." in name:
            dest.chmod(0o755)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _identity_of(doc: ArtifactsDoc) -> RuntimeIdentity:
    return RuntimeIdentity(
        chromium_version=doc.chromium.version,
        chromium_sha256=doc.chromium.binary.sha256,
        ffmpeg_version=doc.ffmpeg.version,
        ffmpeg_sha256=doc.ffmpeg.binary.sha256,
    )


def load_prepared(root: Path) -> Runtime:
    """A runtime another process prepared under ``root`` (the directory holding the sentinel)."""
    try:
        identity = RuntimeIdentity(**json.loads((root / SENTINEL).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as error:
        raise RuntimeUnavailable(f"{root} is not a runtime prepared by renderzip ({error})") from error
    return Runtime(root, root / "chromium", root / "ffmpeg", identity, source="")


# --- decoding ---------------------------------------------------------------


def _decode_frames(payload: bytes, frames: tuple[tuple[int, int], ...], dest: Path, window_log: int) -> None:
    """Decode independent frames in parallel, each written at its own offset of ``dest``."""
    starts_in, starts_out, offset_in, offset_out = [], [], 0, 0
    for content, compressed in frames:
        starts_in.append(offset_in)
        starts_out.append(offset_out)
        offset_in += compressed
        offset_out += content
    if offset_in != len(payload):
        raise RuntimeUnavailable(f"{dest.name}: packed size {len(payload)} does not match its frame table {offset_in}")
    options: dict[int, int] = {zstd.DecompressionParameter.window_log_max: window_log}
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    try:
        os.ftruncate(fd, offset_out)

        def decode(index: int) -> None:
            content, compressed = frames[index]
            start = starts_in[index]
            # Each frame carries a content checksum, so corruption fails here.
            data = zstd.decompress(payload[start : start + compressed], options=options)
            if len(data) != content:
                raise RuntimeUnavailable(f"{dest.name}: frame {index} decoded to {len(data)} bytes, not {content}")
            os.pwrite(fd, data, starts_out[index])

        with ThreadPoolExecutor(max_workers=max(1, min(len(frames), os.cpu_count() or 1))) as pool:
            list(pool.map(decode, range(len(frames))))
    except zstd.ZstdError as error:
        raise RuntimeUnavailable(f"{dest.name}: packed data is corrupt ({error})") from error
    finally:
        os.close(fd)


def _fonts_conf(fonts_dir: Path, cache_dir: Path) -> str:
    # Only the bundled fonts: local frames must not depend on the host's fonts.
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{fonts_dir}</dir>\n  <cachedir>{cache_dir}</cachedir>\n"
        "  <config></config>\n</fontconfig>\n"
    )


def _populate(artifact: _Artifact, doc: ArtifactsDoc, work: Path, final: Path) -> None:
    """Fill ``work``; paths written into files name ``final``, where ``work`` is renamed to."""
    chromium_dir = doc.chromium.dir
    for name, binary in (("chromium", doc.chromium.binary), ("ffmpeg", doc.ffmpeg.binary)):
        _decode_frames(artifact.read(binary.packed), binary.frames, work / name, doc.window_log)
    for name in artifact.files_under(chromium_dir):
        relative = name[len(chromium_dir) + 1 :]
        if name == doc.chromium.binary.packed:
            continue
        top = relative.split("/", 1)[0]
        # Chromium loads SwiftShader, ICU data, .pak files and its V8 snapshot from beside its own binary.
        beside = relative.split("/", 1)[1] if top in BESIDE_BINARY else relative
        artifact.place(name, work / beside)
    (work / "fonts").mkdir(exist_ok=True)
    (work / "fontconfig").mkdir()
    (work / "fontconfig" / "fonts.conf").write_text(
        _fonts_conf(final / "fonts", final / "home" / ".cache" / "fontconfig"), encoding="utf-8"
    )
    (work / "lib").mkdir(exist_ok=True)
    (work / "home" / ".cache").mkdir(parents=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _runtime_key(artifact: _Artifact, identity: bytes, artifact_path: Path) -> str:
    """Names the prepared directory: equal for equal content, so copies of one zip share it.

    A zip's files are copied out, so its content decides: the identity plus the name, size and
    CRC-32 of every entry that is placed. A directory's files are linked, so its path decides too.
    """
    digest = hashlib.sha256(identity + f"|layout{LAYOUT_VERSION}".encode())
    if artifact.zip is None:
        digest.update(f"|dir|{artifact_path}".encode())
    else:
        digest.update(b"|zip")
        for entry in sorted(artifact.zip.infolist(), key=lambda info: info.filename):
            if entry.filename.startswith("bin/"):
                digest.update(f"|{entry.filename}:{entry.file_size}:{entry.CRC:08x}".encode())
    return digest.hexdigest()[:32]


def prepare(artifact_path: Path | None = None, root: Path | None = None) -> Runtime:
    """Binaries ready to run; decoded on first use, reused while the sentinel stands."""
    artifact_path = artifact_path or locate_artifact()
    root = root or default_runtime_root()
    artifact = _Artifact(artifact_path)
    try:
        raw = artifact.read(IDENTITY_PATH)
        doc = ArtifactsDoc.from_bytes(raw)
        identity = _identity_of(doc)
        key = _runtime_key(artifact, raw, artifact_path)
        final = root / key
        if (final / SENTINEL).is_file():
            with contextlib.suppress(OSError):  # a read-only root still serves; it is just never pruned
                os.utime(final / SENTINEL)  # its mtime says when it was last used
        else:
            root.mkdir(parents=True, exist_ok=True)
            with _exclusive(root / f"{key}.lock"):
                if not (final / SENTINEL).is_file():
                    _build(artifact, doc, root, final)
            _prune_unused(root, keep=final, now=time.time())
        return Runtime(final, final / "chromium", final / "ffmpeg", identity, doc.chromium.source)
    except OSError as error:
        raise RuntimeUnavailable(f"cannot prepare the binaries under {root}: {error}") from error
    finally:
        artifact.close()


def _prune_unused(root: Path, *, keep: Path, now: float) -> None:
    """Remove prepared runtimes unused for `UNUSED_DAYS` and leftovers of interrupted builds.

    Runs when a new runtime is built, so the cache holds what is in use, not every version
    ever prepared. A runtime is removed under its lock, never while another process builds it.
    """
    for entry in root.iterdir():
        if entry == keep or not entry.is_dir():
            continue
        if entry.name.startswith(".preparing-"):
            if now - entry.stat().st_mtime > STALE_BUILD_S:
                shutil.rmtree(entry, ignore_errors=True)
            continue
        try:
            unused_s = now - (entry / SENTINEL).stat().st_mtime
        except FileNotFoundError:
            continue  # a broken attempt: the next prepare of it redoes it
        if unused_s > UNUSED_DAYS * 86400:
            with _exclusive(root / f"{entry.name}.lock"):
                shutil.rmtree(entry, ignore_errors=True)


def _build(artifact: _Artifact, doc: ArtifactsDoc, root: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)  # a broken earlier attempt: no sentinel
    work = Path(tempfile.mkdtemp(prefix=".preparing-", dir=root))
    try:
        _populate(artifact, doc, work, final)
        (work / SENTINEL).write_text(json.dumps(_identity_of(doc).as_dict()), encoding="utf-8")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
