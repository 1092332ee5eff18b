"""Fixtures: a clean database per test on SQLite and on PostgreSQL, the app, users."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from andon.database import Base, make_engine, make_session_factory
from andon.demo import create_people
from andon.identity.models import User
from andon.loader import load_folder

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("ANDON_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-1"


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
