"""Alembic environment: runs migrations against the URL Andon was given."""

from __future__ import annotations

from alembic import context

from andon.config import Config
from andon.database import make_engine
from andon.models import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") \
    or Config.from_env().database_url
connection = config.attributes.get("connection")


def run(connection) -> None:  # type: ignore[no-untyped-def]
    """Run the migrations on one connection."""
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True, include_object=_for(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def _for(dialect: str):  # type: ignore[no-untyped-def]
    """Skip what a model creates only on another database: ``info={"only_on": dialect}``."""
    return lambda obj, *_args: obj.info.get("only_on", dialect) == dialect


if connection is not None:
    run(connection)
else:
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
