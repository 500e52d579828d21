"""Platform adapters (Telegram, console) over the platform-neutral core."""
