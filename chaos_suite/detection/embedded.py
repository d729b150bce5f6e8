"""The embedded detection stack (environment ``detection: {embedded: true}``): for one run, a
real Prometheus and a real Alertmanager on 127.0.0.1, started after the managed local target
and stopped at teardown.

- Prometheus scrapes the target's ``/metrics`` every second, evaluates every second (unless
  ``detection.scrape_interval`` / ``evaluation_interval`` say otherwise) the rules ``chaos-suite
  slo rules`` writes for the plan's Prometheus SLOs (the windows detection/coverage.py resolves:
  a short gameday set unless ``detection.windows`` names another) and sends its alerts to the
  Alertmanager;
- Alertmanager (group_wait 1 s, one notification per alert) posts to chaos_suite's own webhook
  receiver (detection/webhook.py) on a free port.

Their files (configs, rules, logs) stay in ``<run dir>/detection``; their data is removed at
stop. Their pids go in the run registration so ``chaos-suite recover`` stops them after a crash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import httpx

from chaos_suite.detection.coverage import EMBEDDED_INTERVAL_S, WindowsChoice
from chaos_suite.detection.windows import prom_duration
from chaos_suite.errors import InfrastructureError, InputError, PreflightError
from chaos_suite.files.environment import (
    AlertmanagerConfig,
    Detection,
    EnvironmentModel,
    PrometheusConfig,
)
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec

BINARIES: Final = ("prometheus", "prometheus-alertmanager")
INSTALL_HINT: Final = "apt-get install prometheus prometheus-alertmanager"
READY_TIMEOUT_S: Final = 20.0


def wanted(env: EnvironmentModel) -> bool:
    return env.detection is not None and env.detection.embedded


def check_binaries() -> None:
    """Before anything starts: both binaries on PATH, else exit 2 with the install command."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        raise PreflightError(f"detection.embedded needs {' and '.join(missing)} on PATH; "
                             f"install: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prometheus_config(scrape: str, rules: Path, alertmanager: str, *, scrape_interval_s: float,
                       evaluation_interval_s: float) -> str:
    every, timeout = prom_duration(scrape_interval_s), prom_duration(min(scrape_interval_s, 1.0))
    return (f"global:\n  scrape_interval: {every}\n  scrape_timeout: {timeout}\n"
            f"  evaluation_interval: {prom_duration(evaluation_interval_s)}\n"
            f'rule_files:\n  - "{rules}"\n'
            "alerting:\n  alertmanagers:\n    - static_configs:\n"
            f'        - targets: ["{alertmanager}"]\n'
            "scrape_configs:\n  - job_name: target\n    metrics_path: /metrics\n"
            f'    static_configs:\n      - targets: ["{scrape}"]\n')


def _alertmanager_config(webhook: str) -> str:
    return ("route:\n  receiver: chaos-suite\n  group_by: ['...']\n  group_wait: 1s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\n"
            "receivers:\n  - name: chaos-suite\n    webhook_configs:\n"
            f'      - url: "{webhook}"\n        send_resolved: true\n')


class EmbeddedStack:
    """The running pair. ``stop()`` is idempotent: SIGTERM, SIGKILL after 10 s, reap."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.prometheus_url = ""
        self.alertmanager_url = ""
        self.webhook_port = 0

    def pids(self) -> list[dict[str, Any]]:
        from chaos_suite.safety.runs import process_start_ticks

        return [{"name": name, "pid": proc.pid, "pid_start": process_start_ticks(proc.pid)}
                for name, proc in self.procs]

    def _spawn(self, name: str, cmd: list[str], port: int) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "ab") as log:
            # own session: a Ctrl-C at the terminal reaches the runner, which stops them last
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=self.folder, close_fds=True, start_new_session=True)
        self.procs.append((name, proc))
        if not wait_ready(proc, f"http://127.0.0.1:{port}", READY_TIMEOUT_S):
            raise InfrastructureError(f"embedded {name} did not become ready on 127.0.0.1:{port}: "
                                      f"{self.log_tail(name)}")
        return proc

    def log_tail(self, name: str) -> str:
        try:
            lines = (self.folder / f"{name}.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(empty log)"

    def wait_scraped(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until the target's ``up`` is 1 (the SLO queries have a sample to preflight)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError):
                body = httpx.get(f"{self.prometheus_url}/api/v1/query",
                                 params={"query": 'up{job="target"}'}, timeout=2).json()
                if float(body["data"]["result"][0]["value"][1]) == 1.0:
                    time.sleep(1.0)  # a second sample: a rate has two points
                    return
            time.sleep(0.25)
        raise InfrastructureError(f"embedded prometheus did not scrape the target within "
                                  f"{timeout_s:g} s: {self.log_tail('prometheus')}")

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for data in ("prometheus-data", "alertmanager-data"):
            shutil.rmtree(self.folder / data, ignore_errors=True)


def wait_ready(proc: subprocess.Popen[bytes], url: str, timeout_s: float) -> bool:
    """Until Prometheus or Alertmanager at ``url`` answers /-/ready (False: it died or the
    time ran out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return True
        time.sleep(0.1)
    return False


def start_stack(specs: Sequence[SLOSpec], admin_url: str | None, folder: Path,
                windows: WindowsChoice, register: Callable[[list[dict[str, Any]]], object],
                *, evaluation_interval_s: float = EMBEDDED_INTERVAL_S,
                scrape_interval_s: float = EMBEDDED_INTERVAL_S) -> EmbeddedStack:
    """Start Alertmanager, then Prometheus scraping ``admin_url``'s /metrics with the rules of
    ``windows`` (detection/coverage.py: the same alerts the report predicts from) at the given
    intervals; ``register`` gets the pids as each starts. On failure what started is stopped
    and the error raised."""
    from chaos_suite.detection.rules import generate_rules

    prom_specs = [s for s in specs if isinstance(s.source, PrometheusSource)]
    if not prom_specs:
        raise InputError("detection.embedded: the plan has no SLO with a prometheus source "
                         "to write alert rules for")
    if not admin_url:
        raise InputError("detection.embedded needs a local target (its /metrics is scraped)")
    scrape = admin_url.split("://", 1)[-1].rstrip("/")
    # absolute: both run with the folder as their working directory, and a run directory under
    # a relative --reports (the default, reports/) would be looked for inside itself
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    rules = folder / "rules.yaml"
    rules.write_text(generate_rules(prom_specs, windows,
                                    evaluation_interval_s=evaluation_interval_s),
                     encoding="utf-8")
    stack = EmbeddedStack(folder)
    try:
        stack.webhook_port = _free_port()
        am_port = _free_port()
        (folder / "alertmanager.yml").write_text(
            _alertmanager_config(f"http://127.0.0.1:{stack.webhook_port}/"), encoding="utf-8")
        stack.alertmanager_url = f"http://127.0.0.1:{am_port}"
        am_cmd = [shutil.which(BINARIES[1]) or BINARIES[1],
                  f"--config.file={folder / 'alertmanager.yml'}",
                  f"--storage.path={folder / 'alertmanager-data'}",
                  f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
                  "--log.level=warn"]
        stack._spawn("alertmanager", am_cmd, am_port)
        register(stack.pids())
        prom_port = _free_port()
        (folder / "prometheus.yml").write_text(
            _prometheus_config(scrape, rules, f"127.0.0.1:{am_port}",
                               scrape_interval_s=scrape_interval_s,
                               evaluation_interval_s=evaluation_interval_s), encoding="utf-8")
        stack.prometheus_url = f"http://127.0.0.1:{prom_port}"
        prom_cmd = [shutil.which(BINARIES[0]) or BINARIES[0],
                    f"--config.file={folder / 'prometheus.yml'}",
                    f"--storage.tsdb.path={folder / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"]
        stack._spawn("prometheus", prom_cmd, prom_port)
        register(stack.pids())
        stack.wait_scraped()
    except BaseException:
        stack.stop()
        raise
    return stack


def pointed_at(env: EnvironmentModel, stack: EmbeddedStack) -> EnvironmentModel:
    """The environment as the run uses it: sources and webhook on the embedded pair."""
    detection = env.detection or Detection()
    return env.model_copy(update={
        "sources": env.sources.model_copy(update={
            "prometheus": PrometheusConfig(url=stack.prometheus_url),
            "alertmanager": AlertmanagerConfig(url=stack.alertmanager_url)}),
        "detection": detection.model_copy(update={"webhook_port": stack.webhook_port,
                                                  "webhook_host": "127.0.0.1"})})


def stop_registered(entries: list[dict[str, Any]]) -> list[int]:
    """``recover``: stop the embedded processes a dead run registered (same pid and start)."""
    from chaos_suite.safety.runs import is_same_process

    stopped: list[int] = []
    for entry in entries:
        pid = int(entry.get("pid", 0))
        start = entry.get("pid_start")
        if pid <= 0 or start is None or not is_same_process(pid, int(start)):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and is_same_process(pid, int(start)):
                time.sleep(0.1)
            if is_same_process(pid, int(start)):
                os.kill(pid, signal.SIGKILL)
        stopped.append(pid)
    return stopped
