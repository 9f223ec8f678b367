"""``ServerConfig`` from the environment: ``FERROWEB_<FIELD>`` for every field
(``FERROWEB_MAX_BODY_SIZE=1048576``, ``FERROWEB_KEEP_ALIVE_TIMEOUT=none``,
``FERROWEB_BACKGROUND_MAX_QUEUE=256``), optionally read from an env file first.

What ``ferroweb run`` applies, in order: the app's own config, then the environment (an env
file's variables are added to it first, without replacing those already set, as dotenv
does), then the command's flags. A value that does not parse is an error naming the variable.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from typing import Any

from ferroweb.config import BackgroundConfig, ServerConfig

PREFIX = "FERROWEB_"
_NONE = frozenset({"none", "null", "off", ""})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _parse(variable: str, text: str, annotation: Any) -> Any:
    members = (
        typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType)
        else ()
    )
    if type(None) in members:
        if text.strip().lower() in _NONE:
            return None
        (annotation,) = [member for member in members if member is not type(None)]
    text = text.strip()
    try:
        if annotation is bool:
            lowered = text.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError("expected true or false")
            return lowered in _TRUE
        if annotation is int:
            return int(text.replace("_", ""))
        if annotation is float:
            return float(text)
        if annotation is str or typing.get_origin(annotation) is typing.Literal:
            return text
    except ValueError as exc:
        raise ValueError(f"{variable}={text!r}: {exc}") from None
    raise ValueError(f"{variable}: the setting cannot be given in the environment")


def config_from_environment(config: ServerConfig, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """``config`` with every ``FERROWEB_*`` setting found in ``environ`` (default: the process
    environment) applied."""
    environ = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for name, annotation in _hints(ServerConfig).items():
        if name == "background":
            continue
        variable = PREFIX + name.upper()
        if variable in environ:
            changes[name] = _parse(variable, environ[variable], annotation)
    background: dict[str, Any] = {}
    for name, annotation in _hints(BackgroundConfig).items():
        variable = f"{PREFIX}BACKGROUND_{name.upper()}"
        if variable in environ:
            background[name] = _parse(variable, environ[variable], annotation)
    if background:
        changes["background"] = dataclasses.replace(config.background, **background)
    return dataclasses.replace(config, **changes) if changes else config


def read_env_file(path: str) -> dict[str, str]:
    """The variables an env file sets (``KEY=value`` lines, ``#`` comments, quotes, ``export``),
    read by python-dotenv."""
    try:
        from dotenv import dotenv_values
    except ImportError:
        raise ValueError("--env-file needs python-dotenv: pip install python-dotenv") from None
    if not os.path.isfile(path):
        raise ValueError(f"env file {path!r} does not exist")
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def load_env_file(path: str) -> None:
    """Sets the env file's variables in the process environment, except those already set
    (so the app's own code sees them too, as with uvicorn's ``--env-file``)."""
    for key, value in read_env_file(path).items():
        os.environ.setdefault(key, value)
