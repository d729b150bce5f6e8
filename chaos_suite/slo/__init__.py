"""SLI/SLO models and the error-budget arithmetic.

Pure on purpose: no I/O, no clock, and nothing else from chaos_suite is imported here, so every
other layer (files, safeguard, report) can share one set of formulas (docs/architecture.md §2).
"""

from chaos_suite.slo.budget import (
    AlertRow,
    BudgetSpend,
    MultiWindowRule,
    alert_table,
    attributed_consumption,
    budget_consumed,
    budget_spend,
    burn_rate,
    burn_rate_for,
    consumed_over_buckets,
    error_ratio,
    pooled_burn_rate,
    time_to_exhaustion,
    wilson_interval,
)
from chaos_suite.slo.duration import format_duration, parse_duration
from chaos_suite.slo.model import SLI, SLO, SLIKind, parse_objective

__all__ = [
    "SLI",
    "SLO",
    "AlertRow",
    "BudgetSpend",
    "MultiWindowRule",
    "SLIKind",
    "alert_table",
    "attributed_consumption",
    "budget_consumed",
    "budget_spend",
    "burn_rate",
    "burn_rate_for",
    "consumed_over_buckets",
    "error_ratio",
    "format_duration",
    "parse_duration",
    "parse_objective",
    "pooled_burn_rate",
    "time_to_exhaustion",
    "wilson_interval",
]
