"""Document validation: CITI training reports and other uploads, read safely and checked against rules."""

from bot.documents.findings import CODES, Finding
from bot.documents.validator import Validator, Verdict, render_problem

__all__ = ["CODES", "Finding", "Validator", "Verdict", "render_problem"]
