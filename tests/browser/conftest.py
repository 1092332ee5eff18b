"""Fixtures for browser tests: the real `andon` commands and Debian's Chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ANDON = ROOT / ".venv" / "bin" / "andon"
SCREENSHOTS = ROOT / "test-output" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD_LINE = re.compile(r"^  (\w+)\s+(\S+)$")
URL_LINE = re.compile(r"Andon is running: open (http://\S+)")
STARTUP_SECONDS = 20


@dataclass
class Demo:
    """An instance folder set up by `andon demo`, with the passwords it printed."""

    env: dict[str, str]
    passwords: dict[str, str]


@pytest.fixture
def demo(tmp_path: Path, request: pytest.FixtureRequest) -> Demo:
    """Run `andon demo` as the README does and read the passwords it prints.

    The months of client projects are left out (``--projects 0``) unless the test is
    marked ``@pytest.mark.history(projects, months)``.
    """
    env = {**os.environ, "ANDON_INSTANCE_PATH": str(tmp_path / "instance"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("ANDON_DATABASE_URL", None)
    marker = request.node.get_closest_marker("history")
    projects, months = marker.args if marker else (0, 1)
    done = subprocess.run([str(ANDON), "demo", "--definitions", "definitions", "--projects",
                           str(projects), "--months", str(months)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    header = "Demo users (passwords are shown only this once):"
    assert header in done.stdout, done.stdout
    listing = done.stdout.split(header, 1)[1].splitlines()
    passwords = dict(match.groups() for line in listing if (match := PASSWORD_LINE.match(line)))
    assert set(passwords) == {"admin", "pm", "engineer1", "engineer2", "director", "leader"}
    return Demo(env, passwords)


@pytest.fixture
def passwords(demo: Demo) -> dict[str, str]:
    """Return the demo users' passwords as `andon demo` printed them."""
    return demo.passwords


@pytest.fixture
def serve(demo: Demo, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `andon serve` processes on free ports (with extra settings); stop them after."""
    processes: list[subprocess.Popen[Any]] = []

    def start(worker: bool = True, **settings: str) -> str:
        log_path = tmp_path / f"serve-{len(processes)}.log"
        options = [] if worker else ["--no-worker"]
        with log_path.open("w") as log:
            processes.append(subprocess.Popen(
                [str(ANDON), "serve", *options, "--host", "127.0.0.1",
                 "--port", str(_free_port())],
                cwd=ROOT, env={**demo.env, **settings}, stdout=log, stderr=subprocess.STDOUT))
        return _wait_until_serving(processes[-1], log_path)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(serve: Callable[..., str]) -> str:
    """Run `andon serve` on a free port and return the URL it prints."""
    return serve()


def follow(page: Page, link: Locator) -> None:
    """Click a boosted link or button and wait until htmx has drawn the new page.

    The old `main` is marked first, so a next click can never land on the page
    being replaced (which would start a second request racing the first).
    """
    page.locator("main").evaluate("main => { main.dataset.replaced = 'no'; }")
    link.click()
    expect(page.locator("main[data-replaced]")).to_have_count(0)


def run_worker_once(demo: Demo, **settings: str) -> None:
    """Run `andon worker --once` on the demo's database, as cron would."""
    done = subprocess.run([str(ANDON), "worker", "--once"], cwd=ROOT,
                          env={**demo.env, **settings}, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[Any], log_path: Path) -> str:
    """Wait for the printed URL, then until it answers; fail if the server dies."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        else:
            pytest.fail(f"andon serve exited:\n{log_path.read_text()}")
        match = URL_LINE.search(log_path.read_text())
        if match and _answers(match.group(1)):
            return match.group(1)
    pytest.fail(f"andon serve did not answer in {STARTUP_SECONDS} s:\n{log_path.read_text()}")


def _answers(url: str) -> bool:
    """Tell whether the URL answers with a page (following the login redirect)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Launch Debian's Chromium once for the session."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """Open a fresh English-speaking browser tab with its own cookies."""
    expect.set_options(timeout=10_000)
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


class Screenshots:
    """Save numbered full-page screenshots under test-output/browser/."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, name: str) -> Path:
        """Save the whole page as NN-name.png and return the path."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    """Return the screenshot taker, with the test's own output folder emptied."""
    folder = SCREENSHOTS / request.node.originalname.removeprefix("test_")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return Screenshots(folder)
