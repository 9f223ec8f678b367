"""Package metadata as an index shows it: the sdist's PKG-INFO, built by maturin."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _maturin() -> str | None:
    beside = Path(sys.executable).with_name("maturin")
    return str(beside) if beside.exists() else shutil.which("maturin")


@pytest.mark.skipif(_maturin() is None, reason="maturin is not installed")
def test_sdist_metadata(tmp_path: Path) -> None:
    maturin = _maturin()
    assert maturin is not None
    subprocess.run([maturin, "sdist", "-o", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    (archive,) = tmp_path.glob("ferroweb-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = {Path(m.name).relative_to(Path(m.name).parts[0]).as_posix(): m for m in tar.getmembers()}
        assert "LICENSE" in members
        info = tar.extractfile(members["PKG-INFO"])
        assert info is not None
        metadata = email.parser.BytesParser().parse(info)
    classifiers = metadata.get_all("Classifier") or []
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "fastapi" in metadata["Keywords"].split(",")
    assert metadata.get_payload().startswith("# ferroweb")
