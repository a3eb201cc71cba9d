"""Replies as plain text for channels without buttons (terminal, Zalo): choices become numbered lines,
"0" goes back, and moves such as skip are typed words.

The one rule there: a number only ever picks an item of a list shown (a choice, a menu entry, an answer of
the review). A move (send, change, done, keep a value read back, back, skip) is a word the prompt names; the
form words those prompts itself when the channel has no buttons (FormContext.buttons), so a number typed
where a number is also an answer (the review, an amount) is never taken for a move."""

from __future__ import annotations

from bot.dialog.form import BACK, SKIP
from bot.dialog.model import Reply
from bot.i18n import Translator


def render_plain(reply: Reply, t: Translator) -> str:
    lines = []
    if reply.title:
        lines.append(reply.title.upper() if t.locale == "en" else reply.title)
    lines.append(reply.text)
    nav = {b.action for b in reply.nav}
    choices = reply.numbered
    if choices and all(b.label == str(i) for i, b in enumerate(choices, start=1)):
        # Choices that are only their own numbers (pick a question to change): one line, not "1. 1".
        lines.append(t("Numbers 1 to {n}.", n=len(choices)))
        if BACK in nav:
            lines.append("  0. " + t("Back"))
    elif choices:
        lines.append("")
        lines.extend(f"  {i}. {b.label}" for i, b in enumerate(choices, start=1))
        if BACK in nav:
            lines.append("  0. " + t("Back"))
        lines.append(t("Reply with the number of your choice."))
    lines.extend(f"{b.label}: {b.url}" for b in reply.links)  # no button to press: the link written out
    hints = []
    if BACK in nav and not choices:
        hints.append(t("type 'quay lại' to go back"))
    if SKIP in nav:
        hints.append(t("type 'bỏ qua' to skip"))
    if hints:
        lines.append("(" + "; ".join(hints) + ")")
    return "\n".join(lines)
