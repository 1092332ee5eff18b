"""The ``andon`` command: set up, load definitions, serve, and run the worker."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import clock, migrate, temporal
from andon.config import Config
from andon.database import make_engine, make_session_factory
from andon.errors import AndonError
from andon.flows import causes
from andon.identity.accounts import create_user
from andon.identity.models import ROLES, User
from andon.loader import load_folder


def _session(config: Config) -> Session:
    """Open a session on the configured database."""
    return make_session_factory(make_engine(config.database_url))()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Andon: forms, flows with deadlines, and reports for delivery organisations."""
    ctx.obj = Config.from_env()
    clock.move(ctx.obj.clock_offset)
    temporal.use_installation_zone(ctx.obj.timezone)
    causes.use_taxonomy(ctx.obj.cause_taxonomy)


@main.command()
@click.pass_obj
def init(config: Config) -> None:
    """Create the database or upgrade it to the newest schema."""
    engine = make_engine(config.database_url)
    migrate.upgrade(engine)
    click.echo(f"Database ready: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_obj
def load(config: Config, folder: Path) -> None:
    """Load forms, flows and reports from FOLDER; changed files become new versions."""
    with _session(config) as session:
        failed = _load(session, folder)
        session.commit()
    sys.exit(1 if failed else 0)


def _load(session: Session, folder: Path) -> int:
    """Load a folder, print a line per file, and return how many files failed."""
    try:
        results = load_folder(session, folder)
    except AndonError as error:
        click.echo(str(error), err=True)
        return 1
    for item in results:
        if item.error is not None:
            click.echo(f"✗ {item.path}: {item.error}", err=True)
        else:
            state = "new version" if item.created else "unchanged"
            click.echo(f"✓ {item.kind} {item.key} v{item.version} ({state})  {item.path}")
    return sum(item.error is not None for item in results)


@main.command("create-user")
@click.argument("username")
@click.option("--name", help="Display name; defaults to the user name.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), default=["member"])
@click.option("--email")
@click.password_option(help="Asked for when not given.")
@click.pass_obj
def create_user_command(config: Config, username: str, name: str | None,
                        roles: tuple[str, ...], email: str | None, password: str) -> None:
    """Create a user who can sign in."""
    with _session(config) as session:
        try:
            create_user(session, username, name or username, password, roles, email)
        except AndonError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"Created {username} ({', '.join(roles)}).")


@main.command()
@click.option("--definitions", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True)
@click.option("--password", help="Give every new demo user this password (for scripts).")
@click.option("--projects", default=40, show_default=True, type=click.IntRange(0),
              help="Client projects in the demo history (0: none).")
@click.option("--months", default=18, show_default=True, type=click.IntRange(1),
              help="How many months of history before today.")
@click.pass_obj
def demo(config: Config, definitions: Path, password: str | None, projects: int,
         months: int) -> None:
    """Set up the database, load the shipped definitions, create demo users and history."""
    from andon.demo import create_people

    migrate.upgrade(make_engine(config.database_url))
    with _session(config) as session:
        fresh = session.scalar(select(User.id).limit(1)) is None
        passwords = create_people(session, password)  # flows name these groups
        failed = _load(session, definitions)
        if fresh and not failed:
            _seed(session, projects, months, password)
        session.commit()
    if passwords:
        click.echo("\nDemo users (passwords are shown only this once):")
        for username, secret in passwords.items():
            click.echo(f"  {username:<10} {secret}")
    else:
        click.echo("Demo users already exist; `andon create-user` adds more.")
    if failed:
        raise click.ClickException("Some definitions did not load; see above.")


def _seed(session: Session, projects: int, months: int, password: str | None) -> None:
    """Create the demo history and today's examples; print what was made and how fast."""
    from andon import demo_history
    from andon.demo import seed_history

    started = time.monotonic()
    made = demo_history.seed(session, demo_history.Size(projects, months), password=password)
    seed_history(session)
    click.echo(f"Demo history: {made.projects} client projects over {months} months, "
               f"{sum(made.instances.values())} deliveries and cases, {made.people} people "
               f"({time.monotonic() - started:.0f} s).")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="gunicorn worker processes.")
@click.option("--threads", default=8, show_default=True, type=int,
              help="Threads per worker process.")
@click.option("--no-worker", is_flag=True, help="Do not run the background worker.")
@click.pass_obj
def serve(config: Config, host: str, port: int, workers: int, threads: int,
          no_worker: bool) -> None:
    """Serve the web UI with gunicorn, and the background worker beside it."""
    from andon.app import create_app
    from andon.web.server import serve as run_server

    app = create_app(config)
    background = None if no_worker else subprocess.Popen(
        [sys.executable, "-m", "andon.cli", "worker", "--quiet"])
    click.echo(f"Andon is running: open http://{host}:{port}/  (Ctrl+C stops it)")
    try:
        run_server(app, host, port, workers, threads)
    finally:
        if background is not None:
            background.terminate()
            try:
                background.wait(timeout=10)
            except subprocess.TimeoutExpired:
                background.kill()


@main.command()
@click.option("--quiet", is_flag=True, help="Do not announce the start.")
@click.option("--once", is_flag=True, help="Run what is due once and stop (for cron or tests).")
@click.pass_obj
def worker(config: Config, quiet: bool, once: bool) -> None:
    """Run the background worker: due timers, reminders, escalations and email."""
    from andon.worker import handlers, run_once

    sessions = make_session_factory(make_engine(config.database_url))
    work = handlers(config)
    if once:
        while run_once(sessions, work, timezone=config.timezone):
            pass  # until nothing more is due (an item can queue another, e.g. its email)
        return
    if not quiet:
        click.echo(f"Andon worker: every {config.worker_interval:g} s; Ctrl+C stops it.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            try:
                run_once(sessions, work, timezone=config.timezone)
            except Exception:  # a broken database call must not stop the worker
                logging.getLogger("andon.worker").exception("worker run failed")
            stop.wait(config.worker_interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
