"""`chaos-suite review` options and edges, in-process: periods (--month, --since/--until, the
previous period), what is read and what is not, exit 2 only when nothing is readable or an option
is bad, --service, --format, --slos and a Prometheus that cannot be reached, detection figures
when a report carries them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from review_helpers import RunSpec, Scenario, write

from chaos_suite.cli import main
from chaos_suite.errors import InputError
from chaos_suite.review.period import choose_periods

ROOT = Path(__file__).resolve().parents[2]
PRE_V1 = ROOT / "tests" / "data" / "runs" / "pre-v1-demo"


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def review_of(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> dict[str, Any]:
    code, stdout, stderr = cli(capsys, "review", *argv, "--out", str(out), "--format", "json")
    assert code == 0, stdout + stderr
    data: dict[str, Any] = json.loads((out / "review.json").read_text())
    return data


def errors(bad: int = 50) -> Scenario:
    return Scenario("errors-5pct", bad_per_s=bad,
                    verdict="worse-than-expected" if bad > 100 else "as-expected")


@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write(RunSpec("oct", epoch("2026-10-10T12:00:00"), "checkout", [errors()]), root)
    # exactly at midnight on the first: November's, not October's
    write(RunSpec("edge", epoch("2026-11-01T00:00:00"), "checkout", [errors(500)],
                  exit_code=1), root)
    write(RunSpec("nov", epoch("2026-11-15T08:00:00"), "checkout", [errors()]), root)
    write(RunSpec("pay", epoch("2026-11-20T08:00:00"), "payments", [errors()],
                  gameday="payments"), root / "team-b" / "nightly")
    return root


def checkout(review: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in review["services"] if s["service"] == "checkout")


def test_month_and_the_month_before(runs: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    review = review_of(capsys, tmp_path / "nov", str(runs), "--month", "2026-11")
    assert review["period"] == {"start": "2026-11-01T00:00:00.000Z",
                                "end": "2026-12-01T00:00:00.000Z", "label": "2026-11"}
    assert review["previous_period"]["label"] == "2026-10"
    assert review["runs"]["total"] == 3  # edge, nov and (found in a subfolder) pay
    errors_5pct = checkout(review)["scenarios"][0]
    assert errors_5pct["verdicts"]["worse-than-expected"] == 1
    assert errors_5pct["verdicts"]["as-expected"] == 1
    assert (errors_5pct["previous_verdict"], errors_5pct["latest_verdict"]) == (
        "as-expected", "as-expected")
    assert errors_5pct["changed"] is False
    october = review_of(capsys, tmp_path / "oct", str(runs), "--month", "2026-10")
    assert october["runs"]["total"] == 1


def test_periods() -> None:
    january = choose_periods("2027-01", None, None)
    assert january.previous.label == "2026-12"
    assert january.previous.end == january.current.start == epoch("2027-01-01T00:00:00")
    span = choose_periods(None, "2026-11-01", "2026-11-30")
    assert (span.current.start, span.current.end) == (epoch("2026-11-01T00:00:00"),
                                                      epoch("2026-12-01T00:00:00"))
    assert span.previous.end == span.current.start
    assert span.previous.seconds == span.current.seconds
    exact = choose_periods(None, "2026-11-01T06:30:00Z", "2026-11-02T06:30:00+00:00")
    assert exact.current.seconds == 86_400
    default = choose_periods(None, None, None, now=epoch("2026-11-25T02:00:00"))
    assert default.current.label == "2026-11"
    until_now = choose_periods(None, "2026-11-20", None, now=epoch("2026-11-25T00:00:00"))
    assert until_now.current.end == epoch("2026-11-25T00:00:00")
    for bad in (("2026-13", None, None), ("2026-11", "2026-11-01", None),
                (None, None, "2026-11-30"), (None, "2026-11-30", "2026-11-01"),
                (None, "yesterday", None), ("November", None, None)):
        with pytest.raises(InputError):
            choose_periods(*bad)


def test_bad_options_exit_2(runs: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("--month", "2026-13"), ("--month", "2026-11", "--since", "2026-11-01"),
                 ("--until", "2026-11-30"), ("--format", "pdf"), ("--format", ",")):
        code, _, err = cli(capsys, "review", str(runs), *argv, "--out", str(tmp_path / "x"))
        assert code == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_nothing_readable_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    (broken / "a").mkdir(parents=True)
    (broken / "a" / "plan.json").write_text("{")
    (broken / "b").mkdir()
    (broken / "b" / "events.jsonl").write_text("")
    for paths in ((str(broken),), (str(tmp_path / "missing"),), (str(tmp_path / "empty"),)):
        (tmp_path / "empty").mkdir(exist_ok=True)
        code, _, err = cli(capsys, "review", *paths, "--month", "2026-11", "--out",
                           str(tmp_path / "out"))
        assert code == 2, err
        assert "nothing readable" in err
    assert not (tmp_path / "out").exists()


def test_readable_but_nothing_in_the_period_is_an_empty_review(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = review_of(capsys, tmp_path / "out", str(runs), "--month", "2025-01")
    assert review["runs"] == {"total": 0, "by_status": {"completed": 0, "aborted": 0,
                                                        "failed": 0}, "by_exit_code": {}}
    assert review["services"] == [] and review["skipped"] == []


def test_runs_outside_the_periods_are_not_read(runs: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A run of May has a broken report.json: reviewing November never opens it (its run
    id places it), so it is neither re-analysed nor skipped."""
    may = write(RunSpec("may", epoch("2026-05-05T00:00:00"), "checkout", [errors()]), runs)
    (may / "report.json").write_text("{ cut short")
    review = review_of(capsys, tmp_path / "out", str(runs), "--month", "2026-11")
    assert review["reanalysed"] == [] and review["skipped"] == []
    may_review = review_of(capsys, tmp_path / "may", str(runs), "--month", "2026-05")
    assert [Path(r["path"]).name for r in may_review["reanalysed"]] == [may.name]
    assert may_review["runs"]["total"] == 1


def test_service_filter_and_formats(runs: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    review = review_of(capsys, tmp_path / "pay", str(runs), "--month", "2026-11", "--service",
                       "payments")
    assert [s["service"] for s in review["services"]] == ["payments"]
    assert review["runs"]["total"] == 1 and review["service_filter"] == "payments"
    code, out, err = cli(capsys, "review", str(runs), "--month", "2026-11", "--format", "md",
                         "--out", str(tmp_path / "md"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["review.md"]
    assert str(tmp_path / "md" / "review.md") in out


def test_default_out_folder_is_reviews_and_the_label(runs: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        code, _, err = cli(capsys, "review", str(runs), "--month", "2026-11")
    finally:
        os.chdir(cwd)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "reviews" / "2026-11").iterdir()) == [
        "review.html", "review.json", "review.md"]


def test_a_pre_v1_record_is_reviewed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = review_of(capsys, tmp_path / "out", str(PRE_V1), "--month", "2026-11")
    assert review["runs"]["total"] == 1 and review["skipped"] == []
    assert [s["name"] for s in checkout(review)["scenarios"]] == [
        "errors-5pct", "kill-replica", "latency-300ms"]


def test_walk_skips_hidden_folders_and_symlink_loops(runs: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (runs / "loop").symlink_to(runs, target_is_directory=True)
    hidden = runs / ".partial"
    hidden.mkdir()
    (hidden / "plan.json").write_text("{")
    review = review_of(capsys, tmp_path / "out", str(runs), "--month", "2026-11")
    assert review["runs"]["total"] == 3 and review["skipped"] == []


def test_slo_files_add_coverage_and_an_unreachable_prometheus_is_a_note(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slos = tmp_path / "slos.yaml"
    slos.write_text(yaml.safe_dump({"kind": "SLOs", "service": "checkout", "slos": [
        {"name": "availability", "objective": "99.9%", "window": "30d",
         "source": {"type": "prometheus", "total": "sum(requests_total)",
                    "bad": 'sum(requests_total{code=~"5.."})'}},
        {"name": "checkout-p99", "objective": "99%", "window": "30d",
         "sli": {"kind": "latency", "threshold_ms": 800}, "source": "load"}]}))
    review = review_of(capsys, tmp_path / "out", str(runs), "--month", "2026-11", "--slos",
                       str(slos), "--prometheus", "http://127.0.0.1:9")
    service = checkout(review)
    assert service["coverage"]["slos_untouched"] == ["checkout-p99", "latency"]
    availability = next(s for s in service["slos"] if s["slo"] == "availability")
    assert availability["actual_budget_consumed"] is None
    assert "unreachable" in availability["note"]
    assert availability["chaos_budget_consumed"] > 0
    offline = review_of(capsys, tmp_path / "offline", str(runs), "--month", "2026-11",
                        "--slos", str(slos), "--offline")
    assert next(s for s in checkout(offline)["slos"] if s["slo"] == "availability")["note"] is None
    code, _, err = cli(capsys, "review", str(runs), "--slos", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml" in err


def test_detection_figures_when_reports_carry_them(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Time to detect and page are taken from a report's rows when present; a row that holds
    the key with no value is a run the fault went undetected in (a detection gap)."""
    root = tmp_path / "runs"
    figures = {"o1": (40.0, 100.0), "o2": (60.0, 120.0), "n1": (20.0, 60.0), "n2": (None, None),
               "n3": (30.0, 90.0)}
    starts = {"o1": "2026-10-05", "o2": "2026-10-20", "n1": "2026-11-03", "n2": "2026-11-10",
              "n3": "2026-11-17"}
    for tag, (detect, page) in figures.items():
        run_dir = write(RunSpec(tag, epoch(f"{starts[tag]}T00:00:00"), "checkout", [errors()]),
                        root)
        path = run_dir / "report.json"
        report = json.loads(path.read_text())
        report["scenarios"][0]["slos"][0]["observed"].update(
            time_to_detect_seconds=detect, time_to_page_seconds=page)
        path.write_text(json.dumps(report))
    review = review_of(capsys, tmp_path / "out", str(root), "--month", "2026-11")
    row = checkout(review)["scenarios"][0]["slos"][0]
    assert row["time_to_detect_seconds"] == {"median": 25.0, "previous_median": 50.0,
                                             "trend": "faster", "runs": 2}
    assert row["time_to_page_seconds"] == {"median": 75.0, "previous_median": 110.0,
                                           "trend": "faster", "runs": 2}
    assert row["detection_gaps"] == 1
