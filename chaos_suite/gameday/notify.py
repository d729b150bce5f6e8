"""Run notifications: a webhook (the environment's ``notify.webhook``, any URL) POSTed
Slack-compatible JSON at the run's start, after each scenario, on abort and at the end.

A notification is a courtesy to the people watching, never part of the run: a failure to
deliver one is returned as text for the runner to record (a ``notify_failed`` event) and say on
the console, and the run goes on unchanged. The URL itself stays out of every message (a Slack
webhook URL is a credential)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import JsonValue

if TYPE_CHECKING:
    from chaos_suite.files.environment import Notify

PREFIX = "chaos-suite"


@dataclass(frozen=True)
class Notifier:
    """Sends one message per call; ``config`` None sends nothing."""

    config: Notify | None
    run_id: str
    gameday: str

    def payload(self, kind: str, text: str, fields: dict[str, JsonValue]) -> dict[str, JsonValue]:
        # `text` is all Slack needs; the structured copy is for any other receiver
        return {"text": f"[{PREFIX}] {self.gameday}: {text}",
                "chaos_suite": {"kind": kind, "run_id": self.run_id, "gameday": self.gameday,
                                "text": text, **fields}}

    def send(self, kind: str, text: str, **fields: JsonValue) -> str | None:
        """POST the message; None when delivered (2xx), else what went wrong."""
        if self.config is None:
            return None
        import httpx

        url = self.config.webhook
        try:
            response = httpx.post(url, json=self.payload(kind, text, fields),
                                  timeout=self.config.timeout)
        except httpx.HTTPError as exc:
            return _without(url, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - whatever a notification does, the run goes on
            return _without(url, f"{type(exc).__name__}: {exc}")
        if not response.is_success:
            return f"HTTP {response.status_code} from the webhook"
        return None


def _without(url: str, message: str) -> str:
    """The error text with the webhook's URL cut down to its scheme and host."""
    import httpx

    try:
        parsed = httpx.URL(url)
        short = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
    except Exception:  # noqa: BLE001 - a URL that does not parse is not in the text either
        short = "the webhook"
    return message.replace(url, short)
