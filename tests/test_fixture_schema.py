"""The behaviour fixtures in testing_data/ are well formed: each validates against schema.json
(JSON Schema 2020-12), is named after its file, sits in its category's directory, and the suite
is large enough and covers every category."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

TESTING_DATA = Path(__file__).resolve().parent.parent / "testing_data"
SCHEMA_PATH = TESTING_DATA / "schema.json"
FIXTURE_PATHS = sorted(TESTING_DATA.glob("*/*.json"))
MIN_FIXTURES = 350


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def categories() -> list[str]:
    names: list[str] = schema()["properties"]["category"]["enum"]
    return names


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", FIXTURE_PATHS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_is_valid(path: Path) -> None:
    fixture = load(path)
    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(fixture), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert fixture["name"] == path.stem, f"name {fixture['name']!r} differs from the file name"
    assert fixture["category"] == path.parent.name, (
        f"category {fixture['category']!r} differs from the directory {path.parent.name!r}"
    )


def test_no_stray_files() -> None:
    """Every directory is a category and holds only fixtures."""
    for entry in TESTING_DATA.iterdir():
        if entry.is_dir():
            assert entry.name in categories(), f"{entry.name}/ is not a category of schema.json"
            strays = [p.name for p in entry.iterdir() if p.suffix != ".json"]
            assert not strays, f"{entry.name}/ holds non-fixture files: {strays}"


def test_names_are_unique() -> None:
    counts = Counter(load(path)["name"] for path in FIXTURE_PATHS)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    assert not duplicates, f"fixture names used more than once: {duplicates}"


def test_suite_size_and_coverage() -> None:
    per_category = Counter(path.parent.name for path in FIXTURE_PATHS)
    missing = [name for name in categories() if per_category[name] == 0]
    assert not missing, f"categories without fixtures: {missing}"
    assert len(categories()) == 31
    counts = dict(sorted(per_category.items()))
    assert len(FIXTURE_PATHS) >= MIN_FIXTURES, (
        f"{len(FIXTURE_PATHS)} fixtures, at least {MIN_FIXTURES} expected: {counts}"
    )
