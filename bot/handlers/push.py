"""Placeholder: filled in by its feature."""

from bot.commands import Callback, Command  # noqa: F401

COMMANDS: list = []
CALLBACKS: list = []
