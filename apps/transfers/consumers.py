"""WebSocket /ws/session/{session_id}?token=...: pushes {status} on every change."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.transfers.selectors import session_get
from apps.transfers.services import group_name, session_expire_if_overdue, session_token_valid


@database_sync_to_async
def _session_status(session_id: str, token: str) -> dict[str, Any] | None:
    session = session_get(session_id=session_id)
    if session is None or not session_token_valid(session, token):
        return None
    session = session_expire_if_overdue(session=session)
    message: dict[str, Any] = {"status": session.status}
    if session.replaced_by_id:
        message["replaced_by"] = str(session.replaced_by_id)
    return message


class SessionStatusConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        current = await _session_status(session_id, token)
        if current is None:
            await self.close(code=4401)  # wrong or missing token, or no such session
            return
        self.group = group_name(session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(current)  # the status now, so nothing between load and connect is missed

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """The socket only pushes: what a client sends is dropped unread, never parsed as JSON
        (a deeply nested frame would otherwise end in a RecursionError)."""

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def session_status(self, event: dict[str, Any]) -> None:
        message = {"status": event["status"]}
        if event.get("replaced_by"):
            message["replaced_by"] = event["replaced_by"]
        await self.send_json(message)
