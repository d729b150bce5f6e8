"""Quiet gamedays: an Alertmanager silence over the gameday's alerts, so on-call is not paged
while detection is still measured from Prometheus. Created before the first fault with a
ledger entry whose revert is :func:`remove_silence` (so ``chaos-suite recover`` removes it
after a crash), removed at the end. The silence also ends by itself at ``ends_at``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

MODULE = "chaos_suite.detection.silence"


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def create_silence(url: str, matchers: Mapping[str, str], *, starts_at: float, ends_at: float,
                   comment: str, created_by: str = "chaos-suite", timeout_s: float = 5.0) -> str:
    """POST /api/v2/silences with equality matchers; the new silence's id."""
    body = {"matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                         for k, v in sorted(matchers.items())],
            "startsAt": _rfc3339(starts_at), "endsAt": _rfc3339(ends_at),
            "createdBy": created_by, "comment": comment}
    response = httpx.post(f"{url.rstrip('/')}/api/v2/silences", json=body, timeout=timeout_s)
    response.raise_for_status()
    silence_id = response.json().get("silenceID")
    if not isinstance(silence_id, str) or not silence_id:
        raise ValueError(f"Alertmanager answered no silenceID: {response.text[:200]}")
    return silence_id


def remove_silence(url: str, silence_id: str, timeout_s: float = 5.0) -> None:
    """DELETE /api/v2/silence/{id} (the ledger's revert). An expired or deleted silence is
    fine: Alertmanager answers 200 for those too; a 404 raises with '(404)' for recover."""
    response = httpx.delete(f"{url.rstrip('/')}/api/v2/silence/{silence_id}", timeout=timeout_s)
    if response.status_code == 404:
        raise LookupError(f"silence {silence_id} not found (404)")
    response.raise_for_status()


def silence_state(url: str, silence_id: str, timeout_s: float = 5.0) -> str:
    """active | pending | expired, as Alertmanager says."""
    response = httpx.get(f"{url.rstrip('/')}/api/v2/silence/{silence_id}", timeout=timeout_s)
    response.raise_for_status()
    return str(response.json().get("status", {}).get("state", ""))


def revert_spec(url: str, silence_id: str) -> dict[str, object]:
    """The ledger entry's revert: replayed by chaos_suite.safety.recover."""
    return {"kind": "python", "module": MODULE, "func": "remove_silence",
            "arguments": {"url": url, "silence_id": silence_id}}
