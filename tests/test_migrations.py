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
