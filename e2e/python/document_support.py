"""Checks the ``document`` expectation of the openapi fixtures: fragments of a served JSON
document (``/openapi.json``, ``/asyncapi.json``) picked by JSON Pointer (RFC 6901).

``expected_response.document`` maps pointers to what must be there. The fragment found is
compared partially (objects need only the expected members; lists must have as many items,
compared the same way), after every ``$ref`` in it that points into the document has been
replaced by its target, so that a fixture states what a schema *is* rather than the component
name the builder chose. ``<<absent>>`` instead of a value means the pointer must not resolve
(a route left out of the document, a member not written). A ``$ref`` met on the pointer's way
is followed too.
"""

from __future__ import annotations

from typing import Any

ABSENT = "<<absent>>"
_MISSING = object()


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_pointer(document: Any, pointer: str, *, follow: bool = False) -> Any:
    """The value the pointer names, or ``_MISSING``. ``""`` is the whole document. With
    ``follow``, a ``$ref`` met on the way is followed (``.../schema/required`` reads the
    referenced component's ``required``)."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer starts with '/': {pointer!r}")
    current = document
    for token in map(_unescape, pointer[1:].split("/")):
        for _ in range(16):  # a chain of references, bounded
            ref = current.get("$ref") if follow and isinstance(current, dict) else None
            if not isinstance(ref, str) or token in current or not ref.startswith("#"):
                break
            current = resolve_pointer(document, ref[1:])
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return _MISSING
    return current


def inline_refs(value: Any, document: Any, seen: tuple[str, ...] = ()) -> Any:
    """``value`` with each local ``{"$ref": "#/..."}`` replaced by its target (recursively; a
    reference back into one being expanded is left as it is, so recursive types end)."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and ref not in seen:
            target = resolve_pointer(document, ref[1:])
            if target is not _MISSING:
                siblings = {k: v for k, v in value.items() if k != "$ref"}
                expanded = inline_refs(target, document, (*seen, ref))
                return {**expanded, **inline_refs(siblings, document, seen)} if siblings else expanded
        return {key: inline_refs(item, document, seen) for key, item in value.items()}
    if isinstance(value, list):
        return [inline_refs(item, document, seen) for item in value]
    return value


def document_problems(expected: dict[str, Any], document: Any, differences: Any) -> list[str]:
    """Every way the document differs from the expected fragments (``differences`` is the
    fixture client's JSON comparison)."""
    problems: list[str] = []
    for pointer, want in expected.items():
        found = resolve_pointer(document, pointer, follow=True)
        if want == ABSENT:
            if found is not _MISSING:
                problems.append(f"document {pointer}: expected nothing there, found {found!r:.300}")
            continue
        if found is _MISSING:
            problems.append(f"document {pointer}: missing (expected {want!r:.300})")
            continue
        actual = inline_refs(found, document)
        problems += [f"document {line}" for line in differences(want, actual, pointer, partial=True)]
    return problems
