"""File intake, the same on every channel: a channel announces a file (`IncomingFile`) with what it knows
before fetching it and a way to fetch it; the core decides whether a file is expected at all, checks what can
be checked before fetching (type by name, stated size), fetches with a hard cap, keeps the file (bot/uploads.py)
and hands the kept file to the dialog as the answer; a plan document from staff becomes a draft campaign.

Every refusal is one reply in the person's language saying what is accepted; nothing refused is stored.
"""

from __future__ import annotations

from pathlib import Path

from bot import uploads
from bot.channels import DOCUMENT, PHOTO, FetchFailedError, FileTooLargeError, IncomingFile
from bot.config import UploadsConfig
from bot.conversation import Conversation, PlanFile, Response, Sender
from bot.dialog.model import Reply
from bot.i18n import Translator, normalise_locale
from bot.plans.text import MAX_PLAN_BYTES

PLAN_SUFFIXES = (".docx", ".pdf", ".txt")


class FileIntake:
    """What the core does with an incoming file, for the conversation `conversation`."""

    def __init__(self, conversation: Conversation, rules: UploadsConfig, data_dir: Path) -> None:
        self.conversation, self.rules, self.data_dir = conversation, rules, data_dir

    async def receive(self, sender: Sender, file: IncomingFile, update_key: str | None) -> Response:
        conversation = self.conversation
        if await conversation.already_handled(sender, update_key):
            return _duplicate(sender)  # a re-delivered file: fetched and stored the first time
        expected = await conversation.expected_attachment(sender)
        locale = await conversation.locale_of(sender)
        t = conversation.translator(locale)
        if expected is None:
            if file.kind == DOCUMENT and await conversation.accepts_plan(sender):
                return await self._plan(sender, file, update_key, t, locale)
            return _say(conversation.unexpected_file_text(t), locale)
        limit = uploads.limit_mb(self.rules, file.kind)
        name = uploads.client_name(file.name)  # a photo may have none: it is named after where it is kept
        if file.kind == DOCUMENT:
            name = name or uploads.client_name(file.unique) or "file"
            if uploads.safe_suffix(name) not in self.rules.document_types:
                return _say(uploads.wrong_type(t, self.rules.document_types), locale)
        content = await self._fetch(file, limit, t)
        if isinstance(content, str):
            return _say(content, locale)
        try:
            # A photo sent as a file (uncompressed) is a photo too: the bytes say so, not the stated MIME type.
            kept = await uploads.keep(conversation.db, expected, content, channel=sender.channel, name=name,
                                      data_dir=self.data_dir, now=conversation.clock.now(), file_id=file.file_id,
                                      unique=file.unique, declared_mime=file.mime, photos_only=file.photos_only)
        except uploads.NotAnImageError:
            return _say(uploads.wrong_type(t, uploads.PHOTO_TYPES), locale)
        return await conversation.handle(sender, kept, update_key)

    async def _fetch(self, file: IncomingFile, limit: float, t: Translator) -> bytes | str:
        """The file's bytes, or what to tell the person: too large (as stated, or found while fetching: a
        stated size may be missing or wrong), or not fetched."""
        if uploads.over_limit(file.size, limit):
            return uploads.too_large(t, file.size or 0, limit)
        try:
            return await file.fetch(int(limit * uploads.MB))
        except FileTooLargeError as exc:
            return uploads.too_large(t, exc.size, limit)
        except FetchFailedError:
            if file.kind == PHOTO:
                return t("I could not fetch this photo. Please send it again.")
            return t("I could not fetch this file. Please send it again.")

    async def _plan(self, sender: Sender, file: IncomingFile, update_key: str | None, t: Translator,
                    locale: str) -> Response:
        """A plan (kế hoạch) from the department: read into a draft campaign to check and publish."""
        name = uploads.client_name(file.name) or "plan"
        if uploads.safe_suffix(name) not in PLAN_SUFFIXES:
            return _say(uploads.wrong_type(t, PLAN_SUFFIXES), locale)
        limit = min(uploads.limit_mb(self.rules, DOCUMENT), MAX_PLAN_BYTES / uploads.MB)
        data = await self._fetch(file, limit, t)
        if isinstance(data, str):
            return _say(data, locale)
        return await self.conversation.handle(sender, PlanFile(name, data), update_key)


def _say(text: str, locale: str) -> Response:
    return Response([Reply(text)], 0, locale)


def _duplicate(sender: Sender) -> Response:
    return Response([], 0, normalise_locale(sender.language_code), duplicate=True)
