"""``FERROWEB_*`` settings and env files (ferroweb._env_config), as ``ferroweb run`` reads them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ferroweb._env_config import config_from_environment, load_env_file
from ferroweb.config import ServerConfig


def test_every_kind_of_setting_is_read() -> None:
    config = config_from_environment(
        ServerConfig(),
        {
            "FERROWEB_PORT": "9001",
            "FERROWEB_HOST": "0.0.0.0",
            "FERROWEB_MAX_BODY_SIZE": "1_048_576",
            "FERROWEB_KEEP_ALIVE_TIMEOUT": "none",
            "FERROWEB_SHUTDOWN_TIMEOUT": "2.5",
            "FERROWEB_LOOP": "asyncio",
            "FERROWEB_BACKGROUND_MAX_QUEUE": "12",
            "UNRELATED": "x",
        },
    )
    assert (config.port, config.host, config.max_body_size) == (9001, "0.0.0.0", 1_048_576)
    assert config.keep_alive_timeout is None
    assert (config.shutdown_timeout, config.loop, config.background.max_queue) == (2.5, "asyncio", 12)
    assert config.background.max_concurrency == ServerConfig().background.max_concurrency


def test_nothing_set_keeps_the_config() -> None:
    config = ServerConfig(port=1234)
    assert config_from_environment(config, {}) is config


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FERROWEB_PORT", "eighty", "FERROWEB_PORT='eighty'"),
        ("FERROWEB_MAX_BODY_SIZE", "1.5", "FERROWEB_MAX_BODY_SIZE"),
        ("FERROWEB_LOOP", "tornado", "loop"),
        ("FERROWEB_WORKERS", "0", "workers"),
    ],
)
def test_bad_values_name_the_setting(variable: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_environment(ServerConfig(), {variable: value})


def test_an_env_file_adds_what_the_environment_lacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# settings\nexport FERROWEB_PORT=7007\nFERROWEB_HOST='127.0.0.2'\nAPP_GREETING=\"hi there\"\n"
    )
    monkeypatch.setenv("FERROWEB_HOST", "127.0.0.3")  # already set: wins over the file
    monkeypatch.delenv("FERROWEB_PORT", raising=False)
    monkeypatch.delenv("APP_GREETING", raising=False)
    load_env_file(str(env_file))
    assert os.environ["APP_GREETING"] == "hi there"
    config = config_from_environment(ServerConfig())
    assert (config.port, config.host) == (7007, "127.0.0.3")
    with pytest.raises(ValueError, match="does not exist"):
        load_env_file(str(tmp_path / "missing.env"))
