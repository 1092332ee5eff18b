"""Upgrading turns the old email switch into per-kind preferences, and back."""

from __future__ import annotations

import json

from sqlalchemy import text

from andon.database import make_engine
from andon.migrate import downgrade, upgrade


def test_email_turned_off_stays_off_for_every_kind_both_ways(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "43cc719b43a9")
    with engine.begin() as connection:
        for user_id, wants in ((1, True), (2, False)):
            connection.execute(text(
                "INSERT INTO \"user\" (id, username, display_name, password_hash, active,"
                " email_notifications, created_at) VALUES (:id, :name, 'X', 'x', true, :wants,"
                " '2026-01-01T00:00:00+00:00')"), {"id": user_id, "name": f"u{user_id}",
                                                    "wants": wants})
    upgrade(engine)
    with engine.begin() as connection:
        rows = dict(connection.execute(text("SELECT id, notify_prefs FROM \"user\"")).all())
    prefs = {key: json.loads(value) if isinstance(value, str) else value
             for key, value in rows.items()}
    assert prefs[1] == {}
    assert prefs[2] == {topic: {"email": False}
                        for topic in ("assigned", "reminder", "escalation", "cc", "digest")}
    downgrade(engine, "43cc719b43a9")
    with engine.begin() as connection:
        kept = dict(connection.execute(text(
            "SELECT id, email_notifications FROM \"user\"")).all())
    assert {key: bool(value) for key, value in kept.items()} == {1: True, 2: False}
    engine.dispose()
