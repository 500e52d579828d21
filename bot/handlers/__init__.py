"""Handlers per feature; each module exports COMMANDS (and CALLBACKS) for bot.commands.TABLE."""
