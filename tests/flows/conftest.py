"""What the flow tests share: a worker run at a chosen moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from andon import clock
from andon.config import Config
from andon.database import make_session_factory
from andon.worker import handlers, run_once


@pytest.fixture
def worker(engine, tmp_path) -> Callable[[datetime], int]:
    """Return a function that runs the worker once at a moment (webhooks may reach loopback)."""
    sessions = make_session_factory(engine)
    work = handlers(Config.from_env({"ANDON_OUTBOUND_ALLOW_PRIVATE": "1"}, instance_path=tmp_path))

    def run(moment: datetime) -> int:
        with clock.frozen(moment):
            return run_once(sessions, work, moment)
    return run
