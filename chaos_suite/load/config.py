"""The load worker's configuration: one JSON object, validated identically on both sides.

The runner validates before spawning (a bad plan fails fast, in the caller's process, with a
ValidationError); the worker validates again because it can also be started by hand.

Shape precedence: an explicit ``"shape"`` in the config always wins. With no ``"shape"`` (or
``null``), the locustfile's own LoadTestShape is used; else ``"default_shape"`` (what a plan that
names no shape runs); with none of them, the worker refuses to start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos_suite.errors import ValidationError
from chaos_suite.load.profile import ShapeError, normalize_shape

SLI_KINDS: tuple[str, ...] = ("availability", "latency")
DEFAULT_SLIS: tuple[dict[str, Any], ...] = ({"name": "availability", "kind": "availability"},)
_WHERE = "load config"
_TOP_KEYS = frozenset(
    {"locustfile", "host", "shape", "default_shape", "slis", "max_duration_s", "log_level",
     "log_file", "plugin", "parent_pid", "workers", "local_workers", "master_bind",
     "master_port", "expect_workers_timeout_s"}
)


@dataclass(frozen=True)
class SliSpec:
    """One SLI counted by the plugin. ``match`` is a regex searched in the request name."""

    name: str
    kind: str
    threshold_ms: float | None = None
    match: str | None = None


@dataclass(frozen=True)
class LoadConfig:
    locustfile: str
    host: str | None
    shape: dict[str, Any] | None  # normalized (profile.normalize_shape), None = locustfile's
    slis: tuple[SliSpec, ...]
    max_duration_s: float
    log_level: str = "INFO"
    log_file: str | None = None
    plugin: bool = True  # False only for overhead benchmarks: no buckets, Locust's totals only
    parent_pid: int | None = None
    # normalized; used only when there is no `shape` and the locustfile defines none
    default_shape: dict[str, Any] | None = None
    # distributed mode (load/distributed.py): a master expecting this many Locust workers in
    # all, ``local_workers`` of them (default: all) started by it on this machine; the rest,
    # remote, run ``chaos-suite load worker --master HOST:PORT LOCUSTFILE`` (worker_command)
    workers: int = 0
    local_workers: int | None = None
    master_bind: str = "127.0.0.1"
    master_port: int = 0  # 0: a free port (only without remote workers)
    expect_workers_timeout_s: float = 30.0

    @property
    def local(self) -> int:
        """The workers the master starts itself."""
        return self.workers if self.local_workers is None else self.local_workers

    @property
    def remote(self) -> int:
        """The workers the master waits for from elsewhere."""
        return self.workers - self.local

    def to_json(self) -> dict[str, Any]:
        """The config as the worker reads it (a plain JSON object)."""
        return {
            "locustfile": self.locustfile,
            "host": self.host,
            "shape": self.shape,
            "slis": [
                {k: v for k, v in vars(s).items() if v is not None} for s in self.slis
            ],
            "max_duration_s": self.max_duration_s,
            "log_level": self.log_level,
            "log_file": self.log_file,
            "plugin": self.plugin,
            "parent_pid": self.parent_pid,
            "default_shape": self.default_shape,
            "workers": self.workers,
            "local_workers": self.local_workers,
            "master_bind": self.master_bind,
            "master_port": self.master_port,
            "expect_workers_timeout_s": self.expect_workers_timeout_s,
        }


def _fail(field: str, problem: str) -> ValidationError:
    return ValidationError(_WHERE, field, problem)


def _parse_sli(raw: Any, index: int) -> SliSpec:
    where = f"slis[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be an object")
    unknown = set(raw) - {"name", "kind", "threshold_ms", "match"}
    if unknown:
        raise _fail(f"{where}.{min(unknown)}", "unknown key")
    name, kind = raw.get("name"), raw.get("kind")
    if not isinstance(name, str) or not name:
        raise _fail(f"{where}.name", "must be a non-empty string")
    if kind not in SLI_KINDS:
        raise _fail(f"{where}.kind", f"must be one of {', '.join(SLI_KINDS)}")
    threshold = raw.get("threshold_ms")
    if kind == "latency":
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise _fail(f"{where}.threshold_ms", "a latency SLI needs a number of milliseconds")
        if not (math.isfinite(threshold) and threshold > 0):
            raise _fail(f"{where}.threshold_ms", "must be > 0")
        threshold = float(threshold)
    elif threshold is not None:
        raise _fail(f"{where}.threshold_ms", "only latency SLIs take a threshold")
    match = raw.get("match")
    if match is not None:
        if not isinstance(match, str):
            raise _fail(f"{where}.match", "must be a regular expression string")
        try:
            re.compile(match)
        except re.error as exc:
            raise _fail(f"{where}.match", f"invalid regular expression: {exc}") from None
    return SliSpec(name=name, kind=kind, threshold_ms=threshold, match=match)


def _parse_slis(raw: Any) -> tuple[SliSpec, ...]:
    if raw is None:
        raw = list(DEFAULT_SLIS)
    if not isinstance(raw, list):
        raise _fail("slis", "must be a list")
    slis = tuple(_parse_sli(item, i) for i, item in enumerate(raw))
    names = [s.name for s in slis]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail("slis", f"duplicate SLI name '{dupes[0]}'")
    return slis


def _optional_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise _fail(key, "must be a non-empty string")
    return value


def parse_config(raw: Any) -> LoadConfig:
    """Validate a raw config object; raises :class:`ValidationError` naming the field."""
    if not isinstance(raw, Mapping):
        raise _fail("", "must be a JSON object")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _fail(min(unknown), "unknown key")
    locustfile = _optional_str(raw, "locustfile")
    if locustfile is None:
        raise _fail("locustfile", "is required")
    shape = _parse_shape(raw, "shape")
    max_duration = raw.get("max_duration_s", 600)
    if isinstance(max_duration, bool) or not isinstance(max_duration, int | float) or not (
        math.isfinite(max_duration) and max_duration > 0
    ):
        raise _fail("max_duration_s", "must be a number > 0")
    plugin = raw.get("plugin", True)
    if not isinstance(plugin, bool):
        raise _fail("plugin", "must be true or false")
    parent_pid = raw.get("parent_pid")
    if parent_pid is not None and (isinstance(parent_pid, bool) or not isinstance(parent_pid, int)):
        raise _fail("parent_pid", "must be an integer")
    workers = _int(raw, "workers", 0, 0)
    master_port = _int(raw, "master_port", 0, 0)
    if master_port > 65535:
        raise _fail("master_port", "must be a port number")
    local_workers = None if raw.get("local_workers") is None else _int(raw, "local_workers", 0, 0)
    master_bind = _optional_str(raw, "master_bind")
    # without workers the keys are unused: the config carries their defaults (to_json)
    problem = None if not workers else distributed_problem(
        workers, local_workers, master_bind, master_port or None)
    if problem is not None:
        raise _fail(*problem)
    expect_s = raw.get("expect_workers_timeout_s", 30.0)
    if isinstance(expect_s, bool) or not isinstance(expect_s, int | float) or not (
        math.isfinite(expect_s) and expect_s > 0
    ):
        raise _fail("expect_workers_timeout_s", "must be a number > 0")
    return LoadConfig(
        locustfile=locustfile,
        host=_optional_str(raw, "host"),
        shape=shape,
        slis=_parse_slis(raw.get("slis")),
        max_duration_s=float(max_duration),
        log_level=(_optional_str(raw, "log_level") or "INFO").upper(),
        log_file=_optional_str(raw, "log_file"),
        plugin=plugin,
        parent_pid=parent_pid,
        default_shape=_parse_shape(raw, "default_shape"),
        workers=workers,
        local_workers=local_workers,
        master_bind=master_bind or "127.0.0.1",
        master_port=master_port,
        expect_workers_timeout_s=float(expect_s),
    )


def _int(raw: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(key, f"must be an integer >= {minimum}")
    return value


def _parse_shape(raw: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    shape = raw.get(key)
    if shape is None:
        return None
    if not isinstance(shape, Mapping):
        raise _fail(key, "must be an object")
    try:
        return normalize_shape(shape)
    except ShapeError as exc:
        raise _fail(f"{key}.{exc.field}", exc.problem) from None


WILDCARD_BINDS = frozenset({"0.0.0.0"})
# A Locust worker whose master has not answered its heartbeats (every second) for this long
# stops its users and quits (load/distributed.py; Locust's own limit is 60 s)
MASTER_SILENT_S = 10.0


def distributed_problem(workers: int, local_workers: int | None, master_bind: str | None,
                        master_port: int | None) -> tuple[str, str] | None:
    """(field, problem) when the distributed-mode keys do not fit together, else None. Shared
    by the plan (files/plan.py, ``load:``) and the load config, so both say the same.

    ``master_bind`` None/``master_port`` None: not given. Remote workers (``workers`` above
    ``local_workers``) need both given: a remote machine must be told where to connect, and
    the master binds beyond 127.0.0.1 only when the plan says so."""
    if master_bind is not None and not _bind_ok(master_bind):
        return "master_bind", "must be an IPv4 address (0.0.0.0: every interface)"
    if workers == 0:
        for key, value in (("local_workers", local_workers), ("master_bind", master_bind),
                           ("master_port", master_port)):
            if value is not None:
                return key, "needs workers (the Locust workers expected in all) >= 1"
        return None
    if local_workers is not None and local_workers > workers:
        return "local_workers", f"must be <= workers ({workers})"
    remote = workers - (workers if local_workers is None else local_workers)
    if remote and master_port is None:
        return "master_port", (f"{remote} remote worker{'s' if remote > 1 else ''} "
                               f"(workers {workers} - local_workers {local_workers}) need a "
                               "fixed port to connect to")
    if remote and master_bind is None:
        return "master_bind", ("remote workers need the address the master listens on "
                               "(e.g. 0.0.0.0; the default 127.0.0.1 takes none from elsewhere)")
    return None


def _bind_ok(bind: str) -> bool:
    parts = bind.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def worker_command(locustfile: str, master_bind: str, master_port: int,
                   host: str | None = None) -> str:
    """What a remote machine runs to join the master: the master's address as the remote
    machine reaches it (``host``; for a wildcard bind this machine's host name when not
    given), its port and the locustfile (the same file, at that path, on the remote side)."""
    import shlex
    import socket

    if host is None:
        host = socket.gethostname() if master_bind in WILDCARD_BINDS else master_bind
    return shlex.join(["chaos-suite", "load", "worker", "--master", f"{host}:{master_port}",
                       locustfile])
