"""Buttons that survive restarts, and modals rendered from a neutral Form.

Nothing here decides who may press what: the core answers `Host.form_for` and handles the events.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import discord

from bot.adapters.discord.render import clip
from bot.events import Button, ButtonStyle, Choice, Form, FormField, MessageRef

log = logging.getLogger(__name__)

CUSTOM_ID_PREFIX = "accessbot"
FORM_TIMEOUT_S = 900.0
MAX_FORM_FIELDS = 5
"""A Discord modal holds at most five text inputs."""

_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
}


def custom_id(action: str, value: str) -> str:
    return f"{CUSTOM_ID_PREFIX}:{action}:{value}"


@runtime_checkable
class ButtonHandler(Protocol):
    """The client, as a button sees it."""

    async def on_button(self, interaction: discord.Interaction[Any], action: str, value: str) -> None: ...


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"^accessbot:(?P<action>[a-z_]{1,20}):(?P<value>[A-Za-z0-9_.-]{0,64})$",
):
    """A button whose custom_id (`accessbot:approve:<review id>`) carries everything needed."""

    def __init__(
        self, action: str, value: str, *, label: str = "", style: ButtonStyle = ButtonStyle.DEFAULT
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label or action.title(), 80),
                style=_STYLES[style],
                custom_id=custom_id(action, value),
            )
        )
        self.action = action
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        return cls(match["action"], match["value"], label=getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, ButtonHandler):
            await client.on_button(interaction, self.action, self.value)


def render_view(buttons: tuple[Button, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(ActionButton(button.action, button.value, label=button.label, style=button.style))
    return view


# -- forms --------------------------------------------------------------------------------------


def choice_hint(choices: tuple[Choice, ...]) -> str:
    """How a choice field's text input lists what may be typed: `1. citi_training, 2. …`."""
    return ", ".join(f"{n}. {choice.value}" for n, choice in enumerate(choices, start=1))


def choice_answer(field: FormField, typed: str) -> str:
    """A typed answer as the field's Choice.value when it names one (its number, value or label)."""
    answer = typed.strip()
    if field.kind != "choice" or not field.choices:
        return answer
    key = answer.rstrip(".)").strip().casefold()
    if key.isdigit() and 1 <= int(key) <= len(field.choices):
        return field.choices[int(key) - 1].value
    for choice in field.choices:
        if key in (choice.value.casefold(), choice.label.strip().casefold()):
            return choice.value
    return answer  # not one of the choices: the core sees what was typed


def _text_input(field: FormField) -> discord.ui.TextInput[FormModal]:
    hint = choice_hint(field.choices) if field.kind == "choice" and field.choices else field.placeholder
    return discord.ui.TextInput(
        label=clip(field.label, 45) or field.id,
        custom_id=field.id,
        style=discord.TextStyle.paragraph if field.kind == "paragraph" else discord.TextStyle.short,
        placeholder=clip(hint, 100) or None,
        required=field.required,
        max_length=max(1, min(field.max_length, 4000)),
    )


Submitted = Callable[[discord.Interaction[Any], "FormModal"], Awaitable[None]]


MAX_SELECT_OPTIONS = 25
"""Options a Discord select menu holds."""


def select_menu(field: FormField) -> discord.ui.Select[Any]:
    """A choice field as a select menu inside a modal (under its Label), its current value chosen."""
    return discord.ui.Select(
        custom_id=field.id,
        placeholder=clip(field.placeholder, 150) or None,
        min_values=1 if field.required else 0,
        max_values=1,
        required=field.required,
        options=[
            discord.SelectOption(
                label=clip(c.label, 100) or c.value, value=c.value[:100], default=c.value == field.value
            )
            for c in field.choices[:MAX_SELECT_OPTIONS]
        ],
    )


def text_box(field: FormField) -> discord.ui.TextInput[Any]:
    """A text field inside a modal (under its Label), pre-filled with its current value."""
    return discord.ui.TextInput(
        custom_id=field.id,
        style=discord.TextStyle.paragraph if field.kind == "paragraph" else discord.TextStyle.short,
        placeholder=clip(field.placeholder, 100) or None,
        default=field.value[: field.max_length] or None,
        required=field.required,
        max_length=max(1, min(field.max_length, 4000)),
    )


class FormModal(discord.ui.Modal):
    """A neutral Form as a Discord modal. Discord has no submit/cancel labels: those are not shown.

    `custom_id` must be unique per opened modal (discord.py finds the modal by it alone)."""

    def __init__(
        self,
        form: Form,
        post: MessageRef | None,
        submitted: Submitted,
        *,
        custom_id: str,
        timeout: float = FORM_TIMEOUT_S,
    ) -> None:
        super().__init__(title=clip(form.title, 45) or form.id, timeout=timeout, custom_id=custom_id)
        if len(form.fields) > MAX_FORM_FIELDS:
            log.warning("form %s has %d fields: Discord shows the first 5", form.id, len(form.fields))
        self.form = form
        self.post = post
        self._submitted = submitted
        self._inputs: list[tuple[FormField, discord.ui.TextInput[FormModal]]] = []
        for field in form.fields[:MAX_FORM_FIELDS]:
            text_input = _text_input(field)
            self.add_item(text_input)
            self._inputs.append((field, text_input))

    def answers(self) -> tuple[tuple[str, str], ...]:
        """(field id, value) for every field; a choice's value is the Choice.value picked."""
        shown = tuple(
            (field.id, choice_answer(field, text_input.value)) for field, text_input in self._inputs
        )
        hidden = tuple((field.id, "") for field in self.form.fields[MAX_FORM_FIELDS:])
        return shown + hidden

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        try:  # acknowledged; the answer comes as an ephemeral follow-up
            await interaction.response.defer()
        except discord.HTTPException as exc:
            log.error("could not acknowledge form %s: %s", self.form.id, exc)
        await self._submitted(interaction, self)
