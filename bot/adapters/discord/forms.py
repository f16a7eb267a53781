"""A form step's questions as Discord modals (bot/forms.py's neutral Form, id `step_form`).

discord.py 2.7 modals hold at most five top-level components; each question is a `ui.Label` around
a `ui.TextInput` (text questions, pre-filled with the answer so far) or a `ui.Select` (choice and
yes / no questions, the answer so far selected). A form with more than five questions is asked in
pages: after a page, an ephemeral "Continue (2/3)" button opens the next (a modal cannot open
another modal); the pages' answers are kept in memory until the last page is sent, then the whole
form goes to the core as one FormSubmitted. Discord cannot refuse a modal's answers in place: the
core keeps the valid ones and asks for the rest (bot/handlers/form.py).

Other forms (the reject form) keep bot/adapters/discord/components.py's FormModal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.adapters.discord.components import FORM_TIMEOUT_S, MAX_FORM_FIELDS, select_menu, text_box
from bot.adapters.discord.render import clip
from bot.adapters.discord.review_forms import SubmittedForm
from bot.adapters.discord.review_forms import modal_for as reviewer_modal
from bot.events import Form, FormField, MessageRef
from bot.forms import FORM_ID

log = logging.getLogger(__name__)

_LABEL = 45  # a Label's text
_DESCRIPTION = 100


Submitted = Callable[[discord.Interaction[Any], SubmittedForm], Awaitable[None]]


def pages(form: Form) -> list[tuple[FormField, ...]]:
    fields = form.fields
    return [fields[i : i + MAX_FORM_FIELDS] for i in range(0, len(fields), MAX_FORM_FIELDS)] or [()]


def _component(field: FormField) -> discord.ui.TextInput[Any] | discord.ui.Select[Any]:
    """A choice as a menu (its answer chosen), anything else as a pre-filled text box."""
    return select_menu(field) if field.kind == "choice" and field.choices else text_box(field)


class StepFormModal(discord.ui.Modal):
    """One page of a form step (at most five questions)."""

    def __init__(
        self,
        form: Form,
        post: MessageRef | None,
        submitted: Submitted,
        *,
        custom_id: str,
        page: int = 0,
        carried: dict[str, str] | None = None,
        timeout: float = FORM_TIMEOUT_S,
    ) -> None:
        all_pages = pages(form)
        suffix = f" ({page + 1}/{len(all_pages)})" if len(all_pages) > 1 else ""
        title = clip(form.title or form.id, 45 - len(suffix)) + suffix  # the page number always shows
        super().__init__(title=title, timeout=timeout, custom_id=custom_id)
        self.form = form
        self.post = post
        self.page = page
        self.last = page == len(all_pages) - 1
        self.carried = dict(carried or {})
        self._submitted = submitted
        self._inputs: list[tuple[FormField, discord.ui.TextInput[Any] | discord.ui.Select[Any]]] = []
        for field in all_pages[page]:
            component = _component(field)
            hint = clip(field.hint, _DESCRIPTION) or None
            self.add_item(
                discord.ui.Label(
                    text=clip(field.label, _LABEL) or field.id, component=component, description=hint
                )
            )
            self._inputs.append((field, component))

    def page_answers(self) -> dict[str, str]:
        out = {}
        for field, component in self._inputs:
            if isinstance(component, discord.ui.Select):
                out[field.id] = str(component.values[0]) if component.values else ""
            else:
                out[field.id] = component.value
        return out

    def answers(self) -> tuple[tuple[str, str], ...]:
        """(field id, value) for every question of the form, in order; "" for one not answered."""
        every = {**self.carried, **self.page_answers()}
        return tuple((field.id, every.get(field.id, "")) for field in self.form.fields)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        if self.last:
            try:  # acknowledged; the answer comes as an ephemeral follow-up
                await interaction.response.defer()
            except discord.HTTPException as exc:
                log.error("could not acknowledge form %s: %s", self.form.id, exc)
            await self._submitted(interaction, self)
            return
        following = StepFormModal(
            self.form,
            self.post,
            self._submitted,
            custom_id=f"{self.custom_id}:{self.page + 1}",
            page=self.page + 1,
            carried={**self.carried, **self.page_answers()},
        )
        view = _ContinueView(following)
        try:
            await interaction.response.send_message(view.label, view=view, ephemeral=True)
        except discord.HTTPException as exc:
            log.error("could not offer page %d of form %s: %s", self.page + 2, self.form.id, exc)


class _ContinueView(discord.ui.View):
    """The ephemeral "Continue (2/3)" button between two pages (in memory: a restart drops it, and
    the applicant presses "Fill in the form" again or answers in the chat)."""

    def __init__(self, following: StepFormModal) -> None:
        super().__init__(timeout=FORM_TIMEOUT_S)
        self.following = following
        self.label = f"{following.page + 1}/{len(pages(following.form))} →"
        button: discord.ui.Button[_ContinueView] = discord.ui.Button(
            label=self.label, style=discord.ButtonStyle.success, custom_id=f"{following.custom_id}:next"
        )
        button.callback = self._open  # type: ignore[method-assign]
        self.add_item(button)

    async def _open(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await interaction.response.send_modal(self.following)
        except discord.HTTPException as exc:
            log.error("could not open the next page of form %s: %s", self.following.form.id, exc)


def modal_for(
    form: Form, post: MessageRef | None, submitted: Submitted, *, custom_id: str
) -> discord.ui.Modal:
    """The modal a form is shown in: a form step's pages, else a reviewer's form (menus for its
    choices, bot/adapters/discord/review_forms.py)."""
    if form.id == FORM_ID:
        return StepFormModal(form, post, submitted, custom_id=custom_id)
    return reviewer_modal(form, post, submitted, custom_id=custom_id)
