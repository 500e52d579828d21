"""Platform adapters over the platform-neutral core: Telegram, WeCom, the console; the shared limiter,
per-chat update queue and per-platform rendering."""
