"""Sending messages through the policy's channels with Apprise, and logging each one in the timeline.

A ``slack`` channel posts ``{"text": ...}`` to an incoming webhook (Slack's,
or any Slack-compatible receiver); ``statuspage`` posts the message as JSON
with the incident's id, status and severity (a bearer token from
``token_env``); ``email`` sends it over SMTP. Every attempt, delivered or
refused, becomes a ``message`` entry: the communication log. Webhook URLs,
tokens and passwords are masked there and in every error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from titan_ops.errors import TitanOpsError
from titan_ops.incident.messages import Message
from titan_ops.incident.policy import Channel
from titan_ops.redaction import Redactor


class ChannelError(TitanOpsError):
    """A channel is misconfigured (its secret's environment variable is not set, say)."""


@dataclass(frozen=True)
class Delivery:
    """What one channel did with one message."""

    channel: Channel
    message: Message
    ok: bool
    error: str = ""


def _secret(channel: Channel, key: str, required: bool = True) -> str | None:
    variable = channel.settings.get(key)
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value and required:
        raise ChannelError(f"channel {channel.name}: ${variable} ({key}) is not set")
    return value


def channel_secrets(channel: Channel) -> list[str]:
    """The secret values a channel uses (masked wherever they could show)."""
    values = [_secret(channel, key, required=False) for key in ("url_env", "token_env", "password_env")]
    if channel.type in ("slack", "statuspage") and channel.settings.get("url"):
        parts = urlsplit(channel.settings["url"])
        values += [segment for segment in parts.path.split("/") if len(segment) >= 8] + [parts.query]
    return [value for value in values if value]


def apprise_url(channel: Channel, message: Message, fields: dict[str, Any]) -> str:
    """The Apprise URL that delivers ``message`` through ``channel``."""
    if channel.type == "email":
        host, _, port = channel.settings["smtp"].rpartition(":")
        user = channel.settings.get("user")
        password = _secret(channel, "password_env")
        credentials = ""
        if user:
            credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
        mode = {"starttls": "starttls", "ssl": "ssl", "none": "insecure"}[channel.settings.get("secure", "starttls")]
        query = {"smtp": host, "mode": mode, "from": channel.settings["from"], "to": ",".join(channel.settings["to"]),
                 "format": "text"}
        return f"mailto://{credentials}{host}:{port}?" + "&".join(f"{key}={quote(str(value), safe='@,')}"
                                                                  for key, value in query.items())
    url = _secret(channel, "url_env") or channel.settings["url"]
    parts = urlsplit(url)
    scheme = "jsons" if parts.scheme == "https" else "json"
    query: list[tuple[str, str]] = [(":version", ""), (":attachments", ""), (":type", "")]
    if channel.type == "slack":
        query += [(":message", "text"), (":title", "")]
    else:
        query += [(f":{key}", str(value)) for key, value in fields.items() if value is not None]
        token = _secret(channel, "token_env")
        if token:
            query.append(("+Authorization", f"Bearer {token}"))
    if parts.query:
        query += [(key, value) for key, _, value in (pair.partition("=") for pair in parts.query.split("&"))]
    encoded = "&".join(f"{quote(key, safe=':+')}={quote(value, safe='')}" for key, value in query)
    return f"{scheme}://{parts.netloc}{parts.path or '/'}?{encoded}"


def deliver(channel: Channel, message: Message, fields: dict[str, Any], redactor: Redactor) -> Delivery:
    """Send ``message`` through ``channel`` now; a refused or unreachable channel is a Delivery with ``ok`` False."""
    import logging

    import apprise

    try:
        url = apprise_url(channel, message, fields)
    except ChannelError as error:
        return Delivery(channel, message, False, str(error))
    redactor.add_secrets([url])
    sender = apprise.Apprise()
    if not sender.add(url):
        return Delivery(channel, message, False, f"channel {channel.name}: Apprise does not accept its settings")
    body = f"{message.subject}\n\n{message.body}" if channel.type == "slack" else message.body
    with apprise.LogCapture(level=logging.WARNING) as log:
        ok = bool(sender.notify(body=body, title=message.subject))
        warnings = [line.split(" - ", 2)[-1].strip() for line in log.getvalue().splitlines() if line.strip()]
    error = "" if ok else redactor.text("; ".join(warnings) or "not delivered")
    return Delivery(channel, message, ok, error)
