"""The diagnostics channel of the command line: standard error, with colour only where we put it.

File names, ids and error messages are the user's text: ``data[2024].csv`` must print as it is,
so every message is printed without rich's markup parsing; only the coloured prefixes are markup.
"""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)


def say(message: object) -> None:
    """A plain diagnostic line (no markup is read from it)."""
    console.print(str(message), markup=False, highlight=False)


def error(message: object) -> None:
    console.print(f"[red]error:[/] {escape(str(message))}", highlight=False)


def warn(subject: object, message: object) -> None:
    """``subject: message`` with the subject in yellow, e.g. an input and why it was not read."""
    console.print(f"  [yellow]{escape(str(subject))}[/]: {escape(str(message))}", highlight=False)
