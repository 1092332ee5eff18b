"""Bring a database to the newest schema with Alembic (`andon init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine

import andon.migrations


def alembic_config(engine: Engine) -> AlembicConfig:
    """Return an Alembic configuration for the packaged migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(andon.migrations.__file__).parent))
    config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to a revision (the newest by default)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to an older revision."""
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step) -> None:  # type: ignore[no-untyped-def]
    """Run a migration step; on SQLite with foreign keys off while tables are rebuilt."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a rebuilt table is dropped and renamed: keys are checked afterwards
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            step(config)
        if sqlite:
            _check_keys(connection)
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _check_keys(connection: Connection) -> None:
    """Fail if a migration left a row pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left dangling foreign keys: {broken[:5]}")
