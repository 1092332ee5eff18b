"""What the bench scripts share: a throwaway database, timing and printed figures."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from andon.database import make_engine

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(kind: str, postgres_url: str = POSTGRES_URL) -> Iterator[str]:
    """Yield the URL of an empty database (a new SQLite file or PostgreSQL schema)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="andon-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure(action: Callable[[], Any], rounds: int) -> list[float]:
    """Run an action several times and return each duration in milliseconds."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def percentile(samples: list[float], share: float) -> float:
    """Return the value below which ``share`` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(name: str, samples: list[float], width: int = 28) -> str:
    """Return one printed line: the median and 95th percentile of the samples."""
    return (f"  {name:<{width}} n={len(samples):<4} p50 {statistics.median(samples):8.2f} ms"
            f"   p95 {percentile(samples, 0.95):8.2f} ms")


class Stopwatch:
    """Time a phase and print how long it took."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> Stopwatch:
        self.began = time.perf_counter()
        print(f"{self.what} ...", end="", flush=True)
        return self

    def __exit__(self, *_: object) -> None:
        print(f" {time.perf_counter() - self.began:.1f} s", flush=True)
