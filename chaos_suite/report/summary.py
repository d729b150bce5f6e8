"""The summary every report opens with: the gameday's verdict in one line, and the grid of
scenario × SLO cells (expected, observed with its interval, verdict), and the one-line
texts the renderers share (predicted coverage). report.json, report.md and report.html each
format the data their way."""

from __future__ import annotations

from dataclasses import dataclass

from chaos_suite.detection.predict import Coverage
from chaos_suite.detection.windows import SEVERITIES, prom_duration
from chaos_suite.report.analysis import RunAnalysis, ScenarioResult, SLOResult
from chaos_suite.report.formatting import percent, rate
from chaos_suite.report.verdict import Verdict

# docs/architecture.md §5, in the reader's words
EXIT_MEANINGS: dict[int, str] = {
    0: "every hypothesis held and every burn was within expectation",
    1: "a hypothesis deviated or a burn was worse than expected",
    2: "bad input or a refused pre-flight: nothing was injected",
    3: "aborted by a safeguard or the operator; rollbacks ran",
    4: "infrastructure error mid-run; rollbacks ran",
}


@dataclass(frozen=True)
class GamedayVerdict:
    verdict: str  # as-expected | deviated | inconclusive | aborted | failed
    deviated: int  # scenarios whose hypothesis failed or whose burn left its expected range
    inconclusive: int  # scenarios with an inconclusive verdict where something was expected
    scenarios: int
    exit_code: int

    @property
    def exit_meaning(self) -> str:
        return EXIT_MEANINGS.get(self.exit_code, "unknown exit code")

    @property
    def text(self) -> str:
        """One line, e.g. "deviated: 1 of 2 scenarios (exit code 1: ...)"."""
        head = {
            "as-expected": "as expected",
            "deviated": f"deviated: {self.deviated} of {self.scenarios} scenarios",
            "inconclusive": f"inconclusive: {self.inconclusive} of {self.scenarios} scenarios",
        }.get(self.verdict, f"run {self.verdict}")
        return f"{head} (exit code {self.exit_code}: {self.exit_meaning})"


def scenario_deviated(scenario: ScenarioResult) -> bool:
    """Worse and better both count: a fault that burnt less than expected did not do what
    the team believed either."""
    return scenario.hypothesis_failed or any(
        r.verdict in (Verdict.WORSE, Verdict.BETTER) for r in scenario.slos)


def _inconclusive(scenario: ScenarioResult) -> bool:
    return any(r.verdict is Verdict.INCONCLUSIVE and not r.expected.is_empty
               for r in scenario.slos)


def gameday_verdict(analysis: RunAnalysis) -> GamedayVerdict:
    deviated = sum(1 for s in analysis.scenarios if scenario_deviated(s))
    inconclusive = sum(1 for s in analysis.scenarios
                       if not scenario_deviated(s) and _inconclusive(s))
    if analysis.status in ("aborted", "failed"):
        verdict = analysis.status
    elif deviated:
        verdict = "deviated"
    elif inconclusive:
        verdict = "inconclusive"
    else:
        verdict = "as-expected"
    return GamedayVerdict(verdict, deviated, inconclusive, len(analysis.scenarios),
                          analysis.exit_code)


def detection_of(result: SLOResult) -> str | None:
    """The measured detection verdict of a cell, when the plan expects something of it."""
    return result.detection.verdict if result.detection is not None else None


def seconds_text(seconds: float) -> str:
    """6.0 s under two minutes, Prometheus's notation (17m20s) above."""
    return f"{seconds:.1f} s" if seconds < 120 else prom_duration(round(seconds))


def coverage_text(coverage: Coverage) -> str:
    """Predicted coverage in one line: for page and ticket, the first alert that would fire
    if the fault lasted, after how long and at what budget; or why none would."""
    parts: list[str] = []
    for severity in SEVERITIES:
        rows = [p for p in coverage.alerts if p.alert.severity == severity]
        if not rows:
            continue
        first = coverage.first(severity)
        if first is None:
            lowest = min(rows, key=lambda p: p.alert.factor)
            parts.append(f"no {severity} alert would fire ({lowest.reason})")
        elif first.before_onset:
            parts.append(f"{severity} {first.alert.key} fires before the fault (baseline burn "
                         f"{rate(coverage.baseline_burn_rate)})")
        else:
            assert first.after_s is not None
            parts.append(f"{severity} {first.alert.key} would fire {seconds_text(first.after_s)} "
                         f"after onset, {percent(first.budget_consumed)} of budget spent by then")
    return (f"at burn rate {rate(coverage.burn_rate)} if the fault lasted: " + "; ".join(parts)
            + f" ({coverage.window_set} windows, evaluated every "
            f"{prom_duration(coverage.evaluation_interval_s)}, scraped every "
            f"{prom_duration(coverage.scrape_interval_s)}: ± {seconds_text(coverage.resolution_s)})")


def measured_beside(result: SLOResult) -> str:
    """What detection measured, to read beside the prediction ('' when nothing was)."""
    detection = result.detection
    if detection is None or detection.time_to_detect is None:
        return ""
    paged = (f", paged after {seconds_text(detection.time_to_page)}"
             if detection.time_to_page is not None else "")
    return f"; measured: fired {seconds_text(detection.time_to_detect)} after onset{paged}"
