"""One-time desk login links and the session signing key, kept in the store (suggest_meta).

A link is `<public_url>/login/<token>`: 32 random bytes, valid LINK_MINUTES, usable once. Only the
SHA-256 of the token is stored, with the officer's user id and name and its expiry; using it removes it
(a durable write) before the session is granted, so a link can never log in twice, even across a restart.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services import Services

LINK_MINUTES = 10
_LINKS_KEY = "desk_links"
_SECRET_KEY = "desk_secret"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_url(svc: Services, token: str) -> str:
    """The address of a login token under the configured public_url."""
    return f"{svc.config.desk.public_url.rstrip('/')}/login/{token}"


def create(svc: Services, user_id: Any, user_name: str) -> str:
    """A new one-time login token for officer `user_id` (stored durably as a hash); returns the token."""
    token = secrets.token_urlsafe(32)
    now = svc.now()
    with svc.store.lock:
        links: dict[str, Any] = svc.store.suggest_meta(_LINKS_KEY) or {}
        links = {k: v for k, v in links.items() if datetime.fromisoformat(v["expires"]) > now}
        links[_digest(token)] = {
            "uid": user_id,
            "name": user_name,
            "expires": (now + timedelta(minutes=LINK_MINUTES)).isoformat(),
        }
        svc.store.set_suggest_meta(_LINKS_KEY, links)
    return token


def peek(svc: Services, token: str) -> dict[str, Any] | None:
    """The unexpired link record of `token` without using it up (for the confirmation page), or None."""
    links = svc.store.suggest_meta(_LINKS_KEY) or {}
    rec = links.get(_digest(token)) if isinstance(token, str) and len(token) < 100 else None
    if rec is None or datetime.fromisoformat(rec["expires"]) <= svc.now():
        return None
    return dict(rec)


def consume(svc: Services, token: str) -> dict[str, Any] | None:
    """Use up `token`: its record {uid, name} if it was valid and unexpired (removed durably), else None."""
    if not isinstance(token, str) or len(token) >= 100:
        return None
    with svc.store.lock:
        links: dict[str, Any] = svc.store.suggest_meta(_LINKS_KEY) or {}
        rec = links.pop(_digest(token), None)
        if rec is None:
            return None
        svc.store.set_suggest_meta(_LINKS_KEY, links)  # used up before the session exists
    if datetime.fromisoformat(rec["expires"]) <= svc.now():
        return None
    return dict(rec)


def secret(svc: Services) -> str:
    """The key that signs desk session cookies (made once, kept in the store: logins survive a restart)."""
    with svc.store.lock:
        key = svc.store.suggest_meta(_SECRET_KEY)
        if not isinstance(key, str):
            key = secrets.token_urlsafe(48)
            svc.store.set_suggest_meta(_SECRET_KEY, key)
        return key
