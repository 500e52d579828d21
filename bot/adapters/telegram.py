"""Telegram adapter: the PTB Application, built in one function, as a thin layer over the core."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot import flood, lifecycle, texts
from bot import quiz as quizzes
from bot.adapters.chatqueue import ChatQueue, ChatQueueProcessor
from bot.commands import TABLE, dispatch
from bot.config import Config, ConfigError
from bot.core import (
    TELEGRAM,
    ChatGone,
    ChatMoved,
    DeliveryError,
    DeliveryUncertain,
    PlatformUnreachable,
    Reply,
    Request,
    platform_of,
    qualify,
    raw_id,
)
from bot.services import Services
from bot.ticks import TICK_JOB, Ticker, job_kwargs

log = logging.getLogger(__name__)

GROUP_ANONYMOUS_BOT_ID = 1087968824
ADMIN_CACHE_SECONDS = 300
#: Telegram's poll limits (sendPoll): question, options, a quiz's explanation (and its line feeds).
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
POLL_OPTIONS = (2, 10)
POLL_EXPLANATION_MAX = 200
POLL_EXPLANATION_LINE_FEEDS = 2


def _tg(chat_id: str) -> int:
    """A qualified Telegram chat or user id -> Telegram's int."""
    return int(raw_id(chat_id))


def _chat_label(chat_id: str) -> str:
    """A chat for the logs: groups by id, private chats never (their id is the user's)."""
    return f"chat {chat_id}" if raw_id(chat_id).startswith("-") else "a private chat"


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, url=b.url) if b.url else InlineKeyboardButton(b.text, callback_data=b.data)
             for b in row]
            for row in reply.buttons
        ]
    )


class TelegramAdapter:
    """Turns updates into core Requests and core Replies into Bot API calls."""

    def __init__(self, app: Application, svc: Services) -> None:
        self.app = app
        self.svc = svc
        self._admin_cache: dict[tuple[str, str], tuple[float, bool]] = {}
        # --- flood sense (issue 10): per-group dedup and busy note around dispatch ---
        self.flood: flood.FloodGuard | None = flood.FloodGuard()
        #: Runs every feature's tick when the JobQueue's minute job fires (bot/ticks.py).
        self.ticker = Ticker(svc)

    # --- outgoing -------------------------------------------------------------------------------

    async def send(
        self, reply: Reply, chat_id: str, *, edit_message: Message | None = None, reply_to: int | None = None
    ) -> None:
        """Deliver one reply to Telegram chat `chat_id` (qualified; its first part quoting message `reply_to`,
        if given); raises ChatGone / ChatMoved / DeliveryError."""
        bot = self.app.bot
        markup = _markup(reply)
        tg_chat = _tg(chat_id)
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
        try:
            if reply.close_quizzes:
                await self._close_polls(reply.close_quizzes)
            if reply.quiz is not None:
                await self._send_poll(tg_chat, reply, quote)
                return
            if reply.document is not None:
                with reply.document.open("rb") as f:
                    await bot.send_document(tg_chat, f, caption=reply.text or None, filename=reply.document.name)
                return
            if reply.photo is not None:
                await bot.send_photo(tg_chat, reply.photo, caption=reply.text or None)
                return
            if not reply.text:
                return
            parts = texts.split_message(reply.text)
            if edit_message is not None and reply.edit and len(parts) == 1:
                try:
                    await edit_message.edit_text(parts[0], reply_markup=markup)
                except BadRequest as e:
                    if "not modified" not in str(e).lower():
                        raise
                return
            for i, part in enumerate(parts):
                await bot.send_message(tg_chat, part, reply_markup=markup if i == len(parts) - 1 else None,
                                       reply_parameters=quote if i == 0 else None)
        except Forbidden as e:
            raise ChatGone(chat_id, str(e)) from e
        except ChatMigrated as e:
            raise ChatMoved(chat_id, qualify(TELEGRAM, e.new_chat_id)) from e
        except TimedOut as e:
            raise DeliveryUncertain(f"{_chat_label(chat_id)}: {e}") from e
        except TelegramError as e:
            raise DeliveryError(f"{_chat_label(chat_id)}: {e}") from e

    async def _send_poll(self, tg_chat: int, reply: Reply, quote: ReplyParameters | None) -> None:
        """A quiz as Telegram's native poll: a quiz poll (one right option, the verdict and explanation shown to
        each voter), or for 多选 a regular poll allowing several answers (its answer revealed at the day's close).
        Non-anonymous, so each vote arrives as a poll_answer naming the member. When the question or an option
        is too long for a poll, the question goes first as a message and the poll carries short labels."""
        quiz = reply.quiz
        assert quiz is not None
        question = f"{quiz.header}\n{quiz.question}"
        options = list(quiz.options)
        if not POLL_OPTIONS[0] <= len(options) <= POLL_OPTIONS[1]:
            raise DeliveryError(f"a poll needs {POLL_OPTIONS[0]}-{POLL_OPTIONS[1]} options, not {len(options)}")
        long_options = any(len(o) > POLL_OPTION_MAX for o in options)
        if len(question) > POLL_QUESTION_MAX or long_options:
            for part in texts.split_message(reply.text):
                await self.app.bot.send_message(tg_chat, part, reply_parameters=quote)
                quote = None
            question = quiz.header + texts.QUIZ_POLL_SEE_ABOVE
            if long_options:
                options = [chr(ord("A") + i) for i in range(len(options))]
        kind: dict[str, Any] = (
            {"type": "regular", "allows_multiple_answers": True} if quiz.multiple
            else {"type": "quiz", "correct_option_ids": [quiz.correct[0]]}  # Bot API 9.6's name for the one id
        )
        if not quiz.multiple and quiz.explanation:
            kind["explanation"] = html.escape(_clip_explanation(quiz.explanation), quote=False)
        msg = await self.app.bot.send_poll(
            tg_chat, html.escape(question, quote=False), [html.escape(o, quote=False) for o in options],
            is_anonymous=False, reply_parameters=quote, **kind,
        )
        if quiz.on_sent is not None and msg.poll is not None:
            quiz.on_sent({"platform": TELEGRAM, "poll_id": msg.poll.id, "message_id": msg.message_id,
                          "chat": tg_chat})

    async def _close_polls(self, refs: tuple[dict[str, Any], ...]) -> None:
        """Stop the day's polls. A poll Telegram says is already closed, gone or not stoppable (400) is done with;
        anything else (network, 5xx, 429, a kicked bot) raises through `send`, so the core stops it again later."""
        for ref in refs:
            if ref.get("platform") != TELEGRAM or not ref.get("message_id"):
                continue
            try:
                await self.app.bot.stop_poll(int(ref["chat"]), int(ref["message_id"]))
            except BadRequest as e:  # (a NetworkError subclass in PTB: caught first)
                log.info("stopPoll in %s: %s", _chat_label(qualify(TELEGRAM, ref["chat"])), e)

    async def sender(self, reply: Reply) -> None:
        """The core's Sender: pushes and notifications outside a request."""
        if reply.chat_id is None:
            raise DeliveryError("a reply sent outside a request needs chat_id")
        await self.send(reply, reply.chat_id)

    async def deliver(
        self, replies: list[Reply], req: Request, message: Message | None = None, reply_to: int | None = None
    ) -> None:
        """Deliver a handler's replies; a failure to reach another chat is logged, never fatal."""
        for reply in replies:
            target = reply.chat_id if reply.chat_id is not None else req.chat_id
            try:
                if platform_of(target) != TELEGRAM:  # e.g. a WeCom proposer told of a review made here
                    await self.svc.sender(dataclasses.replace(reply, chat_id=target))  # type: ignore[misc]
                    continue
                await self.send(reply, target, edit_message=message,
                                reply_to=reply_to if target == req.chat_id else None)
            except ChatMoved as e:
                lifecycle.chat_migrated(self.svc, e.chat_id, e.new_chat_id)
                try:
                    await self.send(reply, e.new_chat_id)
                except DeliveryError:
                    log.warning("could not deliver to migrated %s", _chat_label(e.new_chat_id))
            except ChatGone as e:
                log.info("%s unreachable (%s)", _chat_label(target), e.reason)
                if target == req.chat_id:
                    lifecycle.chat_removed(self.svc, target)
            except DeliveryError:
                log.exception("could not deliver a reply to %s", _chat_label(target))

    async def admin_check(self, chat_id: str, user_id: str) -> bool:
        """Whether the user administers the chat (cached for a few minutes)."""
        key = (chat_id, user_id)
        hit = self._admin_cache.get(key)
        now = time.monotonic()
        if hit and now - hit[0] < ADMIN_CACHE_SECONDS:
            return hit[1]
        try:
            member = await self.app.bot.get_chat_member(_tg(chat_id), _tg(user_id))
            ok = member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        except TelegramError as e:
            log.info("getChatMember in %s failed: %s", _chat_label(chat_id), e)
            ok = False
        self._admin_cache[key] = (now, ok)
        return ok

    # --- incoming -------------------------------------------------------------------------------

    def request(self, update: Update, text: str = "", callback: str | None = None) -> Request | None:
        """The core Request for an update, or None if it has no chat or user."""
        chat = update.effective_chat
        user = update.effective_user
        msg = update.effective_message
        if chat is None or user is None:
            return None
        anonymous_admin = bool(
            msg is not None and msg.sender_chat is not None and msg.sender_chat.id == chat.id
        ) or user.id == GROUP_ANONYMOUS_BOT_ID
        username = self.app.bot.username or ""
        chat_id, user_id = qualify(TELEGRAM, chat.id), qualify(TELEGRAM, user.id)

        async def is_admin() -> bool:
            if chat.type == ChatType.PRIVATE:
                return False
            return anonymous_admin or await self.admin_check(chat_id, user_id)

        return Request(
            chat_id=chat_id,
            chat_type=chat.type,  # type: ignore[arg-type]
            user_id=user_id,
            user_name=user.full_name,
            text=text,
            chat_title=chat.title or "",
            callback_data=callback,
            is_chat_admin=is_admin,
            bot_username=username,
            addressed=self._addressed(msg, username) if msg is not None and callback is None else False,
            message_id=msg.message_id if msg is not None else None,
            platform=TELEGRAM,
            private_link=self.private_link,
        )

    def _addressed(self, msg: Message, username: str) -> bool:
        if msg.reply_to_message is not None and msg.reply_to_message.from_user is not None:
            if msg.reply_to_message.from_user.id == self.app.bot.id:
                return True
        for ent, value in msg.parse_entities([MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION]).items():
            if ent.type == MessageEntityType.TEXT_MENTION and ent.user and ent.user.id == self.app.bot.id:
                return True
            if value.lower() == f"@{username}".lower():
                return True
        return False

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any text or command: to the core's dispatcher."""
        msg = update.effective_message
        if msg is None or not msg.text:
            return
        req = self.request(update, text=msg.text)
        if req is None:
            return
        if self.flood is None:
            await self.deliver(await dispatch(req, self.svc), req)
            return
        native = msg.chat.id  # the limiter's key (the core's chat id may be platform-qualified)
        out = await self.flood.handle(req, self.svc, dispatch, backlog=lambda n: self.backlog(native, n),
                                      private_link=self.private_link("busy"))
        # in a group every answer quotes its asker (whose receipt is it?); flood sense may name another message
        reply_to = out.reply_to if out.reply_to is not None else (msg.message_id if req.is_group else None)
        await self.deliver(out.replies, req, reply_to=reply_to)

    # --- flood sense and per-chat update order (issue 10) ---

    def backlog(self, chat_id: int, sends: int = 1) -> float:
        """Seconds until `sends` more messages to the chat could go out (the rate limiter's estimate)."""
        limiter = self.app.bot.rate_limiter
        estimate = getattr(limiter, "backlog", None)
        return float(estimate(chat_id, sends)) if estimate is not None else 0.0

    def private_link(self, start: str = "") -> str:
        """Telegram's deep link into the private chat with the bot (`?start=…` when given); "" before the bot
        knows its username."""
        username = self.app.bot.username
        if not username:
            return ""
        return f"https://t.me/{username}" + (f"?start={start}" if start else "")

    @staticmethod
    def update_chat(update: object) -> Any:
        """The ChatQueue key of an update: its chat (messages and button presses share it); a member's poll
        votes (which carry no chat) in that member's order; else None."""
        if isinstance(update, Update) and update.poll_answer is not None and update.poll_answer.user is not None:
            return ("poll_answer", update.poll_answer.user.id)
        chat = update.effective_chat if isinstance(update, Update) else None
        return chat.id if chat is not None else None

    def droppable(self, update: object) -> bool:
        """An idempotent read in a group (flood.request_key), which may be shed when the chat's queue is full."""
        if not isinstance(update, Update) or update.callback_query is not None:
            return False
        msg = update.message
        if msg is None or not msg.text or msg.chat.type == ChatType.PRIVATE:
            return False
        req = self.request(update, text=msg.text)
        return req is not None and flood.request_key(req, self.svc) is not None

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: to the dispatcher; answered exactly once."""
        query = update.callback_query
        if query is None:
            return
        req = self.request(update, callback=query.data or "")
        if req is None:
            await query.answer()
            return
        replies = await dispatch(req, self.svc)
        toast = next((r.toast for r in replies if r.toast), None)
        try:
            await query.answer(text=toast[:200] if toast else None)
        except TelegramError as e:  # an old query can no longer be answered; the reply still goes out
            log.info("answerCallbackQuery failed: %s", e)
        message = query.message if isinstance(query.message, Message) else None
        await self.deliver([r for r in replies if r.text or r.document or r.photo], req, message)

    async def on_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A vote in one of our quiz polls (non-anonymous, so it names the member): to the core as the answer."""
        answer = update.poll_answer
        if answer is None or answer.user is None:
            return
        poll = quizzes.find_poll(self.svc, TELEGRAM, answer.poll_id)
        if poll is None:
            return  # not one of ours any more (closed and forgotten)
        user = answer.user
        req = Request(
            chat_id=poll["chat_id"], chat_type=poll.get("chat_type", "supergroup"),
            user_id=qualify(TELEGRAM, user.id), user_name=user.full_name,
            callback_data=quizzes.vote_data(poll, answer.option_ids), bot_username=self.app.bot.username or "",
            platform=TELEGRAM, private_link=self.private_link,
        )
        await self.deliver(await dispatch(req, self.svc), req)

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Inline mode: `@bot 集体合同` lists matching passages."""
        query = update.inline_query
        if query is None:
            return
        from bot.handlers import search

        results = await search.inline(query.query, self.svc)
        articles = [
            InlineQueryResultArticle(
                id=r.id,
                title=r.title,
                description=r.description,
                input_message_content=InputTextMessageContent(r.text, parse_mode=ParseMode.HTML),
            )
            for r in results[:50]
        ]
        await query.answer(articles, cache_time=60)

    async def on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was removed from a chat (kicked/left): drop its subscription."""
        change = update.my_chat_member
        if change is None:
            return
        if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
            log.info("removed from a %s chat (%s)", change.chat.type, change.new_chat_member.status)
            lifecycle.chat_removed(self.svc, qualify(TELEGRAM, change.chat.id))

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: move its subscription to the new id."""
        msg = update.effective_message
        if msg is None:
            return
        if msg.migrate_to_chat_id:
            old, new = msg.chat.id, msg.migrate_to_chat_id
        else:
            old, new = msg.migrate_from_chat_id, msg.chat.id
        if old and new:
            lifecycle.chat_migrated(self.svc, qualify(TELEGRAM, old), qualify(TELEGRAM, new))

    async def fire_ticks(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The job on the minute: every feature's tick (daily pushes, reminders, reload), for every platform."""
        await self.ticker.fire()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error and keep serving."""
    if isinstance(context.error, RetryAfter):
        log.warning("flood wait: %s", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)


def _clip_explanation(text: str) -> str:
    """A quiz poll's explanation within Telegram's limits (the core sends the whole 解析 at the day's close)."""
    lines = text.split("\n")
    text = "\n".join(lines[: POLL_EXPLANATION_LINE_FEEDS + 1]) + (" " + " ".join(lines[3:]) if len(lines) > 3 else "")
    if len(text) <= POLL_EXPLANATION_MAX:
        return text
    return text[: POLL_EXPLANATION_MAX - len(texts.QUIZ_POLL_MORE)] + texts.QUIZ_POLL_MORE


def menu_commands() -> list[BotCommand]:
    """The Telegram command menu, with Chinese descriptions."""
    return [BotCommand(c.name, c.help[:256]) for c in TABLE if c.menu]


def build_application(
    config: Config, services: Services, *, concurrent: bool = True, flood_sense: bool = True
) -> Application:
    """The whole PTB Application: defaults, rate limiter, handlers, jobs, start/stop hooks.

    `concurrent` (issue 10): chats are handled concurrently, each in its own order (ChatQueue); off, one
    update after another (PTB's default). `flood_sense`: bot/flood.py around dispatch in groups. Both are
    switched off only by bench/flood.py, to compare with the old behaviour.
    """
    updates = ChatQueue(name="telegram updates")
    processor = ChatQueueProcessor(  # `app` below is bound before the first update arrives
        updates, key=TelegramAdapter.update_chat, droppable=lambda update: app.bot_data["adapter"].droppable(update)
    )
    from bot.adapters.ratelimit import build_rate_limiter

    token = config.telegram.token
    base = config.telegram.api_base_url
    file_base = base[: -len("bot")] + "file/bot" if base.endswith("bot") else base

    async def post_init(app: Application) -> None:
        adapter: TelegramAdapter = app.bot_data["adapter"]
        services.senders[TELEGRAM] = adapter.sender
        services.admin_checks[TELEGRAM] = adapter.admin_check
        try:
            await app.bot.set_my_commands(menu_commands())
        except TelegramError as e:
            log.warning("setMyCommands failed: %s", e)
        if app.job_queue is not None:  # second 0 of every minute, and once at start (bot/ticks.py)
            app.job_queue.run_custom(adapter.fire_ticks, job_kwargs=job_kwargs(), name=TICK_JOB)
        # Load (or build) the search index in the background, so the first search is quick.
        asyncio.get_running_loop().run_in_executor(None, lambda: services.search)
        log.info("%s", texts.log_connected(texts.LOG_TELEGRAM, "@" + str(app.bot.username)))

    async def post_stop(app: Application) -> None:
        # After the JobQueue stopped (no new runs), before the bot's connection closes: running ticks finish.
        await app.bot_data["adapter"].ticker.stop()

    async def post_shutdown(app: Application) -> None:
        services.close()

    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_base)
        .defaults(
            Defaults(
                tzinfo=config.tz,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(build_rate_limiter())
        .concurrent_updates(processor if concurrent else False)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    adapter = TelegramAdapter(app, services)
    if not flood_sense:
        adapter.flood = None
    app.bot_data["updates"] = updates
    app.bot_data["services"] = services
    app.bot_data["adapter"] = adapter
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, adapter.on_migrate))
    app.add_handler(ChatMemberHandler(adapter.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CallbackQueryHandler(adapter.on_callback))
    app.add_handler(InlineQueryHandler(adapter.on_inline))
    app.add_handler(PollAnswerHandler(adapter.on_poll_answer))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, adapter.on_message))
    app.add_error_handler(on_error)
    return app


def updater_args(config: Config) -> tuple[str, dict[str, Any]]:
    """("polling" | "webhook", the keyword arguments for run_/start_polling or run_/start_webhook)."""
    t = config.telegram
    if t.mode == "webhook":
        return "webhook", {
            "listen": t.listen,
            "port": t.port,
            # The local path the webhook server answers on: the path of webhook_url (what the reverse proxy
            # forwards), or the bot id when webhook_url has no path.
            "url_path": urlsplit(t.webhook_url).path.strip("/") or t.token.split(":")[0],
            "webhook_url": t.webhook_url,
            "secret_token": t.secret_token or None,
            "allowed_updates": Update.ALL_TYPES,
        }
    return "polling", {"allowed_updates": Update.ALL_TYPES}


def _unreachable(config: Config, e: TelegramError) -> PlatformUnreachable:
    """An unreachable Bot API as one line naming where it was sought (never the token)."""
    t = config.telegram
    detail = str(e).replace(t.token, "***") if t.token else str(e)
    return PlatformUnreachable(f"cannot reach the Telegram Bot API at {t.api_base_url} ({detail}); check the network, "
                               "HTTPS_PROXY, or [telegram] api_base_url")


async def initialize(app: Application, config: Config) -> None:
    """`app.initialize()` (its getMe) with the operator's errors as one line: a refused token is a ConfigError (exit
    status 2; PTB's own message would print the token), an unreachable Bot API is PlatformUnreachable (status 1)."""
    try:
        await app.initialize()
    except InvalidToken:
        raise ConfigError(texts.config_error("[telegram] token", texts.CFG_TELEGRAM_TOKEN_REJECTED)) from None
    except NetworkError as e:
        raise _unreachable(config, e) from None


def _no_bootstrap_traceback(record: logging.LogRecord) -> bool:
    """PTB logs a failed start-up request (setWebhook, deleteWebhook) with its traceback before raising it; the
    error reaches the operator as one line instead (start_updater)."""
    return not record.getMessage().startswith("Network Retry Loop (Bootstrap")


async def start_updater(app: Application, config: Config) -> None:
    """Start polling or the webhook server (and setWebhook) as configured, errors as one line: a webhook Telegram
    refuses or a port that cannot be listened on name their key (ConfigError), a network failure is
    PlatformUnreachable."""
    mode, kwargs = updater_args(config)
    assert app.updater is not None
    t = config.telegram
    ptb_log = logging.getLogger("telegram.ext")
    ptb_log.addFilter(_no_bootstrap_traceback)
    try:
        if mode == "webhook":
            await app.updater.start_webhook(**kwargs)
        else:
            await app.updater.start_polling(**kwargs)
    except BadRequest as e:  # setWebhook refused (a bad URL or port); BadRequest is a NetworkError too
        raise ConfigError(texts.config_error("[telegram] webhook_url",
                                             texts.cfg_refused_by_telegram(e.message))) from None
    except NetworkError as e:
        raise _unreachable(config, e) from None
    except TelegramError as e:
        raise ConfigError(texts.config_error("[telegram] token / webhook_url",
                                             texts.cfg_refused_by_telegram(e.message))) from None
    except OSError as e:
        raise ConfigError(texts.config_error("[telegram] port", texts.cfg_cannot_listen(t.listen, t.port,
                                                                                     e.strerror or str(e)))) from None
    finally:
        ptb_log.removeFilter(_no_bootstrap_traceback)


async def stop_application(app: Application) -> None:
    """PTB's own shutdown order (what run_polling does on exit); each step runs even if an earlier one failed."""
    with contextlib.suppress(RuntimeError):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
    with contextlib.suppress(RuntimeError):
        if app.running:
            await app.stop()
    if app.post_stop:
        await app.post_stop(app)
    with contextlib.suppress(RuntimeError):
        await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
