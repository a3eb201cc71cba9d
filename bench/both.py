"""Run a bench on SQLite and on PostgreSQL in one run (`--both`) and print the two figures with their ratio.

PostgreSQL is the server `--database-url` names (an empty database), or else a throwaway PostgreSQL 15 cluster
started for the run in a temporary folder (tests/pg_cluster.py, with the server's durable defaults: fsync on,
synchronous_commit on, as a deployment runs it) and removed at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_url(given: str) -> Iterator[str]:
    """`given` when set, else an empty database on a throwaway durable cluster."""
    if given:
        yield given
        return
    import psycopg

    from tests import pg_cluster

    with pg_cluster.server(durable=True) as server:
        name = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        yield f"{server}/{name}"


def comparison(figures: dict[str, dict[str, float]]) -> str:
    """One line per figure: SQLite, PostgreSQL, and PostgreSQL as a share of SQLite."""
    sqlite, pg = figures.get("sqlite", {}), figures.get("postgresql", {})
    lines = ["\n== SQLite vs PostgreSQL"]
    for name in [n for n in sqlite if n in pg]:
        ratio = pg[name] / sqlite[name] if sqlite[name] else float("nan")
        lines.append(f"  {name:<32} SQLite {sqlite[name]:>10,.1f}   PostgreSQL {pg[name]:>10,.1f}   "
                     f"PostgreSQL/SQLite {ratio:.2f}")
    return "\n".join(lines)
