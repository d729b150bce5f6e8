"""Import one locustfile and describe it: ``python -m chaos_suite.load.inspect_locustfile PATH``.

Runs only as its own process (chaos_suite/files/locustfile.py starts it, bounded by a timeout):
importing locust monkey-patches the process with gevent (docs/architecture.md §7.2), and the
locustfile is user code that may do anything at import. Locust is imported first thing in
:func:`main`, not at module level, so importing this module elsewhere patches nothing.

The file is loaded with Locust's own ``load_locustfile``, as the load worker loads it, so what
is reported here is what a run would find. stdout carries exactly one JSON line (fd 1 is moved
aside first; anything the locustfile prints goes to stderr):

- ``{"users": [{"name", "wait_time", "tasks", "host"}], "shapes": [name, ...], "abstract": [...]}``
- ``{"error": "<one line>"}`` when the file cannot be imported.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

# Locust's wait-time helpers return closures; their qualified name says which helper made them
# (constant_throughput returns a constant_pacing closure, and reads as such).
_WAIT_HELPERS = ("between", "constant", "constant_pacing", "constant_throughput", "poisson")


def _wait_kind(user: type[Any], default: object) -> str:
    func = getattr(user, "wait_time", None)
    if func is default:
        return "default"  # Locust's own constant(0): no think time
    qualname = getattr(func, "__qualname__", "")
    head, _, rest = qualname.partition(".<locals>.")
    return head if rest and head in _WAIT_HELPERS else "custom"


def _task_count(user: type[Any]) -> int:
    # @task(3) lists a function three times: count distinct tasks, not weights
    tasks = getattr(user, "tasks", None) or []
    return len({id(t) for t in tasks}) if isinstance(tasks, list) else 0


def _line_in(path: str, exc: BaseException) -> str:
    """' (line N)' for the innermost frame of the traceback that is in the locustfile itself."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
    return f" (line {line})" if line else ""


def _describe_error(path: str, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = "" if exc.filename in (None, path) else f" in {exc.filename}"
        return f"syntax error line {exc.lineno}{where}: {exc.msg}"
    if isinstance(exc, SystemExit):
        return f"the locustfile called sys.exit({exc.code!r}) while being imported"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ") + _line_in(path, exc)


def inspect(path: str) -> dict[str, Any]:
    """What the locustfile at ``path`` (absolute) defines, or ``{"error": ...}``."""
    from locust.user import User
    from locust.util.load_locustfile import load_locustfile

    try:
        users, shapes = load_locustfile(path)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything
        traceback.print_exc()  # to stderr: the caller keeps the tail for a crash it cannot name
        return {"error": _describe_error(path, exc)}
    module = sys.modules.get(os.path.splitext(os.path.basename(path))[0])
    abstract = sorted(
        name for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, User) and value is not User
        and getattr(value, "abstract", False) and value.__module__ == module.__name__
    ) if module is not None else []
    default = User.wait_time
    return {
        "users": [
            {"name": name, "wait_time": _wait_kind(cls, default), "tasks": _task_count(cls),
             "host": cls.host if isinstance(cls.host, str) and cls.host else None}
            for name, cls in sorted(users.items())
        ],
        "shapes": [type(shape).__name__ for shape in shapes],
        "abstract": abstract,
    }


def main(argv: list[str] | None = None) -> int:
    # gevent patches here, first, before anything that imports ssl (docs/architecture.md §7.2)
    import locust  # noqa: F401

    args = sys.argv[1:] if argv is None else argv
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the locustfile's prints must not corrupt the one JSON line
    if len(args) != 1:
        result: dict[str, Any] = {"error": "usage: inspect_locustfile PATH"}
    else:
        result = inspect(os.path.abspath(args[0]))
    out.write(json.dumps(result) + "\n")
    out.flush()
    sys.stderr.flush()
    # threads or greenlets a locustfile started at import must not keep this process alive
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
