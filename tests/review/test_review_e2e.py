"""`chaos-suite review` end to end: two real gamedays on the embedded managed target, a set of
run directories written through the run-record types over two periods (known verdict changes,
recurring deviations, an aborted and a failed run, runs without a usable report.json, action
items), broken directories; every figure of review.json is checked against numbers this test
computes itself from its own design and from the real runs' report.json. The HTML page is opened
in headless Chromium."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from gameday_helpers import action, experiment, run_cli, write_plan
from review_helpers import (
    CHROMIUM,
    DAY,
    RunSpec,
    Scenario,
    build,
    chromium,
    item,
    write,
)

pytestmark = pytest.mark.slow

SEVERITY = ("worse-than-expected", "inconclusive", "better-than-expected", "as-expected")


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


# ---------------------------------------------------------------- the data set


def designed(now: int) -> list[RunSpec]:
    """Runs at known times: the period is [now - 20 d, now + 1 d), the previous one
    [now - 41 d, now - 20 d)."""

    def errors(bad: int = 50, status: str = "completed") -> Scenario:
        verdict = "worse-than-expected" if bad > 100 else "as-expected"
        return Scenario("errors-5pct", bad_per_s=bad, status=status, verdict=verdict)

    def kill(bad: int) -> Scenario:
        return Scenario("kill-replica", bad_per_s=bad, min_budget=0.0001, max_budget=0.001,
                        verdict="better-than-expected" if bad == 0 else "as-expected")

    never = Scenario("db-failover", status="not-run")
    not_reached = Scenario("kill-replica", status="not-run")
    return [
        # checkout, previous period: errors as expected, kill better than expected
        RunSpec("p1", now - 35 * DAY, "checkout", [errors(), kill(0), never],
                action_items=[item("p1", "Page on 5xx ratio", "carol", day(now - 30 * DAY)),
                              item("p2", "Closed last month", "dave", day(now - 32 * DAY),
                                   done=True)]),
        RunSpec("p2", now - 25 * DAY, "checkout", [errors(), kill(0), never]),
        # checkout, this period: errors worse three times (recurring), latest worse (changed)
        RunSpec("c1", now - 18 * DAY, "checkout", [errors(500), kill(50), never], exit_code=1),
        RunSpec("c2", now - 12 * DAY, "checkout",
                [errors(500, status="aborted"), not_reached, never], status="aborted",
                exit_code=3, abort_reason="safeguard",
                abort_message="availability burn rate 500 over 30 s > 14.4"),
        RunSpec("c4", now - 9 * DAY, "checkout", [errors(), not_reached, never], status="failed",
                exit_code=4, report="v0"),
        RunSpec("c5", now - int(7.5 * DAY), "checkout", [errors(), kill(50), never],
                report="none"),
        RunSpec("c3", now - 6 * DAY, "checkout", [errors(500), kill(0), never], exit_code=1,
                action_items=[
                    item("a1", "Alert on replica loss", "alice", day(now - 3 * DAY)),
                    item("a2", "Runbook for 5xx bursts", "bob", day(now + 10 * DAY),
                         link="https://example.com/issues/2"),
                    item("a3", "Raise the pool size", "alice", day(now - 8 * DAY), done=True),
                    item("a4", "Retry budget", None, day(now - 4 * DAY)),
                    "not json at all",
                    json.dumps({"id": "a5", "owner": "x"}),  # no text: not an item
                    item("a4", "Retry budget", "erin", day(now - 4 * DAY), done=True),
                ]),
        # payments: better last period, inconclusive then as expected now (changed)
        RunSpec("q1", now - 30 * DAY, "payments",
                [Scenario("queue-stall", bad_per_s=0, min_budget=0.0001,
                          verdict="better-than-expected")], gameday="payments"),
        RunSpec("q2", now - 15 * DAY, "payments",
                [Scenario("queue-stall", bad_per_s=0, verdict="inconclusive")],
                gameday="payments", rate=2),
        RunSpec("q3", now - 5 * DAY, "payments", [Scenario("queue-stall")], gameday="payments"),
        # before both periods: only its open action item counts; after the period: nothing
        RunSpec("old", now - 60 * DAY, "checkout", [errors()],
                action_items=[item("o1", "Quarterly failover drill", "frank",
                                   day(now + 20 * DAY)),
                              item("o2", "Done long ago", "frank", day(now - 70 * DAY),
                                   done=True)]),
        RunSpec("later", now + 5 * DAY, "checkout", [errors(500)],
                action_items=[item("l1", "From the future", "gina", day(now + 9 * DAY))]),
    ]


def write_broken(root: Path, now: int) -> dict[str, str]:
    """Directories the review must list as skipped: path -> a word of the reason."""
    root.mkdir(parents=True)
    reasons: dict[str, str] = {}
    no_plan = root / "no-plan"
    no_plan.mkdir()
    (no_plan / "events.jsonl").write_text('{"t": 1, "type": "run_started", "run_id": "x"}\n')
    reasons[str(no_plan)] = "no plan.json"
    valid = RunSpec("broken", now - 2 * DAY, "checkout", [Scenario("errors-5pct")])
    plan_text = json.dumps(build(valid).plan, indent=2)
    half = root / "half-written"
    half.mkdir()
    (half / "plan.json").write_text(plan_text[: len(plan_text) // 2])
    reasons[str(half)] = "invalid JSON"
    newer = root / "newer-version"
    newer.mkdir()
    (newer / "plan.json").write_text(json.dumps({**build(valid).plan,
                                                 "version": "chaos-suite/run/v9"}))
    reasons[str(newer)] = "unknown or newer"
    garbled = root / "unreadable"
    garbled.mkdir()
    (garbled / "plan.json").write_bytes(b"\xff\xfe\x00\x01 not text")
    reasons[str(garbled)] = "cannot be read"
    live = RunSpec("live", now - DAY, "checkout", [Scenario("errors-5pct")], report="none")
    run = build(live)
    run.events = [e for e in run.events if e.type != "run_ended"]  # still going, or killed
    run.write(root / "live")
    reasons[str(root / "live")] = "no run_ended"
    return reasons


def real_runs(folder: Path) -> list[Path]:
    """Two short gamedays on the embedded managed target: 20% errors for 3 s, once judged
    against a generous expectation and once against a strict one."""
    runs = folder / "runs" / "real"
    for index, limit in enumerate(("5%", "0.0001%")):
        plan = write_plan(folder / f"plan-{index}", [{
            "name": "real-errors",
            "experiment": experiment("20% errors", [
                action("inject", "inject_errors", pause_after=3, ratio=0.2, ttl_s=60),
                action("clear", "clear_faults")], [action("clear", "clear_faults")]),
            "expect": {"availability": {"max_budget_consumed": limit}}}],
            baseline="2s", cooldown="2s", replicas=1)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("CHAOS_SUITE_STATE_DIR", str(folder / "state"))
            result = run_cli("gameday", "run", str(plan), "--reports", str(runs))
        assert result.returncode in (0, 1), result.stdout + result.stderr
    dirs = sorted(p for p in runs.iterdir() if p.is_dir())
    assert len(dirs) == 2
    return dirs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("review")
    now = int(time.time())
    real = real_runs(root)
    specs = designed(now)
    for spec in specs:
        write(spec, root / "runs" / "synthetic")
    broken = write_broken(root / "runs" / "broken", now)
    missing = root / "no-such-folder"
    since, until = now - 20 * DAY, now + DAY
    out = root / "out"
    result = run_cli("review", str(root / "runs"), str(missing), "--since", iso(since),
                     "--until", iso(until), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return {
        "root": root, "now": now, "since": since, "until": until, "specs": specs,
        "real": [json.loads((d / "report.json").read_text()) for d in real],
        "broken": {**broken, str(missing): "not found"}, "out": out, "result": result,
        "review": json.loads((out / "review.json").read_text()),
        "synthetic": root / "runs" / "synthetic",
    }


# ---------------------------------------------------------------- what the test expects


def current(world: dict[str, Any]) -> list[RunSpec]:
    return [s for s in world["specs"] if world["since"] <= s.t0 < world["until"]]


def previous(world: dict[str, Any]) -> list[RunSpec]:
    length = world["until"] - world["since"]
    return [s for s in world["specs"] if world["since"] - length <= s.t0 < world["since"]]


def exit_code(spec: RunSpec) -> int:
    if spec.status == "aborted":
        return 3
    if spec.status == "failed":
        return 4
    return 1 if any(s.verdict == "worse-than-expected" for s in spec.scenarios if s.ran) else 0


def real_verdict(scenario: dict[str, Any]) -> str:
    judged = {r["verdict"] for r in scenario["slos"]
              if any(v is not None for v in r["expected"].values())}
    return next((v for v in SEVERITY if v in judged), "inconclusive")


def scenario_runs(world: dict[str, Any], service: str, name: str, *, this_period: bool = True
                  ) -> list[tuple[int, str]]:
    """(start, verdict) of each run of the scenario in the period (or the previous one):
    synthetic by design, the real ones (all in this period) from their report."""
    runs = current(world) if this_period else previous(world)
    out = [(spec.t0, s.verdict) for spec in runs if spec.service == service
           for s in spec.scenarios if s.name == name and s.ran]
    if this_period and service == "checkout":
        for report in world["real"]:
            for s in report["scenarios"]:
                if s["name"] == name and s["status"] != "not-run":
                    started = datetime.fromisoformat(report["run"]["started"]).timestamp()
                    out.append((int(started), real_verdict(s)))
    return sorted(out)


# ---------------------------------------------------------------- the checks


def test_the_design_holds_in_the_reports(world: dict[str, Any]) -> None:
    """Each synthetic scenario's report verdict is the one its traffic was built for."""
    for spec in world["specs"]:
        if spec.report == "none":
            continue
        report = json.loads((world["synthetic"] / spec.run_id / "report.json").read_text())
        verdicts = {s["name"]: s["slos"][0]["verdict"] for s in report["scenarios"]
                    if s["status"] != "not-run"}
        assert verdicts == {s.name: s.verdict for s in spec.scenarios if s.ran}, spec.tag
        assert report["run"]["exit_code"] == exit_code(spec)


def test_run_totals_by_status_and_exit_code(world: dict[str, Any]) -> None:
    review = world["review"]
    runs = current(world)
    statuses = Counter(s.status for s in runs) + Counter(r["run"]["status"] for r in world["real"])
    assert review["runs"]["total"] == len(runs) + 2 == 9
    assert {k: v for k, v in review["runs"]["by_status"].items() if v} == dict(statuses)
    for name in ("checkout", "payments"):
        service = next(s for s in review["services"] if s["service"] == name)
        mine = [s for s in runs if s.service == name]
        codes = Counter(str(exit_code(s)) for s in mine)
        if name == "checkout":
            codes += Counter(str(r["run"]["exit_code"]) for r in world["real"])
        assert service["runs"] == len(mine) + (2 if name == "checkout" else 0)
        assert service["by_exit_code"] == dict(codes)
    checkout = next(s for s in review["services"] if s["service"] == "checkout")
    assert [(a["run"], a["reason"], a["message"]) for a in checkout["aborted"]] == [
        (s.run_id, s.abort_reason, s.abort_message) for s in runs if s.status == "aborted"]


def test_verdict_counts_latest_previous_and_changes(world: dict[str, Any]) -> None:
    review = world["review"]
    expected_changes = set()
    for service in review["services"]:
        for scenario in service["scenarios"]:
            now_runs = scenario_runs(world, service["service"], scenario["name"])
            before = scenario_runs(world, service["service"], scenario["name"], this_period=False)
            assert scenario["runs"] == len(now_runs)
            counts = Counter(v for _, v in now_runs)
            assert scenario["verdicts"] == {v: counts.get(v, 0) for v in SEVERITY}
            latest = now_runs[-1][1] if now_runs else None
            prior = before[-1][1] if before else None
            assert (scenario["latest_verdict"], scenario["previous_verdict"]) == (latest, prior)
            assert scenario["changed"] == (latest is not None and prior is not None
                                           and latest != prior)
            if scenario["changed"]:
                expected_changes.add((service["service"], scenario["name"], prior, latest))
    changed = {(c["service"], c["scenario"], c["previous_verdict"], c["latest_verdict"])
               for c in review["changed_verdicts"]}
    assert changed == expected_changes
    # by design: errors got worse, payments' queue stall went from better to as expected
    assert {("checkout", "errors-5pct", "as-expected", "worse-than-expected"),
            ("payments", "queue-stall", "better-than-expected", "as-expected")} <= changed
    assert ("checkout", "kill-replica") not in {(c[0], c[1]) for c in changed}


def test_recurring_deviations(world: dict[str, Any]) -> None:
    expected = set()
    for service in ("checkout", "payments"):
        names = {s.name for spec in current(world) for s in spec.scenarios if spec.service == service}
        if service == "checkout":
            names |= {s["name"] for r in world["real"] for s in r["scenarios"]}
        for name in names:
            runs = scenario_runs(world, service, name)
            worse = sum(v == "worse-than-expected" for _, v in runs)
            if worse >= 2:
                expected.add((service, name, "availability", worse, len(runs)))
    found = {(d["service"], d["scenario"], d["slo"], d["worse_runs"], d["runs"])
             for d in world["review"]["recurring_deviations"]}
    assert found == expected
    assert ("checkout", "errors-5pct", "availability", 3, 5) in found


def test_chaos_budget_sums_per_slo(world: dict[str, Any]) -> None:
    for service in world["review"]["services"]:
        name = service["service"]
        slos = {s["slo"]: s for s in service["slos"]}
        consumed = sum(spec.consumed() for spec in current(world) if spec.service == name)
        real_consumed = real_attributed = 0.0
        if name == "checkout":
            for report in world["real"]:
                for scenario in report["scenarios"]:
                    for row in scenario["slos"]:
                        if row["slo"] == "availability":
                            real_consumed += row["observed"]["budget_consumed"] or 0.0
                            real_attributed += row["observed"]["budget_consumed_attributed"] or 0.0
        availability = slos["availability"]
        # synthetic runs: fault_s x bad/rate / (B x P) each; nothing spent outside faults
        assert availability["chaos_budget_consumed"] == pytest.approx(consumed + real_consumed,
                                                                      rel=1e-9)
        assert availability["chaos_budget_consumed_attributed"] == pytest.approx(
            consumed + real_attributed, rel=1e-9, abs=1e-15)
        assert slos["latency"]["chaos_budget_consumed"] == 0
        assert availability["actual_budget_consumed"] is None  # a load-counted SLO
    checkout = next(s for s in world["review"]["services"] if s["service"] == "checkout")
    assert checkout["slos"][0]["chaos_budget_consumed"] == pytest.approx(
        3 * 20 * 0.5 / (0.001 * 2_592_000) + 2 * 20 * 0.05 / (0.001 * 2_592_000)
        + 2 * 20 * 0.05 / (0.001 * 2_592_000) + sum(  # c1..c3 worse, c4/c5 errors, c1/c5 kill
            row["observed"]["budget_consumed"] for r in world["real"] for s in r["scenarios"]
            for row in s["slos"] if row["slo"] == "availability"), rel=1e-9)


def test_observed_burn_spread_per_scenario(world: dict[str, Any]) -> None:
    checkout = next(s for s in world["review"]["services"] if s["service"] == "checkout")
    errors = next(s for s in checkout["scenarios"] if s["name"] == "errors-5pct")
    row = errors["slos"][0]
    values = [s.consumed(spec.rate) for spec in current(world) if spec.service == "checkout"
              for s in spec.scenarios if s.name == "errors-5pct"]
    spread = row["observed_budget_consumed_attributed"]
    assert spread["count"] == len(values) == 5
    assert spread["median"] == pytest.approx(statistics.median(values), rel=1e-9)
    assert (spread["min"], spread["max"]) == pytest.approx((min(values), max(values)), rel=1e-9)
    assert row["expected"] == {"min_budget_consumed": None, "max_budget_consumed": 0.001}
    assert row["recurring_deviation"] and row["worse_runs"] == 3
    assert row["time_to_detect_seconds"]["median"] is None and row["detection_gaps"] is None
    assert row["recovery_seconds"]["runs"] == 5


def test_coverage(world: dict[str, Any]) -> None:
    services = {s["service"]: s["coverage"] for s in world["review"]["services"]}
    # latency: no scenario states an expectation; db-failover: planned, never reached
    assert services["checkout"] == {"slos_untouched": ["latency"],
                                    "scenarios_not_run": ["db-failover"]}
    assert services["payments"] == {"slos_untouched": ["latency"], "scenarios_not_run": []}


def test_skipped_and_reanalysed(world: dict[str, Any]) -> None:
    review = world["review"]
    skipped = {s["path"]: s["reason"] for s in review["skipped"]}
    assert set(skipped) == set(world["broken"])
    for path, word in world["broken"].items():
        assert word in skipped[path], (path, skipped[path])
    reanalysed = {Path(s["path"]).name for s in review["reanalysed"]}
    assert reanalysed == {s.run_id for s in world["specs"] if s.report in ("none", "v0")}


def test_action_items_open_overdue_with_owners(world: dict[str, Any]) -> None:
    review = world["review"]
    by_tag = {s.tag: s.run_id for s in world["specs"]}
    found = {(i["run"], i["id"]): (i["owner"], i["done"], i["overdue"])
             for i in review["action_items"]}
    assert found == {
        (by_tag["p1"], "p1"): ("carol", False, True),
        (by_tag["c3"], "a1"): ("alice", False, True),
        (by_tag["c3"], "a2"): ("bob", False, False),
        (by_tag["c3"], "a3"): ("alice", True, False),
        (by_tag["c3"], "a4"): ("erin", True, False),  # its later line closed it
        (by_tag["old"], "o1"): ("frank", False, False),
    }
    # the overdue ones first
    assert [i["overdue"] for i in review["action_items"]][:2] == [True, True]


def test_contract_keys_and_markdown(world: dict[str, Any]) -> None:
    review = world["review"]
    assert review["schema"] == "chaos-suite/review/v1"
    assert review["period"]["start"].startswith(iso(world["since"])[:19])
    assert set(review["runs"]["by_status"]) >= {"completed", "aborted", "failed"}
    service = review["services"][0]
    assert set(service) >= {"service", "runs", "slos", "scenarios"}
    assert set(service["slos"][0]) >= {"slo", "runs", "chaos_budget_consumed",
                                       "chaos_budget_consumed_attributed"}
    assert set(service["scenarios"][0]) >= {"name", "runs", "verdicts", "latest_verdict",
                                            "previous_verdict", "changed"}
    assert set(review["action_items"][0]) >= {"run", "text", "owner", "due", "overdue"}
    assert set(review["skipped"][0]) == {"path", "reason"}
    markdown = (world["out"] / "review.md").read_text()
    assert "| checkout | errors-5pct | as expected | WORSE |" in markdown
    assert "db-failover" in markdown and "Alert on replica loss" in markdown
    assert str(world["out"] / "review.html") in world["result"].stdout


class _Dom(HTMLParser):
    """Counts what the charts and tables hold, by id."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.count: Counter[tuple[str, str]] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("svg", "table"):
            self.stack.append(values.get("id") or "")
        where = self.stack[-1] if self.stack else ""
        self.count[(where, f"{tag}.{values.get('class') or ''}")] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "table") and self.stack:
            self.stack.pop()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
def test_html_in_headless_chromium(world: dict[str, Any], tmp_path: Path) -> None:
    page = world["out"] / "review.html"
    dumped = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Dom()
    dom.feed(dumped.stdout)
    count = dom.count
    checkout = next(s for s in world["review"]["services"] if s["service"] == "checkout")
    points = sum(1 for s in checkout["scenarios"] for r in s["slos"]
                 if r["observed_budget_consumed_attributed"]["median"] is not None)
    assert count[("scatter-checkout", "circle.point")] == points >= 3
    assert count[("scatter-checkout", "line.diagonal")] == 1
    assert count[("history-checkout", "rect.cell")] >= len(
        {day(s.t0) for s in world["specs"] if s.service == "checkout"
         and world["since"] - 21 * DAY <= s.t0 < world["until"]})
    assert count[("budget-checkout", "rect.bar")] >= 2
    assert count[("history-payments", "rect.cell")] == 3
    assert count[("scenarios-checkout", "tr.")] == 1 + len(checkout["scenarios"])
    assert count[("changed", "tr.")] == 1 + len(world["review"]["changed_verdicts"])
    assert count[("skipped", "tr.")] == 1 + len(world["broken"])
    assert count[("action-items", "tr.")] == 1 + len(world["review"]["action_items"])
    shot = world["root"] / "review.png"
    taken = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}",
                     "--window-size=1280,2000")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
