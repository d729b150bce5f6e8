"""Webhook notifications: start, each scenario, abort (with the reason) and end (with the report
path) reach a receiver on 127.0.0.1; an unreachable webhook changes nothing but the record."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    events,
    experiment,
    only_run_dir,
    run_cli,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow


class Receiver:
    """A webhook on 127.0.0.1 that keeps every JSON body it is POSTed."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def kinds(self) -> list[str]:
        return [body["chaos_suite"]["kind"] for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/secret-path"


def plan_with_webhook(folder: Path, url: str, pause: float, expect_max: str = "1%") -> Path:
    plan = write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors", [
            action("inject", "inject_errors", pause_after=pause, ratio=0.05, ttl_s=300),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": expect_max}},
    }], baseline="2s", cooldown="1s")
    env_file = folder / "environments" / "test.yaml"
    env = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    env["notify"] = {"webhook": url, "timeout": "2s"}
    env_file.write_text(yaml.safe_dump(env), encoding="utf-8")
    return plan


def run(plan: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_start_scenario_and_end_reach_the_webhook(tmp_path: Path, receiver: Receiver) -> None:
    reports = tmp_path / "reports"
    result = run(plan_with_webhook(tmp_path / "plan", receiver.url, pause=3), reports)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(reports)
    assert receiver.kinds() == ["start", "scenario", "end"]
    start, scenario, end = receiver.bodies
    assert all(body["text"].startswith("[chaos-suite] test: ") for body in receiver.bodies)
    assert start["chaos_suite"]["run_id"] == run_dir.name
    assert scenario["chaos_suite"]["scenario"] == "errors"
    assert scenario["chaos_suite"]["status"] == "completed"
    done = end["chaos_suite"]
    assert done["exit_code"] == 0 and done["report"] == str(run_dir / "report.html")
    assert str(run_dir / "report.html") in end["text"]
    assert [(v["scenario"], v["slo"]) for v in done["verdicts"]] == [("errors", "availability")]
    assert not any(e["type"] == "notify_failed" for e in events(run_dir))


def test_abort_is_notified_with_its_reason(tmp_path: Path, receiver: Receiver) -> None:
    reports = tmp_path / "reports"
    plan = plan_with_webhook(tmp_path / "plan", receiver.url, pause=60)
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_event(reports, "fault_injected")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, out + err
    kinds = receiver.kinds()
    assert kinds[0] == "start" and kinds[-1] == "end" and "abort" in kinds
    abort = receiver.bodies[kinds.index("abort")]
    assert abort["chaos_suite"]["reason"] == "operator" and "operator" in abort["text"]
    assert receiver.bodies[-1]["chaos_suite"]["exit_code"] == 3


def test_an_unreachable_webhook_changes_nothing_but_is_recorded(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    url = closed_port_url()
    result = run(plan_with_webhook(tmp_path / "plan", url, pause=3), reports)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(reports)
    failed = [e for e in events(run_dir) if e["type"] == "notify_failed"]
    # the end's failure is appended after run_ended (the record was closed by then)
    assert [e["kind"] for e in failed] == ["start", "scenario", "end"]
    assert all("secret-path" not in e["error"] for e in failed)  # the URL is a credential
    assert "notification (start) failed" in result.stdout + result.stderr
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["status"] == "completed" and report["run"]["exit_code"] == 0
    # a line after run_ended neither breaks nor changes a re-render
    assert run_cli("report", str(run_dir), "--format", "json").returncode == 0
    again = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert again["run"]["exit_code"] == 0 and again["warnings"] == report["warnings"]
