"""Serve the app with gunicorn from inside the andon command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class Server(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that serves an already created Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options given in code; gunicorn's own argv parsing stays off."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Return the WSGI app each worker serves."""
        return self.application


def serve(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until interrupted."""
    engine = app.extensions["andon.engine"]
    Server(app, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                 "post_fork": lambda _server, _worker: engine.dispose(close=False),
                 "worker_class": "gthread", "timeout": 60, "graceful_timeout": 10,
                 "accesslog": None, "errorlog": "-", "loglevel": "warning"}).run()
