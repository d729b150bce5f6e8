"""junit.xml: one test case per scenario x SLO, plus one per scenario for the CTK hypothesis.

CI systems show failures and skips, so: ``worse-than-expected`` and a deviated (or
not-met-before) hypothesis fail; ``inconclusive`` is skipped with its reason; a scenario that
did not run, or whose hypothesis result was not recorded, skips its hypothesis case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chaos_suite.detection.timeline import Detection
from chaos_suite.report.analysis import RunAnalysis, ScenarioResult, SLOResult
from chaos_suite.report.formatting import percent, rate
from chaos_suite.report.summary import coverage_text
from chaos_suite.report.verdict import Verdict

HYPOTHESIS_CASE = "steady-state hypothesis"


def _details(result: SLOResult) -> str:
    ci = result.budget_consumed_attributed_ci
    lines = [
        f"verdict: {result.verdict.value}",
        f"reason: {result.reason}",
        f"fault window: {result.fault.bad} bad of {result.fault.total} events",
        f"baseline: {result.baseline.bad} bad of {result.baseline.total} events",
        (
            f"budget consumed: {percent(result.budget_consumed)}"
            f" (attributed {percent(result.budget_consumed_attributed)},"
            f" 95% CI {'n/a' if ci is None else f'{percent(ci[0])} to {percent(ci[1])}'})"
        ),
        f"peak burn rate: {rate(result.peak_burn_rate)}",
    ]
    if result.coverage is not None:  # a prediction, never a failure by itself
        lines.append(f"predicted coverage: {coverage_text(result.coverage)}")
    return "\n".join(lines) + "\n"


def _slo_case(parent: ET.Element, classname: str, result: SLOResult, seconds: float) -> str:
    case = ET.SubElement(parent, "testcase", classname=classname, name=result.slo.name, time=f"{seconds:.3f}")
    if result.verdict is Verdict.WORSE:
        failure = ET.SubElement(case, "failure", message=result.reason, type=result.verdict.value)
        failure.text = _details(result)
        return "failure"
    if result.verdict is Verdict.INCONCLUSIVE:
        ET.SubElement(case, "skipped", message=f"inconclusive: {result.reason}")
        return "skipped"
    ET.SubElement(case, "system-out").text = _details(result)
    return "passed"


def _detection_case(parent: ET.Element, classname: str, detection: Detection) -> str:
    """Measured detection of one SLO: a gap (the expected alert never fired or never paged),
    a late alert and an alert where none was expected fail; detected and quiet pass."""
    case = ET.SubElement(parent, "testcase", classname=classname,
                         name=f"detection {detection.slo}", time="0.000")
    text = "".join(f"{label}: {value:.1f} s\n" for label, value in (
        ("time to detect", detection.time_to_detect), ("time to page", detection.time_to_page),
        ("time to recover", detection.time_to_recover)) if value is not None)
    if detection.verdict in ("gap", "late", "noise"):
        failure = ET.SubElement(case, "failure", message=detection.reason,
                                type=str(detection.verdict))
        failure.text = text
        return "failure"
    ET.SubElement(case, "system-out").text = f"{detection.verdict}: {detection.reason}\n{text}"
    return "passed"


def _hypothesis_case(parent: ET.Element, classname: str, scenario: ScenarioResult) -> str:
    seconds = 0.0
    if scenario.windows is not None:
        seconds = max(0.0, scenario.windows.phase.end - scenario.windows.phase.start)
    case = ET.SubElement(parent, "testcase", classname=classname, name=HYPOTHESIS_CASE, time=f"{seconds:.3f}")
    if scenario.hypothesis == "deviated":
        ET.SubElement(
            case,
            "failure",
            type="deviated",
            message="the steady-state hypothesis deviated after the method",
        )
        return "failure"
    if scenario.hypothesis == "not-met-before":
        ET.SubElement(
            case,
            "failure",
            type="not-met-before",
            message="the steady state was not met before the method; nothing was tested",
        )
        return "failure"
    if scenario.hypothesis in ("not-run", "unknown"):
        why = (
            "the scenario did not run"
            if scenario.hypothesis == "not-run"
            else f"no hypothesis result recorded (scenario {scenario.status})"
        )
        ET.SubElement(case, "skipped", message=why)
        return "skipped"
    return "passed"


def render_junit(analysis: RunAnalysis) -> str:
    """The junit.xml text (UTF-8, with XML declaration)."""
    plan = analysis.plan
    suite_name = f"gameday {plan.gameday}" if plan.gameday else "gameday"
    root = ET.Element("testsuites", name="chaos-suite")
    suite = ET.SubElement(root, "testsuite", name=suite_name)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", plan.run_id),
        ("service", plan.service),
        ("environment", plan.environment),
        ("status", analysis.status),
        ("exit_code", str(analysis.exit_code)),
    ):
        ET.SubElement(properties, "property", name=key, value=value)
    outcomes: list[str] = []
    for scenario in analysis.scenarios:
        classname = f"{plan.gameday or 'gameday'}.{scenario.name}"
        seconds = scenario.windows.measurement.length if scenario.windows else 0.0
        outcomes.append(_hypothesis_case(suite, classname, scenario))
        outcomes += [_slo_case(suite, classname, result, seconds) for result in scenario.slos]
        outcomes += [_detection_case(suite, classname, d) for d in scenario.detection
                     if d.verdict is not None]
    for element in (root, suite):
        element.set("tests", str(len(outcomes)))
        element.set("failures", str(outcomes.count("failure")))
        element.set("skipped", str(outcomes.count("skipped")))
        element.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
