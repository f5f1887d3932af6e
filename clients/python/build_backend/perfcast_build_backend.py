"""The PEP 517 build backend of perfcast-client: standard library only, no downloads.

pip runs a build backend in an isolated environment holding only the packages the backend
`requires`; perfcast is built where PyPI cannot be reached, so the backend may require nothing.
This one writes the wheel and the sdist itself (both are zip/tar archives with a few metadata
files) and generates the protobuf and gRPC stubs with generate_stubs.sh, that is with Debian's
protoc and grpc_python_plugin, at build time: the stubs always match the proto they are built
from and are never committed.

The wheel holds the perfcast_client package and the generated packages perfcast.v1 and
perfcast_grpc_health.v1, at the module paths protoc gives them, the same ones the in-repo build
puts on PYTHONPATH. The proto files come from the sdist's own proto/ when building from an sdist,
else from the repository (clients/python/proto for health, proto/ at the root for the API).

Hooks: build_wheel, build_sdist, prepare_metadata_for_build_wheel and the get_requires_* pair.
No editable installs: in a clone, PYTHONPATH and the build directory's stubs do that job.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
import zipfile

# clients/python, the directory pip builds from (a clone's or an unpacked sdist's).
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_REPOSITORY_PROTO_DIR = os.path.join(os.path.dirname(os.path.dirname(SOURCE_DIR)), "proto")
_API_PROTO = os.path.join("perfcast", "v1", "perfcast.proto")

_PACKAGE = "perfcast_client"
_GENERATED_PACKAGES = ("perfcast", "perfcast_grpc_health")
# Files copied into the sdist besides the package and the proto files.
_SDIST_FILES = ("pyproject.toml", "README.md", "generate_stubs.sh",
                os.path.join("build_backend", "perfcast_build_backend.py"))
_SDIST_DIRS = ("examples",)

# Archive entries get a fixed time and mode, so that the same sources give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_TAR_TIME = 315532800  # 1980-01-01, the earliest time a zip entry can carry


class _Project:
    """The [project] table of pyproject.toml, as the core metadata fields it becomes."""

    def __init__(self, source_dir: str):
        with open(os.path.join(source_dir, "pyproject.toml"), "rb") as f:
            project = tomllib.load(f)["project"]
        self.name = project["name"]
        self.version = project["version"]
        # Archive and .dist-info names use the normalised name (PEP 427, PEP 625).
        self.distribution = self.name.replace("-", "_").lower()
        self.dist_info = f"{self.distribution}-{self.version}.dist-info"
        self._project = project
        self._source_dir = source_dir

    def core_metadata(self) -> bytes:
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Summary: {self._project.get('description', '')}",
        ]
        if "requires-python" in self._project:
            lines.append(f"Requires-Python: {self._project['requires-python']}")
        lines += [f"Requires-Dist: {d}" for d in self._project.get("dependencies", [])]
        description = ""
        readme = self._project.get("readme")
        if readme:
            lines.append("Description-Content-Type: text/markdown")
            with open(os.path.join(self._source_dir, readme), encoding="utf-8") as f:
                description = "\n" + f.read()
        text = "\n".join(lines) + "\n" + description
        return text.encode("utf-8")


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _package_files(root: str, package: str) -> list[str]:
    """Paths under root of package's modules, stubs and markers (no bytecode), sorted."""
    found = []
    for directory, subdirs, files in os.walk(os.path.join(root, package)):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in files:
            if name.endswith((".py", ".pyi")) or name == "py.typed":
                found.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(found)


def _proto_dir() -> str:
    """Where perfcast/v1/perfcast.proto is: the sdist's proto/, else the repository's."""
    packed = os.path.join(SOURCE_DIR, "proto")
    if os.path.isfile(os.path.join(packed, _API_PROTO)):
        return packed
    if os.path.isfile(os.path.join(_REPOSITORY_PROTO_DIR, _API_PROTO)):
        return _REPOSITORY_PROTO_DIR
    raise RuntimeError(f"perfcast-client: {_API_PROTO} is neither in {packed} nor in "
                       f"{_REPOSITORY_PROTO_DIR}; build from a clone of perfcast or its sdist")


def _generate_stubs(out_dir: str) -> None:
    protoc = os.environ.get("PROTOC", "protoc")
    plugin = os.environ.get("GRPC_PYTHON_PLUGIN", "/usr/bin/grpc_python_plugin")
    if shutil.which(protoc) is None or not os.access(plugin, os.X_OK):
        raise RuntimeError(
            f"perfcast-client: building needs protoc ({protoc}) and the gRPC Python plugin "
            f"({plugin}): apt-get install protobuf-compiler protobuf-compiler-grpc, or set "
            "PROTOC and GRPC_PYTHON_PLUGIN")
    env = dict(os.environ, PERFCAST_API_PROTO_DIR=_proto_dir())
    subprocess.run(["sh", os.path.join(SOURCE_DIR, "generate_stubs.sh"), out_dir], env=env,
                   check=True)


def _write_dist_info(directory: str, project: _Project) -> str:
    dist_info = os.path.join(directory, project.dist_info)
    os.makedirs(dist_info, exist_ok=True)
    for name, data in _dist_info_files(project).items():
        with open(os.path.join(dist_info, name), "wb") as f:
            f.write(data)
    return project.dist_info


def _dist_info_files(project: _Project) -> dict[str, bytes]:
    return {
        "METADATA": project.core_metadata(),
        "WHEEL": (b"Wheel-Version: 1.0\nGenerator: perfcast_build_backend\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        "top_level.txt": "".join(p + "\n" for p in (_PACKAGE, *_GENERATED_PACKAGES)).encode(),
    }


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


# --- PEP 517 hooks -----------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None) -> str:
    return _write_dist_info(metadata_directory, _Project(SOURCE_DIR))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    project = _Project(SOURCE_DIR)
    wheel_name = f"{project.distribution}-{project.version}-py3-none-any.whl"
    with tempfile.TemporaryDirectory(prefix="perfcast-stubs-") as stubs_dir:
        _generate_stubs(stubs_dir)
        entries: list[tuple[str, bytes]] = []
        sources = [(SOURCE_DIR, path) for path in _package_files(SOURCE_DIR, _PACKAGE)]
        for package in _GENERATED_PACKAGES:
            sources += [(stubs_dir, path) for path in _package_files(stubs_dir, package)]
        for root, path in sources:
            with open(os.path.join(root, path), "rb") as f:
                entries.append((path.replace(os.sep, "/"), f.read()))
    entries += [(f"{project.dist_info}/{name}", data)
                for name, data in _dist_info_files(project).items()]

    record = io.StringIO()
    for name, data in entries:
        record.write(f"{name},{_record_hash(data)},{len(data)}\n")
    record.write(f"{project.dist_info}/RECORD,,\n")
    entries.append((f"{project.dist_info}/RECORD", record.getvalue().encode("utf-8")))

    os.makedirs(wheel_directory, exist_ok=True)
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w") as archive:
        for name, data in entries:
            _zip_entry(archive, name, data)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None) -> str:
    """An sdist that builds anywhere: the API's proto file is copied into its proto/."""
    project = _Project(SOURCE_DIR)
    base = f"{project.distribution}-{project.version}"
    members: list[tuple[str, str]] = []  # (path in the sdist, file on disk)
    members += [(p, os.path.join(SOURCE_DIR, p)) for p in _SDIST_FILES]
    members += [(p, os.path.join(SOURCE_DIR, p)) for p in _package_files(SOURCE_DIR, _PACKAGE)]
    for directory in _SDIST_DIRS:
        members += [(p, os.path.join(SOURCE_DIR, p))
                    for p in _package_files(SOURCE_DIR, directory)]
    proto_dir = _proto_dir()
    members.append((os.path.join("proto", _API_PROTO), os.path.join(proto_dir, _API_PROTO)))
    health = os.path.join("proto", "perfcast_grpc_health", "v1", "health.proto")
    members.append((health, os.path.join(SOURCE_DIR, health)))

    sdist_name = f"{base}.tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    with tarfile.open(os.path.join(sdist_directory, sdist_name), "w:gz",
                      format=tarfile.PAX_FORMAT) as archive:

        def add(path: str, data: bytes, mode: int) -> None:
            info = tarfile.TarInfo(f"{base}/{path.replace(os.sep, '/')}")
            info.size, info.mode, info.mtime = len(data), mode, _TAR_TIME
            archive.addfile(info, io.BytesIO(data))

        add("PKG-INFO", project.core_metadata(), 0o644)
        for path, source in sorted(members):
            with open(source, "rb") as f:
                add(path, f.read(), 0o755 if os.access(source, os.X_OK) else 0o644)
    return sdist_name
