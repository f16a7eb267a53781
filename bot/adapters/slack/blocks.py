"""Slack markup both ways, Block Kit for an Outgoing message, and a neutral Form as a modal.

Pure functions over dicts: no Slack library, no network, nothing decided here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.events import ButtonStyle, Form, FormField, Outgoing

ACTION_PREFIX = "accessbot_"
"""Prefix of every action_id and modal callback_id the bot sets (button `approve` -> `accessbot_approve`)."""
INPUT_SUFFIX = "_input"
"""A form field's input element: block_id = field id, action_id = field id + this."""

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
_TITLE_LIMIT = 24  # modal title, submit and close texts
_OPTION_LIMIT = 75  # static_select option texts
_OPTION_VALUE_LIMIT = 150
_METADATA_LIMIT = 3000  # private_metadata
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_KEEP_ESCAPED = re.compile(r"<(?:[@#!][^<>\s]+|(?:https?|mailto):[^<>\s]+)>")


# -- text ---------------------------------------------------------------------------------------


def plain_text(text: str) -> str:
    """Slack message markup to what the person typed: links unwrapped, entities decoded."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            return match.group(0)
        if label:
            return label
        return target.removeprefix("mailto:")

    text = _SLACK_LINK.sub(unwrap, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Escape &, < and > for Slack, keeping mentions (<@U…>, <#C…>, <!here>) and explicit links."""
    out: list[str] = []
    pos = 0
    for match in _KEEP_ESCAPED.finditer(text):
        out.append(_escape_plain(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line breaks into pieces Slack accepts in one section."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


# -- messages -----------------------------------------------------------------------------------


def has_blocks(message: Outgoing) -> bool:
    return bool(message.title or message.fields or message.buttons)


def render_blocks(message: Outgoing) -> list[dict[str, Any]]:
    """Block Kit for an Outgoing: title, then the fields (or the text), then the buttons."""
    blocks: list[dict[str, Any]] = []
    if message.title:
        blocks.append(_section(f"*{escape(message.title)}*"))
    if message.fields:
        items = [
            {"type": "mrkdwn", "text": clip(f"*{escape(label)}*\n{escape(value)}", FIELD_LIMIT)}
            for label, value in message.fields
        ]
        for start in range(0, len(items), 10):  # Slack allows ten fields per section
            blocks.append({"type": "section", "fields": items[start : start + 10]})
    else:
        blocks.extend(_section(piece) for piece in _chunks(escape(message.text), SECTION_LIMIT))
    if message.buttons:
        elements: list[dict[str, Any]] = []
        for button in message.buttons[:25]:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": ACTION_PREFIX + button.action,
                "text": {"type": "plain_text", "text": clip(button.label, 75), "emoji": True},
                "value": button.value[:2000],
            }
            if button.style is not ButtonStyle.DEFAULT:
                element["style"] = button.style.value
            elements.append(element)
        blocks.append({"type": "actions", "block_id": "accessbot_actions", "elements": elements})
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


# -- forms --------------------------------------------------------------------------------------


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " "}


def _element(field: FormField) -> dict[str, Any]:
    action_id = field.id + INPUT_SUFFIX
    if field.kind == "choice" and field.choices:
        options = [
            {"text": _plain(c.label, _OPTION_LIMIT), "value": c.value[:_OPTION_VALUE_LIMIT]}
            for c in field.choices[:100]  # Slack shows at most 100 options
        ]
        element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": options}
    else:
        element = {
            "type": "plain_text_input",
            "action_id": action_id,
            "multiline": field.kind == "paragraph",
            "max_length": max(1, min(field.max_length, 3000)),
        }
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, 150)
    if field.value:  # pre-filled (a form step's answers, changed before the package is submitted)
        picked = [o for o in element.get("options", ()) if o["value"] == field.value]
        if picked:
            element["initial_option"] = picked[0]
        elif element["type"] == "plain_text_input":
            element["initial_value"] = field.value[: element["max_length"]]
    return element


def render_modal(form: Form, channel: str = "", ts: str = "") -> dict[str, Any]:
    """A neutral Form as a Slack modal. The post it came from and Form.context ride along unseen."""
    meta = json.dumps({"form": form.id, "context": form.context, "channel": channel, "ts": ts})
    if len(meta) > _METADATA_LIMIT:
        raise ValueError(f"form {form.id!r}: context too long for a Slack modal")
    return {
        "type": "modal",
        "callback_id": ACTION_PREFIX + form.id,
        "private_metadata": meta,
        "title": _plain(form.title, _TITLE_LIMIT),
        "submit": _plain(form.submit, _TITLE_LIMIT),
        "close": _plain(form.cancel, _TITLE_LIMIT),
        "blocks": [
            {
                "type": "input",
                "block_id": field.id,
                "label": _plain(field.label, 2000),
                "optional": not field.required,
                "element": _element(field),
                **({"hint": _plain(field.hint, 2000)} if field.hint else {}),
            }
            for field in form.fields
        ],
    }


@dataclass(frozen=True)
class Submission:
    """What came back from a modal the bot opened."""

    form: str
    context: str
    channel: str
    ts: str
    answers: tuple[tuple[str, str], ...]


def read_submission(view: dict[str, Any]) -> Submission:
    """A view_submission's view back to the form's id, its context and each field's answer."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
    # The view's own blocks give the fields' order; state may omit an optional field left empty.
    order = [str(b.get("block_id")) for b in view.get("blocks") or () if b.get("type") == "input"]
    order += [block_id for block_id in values if block_id not in order]
    answers: list[tuple[str, str]] = []
    for block_id in order:
        state = (values.get(block_id) or {}).get(block_id + INPUT_SUFFIX) or {}
        selected = state.get("selected_option") or {}
        answers.append((block_id, str(selected.get("value") or state.get("value") or "")))
    callback = str(view.get("callback_id") or "")
    return Submission(
        form=str(meta.get("form") or callback.removeprefix(ACTION_PREFIX)),
        context=str(meta.get("context") or ""),
        channel=str(meta.get("channel") or ""),
        ts=str(meta.get("ts") or ""),
        answers=tuple(answers),
    )
