"""Questions with defaults. With `yes`, every question takes its default (or the answer given by a
flag) without reading anything; a question with neither stops with the flag to pass."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO, TypeVar

T = TypeVar("T")


class SetupError(Exception):
    """The set-up cannot go on: the message says why and what to do (printed, exit 1)."""


@dataclass
class Asker:
    stdin: TextIO
    out: TextIO
    yes: bool = False
    """Take every default; never read standard input."""

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, question: str, default: str = "", *, flag: str = "", secret: bool = False) -> str:
        """One answer; Enter takes the default. Secrets are not echoed at a terminal, nor their default."""
        if self.yes:
            if not default:
                raise SetupError(f"{question}: no default; pass {flag}" if flag else f"{question}: no answer")
            self.say(f"{question} {'(set)' if secret else default}")
            return default
        shown = ("[keep the one set]" if secret else f"[{default}]") if default else ""
        prompt = f"{question} {shown}".rstrip() + " "
        answer = self._read(prompt, secret=secret)
        return answer.strip() or default

    def confirm(self, question: str, default: bool = True) -> bool:
        if self.yes:
            self.say(f"{question} {'yes' if default else 'no'}")
            return default
        answer = self._read(f"{question} [{'Y/n' if default else 'y/N'}] ").strip().lower()
        return default if not answer else answer in ("y", "yes")

    def until(
        self, question: str, default: str, parse: Callable[[str], T], *, flag: str = "", secret: bool = False
    ) -> T:
        """Ask until `parse` accepts the answer (it raises ValueError with what is wrong)."""
        while True:
            answer = self.ask(question, default, flag=flag, secret=secret)
            try:
                return parse(answer)
            except ValueError as exc:
                if self.yes:
                    raise SetupError(f"{question}: {exc}") from None
                self.say(f"  {exc}")
                default = "" if secret else default

    def pick(self, question: str, options: Sequence[str], default: int | None, *, flag: str = "") -> int:
        """A numbered choice; the answer may be the number or the option's text."""
        for number, option in enumerate(options, start=1):
            self.say(f"  {number}. {option}")

        def parse(answer: str) -> int:
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            wanted = answer.strip().lstrip("#").lower()
            matches = [
                i for i, option in enumerate(options) if option.lower().split(" ")[0].lstrip("#") == wanted
            ]
            if len(matches) == 1:
                return matches[0]
            raise ValueError(f"answer a number from 1 to {len(options)}")

        return self.until(question, str(default + 1) if default is not None else "", parse, flag=flag)

    def _read(self, prompt: str, *, secret: bool = False) -> str:
        if secret and self.stdin.isatty():
            return getpass.getpass(prompt, stream=self.out)
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise SetupError("standard input ended before the set-up was finished (use --yes and flags)")
        return line.rstrip("\n")
