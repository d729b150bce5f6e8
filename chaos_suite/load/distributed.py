"""Locust master/worker mode. Imported only by ``load/worker.py``, after locust (gevent).

The load process the runner starts becomes a Locust master (no users of its own) bound to
``master_bind`` (127.0.0.1 unless told), and spawns ``local_workers`` (default: ``workers``)
local Locust workers in its own process group (``python -m chaos_suite.load.worker
--locust-worker HOST:PORT LOCUSTFILE``, the same command ``chaos-suite load worker`` runs on
another machine); the other ``workers - local_workers`` are remote: they connect by themselves
to ``master_bind:master_port``. A master bound beyond 127.0.0.1 takes any worker that connects
(Locust's protocol has no authentication). Messages:

- master -> worker ``chaos_suite_config`` (the SLIs, and an arrival shape's per-user pace):
  the worker installs its counting plugin and answers ``chaos_suite_hello`` (its pid); the test
  starts once ``workers`` have answered, within ``expect_workers_timeout_s`` (else the load
  fails to start: exit 2, before any fault);
- worker -> master ``chaos_suite_buckets``: each per-second sample as its second completes,
  then ``{"final": true}`` once its test stopped (after its last samples: one socket, in order);
- worker -> master ``chaos_suite_cycles`` (arrival shapes only): the cycles of the requests it
  completed since its last report. The shape runs on the master, where no request happens: it
  sizes the users by the cycles of all the workers' requests (shapes.ArrivalShape.add_cycles).

A worker quits when its master quits it, and by itself when the master is gone: a local
worker's parent exited, or the master answered no heartbeat for ``MASTER_SILENT_S`` (a remote
worker's only sign of a master killed outright).

The master merges them exactly (``merge.py``) and writes the merged samples on stdout, the
single-process protocol unchanged. A worker lost (its process exited, or Locust's heartbeat
marks it missing) before its final message is one ``{"type": "worker_lost", ...}`` line; the
runner decides what it means (``min_workers``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from chaos_suite.load.config import (
    MASTER_SILENT_S,
    WILDCARD_BINDS,
    LoadConfig,
    _parse_slis,
    worker_command,
)
from chaos_suite.load.merge import SampleMerger
from chaos_suite.load.shapes import ArrivalShape

log = logging.getLogger("chaos_suite.load.distributed")

MSG_CONFIG = "chaos_suite_config"
MSG_HELLO = "chaos_suite_hello"
MSG_BUCKETS = "chaos_suite_buckets"
MSG_CYCLES = "chaos_suite_cycles"
_TICK_S = 0.2
_CYCLES_EVERY_S = 0.25  # a worker's reports of its cycles (the shape ticks about once a second)
_DRAIN_S = 10.0  # how long the master waits for the workers' last samples after the stop


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Master:
    """The master's side: spawns and tracks workers, merges their samples."""

    def __init__(self, cfg: LoadConfig, runner: MasterRunner,
                 write: Callable[[dict[str, Any]], None]) -> None:
        self.cfg = cfg
        self.runner = runner
        self.write = write
        self.merger = SampleMerger()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.node_pid: dict[str, int] = {}
        self.configured: set[str] = set()
        self.finished: set[str] = set()
        self.lost: set[str] = set()
        self.stopping = False
        self.totals: dict[str, Any] = {"requests": 0, "status_4xx": 0, "slis": {}, "buckets": 0}
        self._loop: gevent.Greenlet[..., Any] | None = None
        shape = runner.environment.shape_class
        self.arrival: ArrivalShape | None = shape if isinstance(shape, ArrivalShape) else None
        runner.register_message(MSG_HELLO, self._on_hello)
        runner.register_message(MSG_BUCKETS, self._on_buckets)
        runner.register_message(MSG_CYCLES, self._on_cycles)

    def spawn_local(self, port: int) -> None:
        host = "127.0.0.1" if self.cfg.master_bind in WILDCARD_BINDS else self.cfg.master_bind
        if self.cfg.remote:
            log.warning("waiting for %d remote load worker(s) on %s:%d (any worker that connects "
                        "is taken); on each: %s", self.cfg.remote, self.cfg.master_bind, port,
                        worker_command(self.cfg.locustfile, self.cfg.master_bind, port))
        for _ in range(self.cfg.local):
            # same process group as the master: the runner's killpg takes them too
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "chaos_suite.load.worker", "--locust-worker",
                 f"{host}:{port}", os.path.abspath(self.cfg.locustfile),
                 "--parent-pid", str(os.getpid()), "--log-level", self.cfg.log_level],
                stdin=subprocess.DEVNULL, close_fds=True,
            ))
        self._loop = gevent.spawn(self._tick_loop)

    def wait_workers(self) -> str | None:
        """None once ``workers`` workers answered; else why not (bounded)."""
        deadline = time.monotonic() + self.cfg.expect_workers_timeout_s
        while len(self.node_pid) < self.cfg.workers:
            if time.monotonic() >= deadline:
                remote = (f" ({self.cfg.local} local, {self.cfg.remote} remote)"
                          if self.cfg.remote else "")
                return (f"expected {self.cfg.workers} load workers{remote}, "
                        f"{len(self.node_pid)} connected within "
                        f"{self.cfg.expect_workers_timeout_s:g}s")
            gevent.sleep(_TICK_S)
        return None

    # -- messages (the master's listener greenlet) --------------------------------------

    def _on_hello(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        self.node_pid[msg.node_id] = int(msg.data.get("pid", 0))
        self.merger.add_worker(msg.node_id)

    def _on_buckets(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        data = msg.data or {}
        if data.get("final"):
            self.finished.add(msg.node_id)
            self.merger.drop_worker(msg.node_id)
            return
        if "t" in data:
            self.merger.add(msg.node_id, data)

    def _on_cycles(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        data = msg.data or {}
        if self.arrival is not None and msg.node_id not in self.lost:
            self.arrival.add_cycles(float(data.get("cycles_s", 0.0)),
                                    int(data.get("completed", 0)))

    # -- tracking ---------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("distributed tick failed")
            gevent.sleep(_TICK_S)

    def tick(self) -> None:
        for node in list(self.runner.clients.keys()):
            if node not in self.configured:
                self.configured.add(node)
                slis = [{k: v for k, v in vars(s).items() if v is not None} for s in self.cfg.slis]
                config: dict[str, Any] = {"slis": slis}
                if self.arrival is not None:
                    config["per_user_rate"] = float(self.arrival.params["per_user_rate"])
                self.runner.send_message(MSG_CONFIG, config, client_id=node)
        if not self.stopping:
            pid_node = {pid: node for node, pid in self.node_pid.items()}
            for proc in self.procs:
                if proc.poll() is not None:
                    self._lose(pid_node.get(proc.pid, f"pid:{proc.pid}"), proc.pid, "exited")
            for node in list(self.merger.live):
                client = self.runner.clients.get(node)
                if client is None or client.state == STATE_MISSING:
                    self._lose(node, self.node_pid.get(node), "missing")
        self._emit(self.merger.pop_ready(time.time()))

    def _lose(self, node: str, pid: int | None, why: str) -> None:
        if node in self.lost or node in self.finished:
            return
        self.lost.add(node)
        self.merger.drop_worker(node)
        live = len([n for n in self.node_pid if n not in self.lost and n not in self.finished])
        log.warning("load worker %s (pid %s) lost: %s; %d live", node, pid, why, live)
        self.write({"type": "worker_lost", "worker": node, "pid": pid, "reason": why,
                    "live": live, "workers": self.cfg.workers, "at": round(time.time(), 3)})

    def _emit(self, samples: list[dict[str, Any]]) -> None:
        for s in samples:
            tot = self.totals
            tot["requests"] += s["requests"]
            tot["status_4xx"] += s["status_4xx"]
            tot["buckets"] += 1
            for name, v in s["slis"].items():
                a = tot["slis"].setdefault(name, {"good": 0, "total": 0})
                a["good"] += v["good"]
                a["total"] += v["total"]
            self.write(s)  # the single-process sample format: the record refuses extra keys

    def drain(self) -> dict[str, Any]:
        """After the stop: wait (bounded) for every live worker's last samples, emit all."""
        self.stopping = True
        deadline = time.monotonic() + _DRAIN_S
        while self.merger.live and time.monotonic() < deadline:
            gevent.sleep(0.05)
        if self.merger.live:
            log.warning("no final samples from load workers %s", ", ".join(self.merger.live))
        if self._loop is not None:
            self._loop.kill(block=True)
        self._emit(self.merger.flush())
        return {**self.totals, "late_requests": self.merger.late_requests,
                "workers_lost": sorted(self.lost)}

    def reap(self) -> None:
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def run_worker(env: Environment, host: str, port: int, parent_pid: int | None) -> int:
    """A Locust worker with chaos_suite's counting plugin; returns when the master quits it
    (0), or 1 once it quit by itself because the master was gone (watch_master)."""
    from chaos_suite.load.plugin import SliPlugin

    runner: WorkerRunner = env.create_worker_runner(host, port)
    installed: list[SliPlugin] = []
    orphaned: list[bool] = []
    cycles = _Cycles()

    def send(obj: dict[str, Any]) -> None:
        runner.send_message(MSG_BUCKETS, obj)

    def on_config(environment: Environment, msg: Any, **_kw: Any) -> None:
        if not installed:
            pace = msg.data.get("per_user_rate")
            if pace:  # an arrival shape on the master: paced users, cycles reported to it
                cycles.start(env, float(pace), lambda obj: runner.send_message(MSG_CYCLES, obj))
            plugin = SliPlugin(env, _parse_slis(msg.data.get("slis")), send)
            plugin.install()
            installed.append(plugin)
            # after the plugin's own test_stop listener: its last samples go first
            env.events.test_stop.add_listener(  # type: ignore[no-untyped-call]
                lambda **_k: send({"final": True})
            )
        runner.send_message(MSG_HELLO, {"pid": os.getpid()})

    runner.register_message(MSG_CONFIG, on_config)

    def watch_master() -> None:
        """Quit once the master is gone: a local worker's parent exited, or (any worker, a
        remote one's only sign) the master stopped answering heartbeats once it had, so that
        no worker goes on loading the target long after its master died."""
        while True:
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("master process gone; quitting")
                break
            heard = runner.last_heartbeat_timestamp
            if heard is not None and time.time() - heard > MASTER_SILENT_S:
                log.warning("no heartbeat from the master for %.0fs; quitting", time.time() - heard)
                break
            gevent.sleep(0.5)
        orphaned.append(True)
        runner.quit()

    watcher = gevent.spawn(watch_master)
    if parent_pid is not None:
        # a local worker shares the master's process group, which the runner stops with
        # SIGTERM: the master stops it in order (its last samples first, then quit); SIGKILL
        # of the group, and its master's death (watch_master), still end it
        gevent.signal_handler(signal.SIGTERM, log.debug, "SIGTERM: the master stops this worker")
    env.events.init.fire(environment=env, runner=runner, web_ui=None)  # type: ignore[no-untyped-call]
    runner.greenlet.join()
    watcher.kill(block=False)
    cycles.stop()
    if installed:
        installed[0].close()
    return 1 if orphaned else 0


class _Cycles:
    """A worker's side of an arrival shape run by the master: its users paced at the shape's
    ``per_user_rate`` (as the single-process worker does, worker.Worker.open_loop), and the
    cycle of each request completed (its pace, or its response when longer: what
    ArrivalShape.on_request adds up) summed and sent to the master every ``_CYCLES_EVERY_S``."""

    def __init__(self) -> None:
        self.pace_s = 0.0
        self.cycles_s = 0.0
        self.completed = 0
        self._loop: gevent.Greenlet[..., Any] | None = None

    def start(self, env: Environment, per_user_rate: float,
              send: Callable[[dict[str, Any]], None]) -> None:
        import locust

        self.pace_s = 1.0 / per_user_rate
        for cls in env.user_classes:
            cls.wait_time = locust.constant_throughput(per_user_rate)
        env.events.request.add_listener(self.on_request)  # type: ignore[no-untyped-call]
        self._loop = gevent.spawn(self._report, send)

    def on_request(self, response_time: float | None = None, **_kwargs: Any) -> None:
        self.cycles_s += max(self.pace_s, (response_time or 0.0) / 1000.0)
        self.completed += 1

    def _report(self, send: Callable[[dict[str, Any]], None]) -> None:
        while True:
            gevent.sleep(_CYCLES_EVERY_S)
            if self.completed:
                report = {"cycles_s": self.cycles_s, "completed": self.completed}
                self.cycles_s, self.completed = 0.0, 0
                try:
                    send(report)
                except Exception:  # the master went away: its quit ends this worker anyway
                    log.debug("cycles report not sent", exc_info=True)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill(block=False)
