"""Drive a whole report through the conversation, answering each question the way a chair would."""

from __future__ import annotations

from bot.campaign_model import FieldType, FormField
from bot.conversation import Conversation, Press, Response, Sender
from bot.dialog.model import TextInput

TYPED = {
    FieldType.INTEGER: "12",
    FieldType.DECIMAL: "1,5",
    FieldType.MONEY: "500 nghìn",
    FieldType.PERCENT: "50%",
    FieldType.TEXT: "Hội thao công nhân",
    FieldType.LONG_TEXT: "Tổ chức 2 buổi tuyên truyền, 1 hội thao; mô hình “Bữa cơm công đoàn” được hưởng ứng.",
    FieldType.DATE: "15/7",
}


def current_field(conversation_state: dict, fields: dict[str, FormField]) -> FormField | None:
    form = conversation_state.get("form") or {}
    name = form.get("current")
    return fields.get(name) if name and form.get("phase") == "ask" else None


async def answer_current(
    conv: Conversation, sender: Sender, response: Response, field: FormField, update_key: str | None = None
) -> Response:
    """One valid answer to `field`, by button where the reply offers one, else typed."""
    actions = [a for r in response.replies for a in r.actions]
    if field.type is FieldType.YES_NO:
        return await conv.handle(sender, Press(response.version, "yes"), update_key)
    if field.type is FieldType.SELECT_ONE:
        return await conv.handle(sender, Press(response.version, f"c:{field.choices[0].value}"), update_key)
    if field.type is FieldType.SELECT_MULTIPLE:
        return await conv.handle(sender, TextInput("1,2"), update_key)
    if field.type.is_attachment:
        assert "skip" in actions, f"{field.name}: attachment questions in seeds are optional"
        return await conv.handle(sender, Press(response.version, "skip"), update_key)
    return await conv.handle(sender, TextInput(TYPED[field.type]), update_key)
