"""The load worker: ``python -m chaos_suite.load.worker [CONFIG_JSON | -]``.

The only chaos_suite module that imports Locust at the top, and it must do so first: importing
locust monkey-patches the process with gevent, which ends in a RecursionError if ssl, requests,
urllib3 or chaoslib were imported before (docs/architecture.md §7.2). The runner process never imports this.

Protocol: the config is one JSON object (argv[1], or stdin when absent or ``-``). stdout carries
only JSON lines: ``{"type": "ready", ...}`` once the locustfile is loaded and the runner is
about to start (``shape`` says which ran: ``config:<kind>``, ``locustfile:<class>`` or
``default:<kind>``), one line per second bucket (no ``type`` key, see ``buckets.py``; the worker
adds ``users``, the users running at the end of that second), then
``{"type": "done", ...}`` with totals; or a single ``{"type": "error", "message": ...}`` when the
worker cannot start (exit code 2). Anything else written to fd 1 (prints in a locustfile, Locust's
logs) is redirected to stderr so the protocol stays clean.

Stops: the shape ends (``completed``), SIGTERM/SIGINT (``stopped``), the hard limit
``max_duration_s`` (``max_duration``), or the parent process disappears (``parent_died``: polled
every 0.5 s, which unlike PR_SET_PDEATHSIG does not depend on which parent *thread* forked us).
"""

from __future__ import annotations

# isort: off
import locust  # must be the first real import: gevent monkey-patching (docs/architecture.md §7.2)

# isort: on

import io
import json
import logging
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, TextIO

import gevent
import gevent.event
from locust.argument_parser import get_parser
from locust.env import Environment
from locust.log import setup_logging
from locust.runners import Runner
from locust.shape import LoadTestShape
from locust.user import User
from locust.util.load_locustfile import load_locustfile

from chaos_suite.errors import ValidationError
from chaos_suite.load.config import LoadConfig, parse_config

log = logging.getLogger("chaos_suite.load.worker")

_PARENT_POLL_S = 0.5
# After the hard limit, how long the runner may take to stop before the worker gives up on it.
_STOP_GRACE_S = 30.0


class _Protocol:
    """Writes JSON lines to the private copy of stdout; remembers if the reader went away."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, obj: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            self._stream.write(json.dumps(obj, separators=(",", ":")) + "\n")
            self._stream.flush()
        except (BrokenPipeError, OSError):
            self.broken = True


def _take_stdout() -> TextIO:
    """Keep fd 1 for the protocol and point fd 1 at stderr for everything else."""
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # whole lines: a print flushed in blocks could be split by a stderr line in between,
        # and the runner redacts line by line
        sys.stdout.reconfigure(line_buffering=True)
    return os.fdopen(proto_fd, "w", encoding="utf-8")


def _read_config(argv: list[str]) -> Any:
    text = sys.stdin.read() if not argv or argv[0] == "-" else argv[0]
    return json.loads(text)


@dataclass
class _RunState:
    """What the greenlets share: why the run stopped and when the test ran."""

    finished: gevent.event.Event = field(default_factory=gevent.event.Event)
    reason: str = "completed"
    started: float | None = None
    stopped: float | None = None
    cpu_started: float = 0.0  # process CPU time: the overhead benchmark's robust measure
    cpu_stopped: float | None = None


class _UsersBySecond:
    """The users running at the end of each second, added to that second's sample: the load's
    users over time (a shape changes them, an arrival shape as responses slow down). Sampled a
    few times a second, since a sample is written a second or more after its second ends."""

    _EVERY_S = 0.2

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._seen: dict[int, int] = {}

    def watch(self, finished: gevent.event.Event) -> None:
        while not finished.is_set():
            self._seen[int(time.time())] = self._runner.user_count
            gevent.sleep(self._EVERY_S)

    def stamp(self, obj: dict[str, Any]) -> dict[str, Any]:
        t = obj.get("t")
        if "type" in obj or not isinstance(t, int):
            return obj
        users = self._seen.get(t, self._runner.user_count)
        for second in [s for s in self._seen if s < t]:  # each second is written once
            del self._seen[second]
        return {**obj, "users": users}


class Worker:
    """One headless local Locust run with chaos_suite's plugin."""

    def __init__(self, config: LoadConfig, out: _Protocol) -> None:
        self.cfg = config
        self.out = out
        self.path = os.path.abspath(config.locustfile)
        self.state = _RunState()

    def fail(self, message: str) -> int:
        log.error(message)
        self.out.write({"type": "error", "message": message})
        return 2

    def load(self) -> tuple[dict[str, type[User]], LoadTestShape | None, str] | str:
        """User classes, shape and where the shape came from; or an error message."""
        if not os.path.isfile(self.path):
            return f"locustfile not found: {self.path}"
        try:
            users, shapes = load_locustfile(self.path)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything
            traceback.print_exc()
            return f"cannot load locustfile {self.path}: {type(exc).__name__}: {exc}"
        if not users:
            return f"no User class found in locustfile {self.path}"
        if self.cfg.host is None and any(u.host is None for u in users.values()):
            return f"no host: give 'host' in the load config or set host in {self.path}"
        if self.cfg.shape is not None:
            from chaos_suite.load.shapes import make_shape

            return users, make_shape(self.cfg.shape), f"config:{self.cfg.shape['kind']}"
        if shapes:
            if len(shapes) > 1:
                log.warning("%s defines %d shapes; using the first", self.path, len(shapes))
            return users, shapes[0], f"locustfile:{type(shapes[0]).__name__}"
        if self.cfg.default_shape is not None:
            from chaos_suite.load.shapes import make_shape

            return users, make_shape(self.cfg.default_shape), \
                f"default:{self.cfg.default_shape['kind']}"
        return (
            f"no load shape: the load config has no 'shape' and {self.path} defines no "
            "LoadTestShape"
        )

    @staticmethod
    def open_loop(users: dict[str, type[User]], shape: LoadTestShape | None,
                  env: Environment) -> None:
        """An arrival shape paces every user itself (whatever wait time the locustfile gave:
        a closed loop would send less as responses slow down) and hears every request."""
        from chaos_suite.load.shapes import ArrivalShape

        if not isinstance(shape, ArrivalShape):
            return
        for cls in users.values():
            cls.wait_time = locust.constant_throughput(float(shape.params["per_user_rate"]))
        env.events.request.add_listener(shape.on_request)  # type: ignore[no-untyped-call]

    def parsed_options(self) -> Any:
        """Locust's own options (locustfiles reading custom arguments expect them)."""
        args = ["-f", self.path, "--headless"]
        if self.cfg.host:
            args += ["-H", self.cfg.host]
        try:
            return get_parser(default_config_files=[]).parse_args(args=args)
        except (Exception, SystemExit):
            log.warning("could not build Locust options; running without", exc_info=True)
            return None

    def request_stop(self, runner: Runner, reason: str) -> None:
        if self.state.finished.is_set() or self.state.reason != "completed":
            return
        self.state.reason = reason
        log.info("stopping load: %s", reason)
        # a master stops its workers first (their last samples), then quits (run())
        gevent.spawn(runner.stop if self.cfg.workers > 0 else runner.quit)

    def watch_parent(self, runner: Runner) -> None:
        parent = self.cfg.parent_pid or os.getppid()
        while not self.state.finished.is_set():
            if os.getppid() != parent or self.out.broken:
                self.request_stop(runner, "parent_died")
                return
            gevent.sleep(_PARENT_POLL_S)

    def run(self) -> int:
        loaded = self.load()
        if isinstance(loaded, str):
            return self.fail(loaded)
        users, shape, shape_source = loaded
        env = Environment(
            user_classes=list(users.values()),
            shape_class=shape,
            host=self.cfg.host,
            events=locust.events,
            locustfile=os.path.basename(self.path),
            parsed_options=self.parsed_options(),
            available_user_classes=users,  # type: ignore[arg-type]
        )
        master = None
        runner: Runner
        if self.cfg.workers > 0:
            from chaos_suite.load.distributed import Master, free_port

            port = self.cfg.master_port or free_port(self.cfg.master_bind)
            master_runner = env.create_master_runner(self.cfg.master_bind, port)
            runner = master_runner
        else:
            runner = env.create_local_runner()
        self.open_loop(users, shape, env)
        counted = _UsersBySecond(runner)
        plugin = None
        if self.cfg.workers > 0:
            master = Master(self.cfg, master_runner, lambda obj: self.out.write(counted.stamp(obj)))
            master.spawn_local(port)
            problem = master.wait_workers()
            if problem is not None:
                runner.quit()
                return self.fail(problem)
        elif self.cfg.plugin:
            from chaos_suite.load.plugin import SliPlugin

            plugin = SliPlugin(env, self.cfg.slis, lambda obj: self.out.write(counted.stamp(obj)))
            plugin.install()
        self._track_test(env)
        env.events.init.fire(  # type: ignore[no-untyped-call]
            environment=env, runner=runner, web_ui=None
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(sig, self.request_stop, runner, "stopped")
        limit = gevent.spawn_later(
            self.cfg.max_duration_s, self.request_stop, runner, "max_duration"
        )
        watcher = gevent.spawn(self.watch_parent, runner)
        # only samples carry users: with the plugin off ("plugin": false, the overhead
        # benchmark's plain Locust) and no master there are none, and no clock either
        user_clock = (gevent.spawn(counted.watch, self.state.finished)
                      if plugin is not None or master is not None else None)
        self.out.write(
            {"type": "ready", "pid": os.getpid(), "locustfile": self.path,
             "users": sorted(users), "shape": shape_source, "plugin": self.cfg.plugin}
        )
        runner.start_shape()
        if not self.state.finished.wait(timeout=self.cfg.max_duration_s + _STOP_GRACE_S):
            log.error("runner did not stop within the hard limit; quitting anyway")
            self.state.reason = "max_duration"
        if master is None:
            runner.quit()
        else:
            runner.stop()  # the workers stop and send their last samples; drained below
        limit.kill(block=False)
        watcher.kill(block=False)
        if user_clock is not None:
            user_clock.kill(block=False)
        totals = plugin.close() if plugin is not None else None
        if master is not None:
            totals = master.drain()
            runner.quit()
            master.reap()
        env.events.quitting.fire(environment=env, reverse=True)  # type: ignore[no-untyped-call]
        self.out.write(self._done(runner, totals))
        env.events.quit.fire(exit_code=0)  # type: ignore[no-untyped-call]
        return 0

    def _track_test(self, env: Environment) -> None:
        def on_start(**_kw: Any) -> None:
            self.state.started = time.monotonic()
            self.state.cpu_started = time.process_time()

        def on_stop(**_kw: Any) -> None:
            self.state.stopped = time.monotonic()
            self.state.cpu_stopped = time.process_time()
            self.state.finished.set()

        env.events.test_start.add_listener(on_start)  # type: ignore[no-untyped-call]
        env.events.test_stop.add_listener(on_stop)  # type: ignore[no-untyped-call]

    def _done(self, runner: Runner, totals: dict[str, Any] | None) -> dict[str, Any]:
        st = self.state
        elapsed = (st.stopped or time.monotonic()) - st.started if st.started else 0.0
        cpu = (st.cpu_stopped or time.process_time()) - st.cpu_started if st.started else 0.0
        total = runner.stats.total
        return {
            "type": "done",
            "status": st.reason,
            "elapsed_s": round(elapsed, 3),
            "cpu_s": round(cpu, 3),
            "locust": {"requests": total.num_requests, "failures": total.num_failures},
            "totals": totals,
        }


def locust_worker(argv: list[str]) -> int:
    """``--locust-worker HOST:PORT LOCUSTFILE [--parent-pid PID] [--log-level LEVEL]``."""
    from chaos_suite.load.distributed import run_worker

    opts = dict(zip(argv[2::2], argv[3::2], strict=False))
    host, _, port = argv[0].rpartition(":")
    setup_logging(opts.get("--log-level", "INFO"), None)  # type: ignore[no-untyped-call]
    path = os.path.abspath(argv[1])
    try:
        users, _shapes = load_locustfile(path)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything
        log.error("cannot load locustfile %s: %s: %s", path, type(exc).__name__, exc)
        return 2
    if not users:
        log.error("no User class found in locustfile %s", path)
        return 2
    env = Environment(user_classes=list(users.values()), events=locust.events,
                      locustfile=os.path.basename(path),
                      available_user_classes=users)  # type: ignore[arg-type]
    parent = opts.get("--parent-pid")
    return run_worker(env, host or "127.0.0.1", int(port), int(parent) if parent else None)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--locust-worker":
        return locust_worker(args[1:])
    out = _Protocol(_take_stdout())
    try:
        cfg = parse_config(_read_config(sys.argv[1:] if argv is None else argv))
    except (ValidationError, ValueError) as exc:
        message = f"bad load config: {exc}"
        print(message, file=sys.stderr)
        out.write({"type": "error", "message": message})
        return 2
    setup_logging(cfg.log_level, cfg.log_file)  # type: ignore[no-untyped-call]
    return Worker(cfg, out).run()


if __name__ == "__main__":
    sys.exit(main())
