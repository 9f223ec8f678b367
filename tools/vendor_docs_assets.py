"""Copies the Swagger UI and Redoc assets that ``/docs`` and ``/redoc`` serve into
``python/ferroweb/_docs_assets/``, from one pinned PyPI package, with their licences.

The source is ``drf-spectacular-sidecar`` (it ships ``swagger-ui-dist`` and Redoc's standalone
bundle, each with its licence); only its wheel is downloaded (``--no-deps``: none of its
Python is used), and its SHA-256 is checked. One URL in Redoc's bundle is replaced
(``PATCHES``) so the page requests nothing from outside. The copies are committed, so building a wheel
needs no network; ``--check`` (run by ``./dev lint``) fails when they differ from the pinned
package's, and also works offline when the wheel is in pip's cache.

    python tools/vendor_docs_assets.py           # refresh after changing PACKAGE/SHA256
    python tools/vendor_docs_assets.py --check   # the vendored files are the pinned ones
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "python" / "ferroweb" / "_docs_assets"
PACKAGE = "drf-spectacular-sidecar==2026.10.1"
WHEEL_SHA256 = "fe1d005d8ac9b5d0472f2fe5deeb2e7d6dcffaa24118044f22578b4b8c4b31f2"
_STATIC = "drf_spectacular_sidecar/static/drf_spectacular_sidecar/"
#: vendored name -> path inside the wheel
FILES = {
    "swagger-ui-bundle.js": _STATIC + "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": _STATIC + "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-LICENSE": _STATIC + "swagger-ui-dist/LICENSE",
    "swagger-ui-bundle.js.LICENSE.txt": _STATIC + "swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt",
    "redoc.standalone.js": _STATIC + "redoc/bundles/redoc.standalone.js",
    "redoc-LICENSE": _STATIC + "redoc/LICENSE",
    "redoc.standalone.js.LICENSE.txt": _STATIC + "redoc/bundles/redoc.standalone.js.LICENSE.txt",
}
#: The one change made to a copy: Redoc's sidebar logo would be fetched from its CDN; an empty
#: inline image takes its place, so the page makes no outside request.
PATCHES = {
    "redoc.standalone.js": (
        b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"',
        b'src:"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E"',
    ),
}


def _wheel(directory: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
            str(directory),
            PACKAGE,
        ],
        check=True,
    )
    (wheel,) = directory.glob("*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"error: {wheel.name} has SHA-256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def _pinned_files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(_wheel(Path(scratch))) as archive:
        files = {name: archive.read(member) for name, member in FILES.items()}
    for name, (original, replacement) in PATCHES.items():
        if files[name].count(original) != 1:
            raise SystemExit(f"error: {name} of {PACKAGE} no longer has {original!r} once: update PATCHES")
        files[name] = files[name].replace(original, replacement)
    files["SOURCE.txt"] = (
        f"Copied by tools/vendor_docs_assets.py from the PyPI package {PACKAGE}\n"
        f"(wheel SHA-256 {WHEEL_SHA256}). Swagger UI: Apache License 2.0 (swagger-ui-LICENSE);\n"
        "Redoc: MIT License (redoc-LICENSE). Served by ferroweb at /docs and /redoc.\n"
        "Changed: redoc.standalone.js shows an empty inline image instead of fetching its logo\n"
        "from cdn.redoc.ly (see PATCHES in the tool).\n"
    ).encode()
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the vendored files differ")
    args = parser.parse_args()
    files = _pinned_files()
    if args.check:
        stale = [
            name
            for name, data in files.items()
            if not (TARGET / name).is_file() or (TARGET / name).read_bytes() != data
        ]
        if stale:
            raise SystemExit(f"error: vendored docs assets differ from {PACKAGE}: {', '.join(stale)}")
        print(f"docs assets match {PACKAGE}")
        return
    TARGET.mkdir(exist_ok=True)
    for name, data in files.items():
        (TARGET / name).write_bytes(data)
    print(f"wrote {len(files)} files from {PACKAGE} to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
