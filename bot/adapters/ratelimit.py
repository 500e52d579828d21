"""Placeholder rate limiter (replaced by the lossless limiter of the daily-push feature)."""

from telegram.ext import AIORateLimiter, BaseRateLimiter


def build_rate_limiter() -> BaseRateLimiter:
    """PTB's limiter with retries, until ours lands."""
    return AIORateLimiter(max_retries=10)
