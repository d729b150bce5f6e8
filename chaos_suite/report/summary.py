"""The summary every report opens with: the gameday's verdict in one line, and the grid of
scenario × SLO cells (expected, observed with its interval, verdict). Data only: report.json,
report.md and report.html each format it their way."""

from __future__ import annotations

from dataclasses import dataclass

from chaos_suite.report.analysis import RunAnalysis, ScenarioResult, SLOResult
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
    """The detection verdict of a cell when the analysis has one (detection is added to the
    results separately; records and analyses without it show none)."""
    detection = getattr(result, "detection", None)
    if detection is None:
        return None
    verdict = getattr(detection, "verdict", detection)
    value = getattr(verdict, "value", verdict)
    return str(value) if value is not None else None
