"""A Chaos Toolkit python probe for the chaostoolkit-addons safeguards control (benchmarks only):
chaos_suite's abort rule -- the multi-window burn rate, judged by the same chaos_suite.slo
functions -- over the local target's server-side per-second counters (GET /admin/counters).

    {"type": "probe", "name": "sli-burn-rate", "frequency": 0.1, "tolerance": true,
     "provider": {"type": "python", "module": "_sli_probe", "func": "burn_rate_ok",
                  "arguments": {"objective": 0.999, "burn_rate": 100,
                                "long_window_s": 6, "short_window_s": 2}}}

Returns True while the rule does not fire (so `"tolerance": true`). Like chaos_suite's
safeguard it judges whole seconds only, the windows ending at the last completed second: a
crossing is knowable at the end of the second that crossed, on both sides. A 5xx is a bad
event (what the availability SLI counts for an injected error; a refused connection, which the
server cannot see, does not occur in this benchmark). `benchmarks/` must be on PYTHONPATH.

With `log_file` (or env CS_BENCH_PROBE_LOG) every evaluation appends one JSON line
{"t", "last", "burn_long", "burn_short", "fires"}: when the probe first saw the crossing.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx

from chaos_suite.slo.budget import MultiWindowRule, pooled_burn_rate

LOG_ENV = "CS_BENCH_PROBE_LOG"


def _admin_url(admin_url: str | None, configuration: dict[str, Any] | None) -> str:
    url = admin_url or (configuration or {}).get("chaos_suite_admin_url") or os.environ.get(
        "CHAOS_SUITE_ADMIN_URL")
    if not url:
        from chaoslib.exceptions import ActivityFailed

        raise ActivityFailed("no admin_url: run under chaos-suite or pass admin_url")
    return str(url)


def _pooled(rows: dict[int, tuple[int, int]], first: int, last: int) -> tuple[int, int]:
    """(good, total) over seconds first..last, as chaos_suite's live store pools them."""
    good = total = 0
    for second in range(first, last + 1):
        g, n = rows.get(second, (0, 0))
        good += g
        total += n
    return good, total


def judge(rows: dict[int, tuple[int, int]], last: int, *, objective: float, burn_rate: float,
          long_window_s: int, short_window_s: int) -> tuple[float | None, float | None, bool]:
    """(burn long, burn short, fires) of the multi-window rule at second `last`; `rows` maps a
    second to its (good, total). Shared with the benchmark, which finds the true crossing by it."""
    long = _pooled(rows, last - long_window_s + 1, last)
    short = _pooled(rows, last - short_window_s + 1, last)
    burn_long = pooled_burn_rate(*long, objective)
    burn_short = pooled_burn_rate(*short, objective)
    fires = MultiWindowRule(long_window_s, short_window_s, burn_rate).fires(burn_long, burn_short)
    return burn_long, burn_short, fires


def burn_rate_ok(objective: float, burn_rate: float, long_window_s: int, short_window_s: int,
                 admin_url: str | None = None, log_file: str | None = None,
                 configuration: dict[str, Any] | None = None) -> bool:
    """False when the burn rate over both windows ending at the last completed second exceeds
    `burn_rate` (error ratio above burn_rate * (1 - objective)); True otherwise."""
    now = time.time()
    last = int(now) - 1  # the last whole second (the replicas flush every 0.1 s)
    since = last - max(long_window_s, short_window_s)
    response = httpx.get(f"{_admin_url(admin_url, configuration)}/admin/counters",
                         params={"since": since}, timeout=2.0)
    response.raise_for_status()
    rows = {int(r["t"]): (int(r["total"]) - int(r["errors"]), int(r["total"]))
            for r in response.json()["seconds"]}
    burn_long, burn_short, fires = judge(rows, last, objective=objective, burn_rate=burn_rate,
                                         long_window_s=long_window_s,
                                         short_window_s=short_window_s)
    path = log_file or os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"t": now, "last": last, "burn_long": burn_long,
                                     "burn_short": burn_short, "fires": fires}) + "\n")
    return not fires
