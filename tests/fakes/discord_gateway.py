"""A fake Discord (gateway websocket + REST API) on 127.0.0.1 for testing the real discord.py client offline.

See /work/shared/docs/discord-testing.md for the facts this relies on. The fake records every REST request
with its JSON payload, keeps the messages the bot posted (with edits applied), can inject error responses
(403, 429 with retry_after so discord.py retries) and can ask the client to reconnect (op 7 → RESUME).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# discord.py imports the deprecated `audioop` (voice support) and the suite turns warnings into errors.
# Import it once here with that warning silenced; test modules import this module first (isort: split).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
import yarl
from aiohttp import WSMsgType, web

TOKEN = "test-token-not-a-secret"
APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 900000000000000010
ADMIN_ROLE_ID = 900000000000000020
BOT_ROLE_ID = 900000000000000021
CHANNELS = (900000000000000100, 900000000000000101, 900000000000000102)
FORUM_ID = 900000000000000200  # a forum channel (type 15): each post is a thread
ALL_PERMISSIONS = str((1 << 50) - 1)
_DISCORD_EPOCH_MS = 1420070400000
_ids = itertools.count(((int(time.time() * 1000) - _DISCORD_EPOCH_MS) << 22) + 1)


def new_id() -> int:
    return next(_ids)


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user(BOT_ID, "Footnote", bot=True)
ALICE = user(800000000000000001, "alice")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares Content-Type with ==, so no "; charset=utf-8" (aiohttp's json_response adds one).
    return web.Response(status=status, body=json.dumps(data).encode(), content_type="application/json", headers=headers)


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    at: float  # loop time
    status: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # multipart uploads: filename -> content


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass
class FakeInteraction:
    id: int
    token: str
    payload: dict[str, Any]
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages created by follow-ups
    original_id: int | None = None
    deleted_original: bool = False


class FakeDiscord:
    def __init__(self, *, heartbeat_interval_ms: int = 45_000, allow_message_content: bool = True) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allow_message_content = allow_message_content
        self.identify_close: tuple[int, str] | None = None  # close the gateway with this code on IDENTIFY
        self.deleted_messages: list[int] = []
        self.deleted_channels: list[int] = []
        self.port = 0
        self.requests: list[Recorded] = []
        self.unhandled: list[str] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.sessions_ready = 0  # READY + GUILD_CREATE sent: events can flow
        self.acks = 0
        self.messages: dict[int, dict[str, Any]] = {}
        self.edits: dict[int, list[tuple[float, dict[str, Any]]]] = {}
        self.channel_log: dict[int, list[int]] = {}
        self.threads: dict[int, dict[str, Any]] = {}
        self.archived: set[int] = set()  # threads left out of GUILD_CREATE (Discord only sends active ones)
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: list[dict[str, Any]] = []
        self.guild_roles: list[dict[str, Any]] = [
            self._role(GUILD_ID, "@everyone", 0),
            self._role(ADMIN_ROLE_ID, "Footnote Admins", 1),
            {**self._role(BOT_ROLE_ID, "Footnote", 2), "managed": True, "tags": {"bot_id": str(BOT_ID)}},
        ]
        self._failures: list[Failure] = []
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._sessions = itertools.count(1)
        self._runner: web.AppRunner | None = None
        table: list[tuple[str, str, Callable[..., Awaitable[web.Response]]]] = [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._app),
            ("PUT", r"/applications/\d+/commands", self._put_commands),
            ("PUT", r"/applications/\d+/guilds/\d+/commands", self._put_commands),
            ("POST", r"/channels/(?P<cid>\d+)/typing", self._typing),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._create_message),
            ("GET", r"/channels/(?P<cid>\d+)/messages", self._history),
            ("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._get_message),
            ("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._edit_message),
            ("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._delete_message),
            ("DELETE", r"/channels/(?P<cid>\d+)", self._delete_channel),
            ("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads", self._start_thread),
            ("GET", r"/channels/(?P<cid>\d+)", self._get_channel),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<tok>[^/]+)/callback", self._callback),
            ("POST", r"/webhooks/\d+/(?P<tok>[^/]+)", self._followup),
            (
                "PATCH",
                r"/webhooks/\d+/(?P<tok>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._webhook_edit,
            ),
            ("GET", r"/webhooks/\d+/(?P<tok>[^/]+)/messages/(?P<mid>@original|\d+)", self._webhook_get),
            (
                "DELETE",
                r"/webhooks/\d+/(?P<tok>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._webhook_delete,
            ),
        ]
        self._routes = [(m, re.compile(p + "$"), h) for m, p, h in table]

    # --- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def patch(self, monkeypatch: Any) -> None:
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{self.port}/api/v10")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url))

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- waiting and inspection ------------------------------------------------------------------------
    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Poll `predicate()` until it is truthy; returns its value (fails the test on timeout)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate()):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
            await asyncio.sleep(0.005)
        return result

    def find(self, method: str, path_regex: str) -> list[Recorded]:
        rx = re.compile(path_regex + "$")
        return [r for r in self.requests if r.method == method and rx.match(r.path)]

    def bot_messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["author"]["id"] == str(BOT_ID) and (channel_id is None or int(m["channel_id"]) == channel_id)
        ]

    def payloads_with_text(self) -> list[Recorded]:
        """Every request that carried message text or embeds (directly or inside an interaction callback)."""
        out = []
        for r in self.requests:
            body = r.json if isinstance(r.json, dict) else {}
            data = body.get("data") if r.path.endswith("/callback") else body
            if isinstance(data, dict) and (data.get("content") or data.get("embeds")):
                out.append(r)
        return out

    # --- failure injection -----------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float = 0.05,
        body: dict[str, Any] | None = None,
    ) -> None:
        headers: dict[str, str] = {}
        if status == 429:
            body = body or {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            }
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry_after),
                "X-RateLimit-Bucket": "fakebucket",
                "X-RateLimit-Scope": "user",
            }
        elif status == 403:
            body = body or {"message": "Missing Permissions", "code": 50013}
        self._failures.append(Failure(method, re.compile(path_regex + "$"), status, body or {}, headers, times))

    # --- gateway ---------------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            payload = json.loads(msg.data)
            op, d = payload.get("op"), payload.get("d")
            if op == 1:
                self.heartbeats += 1
                await ws.send_str(json.dumps({"op": 11}))
                self.acks += 1
            elif op == 2:
                self.identifies.append(d)
                if self.identify_close is not None:
                    code, reason = self.identify_close
                    await ws.close(code=code, message=reason.encode())
                elif d.get("token") != TOKEN:
                    await ws.close(code=4004, message=b"Authentication failed.")
                elif not self.allow_message_content and int(d.get("intents", 0)) & (1 << 15):
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                else:
                    await self._ready()
            elif op == 6:
                self.resumes.append(d)
                await self.dispatch("RESUMED", {})
        if self._ws is ws:
            self._ws = None
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None, "no client connected"
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def reconnect(self) -> None:
        """Op 7: the client must reconnect to resume_gateway_url and RESUME its session."""
        assert self._ws is not None
        before = len(self.resumes)
        await self._ws.send_str(json.dumps({"op": 7, "d": None}))
        await self.wait_until(lambda: len(self.resumes) > before)

    async def _ready(self) -> None:
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                "session_id": f"session-{next(self._sessions)}",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(APP_ID), "flags": 0},
                "shard": [0, 1],
            },
        )
        await self.dispatch(
            "GUILD_CREATE",
            {
                "id": str(GUILD_ID),
                "name": "Test Team",
                "owner_id": ALICE["id"],
                "unavailable": False,
                "roles": self.guild_roles,
                "emojis": [],
                "stickers": [],
                "features": [],
                "large": False,
                "member_count": 1,
                "members": [self.member(BOT_USER, [BOT_ROLE_ID])],
                "channels": [self.text_channel(cid, i) for i, cid in enumerate(CHANNELS)] + [self.forum_channel()],
                "threads": [t for tid, t in self.threads.items() if tid not in self.archived],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "voice_states": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            },
        )
        self.sessions_ready += 1

    # --- payload builders ------------------------------------------------------------------------------
    @staticmethod
    def _role(rid: int, name: str, position: int) -> dict[str, Any]:
        return {
            "id": str(rid),
            "name": name,
            "permissions": "0",
            "position": position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    @staticmethod
    def member(
        u: dict[str, Any], roles: list[int] | tuple[int, ...] = (), permissions: str | None = None
    ) -> dict[str, Any]:
        m = {
            "user": u,
            "roles": [str(r) for r in roles],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }
        if permissions is not None:
            m["permissions"] = permissions
        return m

    @staticmethod
    def text_channel(cid: int, position: int = 0) -> dict[str, Any]:
        return {
            "id": str(cid),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": f"channel-{position}",
            "position": position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }

    @staticmethod
    def forum_channel() -> dict[str, Any]:
        return {
            **FakeDiscord.text_channel(FORUM_ID, len(CHANNELS)),
            "type": 15,
            "name": "questions-forum",
            "available_tags": [],
            "default_reaction_emoji": None,
            "default_sort_order": None,
            "default_forum_layout": 0,
            "flags": 0,
        }

    def _message(
        self, channel_id: int, author: dict[str, Any], body: dict[str, Any], *, guild: bool, mid: int | None = None
    ) -> dict[str, Any]:
        mid = mid or new_id()
        msg = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": author,
            "content": body.get("content") or "",
            "timestamp": "2024-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": body.get("mentions", []),
            "mention_roles": body.get("mention_roles", []),
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": body.get("flags", 0),
        }
        if body.get("message_reference"):
            msg["message_reference"] = {"channel_id": str(channel_id), **body["message_reference"]}
        if guild:
            msg["guild_id"] = str(GUILD_ID)
        self.messages[mid] = msg
        self.channel_log.setdefault(channel_id, []).append(mid)
        return msg

    # --- user actions (gateway events) -----------------------------------------------------------------
    async def say(
        self,
        channel_id: int,
        content: str,
        *,
        author: dict[str, Any] = ALICE,
        dm: bool = False,
        mention_bot: bool = False,
        reply_to: dict[str, Any] | None = None,
        mid: int | None = None,
    ) -> dict[str, Any]:
        """A user posts a message (optionally @mentioning the bot, or replying to `reply_to`, which like Discord's
        default for replies mentions its author); dispatched as MESSAGE_CREATE."""
        body: dict[str, Any] = {"content": f"<@{BOT_ID}> {content}" if mention_bot else content}
        if mention_bot:
            body["mentions"] = [BOT_USER]
        if reply_to is not None:
            body["message_reference"] = {"message_id": reply_to["id"], "type": 0}
            body["mentions"] = [reply_to["author"]]
        msg = self._message(channel_id, author, body, guild=not dm, mid=mid)
        if reply_to is not None:
            msg["referenced_message"] = reply_to
        event = dict(msg)
        if not dm:
            event["member"] = {k: v for k, v in self.member(author).items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", event)
        return msg

    async def _interact(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        channel_id: int,
        author: dict[str, Any],
        permissions: str,
        roles: tuple[int, ...],
        dm: bool,
        message: dict[str, Any] | None,
    ) -> FakeInteraction:
        iid = new_id()
        channel = self.threads.get(channel_id) or (
            {"id": str(channel_id), "type": 1} if dm else self.text_channel(channel_id)
        )
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(APP_ID),
            "type": itype,
            "token": f"itoken-{iid}",
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "channel_id": str(channel_id),
            "channel": channel,
            "data": data,
            "locale": "en-US",
            "app_permissions": ALL_PERMISSIONS,
            "context": 1 if dm else 0,
        }
        if dm:
            payload["user"] = author
        else:
            payload["guild_id"] = str(GUILD_ID)
            payload["guild_locale"] = "en-US"
            payload["member"] = self.member(author, roles, permissions)
        if message is not None:
            payload["message"] = message
        fake = FakeInteraction(iid, payload["token"], payload)
        self.interactions[iid] = fake
        await self.dispatch("INTERACTION_CREATE", payload)
        return fake

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel_id: int = CHANNELS[0],
        author: dict[str, Any] = ALICE,
        permissions: str = "0",
        roles: tuple[int, ...] = (),
        dm: bool = False,
    ) -> FakeInteraction:
        types = {str: 3, bool: 5, int: 4}
        opts = [{"name": k, "type": types[type(v)], "value": v} for k, v in (options or {}).items()]
        data = {"id": str(new_id()), "name": name, "type": 1, "options": opts}
        return await self._interact(
            2,
            data,
            channel_id=channel_id,
            author=author,
            permissions=permissions,
            roles=roles,
            dm=dm,
            message=None,
        )

    async def forum_post(
        self, title: str, body: str, *, forum_id: int = FORUM_ID, author: dict[str, Any] = ALICE
    ) -> dict[str, Any]:
        """A new post in a forum, as Discord sends it: THREAD_CREATE, then the starter message (same id)."""
        tid = new_id()
        thread = {
            "id": str(tid),
            "guild_id": str(GUILD_ID),
            "parent_id": str(forum_id),
            "owner_id": author["id"],
            "name": title,
            "type": 11,
            "last_message_id": str(tid),
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 4320,
                "archive_timestamp": "2024-01-01T00:00:00+00:00",
                "locked": False,
            },
        }
        self.threads[tid] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        await self.say(tid, body, author=author, mid=tid)
        return thread

    async def autocomplete(
        self, name: str, option: str, value: str, *, author: dict[str, Any] = ALICE
    ) -> FakeInteraction:
        """An autocomplete request (type 4) for `name`'s option being typed."""
        data = {
            "id": str(new_id()),
            "name": name,
            "type": 1,
            "options": [{"name": option, "type": 3, "value": value, "focused": True}],
        }
        return await self._interact(
            4, data, channel_id=CHANNELS[0], author=author, permissions="0", roles=(), dm=False, message=None
        )

    async def message_command(
        self, name: str, target: dict[str, Any], *, author: dict[str, Any] = ALICE, dm: bool = False
    ) -> FakeInteraction:
        """A message context-menu command (right-click → Apps → `name`) on `target`."""
        data = {
            "id": str(new_id()),
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        return await self._interact(
            2,
            data,
            channel_id=int(target["channel_id"]),
            author=author,
            permissions="0",
            roles=(),
            dm=dm,
            message=None,
        )

    async def click(
        self, message: dict[str, Any], custom_id: str, *, author: dict[str, Any] = ALICE
    ) -> FakeInteraction:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(
            3,
            data,
            channel_id=int(message["channel_id"]),
            author=author,
            permissions=ALL_PERMISSIONS,
            roles=(),
            dm="guild_id" not in message,
            message=message,
        )

    async def submit_modal(
        self, opened_by: FakeInteraction, values: list[str], *, author: dict[str, Any] = ALICE
    ) -> FakeInteraction:
        """Submit the modal that `opened_by` answered with (callback type 9), filling inputs in order."""
        modal = next(c["data"] for c in opened_by.callbacks if c["type"] == 9)
        it = iter(values)
        comps = []
        for row in modal["components"]:
            if row["type"] == 18:  # Label wrapping one input
                comps.append(
                    {
                        "type": 18,
                        "component": {
                            "type": 4,
                            "custom_id": row["component"]["custom_id"],
                            "value": next(it),
                        },
                    }
                )
            else:
                comps.append(
                    {
                        "type": 1,
                        "components": [
                            {"type": 4, "custom_id": c["custom_id"], "value": next(it)} for c in row["components"]
                        ],
                    }
                )
        data = {"custom_id": modal["custom_id"], "components": comps}
        channel_id = int(opened_by.payload["channel_id"])
        return await self._interact(
            5,
            data,
            channel_id=channel_id,
            author=author,
            permissions=ALL_PERMISSIONS,
            roles=(),
            dm="guild_id" not in opened_by.payload,
            message=opened_by.payload.get("message"),
        )

    # --- REST ------------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.json()
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form.get("payload_json", "{}")))
            files = {v.filename: v.file.read() for v in form.values() if isinstance(v, web.FileField)}
        rec = Recorded(request.method, path, dict(request.query), body, asyncio.get_running_loop().time(), files=files)
        self.requests.append(rec)
        for f in self._failures:
            if f.times > 0 and f.method == request.method and f.pattern.match(path):
                f.times -= 1
                rec.status = f.status
                return _json(f.body, f.status, f.headers)
        if request.headers.get("Authorization") != f"Bot {TOKEN}" and not path.startswith(
            ("/webhooks/", "/interactions/")
        ):
            rec.status = 401
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for method, rx, handler in self._routes:
            m = rx.match(path)
            if m and method == request.method:
                resp = await handler(body, **m.groupdict())
                rec.status = resp.status
                return resp
        self.unhandled.append(f"{request.method} {path}")
        rec.status = 404
        return _json({"message": "Unknown route (fake)", "code": 0}, 404)

    async def _me(self, body: Any) -> web.Response:
        return _json(BOT_USER)

    async def _app(self, body: Any) -> web.Response:
        return _json(
            {
                "id": str(APP_ID),
                "name": "Footnote",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": ALICE,
                "verify_key": "00",
                "flags": 0,
            }
        )

    async def _put_commands(self, body: Any) -> web.Response:
        # Like Discord: context-menu commands come back with an empty description.
        self.commands = [
            {"description": "", **c, "id": str(new_id()), "application_id": str(APP_ID), "version": "1"} for c in body
        ]
        return _json(self.commands)

    async def _typing(self, body: Any, cid: str) -> web.Response:
        return web.Response(status=204)

    async def _create_message(self, body: Any, cid: str) -> web.Response:
        guild = int(cid) in CHANNELS or int(cid) in self.threads
        return _json(self._message(int(cid), BOT_USER, body, guild=guild))

    async def _history(self, body: Any, cid: str) -> web.Response:
        return _json([self.messages[m] for m in reversed(self.channel_log.get(int(cid), []))][:50])

    async def _get_message(self, body: Any, cid: str, mid: str) -> web.Response:
        return _json(self.messages[int(mid)]) if int(mid) in self.messages else _json({"code": 10008}, 404)

    def _apply_edit(self, mid: int, body: dict[str, Any]) -> dict[str, Any]:
        msg = self.messages[mid]
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        msg["edited_timestamp"] = "2024-01-01T00:00:01+00:00"
        self.edits.setdefault(mid, []).append((asyncio.get_running_loop().time(), body))
        return msg

    async def _edit_message(self, body: Any, cid: str, mid: str) -> web.Response:
        return _json(self._apply_edit(int(mid), body))

    async def _delete_message(self, body: Any, cid: str, mid: str) -> web.Response:
        self.deleted_messages.append(int(mid))
        self.messages.pop(int(mid), None)
        return web.Response(status=204)

    async def _delete_channel(self, body: Any, cid: str) -> web.Response:
        self.deleted_channels.append(int(cid))
        thread = self.threads.pop(int(cid), None)
        return _json(thread or self.text_channel(int(cid)))

    async def _start_thread(self, body: Any, cid: str, mid: str) -> web.Response:
        # Like Discord: a thread started from a message has that message's id.
        thread = {
            "id": mid,
            "guild_id": str(GUILD_ID),
            "parent_id": cid,
            "owner_id": str(BOT_ID),
            "name": body["name"],
            "type": 11,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": "2024-01-01T00:00:00+00:00",
                "locked": False,
            },
        }
        self.threads[int(mid)] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, 201)

    async def _get_channel(self, body: Any, cid: str) -> web.Response:
        c = int(cid)
        if c == FORUM_ID:
            return _json(self.forum_channel())
        return _json(self.threads.get(c) or self.text_channel(c, CHANNELS.index(c) if c in CHANNELS else 0))

    def _by_token(self, tok: str) -> FakeInteraction:
        return next(i for i in self.interactions.values() if i.token == tok)

    async def _callback(self, body: Any, iid: str, tok: str) -> web.Response:
        inter = self.interactions[int(iid)]
        inter.callbacks.append(body)
        data = body.get("data") or {}
        out: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": inter.payload["type"],
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
        }
        if body["type"] in (4, 5):
            msg = self._message(int(inter.payload["channel_id"]), BOT_USER, data, guild="guild_id" in inter.payload)
            msg.update(webhook_id=str(APP_ID), application_id=str(APP_ID))
            inter.original_id = int(msg["id"])
            out["interaction"]["response_message_id"] = msg["id"]
            out["resource"] = {"type": body["type"], "message": msg}
        return _json(out)

    async def _followup(self, body: Any, tok: str) -> web.Response:
        inter = self._by_token(tok)
        msg = self._message(int(inter.payload["channel_id"]), BOT_USER, body, guild="guild_id" in inter.payload)
        msg.update(webhook_id=str(APP_ID), application_id=str(APP_ID))
        inter.followups.append(msg)
        return _json(msg)

    def _webhook_mid(self, tok: str, mid: str) -> int:
        inter = self._by_token(tok)
        return inter.original_id if mid == "@original" and inter.original_id else int(mid)

    async def _webhook_edit(self, body: Any, tok: str, mid: str) -> web.Response:
        return _json(self._apply_edit(self._webhook_mid(tok, mid), body))

    async def _webhook_get(self, body: Any, tok: str, mid: str) -> web.Response:
        return _json(self.messages[self._webhook_mid(tok, mid)])

    async def _webhook_delete(self, body: Any, tok: str, mid: str) -> web.Response:
        inter = self._by_token(tok)
        if mid == "@original":
            inter.deleted_original = True
        return web.Response(status=204)
