"""Bring a database to the newest schema with Alembic (`andon init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

import andon.migrations


def alembic_config(engine: Engine) -> AlembicConfig:
    """Return an Alembic configuration for the packaged migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(andon.migrations.__file__).parent))
    config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine) -> None:
    """Upgrade the database to the newest migration."""
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
