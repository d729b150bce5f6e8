"""The live view of a running gameday: the phase and its time, per SLO the SLI, burn rate and
budget spent against the scenario's expectation and abort rule, the fault and detection state,
the last events and notes.

On a terminal it is a rich Live panel redrawn in place (about twice a second); elsewhere (CI
logs) it prints plain timestamped lines, one status line every 5 s in every phase. The runner
only tells it the phase; the figures come from the SampleStore (the same functions as the
console line, see console.live_burn), the events and notes from the run record's files, read
on each tick (notes come from `chaos-suite gameday note RUN_DIR TEXT` in a second terminal).
Nothing here raises into the run: a failing tick or render is swallowed and shown."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.gameday.console import Console, Part, _pct, live_burn
from chaos_suite.gameday.samples import SampleStore
from chaos_suite.record.models import EVENTS, NOTES

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from chaos_suite.files.plan import AbortRule

STATUS_EVERY_S = 5.0  # plain mode: a status line this often
TICK_S = 0.5  # files read this often
FAULT_POLL_S = 2.0  # the target's admin API asked this often
KEEP = 5  # events and notes shown


@dataclass
class Phase:
    name: str
    label: str  # the console line's label
    started: float = field(default_factory=time.time)
    seconds: float | None = None  # its length; None: unknown
    estimated: bool = False  # `seconds` is an estimate (a scenario)
    since: int | None = None  # budget spent from this second
    expect: dict[str, float] = field(default_factory=dict)  # SLO → max budget consumed
    abort: str | None = None  # the abort rule, as said


class LiveView:
    def __init__(self, console: Console, store: SampleStore, slos: list[SLOSpec],
                 run_dir: Path) -> None:
        self.out = console
        self.store = store
        self.slos = slos
        self.run_dir = run_dir
        self.tty = console.is_terminal
        self.baseline: tuple[int, int] | None = None
        # the target's admin status (a local target), else the fault events say it
        self.fault_status: Callable[[], Mapping[str, object]] | None = None
        self._phase = Phase("starting", "starting")
        self._events: deque[str] = deque(maxlen=KEEP)
        self._notes: deque[str] = deque(maxlen=KEEP)
        self._offsets: dict[str, int] = {EVENTS: 0, NOTES: 0}
        self._fault: str | None = None
        self._fault_polled = 0.0
        self._detection: dict[str, str] = {}
        self._error: str | None = None
        self._next_status = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Live | None = None

    # ------------------------------------------------------------ runner's side

    def start(self) -> None:
        try:
            if self.tty:
                from rich.live import Live

                self._live = Live(self, console=self.out.rich, auto_refresh=True,
                                  refresh_per_second=2, transient=False)
                self._live.start()
            self._thread = threading.Thread(target=self._run, name="live-view", daemon=True)
            self._thread.start()
        except Exception as exc:  # noqa: BLE001 - the view never stops a run
            self._error = f"{type(exc).__name__}: {exc}"

    def phase(self, name: str, label: str | None = None, *, seconds: float | None = None,
              estimated: bool = False, since: int | None = None,
              expect: dict[str, float] | None = None, abort: AbortRule | None = None) -> None:
        self._phase = Phase(name, label or name, seconds=seconds, estimated=estimated,
                            since=since, expect=dict(expect or {}), abort=_abort_text(abort))
        self._next_status = time.monotonic() + STATUS_EVERY_S

    def stop(self) -> None:
        """Idempotent; called in the runner's `finally`, whatever ended the run."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        live, self._live = self._live, None
        if live is not None:
            with contextlib.suppress(Exception):
                live.stop()

    # ------------------------------------------------------------ the tick

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001 - the view never stops a run
                self._error = f"{type(exc).__name__}: {exc}"

    def _tick(self) -> None:
        for line in self._new_lines(EVENTS):
            self._on_event(line)
        for line in self._new_lines(NOTES):
            text = f"{_clock(line.get('t'))} {line.get('author') or '?'}: {line.get('text', '')}"
            self._notes.append(text)
            if not self.tty:
                self.out.step(f"note from {line.get('author') or '?'}: {line.get('text', '')}")
        now = time.monotonic()
        if self.fault_status is not None and now >= self._fault_polled + FAULT_POLL_S:
            self._fault_polled = now
            try:
                self._fault = _fault_text(self.fault_status())
            except Exception as exc:  # noqa: BLE001 - an unreachable admin API is the watch's
                self._fault = f"unknown ({type(exc).__name__})"
        if not self.tty and now >= self._next_status and self._phase.name != "starting":
            self._next_status = now + STATUS_EVERY_S
            phase = self._phase
            self.out.live(phase.label, self.store, self.slos, since=phase.since,
                          baseline=self.baseline)

    def _new_lines(self, name: str) -> list[dict[str, Any]]:
        path = self.run_dir / name
        try:
            with path.open("rb") as f:
                f.seek(self._offsets[name])
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next tick
        self._offsets[name] += end
        out = []
        for raw in data[:end].splitlines():
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                if isinstance(line, dict):
                    out.append(line)
        return out

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", "?"))
        if kind == "fault_injected":
            self._fault_event(f"{event.get('fault', '?')} injected")
        elif kind == "fault_cleared":
            self._fault_event("cleared")
        elif kind == "alert_state":
            self._detection[str(event.get("name", "?"))] = str(event.get("state", "?"))
        elif kind == "alert_notified":
            self._detection[str(event.get("name", "?"))] = f"notified ({event.get('status')})"
        if kind in ("activity_ended", "method_started", "method_ended"):
            return  # chaoslib's bookkeeping: the activity's start says it
        detail = next((str(event[k]) for k in ("message", "reason", "fault", "name", "scenario",
                                               "phase", "state", "text") if event.get(k)), "")
        self._events.append(f"{_clock(event.get('t'))} {kind.replace('_', ' ')} {detail}")

    def _fault_event(self, text: str) -> None:
        if self.fault_status is None:  # the admin status says more when there is one
            self._fault = text

    # ------------------------------------------------------------ the panel (Live's thread)

    def __rich__(self) -> RenderableType:
        from rich.text import Text

        try:
            return self._render()
        except Exception as exc:  # noqa: BLE001 - the view never stops a run
            return Text(f"live view: {type(exc).__name__}: {exc}")

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        phase = self._phase
        lines: list[Text] = [Text.assemble((f"▶ {phase.label}", "bold cyan"), "  ",
                                           (_time_text(phase), "bold"))]
        figures = live_burn(self.store, self.slos, since=phase.since, baseline=self.baseline)
        width = max((len(f.slo) for f in figures), default=0)
        last = self.store.last_second()
        for f in figures:
            good, total = self.store.trailing(f.slo, f.window_s, last) if last else (0, 0)
            parts: list[Part] = [(f"  {f.slo:<{width}}", "bold")]
            if f.burn_rate is None:
                parts.append("  no data in the last 5 s")
            else:
                parts += [f"  SLI {good / total * 100:.2f}% ({total} req/{f.window_s}s)",
                          "  burn ", (f"{f.burn_rate:.2f}×", _burn_style(f.burn_rate))]
            if f.consumed is not None:
                expected = phase.expect.get(f.slo)
                over = expected is not None and (f.attributed or 0) > expected
                parts += ["  spent ", (_pct(f.consumed), "red" if over else "")]
                if f.baseline_burn_rate is not None:
                    parts.append(f" ({_pct(f.attributed)} beyond baseline)")
                if expected is not None:
                    parts.append(f"  expected ≤ {_pct(expected)}")
            lines.append(Text.assemble(*parts))
        if phase.abort:
            lines.append(Text(f"  abort: {phase.abort}", style="dim"))
        lines.append(Text.assemble("fault: ", self._fault or "none seen"))
        if self._detection:
            lines.append(Text.assemble("detection: ", ", ".join(
                f"{name} {state}" for name, state in self._detection.items())))
        for title, rows in (("events", self._events), ("notes", self._notes)):
            if rows:
                lines.append(Text(f"{title}:", style="dim"))
                lines += [Text(f"  {row}") for row in list(rows)]
        lines.append(Text(f"add a note: chaos-suite gameday note {self.run_dir} TEXT",
                          style="dim"))
        if self._error:
            lines.append(Text(f"live view: {self._error}", style="yellow"))
        return Group(*lines)


def _time_text(phase: Phase) -> str:
    elapsed = time.time() - phase.started
    if phase.seconds is None:
        return f"{elapsed:.0f} s elapsed"
    if phase.estimated:
        return f"{elapsed:.0f} s elapsed of ≈ {phase.seconds:.0f} s"
    return f"{max(0.0, phase.seconds - elapsed):.0f} s left"


def _abort_text(rule: AbortRule | None) -> str | None:
    if rule is None:
        return None
    parts = []
    if rule.burn_rate is not None:
        parts.append(f"burn > {rule.burn_rate:g} over {rule.long_window:g} s and "
                     f"{rule.effective_short_window:g} s")
    if rule.max_budget_consumed is not None:
        parts.append(f"spent > {_pct(rule.max_budget_consumed)}")
    return " or ".join(parts) or None


def _fault_text(status: Mapping[str, object]) -> str:
    fault = status.get("fault")
    if not isinstance(fault, Mapping) or not fault.get("active"):
        text = "none"
    else:
        kinds = []
        if fault.get("error_ratio"):
            kinds.append(f"errors {_pct(float(str(fault['error_ratio'])))}")
        if fault.get("latency_ms"):
            kinds.append(f"latency {fault['latency_ms']} ms")
        text = "active: " + ", ".join(kinds)
    alive, replicas = status.get("replicas_alive"), status.get("replicas")
    if isinstance(alive, int) and isinstance(replicas, list):
        text += f" · replicas alive {alive}/{len(replicas)}"
    return text


def _burn_style(burn: float) -> str:
    return "green" if burn <= 1 else "yellow" if burn < 10 else "bold red"


def _clock(t: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if isinstance(t, (int, float)) else "?"
