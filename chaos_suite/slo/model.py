"""SLI and SLO value objects (docs/architecture.md §1). Frozen, validated on construction, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chaos_suite.slo.duration import parse_duration


class SLIKind(StrEnum):
    """What counts as a good event."""

    AVAILABILITY = "availability"  # good = not a server error
    LATENCY = "latency"  # good = answered faster than threshold_ms


@dataclass(frozen=True)
class SLI:
    """The indicator: which events are good. ``kind`` may be given as a plain string."""

    kind: SLIKind
    threshold_ms: float | None = None

    def __post_init__(self) -> None:
        try:
            kind = SLIKind(self.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in SLIKind)
            raise ValueError(f"SLI kind must be one of {allowed}; got {self.kind!r}") from None
        # Frozen dataclass: normalise the str to the enum through object.__setattr__.
        object.__setattr__(self, "kind", kind)
        if kind is SLIKind.LATENCY:
            if self.threshold_ms is None or not _positive_number(self.threshold_ms):
                raise ValueError(f"a latency SLI needs threshold_ms > 0; got {self.threshold_ms!r}")
            object.__setattr__(self, "threshold_ms", float(self.threshold_ms))
        elif self.threshold_ms is not None:
            raise ValueError("an availability SLI takes no threshold_ms")


def _positive_number(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


@dataclass(frozen=True)
class SLO:
    """An SLI, an objective T in (0, 1) and a window P in seconds. Error budget B = 1 - T."""

    name: str
    objective: float
    window_seconds: float
    sli: SLI
    source: str = "load"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("SLO name must be a non-empty string")
        object.__setattr__(self, "objective", _check_objective(self.objective))
        if not _positive_number(self.window_seconds):
            raise ValueError(f"SLO window must be a positive number of seconds; got {self.window_seconds!r}")
        object.__setattr__(self, "window_seconds", float(self.window_seconds))
        if not isinstance(self.source, str) or not self.source:
            raise ValueError("SLO source must be a non-empty string such as 'load'")

    @property
    def error_budget(self) -> float:
        """B = 1 - T: the fraction of events allowed to be bad over the window."""
        return 1.0 - self.objective

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SLO:
        """Build from the plain-JSON shape used in plan.json and report.json.

        ``window_seconds`` may also be given as ``window`` ("30d"); ``sli`` as a mapping
        ``{"kind": ..., "threshold_ms": ...}``. Raises ValueError or KeyError on bad input.
        """
        sli_data = data["sli"]
        if not isinstance(sli_data, Mapping):
            msg = "sli must be a mapping with 'kind' (and 'threshold_ms' for latency)"
            raise ValueError(msg)
        window = data["window_seconds"] if "window_seconds" in data else data["window"]
        return cls(
            name=data["name"],
            objective=data["objective"],
            window_seconds=parse_duration(window),
            sli=SLI(kind=sli_data["kind"], threshold_ms=sli_data.get("threshold_ms")),
            source=data.get("source", "load"),
            description=data.get("description", "") or "",
        )

    def to_mapping(self) -> dict[str, Any]:
        """The inverse of :meth:`from_mapping` (JSON-ready)."""
        return {
            "name": self.name,
            "objective": self.objective,
            "window_seconds": self.window_seconds,
            "source": self.source,
            "sli": {"kind": self.sli.kind.value, "threshold_ms": self.sli.threshold_ms},
            "description": self.description,
        }


def _check_objective(value: object) -> float:
    """Objectives are fractions; 1.0 (or a percent such as 99.9 given by mistake) is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"objective must be a number such as 0.999; got {value!r}")
    if value in (1.0, 100.0):
        raise ValueError("objective must be below 1.0 (100% leaves no error budget)")
    if value > 1.0:
        raise ValueError(f"objective must be a fraction below 1.0 such as 0.999 for 99.9%; got {value!r}")
    if value <= 0.0:
        raise ValueError(f"objective must be above 0; got {value!r}")
    return float(value)


def parse_objective(value: str | float) -> float:
    """Accept 0.999, "0.999" or "99.9%" and return the fraction (validated like SLO.objective)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            # round(): 99.9 / 100 is 0.9990000000000001 in binary floating point.
            number = round(float(text[:-1]) / 100.0, 12) if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"objective must look like 0.999 or '99.9%'; got {value!r}") from None
        return _check_objective(number)
    return _check_objective(value)
