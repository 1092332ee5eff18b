"""Alembic migrations, packaged as andon.migrations so installs carry them."""
