"""Configuration from environment variables, with documented defaults.

| variable | default | meaning |
| --- | --- | --- |
| ANDON_INSTANCE_PATH | ./instance | folder for the SQLite file and the secret key |
| ANDON_DATABASE_URL | sqlite:///<instance>/andon.db | SQLAlchemy URL (postgresql+psycopg://…) |
| ANDON_SECRET_KEY | made once, kept in <instance>/secret_key | signs sessions and CSRF tokens |
| ANDON_DEFAULT_LOCALE | zh_Hans_CN | UI language when neither the user nor the browser chooses |
| ANDON_TIMEZONE | Asia/Shanghai | timezone in which the UI shows times |
| ANDON_SECURE_COOKIES | 0 | 1 behind HTTPS: cookies are only sent over HTTPS |
| ANDON_BASE_URL | http://127.0.0.1:5000 | the address people open, for links in email |
| ANDON_SMTP_HOST | (email off) | SMTP server; also ANDON_SMTP_PORT, _USER, _PASSWORD, _FROM, … |
| ANDON_CLOCK_OFFSET | (none) | ISO 8601 duration, e.g. P3D: run ahead of real time (demos, tests) |
| ANDON_WORKER_INTERVAL | 5 | seconds between runs of the background worker |
| ANDON_OUTBOUND_ALLOW_PRIVATE | 0 | 1: webhooks may call loopback and private addresses |
| ANDON_UPLOAD_MAX_BYTES | 20971520 | largest attached file (also _FOLDER, _TYPES: files.py) |
| ANDON_CAUSE_TAXONOMY | causes | the taxonomy whose codes say why a task was late |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from andon.files import UploadSettings
from andon.i18n import DEFAULT_LOCALE
from andon.notifications.mailer import SmtpSettings


@dataclass
class Config:
    """Settings of one Andon installation."""

    instance_path: Path
    database_url: str
    secret_key: str
    default_locale: str = DEFAULT_LOCALE
    timezone: str = "Asia/Shanghai"
    worker_interval: float = 5.0
    secure_cookies: bool = False
    base_url: str = "http://127.0.0.1:5000"
    smtp: SmtpSettings | None = None
    clock_offset: timedelta = timedelta(0)
    outbound_private: bool = False
    uploads: UploadSettings | None = None
    cause_taxonomy: str = "causes"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Read the settings from the environment; overrides win."""
        env = dict(os.environ if env is None else env)
        instance = Path(overrides.pop("instance_path", None)
                        or env.get("ANDON_INSTANCE_PATH") or "instance").resolve()
        instance.mkdir(parents=True, exist_ok=True)
        url = (overrides.pop("database_url", None) or env.get("ANDON_DATABASE_URL")
               or f"sqlite:///{instance / 'andon.db'}")
        secret = (overrides.pop("secret_key", None) or env.get("ANDON_SECRET_KEY")
                  or _stored_secret(instance))
        return cls(instance_path=instance, database_url=url, secret_key=secret,
                   default_locale=env.get("ANDON_DEFAULT_LOCALE", DEFAULT_LOCALE),
                   timezone=env.get("ANDON_TIMEZONE", "Asia/Shanghai"),
                   worker_interval=float(env.get("ANDON_WORKER_INTERVAL", "5")),
                   secure_cookies=env.get("ANDON_SECURE_COOKIES", "0") == "1",
                   base_url=env.get("ANDON_BASE_URL", "http://127.0.0.1:5000"),
                   smtp=SmtpSettings.from_env(env),
                   clock_offset=_offset(env.get("ANDON_CLOCK_OFFSET", "")),
                   outbound_private=env.get("ANDON_OUTBOUND_ALLOW_PRIVATE", "0") == "1",
                   uploads=UploadSettings.from_env(env, instance),
                   cause_taxonomy=env.get("ANDON_CAUSE_TAXONOMY", "causes"),
                   extra=overrides)


def _offset(text: str) -> timedelta:
    """Parse ANDON_CLOCK_OFFSET, an ISO 8601 duration (optionally negative)."""
    if not text.strip():
        return timedelta(0)
    from andon.flows.calendars import parse_duration

    sign = -1 if text.strip().startswith("-") else 1
    try:
        duration = parse_duration(text.strip().lstrip("-"))
    except ValueError as error:
        raise ValueError(f"ANDON_CLOCK_OFFSET: {error}") from None
    return sign * timedelta(days=duration.days, seconds=duration.seconds)


def _stored_secret(instance: Path) -> str:
    """Return the secret kept in the instance folder, making one on first run."""
    path = instance / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()
