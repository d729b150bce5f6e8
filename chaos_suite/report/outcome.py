"""What fails a pipeline: `--fail-on` applied to the one analysis of a run (pure).

Without `--fail-on` the exit code is the analysis' own (0 as expected, 1 deviated or worse,
3 aborted, 2 and 4 as raised). With it, only the listed conditions fail the run:

- `aborted`: the run was aborted (safeguard or operator) → 3
- `deviated`: a scenario's CTK hypothesis deviated or was not met before the method → 1
- `worse`: an SLO's burn was worse than expected → 1
- `inconclusive`: any SLO row of a scenario is inconclusive (too few events, an interval
  straddling the expectation, a caveat, a planned scenario an abort left unrun) → 1

Nothing listed holds → 0. Codes 2 (bad input) and 4 (infrastructure error) always stand: they
say the run could not be judged at all."""

from __future__ import annotations

from typing import Final

from chaos_suite.errors import InputError
from chaos_suite.report.analysis import RunAnalysis
from chaos_suite.report.verdict import Verdict

CONDITIONS: Final = ("deviated", "worse", "inconclusive", "aborted")


def parse_fail_on(text: str | None) -> frozenset[str] | None:
    """`deviated,worse` → its set; None when not given. An unknown name is bad input."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"--fail-on: no condition given (choose from {', '.join(CONDITIONS)})")
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise InputError(f"--fail-on: unknown condition {unknown[0]!r} (choose from "
                         f"{', '.join(CONDITIONS)})")
    return frozenset(names)


def conditions(analysis: RunAnalysis) -> frozenset[str]:
    """Which of CONDITIONS hold for this run."""
    held: set[str] = set()
    if analysis.status == "aborted":
        held.add("aborted")
    for scenario in analysis.scenarios:
        if scenario.hypothesis_failed:
            held.add("deviated")
        for row in scenario.slos:
            if row.verdict is Verdict.WORSE:
                held.add("worse")
            elif row.verdict is Verdict.INCONCLUSIVE:
                held.add("inconclusive")
    return frozenset(held)


def exit_code_for(analysis: RunAnalysis, fail_on: frozenset[str] | None) -> int:
    if fail_on is None or analysis.exit_code in (2, 4):
        return analysis.exit_code
    held = conditions(analysis) & fail_on
    if "aborted" in held:
        return 3
    return 1 if held else 0
