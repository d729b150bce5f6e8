"""What every SLO format's reader shares (docs/architecture.md §1): the context a file is read
in, field paths into a document, objectives given in percent, names, the SLI kind a format can
only state in annotations, and the refusal of what cannot be measured here."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import MAX_NAME_LENGTH, NAME_PATTERN
from chaos_suite.slo.model import SLI, SLIKind

SLI_KIND_ANNOTATION = "chaos-suite/sli-kind"
THRESHOLD_ANNOTATION = "chaos-suite/threshold-ms"


@dataclass
class OpenSLOObject:
    """An OpenSLO document other than an SLO (SLI, DataSource, Service, AlertPolicy,
    AlertCondition, AlertNotificationTarget), validated, with where it was written."""

    kind: str
    name: str
    model: Any
    file: str
    at: str


@dataclass
class Intake:
    """What reading one SLO file needs besides its documents: the instant windows are
    evaluated at, the SLOs a plan counts from the load, and the OpenSLO objects of this file and
    of the other files given with it (an SLO's indicatorRef may name an SLI in any of them)."""

    now: datetime
    count_from_load: frozenset[str] = frozenset()
    objects: dict[tuple[str, str], OpenSLOObject] = field(default_factory=dict)

    def lookup(self, kind: str, name: str) -> OpenSLOObject | None:
        return self.objects.get((kind, name))


def at(prefix: str, rest: str = "") -> str:
    """A field path inside a document: at('documents[1]', 'spec.x') → 'documents[1].spec.x'."""
    if not prefix:
        return rest
    return f"{prefix}.{rest}" if rest else prefix


def percent_objective(value: Any, file: str, where: str, *, low_hint: bool = True) -> float:
    """An objective given in percent (Sloth's 99.9, Pyrra's '99.9') as a fraction, exactly:
    Decimal, so 99.9 is 0.999 and not 0.9990000000000001."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(file, where, f"expected a percentage such as 99.9; got {value!r}")
    try:
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(file, where, f"expected a percentage such as 99.9; got {value!r}") from None
    if not percent.is_finite() or percent <= 0:
        raise ValidationError(file, where, f"expected a percentage above 0 such as 99.9; got {value!r}")
    if percent >= 100:
        raise ValidationError(file, where, "objective must be below 100% (100% leaves no error "
                              f"budget); got {value!r}")
    if low_hint and percent < 1:
        # a fraction written where the format wants percent: 0.999 here means 0.999%
        raise ValidationError(file, where, f"objective is a percentage (99.9 for 99.9%); {value!r} "
                              f"would mean {value}%, which is surely a fraction written by mistake")
    return float(percent / 100)


def fraction_objective(target: float | None, target_percent: float | None, file: str,
                       where: str) -> float:
    """OpenSLO's `target` (a fraction) or `targetPercent`, exactly one, strictly inside (0, 1)."""
    if (target is None) == (target_percent is None):
        raise ValidationError(file, where, "give exactly one of 'target' (0.999) or "
                              "'targetPercent' (99.9)")
    if target_percent is not None:
        return percent_objective(target_percent, file, f"{where}.targetPercent", low_hint=False)
    assert target is not None
    if not 0 < target < 1:
        hint = " (100% leaves no error budget)" if target >= 1 else ""
        raise ValidationError(file, f"{where}.target",
                              f"objective must lie strictly between 0 and 1{hint}; got {target!r}")
    return float(target)


def check_slo_name(name: str, file: str, where: str) -> str:
    """An SLO's name obeys the own format's rule: it names the SLO in plans, reports and files."""
    if len(name) > MAX_NAME_LENGTH or not re.fullmatch(NAME_PATTERN, name):
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise ValidationError(file, where, f"must be 1-{MAX_NAME_LENGTH} characters of A-Z a-z 0-9 "
                              f". _ - starting with a letter or digit; got {shown!r}")
    return name


def slug(text: str) -> str:
    """A display name as a name suffix: 'p99 under 200 ms' → 'p99-under-200-ms'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def sli_from_annotations(annotations: Mapping[str, Any] | None, file: str, where: str,
                         default: SLI | None = None) -> SLI:
    """The SLI kind and latency threshold, which formats without them state in chaos_suite's
    annotations (they matter when the SLO is counted from the load)."""
    annotations = annotations or {}
    if SLI_KIND_ANNOTATION not in annotations and THRESHOLD_ANNOTATION not in annotations \
            and default is not None:
        return default
    try:
        kind = SLIKind(str(annotations.get(SLI_KIND_ANNOTATION, "availability")))
        threshold = annotations.get(THRESHOLD_ANNOTATION)
        threshold_ms = float(threshold) if threshold not in (None, "") else None
        if threshold_ms is not None and not (math.isfinite(threshold_ms)
                                             and 0 < threshold_ms <= 3_600_000):
            raise ValueError("threshold-ms must be a positive number of milliseconds, at most "
                             f"3600000 (1 h); got {threshold!r}")
        return SLI(kind=kind, threshold_ms=threshold_ms)
    except ValueError as exc:
        raise ValidationError(file, where, str(exc)) from None


def not_measurable(file: str, where: str, what: str, slo_names: list[str]) -> ValidationError:
    """The refusal of an SLO whose counts chaos_suite cannot read, naming the way out."""
    names = ", ".join(f"'{n}'" for n in slo_names)
    plural = "s" if len(slo_names) > 1 else ""
    return ValidationError(file, where, f"{what} cannot be measured here (chaos_suite reads "
                           f"Prometheus); to count SLO{plural} {names} from the load instead, "
                           "list it in the gameday plan's count_from_load")
