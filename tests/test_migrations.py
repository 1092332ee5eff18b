"""Alembic migrations build the same schema as the models, both ways, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from andon.database import make_engine
from andon.migrate import alembic_config, upgrade


def test_migrations_match_the_models_and_downgrade_cleanly(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    assert {"user", "task", "flow_instance", "definition_version", "audit_event"} <= set(
        inspect(engine).get_table_names())
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.check(config)  # raises if the models and migrations differ
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_migrations_keep_existing_rows_both_ways(database_url):
    """A database with people, instances and work in it upgrades and downgrades."""
    from sqlalchemy import text

    from andon.migrate import downgrade

    engine = make_engine(database_url)
    upgrade(engine, "79d9edc272a1")  # the first revision
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO \"user\" (id, username, display_name, password_hash, active, created_at)"
            " VALUES (1, 'li', 'Li', 'x', true, '2026-01-01T00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO definition (id, kind, key, created_at) VALUES (1, 'flow', 'f', "
            "'2026-01-01T00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO definition_version (id, definition_id, number, status, title, source,"
            " compiled, checksum, created_at) VALUES (1, 1, 1, 'published', '{}', '', '{}',"
            " 'c', '2026-01-01T00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO flow_instance (id, version_id, title, status, state, data,"
            " started_by_id, started_at, lock_version, updated_at) VALUES (1, 1, 't',"
            " 'running', '{}', '{}', 1, '2026-01-01T00:00:00+00:00', 1,"
            " '2026-01-01T00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO task (id, instance_id, spiff_id, step_id, step_name, step_title,"
            " state, created_at, data) VALUES (1, 1, 's', 'a', 'A', '{}', 'open',"
            " '2026-01-01T00:00:00+00:00', '{}')"))
    upgrade(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT escalation_level FROM task")).scalar() == 0
        prefs = connection.execute(text("SELECT notify_prefs FROM \"user\"")).scalar()
        assert prefs in ({}, "{}")  # email_notifications was on: every default stays
        connection.execute(text(
            "INSERT INTO work_item (kind, key, due_at, state, payload, task_id, attempts,"
            " created_at) VALUES ('remind', 'k', '2026-01-01T00:00:00+00:00', 'pending', '{}',"
            " 1, 0, '2026-01-01T00:00:00+00:00')"))
    downgrade(engine, "79d9edc272a1")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM task")).scalar() == 1
    upgrade(engine)
    engine.dispose()
