"""Platform adapters over the platform-neutral core: Telegram, WeCom, DingTalk, the console; the shared limiter,
per-chat update queue and per-platform rendering."""
