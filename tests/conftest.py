"""Fixtures: a clean database per test on SQLite and on PostgreSQL, the app, users."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from andon import temporal
from andon.database import Base, make_engine, make_session_factory
from andon.demo import create_people
from andon.forms.store import deploy_form
from andon.identity.models import User
from andon.loader import load_folder

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("ANDON_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True)
def installation_zone() -> Iterator[None]:
    """Start every test with today() in UTC, whatever zone an app or test set before."""
    temporal.use_installation_zone("UTC")
    yield
    temporal.use_installation_zone("UTC")


@pytest.fixture
def deploy_issue(session: Session) -> Callable[..., None]:
    """Return a function that publishes the records tests' issue form, optionally changed."""
    source = Path(__file__).resolve().parent / "data" / "records" / "issue.json"

    def deploy(change: Callable[[dict[str, Any]], Any] | None = None) -> None:
        definition = json.loads(source.read_text())
        if change:
            change(definition)
        deploy_form(session, json.dumps(definition, ensure_ascii=False), "issue.json")
        session.commit()
    return deploy


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Give each test an empty database: a new SQLite file or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'andon.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on the test database with every table created."""
    engine = make_engine(database_url)
    import andon.models  # noqa: F401  (registers every table)

    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """Return a session on the test database."""
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture(scope="session")
def password_hash() -> str:
    """Hash PASSWORD once: scrypt is slow on purpose, and every test has six people."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


@pytest.fixture
def staff(session: Session, password_hash: str, monkeypatch: pytest.MonkeyPatch
          ) -> dict[str, User]:
    """Create the demo people, groups and org unit, everyone with PASSWORD."""
    from andon.identity import accounts

    real = accounts.generate_password_hash
    monkeypatch.setattr(accounts, "generate_password_hash",
                        lambda secret: password_hash if secret == PASSWORD else real(secret))
    create_people(session, PASSWORD)
    session.commit()
    return {user.username: user for user in session.query(User)}


@pytest.fixture
def people(session: Session, staff: dict[str, User]) -> dict[str, User]:
    """Return the demo people with the shipped definitions loaded."""
    results = load_folder(session, ROOT / "definitions")
    assert [r.error for r in results if r.error] == []
    session.commit()
    return staff


@pytest.fixture
def app(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Return the app on the test database, CSRF on as in production."""
    app = create_test_app(database_url, tmp_path)
    yield app
    app.extensions["andon.engine"].dispose()


def create_test_app(database_url: str, tmp_path: Path, **extra: Any) -> Flask:
    """Create the app with test settings."""
    from andon.app import create_app

    return create_app({"database_url": database_url, "instance_path": tmp_path / "instance",
                       "secret_key": "test-secret", "testing": True, **extra})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client whose browser asks for English unless a test says otherwise."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class Auth:
    """Sign a test client in and out, with the CSRF token a browser would send."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, url: str = "/auth/login") -> str:
        """Return the CSRF token of the form on a page."""
        import re

        html = self.client.get(url).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Sign in as a user."""
        return self.client.post("/auth/login", data={
            "username": username, "password": password, "csrf_token": self.csrf()})

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Post a form the way the page would, with its CSRF token."""
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf()},
                                **kwargs)


@pytest.fixture
def auth(client: FlaskClient, people: dict[str, User]) -> Auth:
    """Return the sign-in helper, with the demo people present."""
    return Auth(client)


class Loopback:
    """A real HTTP server on loopback that answers each POST with ``answer(path, body)``.

    ``answer`` returns a status and what to send: bytes as they are, anything else as
    JSON. Every request's path, headers and JSON body is kept in ``received``.
    """

    def __init__(self, answer: Callable[[str, Any], tuple[int, Any]]) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append((self.path, dict(self.headers), body))
                status, reply = answer(self.path, body)
                raw = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://example.com/")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                """Keep the test output quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        """Shut the server down."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def loopback() -> Iterator[Callable[[Callable[[str, Any], tuple[int, Any]]], Loopback]]:
    """Return a function that starts a loopback server for this test; all stop after it."""
    started: list[Loopback] = []

    def start(answer: Callable[[str, Any], tuple[int, Any]]) -> Loopback:
        started.append(Loopback(answer))
        return started[-1]
    yield start
    for server in started:
        server.stop()


def chat_answer(path: str, body: Any) -> tuple[int, Any]:
    """Answer like WeCom and DingTalk: /ok errcode 0, /refuse errcode 93000, /busy HTTP 503."""
    code = 93000 if path.startswith("/refuse") else 0
    return (503 if path.startswith("/busy") else 200,
            {"errcode": code, "errmsg": "ok" if not code else "bad key"})


@pytest.fixture
def chat_hook(loopback: Callable[..., Loopback]) -> Loopback:
    """Run a chat tool's incoming webhook stand-in on loopback for one test."""
    return loopback(chat_answer)


#: the moment report tests read at: every task below was created before it
REPORT_NOW = "2026-02-01T00:00:00+00:00"


@pytest.fixture
def report_rows(session: Session, people: dict[str, User]) -> Iterator[dict[str, Any]]:
    """Create three change requests with known times, at REPORT_NOW on a frozen clock.

    Each starts with its requester's "Describe the change" task (no due time). A (engineer1,
    PRJ-A): review on time (9 h), director approval open, overdue, level 1, held by
    ``outsider``. B (engineer2, PRJ-B): review 24 h late (48 h), approval on time
    (24 h), completed after 72 h. C (``outsider`` of org unit delivery-west, PRJ-C): review
    open, overdue, level 2. Everyone but ``outsider`` is in delivery-east.
    """
    from datetime import datetime

    from andon import clock
    from andon.flows import runtime
    from andon.flows.models import Task
    from andon.identity.accounts import create_user, ensure_org_unit

    def at(text: str) -> Any:
        return datetime.fromisoformat(text + "+00:00")

    west = ensure_org_unit(session, "delivery-west", "West delivery centre")
    outsider = create_user(session, "outsider", "Outsider", PASSWORD, ("member",))
    outsider.org_unit = west
    request = {"title": "T", "reason": "R", "customer_contact": "C"}
    made = {}
    for name, who, project, effort in (("A", people["engineer1"], "PRJ-A", "20"),
                                       ("B", people["engineer2"], "PRJ-B", "20"),
                                       ("C", outsider, "PRJ-C", "4")):
        made[name] = runtime.start_instance(session, "change_request", who,
                                            {**request, "project": project,
                                             "effort_days": effort})
    session.flush()

    def open_task(name: str) -> Task:
        return next(t for t in made[name].tasks if t.state == "open")

    for name in ("A", "B"):
        runtime.complete_task(session, open_task(name).id, people["pm"], {"decision": "approve"})
    runtime.complete_task(session, open_task("B").id, people["director"],
                          {"decision": "approve"})
    session.flush()
    for instance in made.values():
        session.refresh(instance)
    times = {  # per task in order: created, due, completed, escalation level
        "A": [("2026-01-05T01:00", None, "2026-01-05T01:00", 0),
              ("2026-01-05T01:00", "2026-01-06T01:00", "2026-01-05T10:00", 0),
              ("2026-01-05T10:00", "2026-01-07T10:00", None, 1)],
        "B": [("2026-01-10T00:00", None, "2026-01-10T00:00", 0),
              ("2026-01-10T00:00", "2026-01-11T00:00", "2026-01-12T00:00", 0),
              ("2026-01-12T00:00", "2026-01-14T00:00", "2026-01-13T00:00", 0)],
        "C": [("2026-01-20T00:00", None, "2026-01-20T00:00", 0),
              ("2026-01-20T00:00", "2026-01-21T00:00", None, 2)],
    }
    for name, rows in times.items():
        for task, (created, due, completed, level) in zip(made[name].tasks, rows, strict=True):
            task.created_at, task.escalation_level = at(created), level
            task.due_at = at(due) if due else None
            task.completed_at = at(completed) if completed else None
    made["A"].tasks[2].assignee = outsider
    for name, started, ended in (("A", "2026-01-05T01:00", None),
                                 ("B", "2026-01-10T00:00", "2026-01-13T00:00"),
                                 ("C", "2026-01-20T00:00", None)):
        made[name].started_at = at(started)
        made[name].ended_at = at(ended) if ended else None
    session.commit()
    with clock.frozen(datetime.fromisoformat(REPORT_NOW)):
        yield {**made, "outsider": outsider}
