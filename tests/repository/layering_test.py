#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own.

The CMake targets catch an upward dependency only when it needs a symbol at link time; a
header-only include slips through them. This reads every #include of our own code instead.
The order is the one core/CMakeLists.txt and server/CMakeLists.txt build in; a folder missing
from it fails the test, so a new folder must be placed in the stack.
"""
import pathlib
import re
import sys

# Bottom up. A file may include its own folder and any folder before it.
LAYERS = [
    "core/util",
    "core/data",
    "core/catalogue",
    "core/fit",
    "core/ml",
    "core/model",
    "core/bundle",
    "core/plan",
    "core/eval",
    "core/report",
    "proto/convert",
    "server/observability",
    "server/store",
    "server/postgres",
    "server/lifecycle",
    "server/rpc",
    "server",
    "clients/remote",
    "clients/cli",
]
# Folders that may not see each other even though one sits above the other in the list.
FORBIDDEN = [
    ("core", "server"),
    ("core", "clients"),
    ("core", "proto"),
    ("clients", "server"),
]
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:core|server|clients|proto)/[^"]+)"', re.M)


def layer_of(path: str) -> str:
    return str(pathlib.PurePosixPath(path).parent)


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = []
    for top in ("core", "server", "clients", "proto"):
        for source in sorted((root / top).rglob("*")):
            if source.suffix not in (".h", ".cc"):
                continue
            relative = source.relative_to(root).as_posix()
            own = layer_of(relative)
            if own not in LAYERS:
                problems.append(f"{relative}: folder {own} is not in the layer list")
                continue
            for included in INCLUDE.findall(source.read_text()):
                if included.startswith("proto/perfcast/") or included.startswith("perfcast/"):
                    continue
                target = layer_of(included)
                if target not in LAYERS:
                    problems.append(f"{relative}: includes {included}, outside every layer")
                elif LAYERS.index(target) > LAYERS.index(own):
                    problems.append(f"{relative}: includes {included} from a layer above ({target})")
                for lower, upper in FORBIDDEN:
                    if own.startswith(lower) and target.startswith(upper):
                        problems.append(f"{relative}: {lower}/ may not include {included}")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} layering problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
