"""The docs pages in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``./dev`` installs), with every host but 127.0.0.1 unresolvable, loads
``/docs`` of the example app served by ``ferroweb run``, lists its operations, runs "Try it
out" on one and sees the answer; ``/redoc`` renders the operations. Screenshots go to
``target/test-artifacts/docs/``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import REPO_ROOT, LiveServer

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.live
ARTEFACTS = REPO_ROOT / "target" / "test-artifacts" / "docs"
WAIT = 30


def _binary(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed (./dev installs them as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        # no outside network: every name but the loopback address fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked the network for (from Chromium's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot(driver: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / name
    driver.save_screenshot(str(path))
    return path


def test_swagger_ui_lists_operations_and_tries_one(
    start_server: Callable[..., LiveServer], browser: Any
) -> None:
    server = start_server(target="examples.hello:app")
    browser.get(f"{server.base_url}/docs")
    wait = WebDriverWait(browser, WAIT)
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    paths = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
    assert {"/", "/plaintext", "/items/{item_id}", "/echo"} <= {path.replace("\u200b", "") for path in paths}

    operation = browser.find_element(By.ID, "operations-default-get_item_items_item_id_get")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    operation.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    field = wait.until(lambda _: operation.find_element(By.CSS_SELECTOR, "input[placeholder='item_id']"))
    field.send_keys("widget-7")
    operation.find_element(By.CSS_SELECTOR, ".execute").click()
    answer = ".live-responses-table tbody"  # the table's head row says "Code"
    status = wait.until(lambda _: operation.find_element(By.CSS_SELECTOR, f"{answer} .response-col_status"))
    wait.until(lambda _: status.text.strip().startswith("200"))
    body = operation.find_element(By.CSS_SELECTOR, f"{answer} .response-col_description pre").text
    assert json.loads(body) == {"item_id": "widget-7"}
    assert screenshot(browser, "swagger-ui.png").stat().st_size > 0

    urls = requested_urls(browser)
    assert any(url.endswith("/openapi.json") for url in urls)
    outside = [url for url in urls if not url.startswith((server.base_url, "data:", "blob:"))]
    assert outside == []


def test_redoc_renders_the_operations(start_server: Callable[..., LiveServer], browser: Any) -> None:
    server = start_server(target="examples.hello:app")
    browser.get(f"{server.base_url}/redoc")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda driver: "Get item" in driver.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    for summary in ("Index", "Plaintext", "Get item", "Echo"):
        assert summary in text
    assert screenshot(browser, "redoc.png").stat().st_size > 0
    outside = [
        url for url in requested_urls(browser) if not url.startswith((server.base_url, "data:", "blob:"))
    ]
    assert outside == []
