"""Safety gates, checked before anything is started or injected. Each refusal names the gate and
the figure that failed it. Production always needs explicit confirmation; the other gates apply
to any environment whose safety policy configures them (staging included)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chaos_suite.errors import GateRefused
from chaos_suite.files.environment import LocalTarget, TimeWindow
from chaos_suite.files.loader import ResolvedPlan

CONFIRM_ENV = "CHAOS_SUITE_CONFIRM"
ALL_PODS = 10**6  # `all: true`: every matching pod
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_confirmation(resolved: ResolvedPlan, confirm: str | None) -> None:
    env = resolved.environment
    if not (env.safety.require_confirmation or env.tier == "production"):
        return
    given = confirm or os.environ.get(CONFIRM_ENV)
    # the tier, not the name: a production environment named "staging" must not pass
    # with --confirm staging
    if given != env.tier:
        raise GateRefused(
            "confirmation",
            f"environment '{env.name}' ({env.tier}) needs --confirm {env.tier} "
            f"(or {CONFIRM_ENV}={env.tier}); got {given or 'none'}",
        )


# ---------------------------------------------------------------- time windows


def in_window(window: TimeWindow, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(window.timezone))
    if DAYS[local.weekday()] not in window.days:
        return False
    minutes = local.hour * 60 + local.minute
    start_h, start_m = (int(x) for x in window.start.split(":"))
    end_h, end_m = (int(x) for x in window.end.split(":"))
    return start_h * 60 + start_m <= minutes < end_h * 60 + end_m


def check_windows(resolved: ResolvedPlan, now: datetime | None = None) -> None:
    windows = resolved.environment.safety.allowed_windows
    if not windows:
        return
    moment = now or datetime.now().astimezone()
    if any(in_window(w, moment) for w in windows):
        return
    allowed = "; ".join(f"{','.join(w.days)} {w.start}-{w.end} {w.timezone}" for w in windows)
    raise GateRefused("time-window", f"now is {moment.isoformat(timespec='minutes')}, outside "
                                     f"every allowed window ({allowed})")


# ---------------------------------------------------------------- blast radius


def _affected_replicas(activity: dict[str, Any]) -> int:
    """Replicas/pods one action takes down, from its declared arguments."""
    provider = activity.get("provider") or {}
    func = str(provider.get("func", ""))
    args = provider.get("arguments") or {}
    if activity.get("type") != "action":
        return 0
    if func == "kill_replica":
        return 1
    if func in ("terminate_pods", "delete_pods", "kill_pods"):
        if args.get("all"):
            return ALL_PODS
        qty = args.get("qty", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise GateRefused("blast-radius", f"action '{activity.get('name')}': cannot count "
                              f"the pods it takes down (qty={qty!r})")
        return qty or 1
    return 0


def blast_radius(resolved: ResolvedPlan) -> list[tuple[str, int]]:
    """(scenario, replicas affected at most at once) — actions in one method add up."""
    return [(s.name, sum(_affected_replicas(a) for a in s.experiment.get("method", [])))
            for s in resolved.scenarios]


def check_blast_radius(resolved: ResolvedPlan) -> None:
    policy = resolved.environment.safety.blast_radius
    if policy is None:
        return
    target = resolved.environment.target
    replicas = target.replicas if isinstance(target, LocalTarget) else None
    for scenario, affected in blast_radius(resolved):
        if affected == 0:
            continue
        if policy.max_replicas is not None and affected > policy.max_replicas:
            raise GateRefused("blast-radius", f"scenario '{scenario}' takes down {affected} "
                                              f"replicas; the policy allows {policy.max_replicas}")
        if policy.max_fraction is not None and not replicas:
            # the pod count is only known once the target is resolved: refuse rather than skip
            raise GateRefused("blast-radius", f"scenario '{scenario}' takes down "
                              f"{'every matching pod' if affected >= ALL_PODS else affected}; "
                              "max_fraction cannot be checked without the replica count of a "
                              f"{target.type} target")
        if policy.max_fraction is not None and replicas:
            fraction = affected / replicas
            if fraction > policy.max_fraction:
                raise GateRefused(
                    "blast-radius", f"scenario '{scenario}' takes down {affected} of {replicas} "
                    f"replicas ({fraction:.0%}); the policy allows {policy.max_fraction:.0%}")


# ---------------------------------------------------------------- error-budget policy


def _gated_specs(resolved: ResolvedPlan) -> list[Any]:
    from chaos_suite.files.loader import load_slos

    policy = resolved.environment.safety.budget_policy
    assert policy is not None
    specs = resolved.slos
    if policy.slo_file:
        base = resolved.environment_path.parent if resolved.environment_path else Path()
        specs = load_slos(base / policy.slo_file)
    if policy.slos:
        known = {s.name: s for s in specs}
        missing = [n for n in policy.slos if n not in known]
        if missing:
            raise GateRefused("error-budget", f"policy names unknown SLO '{missing[0]}'")
        specs = [known[n] for n in policy.slos]
    return specs


def check_budget_policy(resolved: ResolvedPlan) -> list[str]:
    """Refuse when any gated SLO has less budget left than the policy's minimum. Returns the
    figures it read (for the dry run's printout)."""
    policy = resolved.environment.safety.budget_policy
    if policy is None:
        return []
    from chaos_suite.files.slo_file import PrometheusSource
    from chaos_suite.sources.prometheus import PrometheusClient, budget_status

    prom = resolved.environment.sources.prometheus
    figures: list[str] = []
    for spec in _gated_specs(resolved):
        if not isinstance(spec.source, PrometheusSource):
            raise GateRefused("error-budget", f"SLO '{spec.name}' has source "
                              f"'{spec.source.type}', which keeps no history; the policy needs "
                              "a prometheus source to read the remaining budget")
        if prom is None:
            raise GateRefused("error-budget", "the environment has no sources.prometheus.url")
        with PrometheusClient(prom.url, prom.timeout) as client:
            status = budget_status(spec, client)
        if status.remaining is None:
            raise GateRefused("error-budget", f"SLO '{spec.name}': no data over its window "
                              "(no events); refusing rather than assuming a full budget")
        line = (f"SLO '{spec.name}': {status.remaining:.1%} of the budget left "
                f"({status.total - status.good:.0f} bad of {status.total:.0f} events)")
        if status.remaining < policy.min_remaining:
            raise GateRefused("error-budget", f"{line}; the policy needs at least "
                                              f"{policy.min_remaining:.0%}")
        figures.append(line)
    return figures


def check_gates(resolved: ResolvedPlan, confirm: str | None) -> list[str]:
    """All gates, cheapest first. Returns the budget figures read (for --dry-run)."""
    check_confirmation(resolved, confirm)
    check_windows(resolved)
    check_blast_radius(resolved)
    return check_budget_policy(resolved)
