"""Evidence files (photos, plans, scanned reports): what is accepted, where a kept file lives, and keeping it.

The same rules on every channel: Telegram, Zalo and the terminal announce a file with a way to fetch it;
the core's intake (bot/intake.py) checks its name and stated size, fetches it within the cap, and hands its
bytes to `keep`, which reads what it is from those bytes, stores it and gives the input for the dialog.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import UploadsConfig
from bot.dialog.model import FileInput
from bot.domain import Channel
from bot.i18n import Translator
from storage import submissions as submission_store
from storage.db import Database

if TYPE_CHECKING:
    from bot.conversation import ExpectedFile

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


MAX_NAME = 120  # characters of a client's file name kept and shown
MAX_STEM = 100  # characters of a kept file's stem
_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")  # what of a client's suffix may go into a kept file's name


def safe_suffix(name: str | None) -> str:
    """The suffix of a client's file name when it is a short, plain one (".pdf"), else "": a name ending
    in 300 letters, a space or a path separator never reaches the file system."""
    suffix = Path(name or "").suffix.lower()
    return suffix if _SUFFIX.fullmatch(suffix) else ""


def client_name(name: str | None) -> str | None:
    """A client's file name fit to keep and show: no folders, no control characters, at most MAX_NAME
    characters (the middle of a long stem is cut, the suffix kept). None when nothing is left."""
    if not name:
        return None
    name = re.split(r"[/\\]", name)[-1]
    name = " ".join("".join(c for c in name if unicodedata.category(c)[0] != "C").split())
    if len(name) > MAX_NAME:
        suffix = safe_suffix(name)
        name = name[: MAX_NAME - len(suffix) - 1].rstrip() + "…" + suffix
    return name or None


def kept_path(data_dir: Path, unit_id: int, stem: str, suffix: str) -> Path:
    """Where a unit's file is kept: data/uploads/<unit id>/<stem><suffix> (the folder is created). The stem
    and suffix are bounded here too, so no caller can make a name the file system refuses."""
    folder = data_dir / "uploads" / str(unit_id)
    folder.mkdir(parents=True, exist_ok=True)
    stem = _SAFE.sub("", stem)[:MAX_STEM] or "file"
    return folder / f"{stem}{safe_suffix('x' + suffix) or '.bin'}"


class NotAnImageError(ValueError):
    """A photo was wanted and the file's first bytes are not those of a JPEG, PNG or WebP picture."""


async def keep(db: Database, expected: ExpectedFile, content: bytes, *, channel: Channel, name: str | None,
               data_dir: Path, now: datetime, file_id: str | None = None, unique: str | None = None,
               declared_mime: str | None = None, photos_only: bool = False) -> FileInput:
    """Store one evidence file for the question `expected` and return the dialog's input for it.

    Whether it is a photo, and its MIME type, come from its first bytes (image_kind), never from its name
    or the client's `declared_mime` (used only for what is not a picture). NotAnImageError when it is not a
    picture and the question (or, `photos_only`, the channel) wants one: nothing is stored then. The file
    is kept as data/uploads/<unit id>/<channel>-<unique id or start of its SHA-256><suffix>; `name` (None
    when the channel gives none) is the name shown, by default the kept file's."""
    name = client_name(name)
    image = image_kind(content[:16])
    if image is None and (photos_only or expected.type == "photo"):
        raise NotAnImageError(name or "")
    mime: str | None
    if image is not None:
        kind, (suffix, mime) = "photo", image
    else:
        kind, suffix, mime = "document", safe_suffix(name), _document_mime(declared_mime, name)
    digest = hashlib.sha256(content).hexdigest()
    stem = f"{channel.value}-{_SAFE.sub('', unique or '')[:64] or digest[:24]}"
    local = kept_path(data_dir, expected.unit_id, stem, suffix)
    local.write_bytes(content)
    name = name or local.name
    attachment_id = await submission_store.add_attachment(
        db, person_id=expected.person_id, unit_id=expected.unit_id, period_id=expected.period_id,
        field=expected.field, channel=channel.value, file_id=file_id, file_unique_id=unique, file_name=name,
        mime_type=mime, size_bytes=len(content), sha256=digest, local_path=str(local), now=now,
    )
    return FileInput(kind, attachment_id, name)


_SAFE = re.compile(r"[^A-Za-z0-9_-]")  # what of a channel's file id may go into a file name


def _document_mime(declared: str | None, name: str | None) -> str | None:
    """What the client says, else what the name suggests; never an image type (the bytes said it is not one)."""
    for mime in (declared, mimetypes.guess_type(name or "")[0]):
        if mime and not mime.lower().startswith("image/"):
            return mime
    return None
