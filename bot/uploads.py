"""Evidence files (photos, plans, scanned reports): what is accepted and where a kept file lives.

The same rules on every channel: Telegram, Zalo and the terminal each get the file their own way, then
check it here before it is stored and handed to the dialog.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import UploadsConfig
from bot.i18n import Translator

MB = 1024 * 1024
PHOTO_TYPES = (".jpg", ".png", ".webp")  # what image_kind recognises


def image_kind(head: bytes) -> tuple[str, str] | None:
    """(suffix, MIME type) from a file's first bytes; a name or a header saying "image" is not trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png", "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return None


def limit_mb(uploads: UploadsConfig, kind: str) -> float:
    return uploads.max_photo_mb if kind == "photo" else uploads.max_document_mb


def over_limit(size: int | None, limit: float) -> bool:
    return size is not None and size > limit * MB


def too_large(t: Translator, size: int, limit: float) -> str:
    shown = round(size / MB, 1 if size >= MB else 2)  # never "0 MB" for a small file over a small limit
    return t("The file is too large ({size} MB); the limit is {limit} MB.", size=t.number(shown),
             limit=t.number(limit))


def wrong_type(t: Translator, types: tuple[str, ...]) -> str:
    return t("Files of this type are not accepted. Please send {types}.", types=", ".join(types))


def kept_path(data_dir: Path, unit_id: int, stem: str, suffix: str) -> Path:
    """Where a unit's file is kept: data/uploads/<unit id>/<stem><suffix> (the folder is created)."""
    folder = data_dir / "uploads" / str(unit_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}{suffix.lower() or '.bin'}"
