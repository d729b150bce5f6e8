"""Safety gates checked before anything is started or injected. Each refusal names the gate and
the figure that failed it."""

from __future__ import annotations

import os

from chaos_suite.errors import GateRefused
from chaos_suite.files.loader import ResolvedPlan

CONFIRM_ENV = "CHAOS_SUITE_CONFIRM"


def check_confirmation(resolved: ResolvedPlan, confirm: str | None) -> None:
    env = resolved.environment
    if not (env.safety.require_confirmation or env.tier == "production"):
        return
    given = confirm or os.environ.get(CONFIRM_ENV)
    if given not in (env.name, env.tier):
        raise GateRefused(
            "confirmation",
            f"environment '{env.name}' ({env.tier}) needs --confirm {env.tier} "
            f"(or {CONFIRM_ENV}={env.tier}); got {given!r}",
        )


def check_gates(resolved: ResolvedPlan, confirm: str | None) -> None:
    check_confirmation(resolved, confirm)
