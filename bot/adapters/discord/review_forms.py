"""Forms with menus on Discord: a choice field is a select menu inside the modal.

discord.py 2.6+ puts selects in modals (each wrapped in a `discord.ui.Label`, component type 18);
the shipped pin is 2.7. A reviewer then picks the step and the reason from menus, as on Slack,
instead of typing a number. Forms without choices, or with a choice of more than 25 options (a
select's limit), stay text inputs (components.FormModal: the choices numbered in the placeholder).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord

from bot.adapters.discord.components import (
    FORM_TIMEOUT_S,
    MAX_FORM_FIELDS,
    MAX_SELECT_OPTIONS,
    FormModal,
    choice_answer,
    select_menu,
    text_box,
)
from bot.adapters.discord.render import clip
from bot.events import Form, FormField, MessageRef

log = logging.getLogger(__name__)


class SubmittedForm(Protocol):
    """What the client reads from a submitted modal, whichever kind it was."""

    form: Form
    post: MessageRef | None

    def answers(self) -> tuple[tuple[str, str], ...]: ...


Submitted = Callable[[discord.Interaction[Any], Any], Awaitable[None]]


def _selectable(field: FormField) -> bool:
    return field.kind == "choice" and 0 < len(field.choices) <= MAX_SELECT_OPTIONS


class MenuFormModal(discord.ui.Modal):
    """A neutral Form as a modal whose choice fields are select menus (each under its label)."""

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
        self.form = form
        self.post = post
        self._submitted = submitted
        self._selects: list[tuple[FormField, discord.ui.Select[Any]]] = []
        self._texts: list[tuple[FormField, discord.ui.TextInput[Any]]] = []
        for field in form.fields[:MAX_FORM_FIELDS]:
            item: discord.ui.Item[Any]
            if _selectable(field):
                select = select_menu(field)
                self._selects.append((field, select))
                item = select
            else:
                text = text_box(field)
                self._texts.append((field, text))
                item = text
            self.add_item(discord.ui.Label(text=clip(field.label, 45) or field.id, component=item))

    def answers(self) -> tuple[tuple[str, str], ...]:
        """(field id, value) for every field, in the form's order; a choice's value is its Choice.value."""
        found: dict[str, str] = {}
        for field, select in self._selects:
            values = [str(v) for v in select.values]
            found[field.id] = values[0] if values else ""
        for field, text in self._texts:
            found[field.id] = choice_answer(field, text.value)
        return tuple((f.id, found.get(f.id, "")) for f in self.form.fields)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        try:  # acknowledged; the answer comes as an ephemeral follow-up
            await interaction.response.defer()
        except discord.HTTPException as exc:
            log.error("could not acknowledge form %s: %s", self.form.id, exc)
        await self._submitted(interaction, self)


def modal_for(
    form: Form, post: MessageRef | None, submitted: Submitted, *, custom_id: str
) -> MenuFormModal | FormModal:
    """Menus where the form has choices Discord can show as menus; text inputs otherwise."""
    if any(_selectable(f) for f in form.fields[:MAX_FORM_FIELDS]):
        return MenuFormModal(form, post, submitted, custom_id=custom_id)
    return FormModal(form, post, submitted, custom_id=custom_id)
