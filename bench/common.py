"""What the benches share: the config.toml they run on (like the one in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_config(folder: Path, campaigns_dir: Path) -> Path:
    """Write folder/config.toml: data (and the database, data/bench.sqlite3) under `folder`, campaigns from
    `campaigns_dir`, the repository's locales and sample organisation. Returns the file's path."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[app]
data_dir = "data"
campaigns_dir = "{campaigns_dir.as_posix()}"
locales_dir = "{(REPO / "locales").as_posix()}"
sample_units = "{(REPO / "bot/data/sample_units.csv").as_posix()}"

[storage]
path = "data/bench.sqlite3"
""",
        encoding="utf-8",
    )
    return path
