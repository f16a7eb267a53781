"""Document validation: CITI training reports and other uploads, read safely and checked against rules."""

from bot.documents.findings import CODES, Finding
from bot.documents.registry import DocumentParser, get_parser, parser_names
from bot.documents.validator import Validator, Verdict, render_problem

__all__ = [
    "CODES",
    "DocumentParser",
    "Finding",
    "Validator",
    "Verdict",
    "get_parser",
    "parser_names",
    "render_problem",
]
