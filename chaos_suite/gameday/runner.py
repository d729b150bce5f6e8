"""The gameday runner: target → load → baseline → scenarios (experiment + cool-down) → report.

The runner owns process lifetimes: whatever it started (managed target, Locust) it stops in a
`finally`, and every fault it may have injected is reverted before it returns, whatever happened."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from pydantic import JsonValue

from chaos_suite.errors import (
    AbortedError,
    ChaosSuiteError,
    InfrastructureError,
    PreflightError,
)
from chaos_suite.files.loader import ResolvedPlan, ResolvedScenario
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.gameday.console import Console
from chaos_suite.gameday.live import LiveView
from chaos_suite.gameday.notify import Notifier
from chaos_suite.gameday.resolve import (
    SCENARIO_OVERHEAD_S,
    _pauses,
    estimate_duration_s,
    load_config_for,
    plan_record,
)
from chaos_suite.gameday.samples import SampleStore
from chaos_suite.gameday.targets import RunTarget
from chaos_suite.gameday.watch import RunWatch, SampleSource
from chaos_suite.record import (
    AbortEvent,
    BurnRateTrip,
    ErrorEvent,
    FaultInterference,
    InfrastructureTrip,
    LedgerReplayed,
    LoadStalled,
    LoadStarted,
    LoadStopped,
    PhaseEnded,
    PhaseStarted,
    RunEnded,
    RunRecordWriter,
    RunStarted,
    Sample,
    SourceStarted,
    SourceStopped,
    TargetReady,
    TargetStopped,
    Trip,
    WorkerLost,
    run_id_for,
)
from chaos_suite.record.models import NotifyFailed, SourceName
from chaos_suite.record.writer import append_event

if TYPE_CHECKING:
    from chaos_suite.detection.embedded import EmbeddedStack
    from chaos_suite.detection.session import DetectionSession
    from chaos_suite.files.plan import Scenario as ScenarioSpec
    from chaos_suite.load.runner import LoadProcess
    from chaos_suite.safety.lease import TargetLease
    from chaos_suite.safety.safeguard import Safeguard

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    run_dir: Path | None
    status: str


# kept free in the run directory and released when the run ends, so that a full disk still
# leaves room for the record of why the run ended
RESERVE_BYTES = 256 * 1024


class OperatorAbort(KeyboardInterrupt):
    """Raised once by the SIGINT/SIGTERM handler. A KeyboardInterrupt so that chaoslib, when it
    arrives mid-experiment, marks the run interrupted and still plays the rollbacks; and no
    library `except Exception` swallows it."""


def run_gameday(resolved: ResolvedPlan, *, reports_dir: Path, confirm: str | None = None,
                dry_run: bool = False, recover_first: bool = False,
                console: Console | None = None, fail_on: frozenset[str] | None = None
                ) -> Outcome:
    from chaos_suite.safety.gates import check_gates

    out = console or Console()
    from chaos_suite.gameday.targets import target_key_before_start
    from chaos_suite.safety import lease

    key = target_key_before_start(resolved)
    if dry_run:
        from chaos_suite.gameday.targets import describe_target

        if key:  # the lease first: "in use by run X" says more than what that run changed
            lease.check_free(key)
        figures = check_gates(resolved, confirm=confirm)
        _preflight_sources(resolved)
        figures.insert(0, f"target: {describe_target(resolved)}")
        out.print_plan(resolved, estimate_duration_s(resolved), figures)
        return Outcome(0, None, "dry-run")
    run_id = run_id_for(resolved.plan.name)
    run_dir = reports_dir / run_id
    held = _take_lease(key, run_id, run_dir) if key else None
    try:
        check_gates(resolved, confirm=confirm, recover_first=recover_first)
        _preflight_sources(resolved)
        _check_ledger_room(reports_dir)
        if recover_first:
            _recover_target(resolved, key, out)
        try:
            run = _Run(resolved, run_dir, run_id, out)
        except OSError as exc:
            raise PreflightError(f"cannot create the run record {run_dir}: "
                                 f"{exc.strerror or exc}; nothing was started") from None
        run.fail_on = fail_on
        return run.execute()
    finally:
        if held is not None:
            held.release()


def _preflight_sources(resolved: ResolvedPlan) -> None:
    # embedded detection (detection/embedded.py): the binaries now, the queries once it is up
    from chaos_suite.detection import embedded
    from chaos_suite.gameday.prom_sampler import preflight, prometheus_slos

    if embedded.wanted(resolved.environment):
        embedded.check_binaries()
    else:
        preflight(prometheus_slos(resolved.used_slos), resolved.environment.sources.prometheus)


def _take_lease(key: str, run_id: str, run_dir: Path) -> TargetLease:
    from chaos_suite.safety import lease

    try:
        return lease.acquire(key, run_id=run_id, run_dir=run_dir)
    except OSError as exc:
        raise PreflightError(f"cannot take the lease on target {key} in the state directory: "
                             f"{exc.strerror or exc}; nothing was started") from None


def _check_ledger_room(reports_dir: Path) -> None:
    """Fail closed before anything starts: a fault goes in only after its revert is on record
    in both ledgers, so both must take durable writes and have room."""
    from chaos_suite.safety.ledger import LedgerUnavailable, check_writable
    from chaos_suite.safety.state import ledger_dir

    try:
        check_writable([reports_dir, ledger_dir()])
    except LedgerUnavailable as exc:
        raise PreflightError(f"{exc}; nothing was started") from None


def _recover_target(resolved: ResolvedPlan, key: str, out: Console) -> None:
    """--recover: replay what a crashed run left on this target, then check it as a run
    without --recover would have been checked."""
    from chaos_suite.safety.gates import check_target_clean
    from chaos_suite.safety.recover import pending_for_target, revert_pending
    from chaos_suite.safety.state import state_root

    if key and pending_for_target(key):
        for line in revert_pending(state_root()):
            out.step(line)
    check_target_clean(resolved)


class _Run:
    """One real run. Reading order: execute() → phases → _scenario() → _teardown() → _finish().

    Seams: the load (a Locust process), the sample sources beside it (Prometheus, http), the
    target (with its control plane), the safeguard and the watch (docs/architecture.md §6). An
    abort, from the safeguard or a signal, is one call: `_abort(reason)`."""

    fail_on: frozenset[str] | None = None  # --fail-on (report/outcome.py): what fails the run

    def __init__(self, resolved: ResolvedPlan, run_dir: Path, run_id: str, out: Console) -> None:
        from chaos_suite.safety.ledger import mark_run_ledger
        from chaos_suite.safety.redact import redactor_for
        from chaos_suite.safety.runs import RunRegistration
        from chaos_suite.safety.state import ledger_dir

        self.resolved = resolved
        self.plan = resolved.plan
        self.run_dir = run_dir
        self.run_id = run_id
        self.out = out
        self.store = SampleStore()
        self.view = LiveView(out, self.store, resolved.used_slos, run_dir)  # stopped at the end
        self.redact = redactor_for(s.experiment for s in resolved.scenarios)
        self.record = RunRecordWriter(run_dir, redact=self.redact)
        self.ledger_dirs = [run_dir / "ledger", ledger_dir()]
        mark_run_ledger(self.ledger_dirs[0])
        self.registration = RunRegistration(run_id, run_dir)
        self.reserve = run_dir / ".reserve"
        self.reserve.write_bytes(b"\0" * RESERVE_BYTES)
        self.watch = RunWatch(run_id, self._interference)
        self.target: RunTarget | None = None
        self.load: LoadProcess | None = None
        self.sources: list[tuple[SourceName, SampleSource]] = []
        self.detection: DetectionSession | None = None  # alerts watched, webhook, silence
        self.embedded: EmbeddedStack | None = None  # detection.embedded: own Prometheus + AM
        self.extension: dict[str, object] | None = None  # the running scenario's (control)
        self.baseline: tuple[int, int] | None = None  # seconds [first, end) of the baseline
        self.infra_error: str | None = None
        self.abort_reason: str | None = None
        self.abort_recorded = False
        self.status = "completed"
        self.exit_code = 0
        self.reason: str | None = None
        # webhook notifications (gameday/notify.py): never change the outcome
        self.notifier = Notifier(resolved.environment.notify, run_id, resolved.plan.name)
        self.verdicts: list[JsonValue] = []  # per scenario and SLO, for the end message
        self.reports: dict[str, str] = {}

    # ------------------------------------------------------------ top level

    def execute(self) -> Outcome:
        self.record.plan(plan_record(self.resolved, self.run_id))
        self.record.event(RunStarted(run_id=self.run_id, gameday=self.plan.name,
                                     environment=self.resolved.environment.name))
        self.out.headline(self.resolved, self.run_dir)
        self.view.start()
        self._notify("start", f"run {self.run_id} started ({self.resolved.environment.name})",
                     environment=self.resolved.environment.name, run_dir=str(self.run_dir))
        try:
            with self._operator_signals():
                target = self.target = self._start_target()
                self._start_embedded(target)
                self._start_sources(target)
                self._start_detection()
                self.load = self._start_load(target.url)
                self._wait_for_traffic()
                self._baseline()
                for index, scenario in enumerate(self.resolved.scenarios):
                    self._scenario(index, scenario, target)
        except OperatorAbort:
            self._mark("aborted", 3, "operator")
        except AbortedError as exc:
            self._mark("aborted", 3, str(exc))
        except ChaosSuiteError as exc:  # preflight 2, infrastructure 4, ...
            self._mark("failed", exc.exit_code, str(exc))
        except OSError as exc:  # a full disk, a folder gone read-only: the record cannot grow
            self._mark("failed", 4, f"cannot write {exc.filename or 'the run record'}: "
                                    f"{exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must still end in teardown and a record
            import traceback

            with contextlib.suppress(OSError):
                (self.run_dir / "error.log").write_text(self.redact.text(traceback.format_exc()),
                                                        encoding="utf-8")
            self._mark("failed", 4, f"internal error: {type(exc).__name__}: {exc} "
                                    f"(traceback in {self.run_dir / 'error.log'})")
        finally:
            try:
                with self._ignore_signals():
                    self.view.phase("teardown")
                    self._teardown()
            finally:
                self.view.stop()  # every exit path: the report's lines print below the panel
        outcome = self._finish()
        self._notify_end(outcome)
        return outcome

    def _mark(self, status: str, code: int, reason: str) -> None:
        self.status, self.exit_code, self.reason = status, code, reason
        self.out.error(reason)
        self._notify("abort" if status == "aborted" else "failed",
                     f"run {status}: {reason}", reason=reason, exit_code=code)
        self._release_reserve()
        if status == "aborted" and self.abort_recorded:
            return  # the safeguard recorded its abort with the trip that caused it
        self._guarded("recording the end", lambda: self.record.event(
            AbortEvent(reason=reason) if status == "aborted" else ErrorEvent(reason=reason)))

    def _release_reserve(self) -> None:
        with contextlib.suppress(OSError):
            self.reserve.unlink()

    # ------------------------------------------------------------ start-up

    def _start_target(self) -> RunTarget:
        from chaos_suite.gameday.targets import start_for_run

        target = start_for_run(self.resolved, self.run_id)
        if target.managed_dir is not None:
            self.registration.update(managed_target_dir=str(target.managed_dir))
        if target.client is not None:
            self.watch.watch_target(target.client, target.admin_url)
            self.view.fault_status = target.client.status
        self.record.event(TargetReady(url=target.url, admin_url=target.admin_url,
                                      pids=tuple(target.pids) if target.pids is not None else None))
        self.out.step(f"target ready at {target.url}")
        return target

    def _start_embedded(self, target: RunTarget) -> None:
        """detection.embedded: Prometheus and Alertmanager for this run; the run then reads
        from them as from configured sources."""
        from chaos_suite.detection import embedded
        from chaos_suite.detection.coverage import intervals, windows_choice
        from chaos_suite.gameday.prom_sampler import preflight, prometheus_slos

        env = self.resolved.environment
        if not embedded.wanted(env):
            return
        every, scrape = intervals(env)
        self.embedded = embedded.start_stack(
            self.resolved.used_slos, target.admin_url, self.run_dir / "detection",
            windows_choice(env, self.resolved.environment_path),
            lambda pids: self.registration.update(embedded_pids=pids),
            evaluation_interval_s=every, scrape_interval_s=scrape)
        self.resolved = dataclasses.replace(self.resolved,
                                            environment=embedded.pointed_at(env, self.embedded))
        preflight(prometheus_slos(self.resolved.used_slos),
                  self.resolved.environment.sources.prometheus)
        self.out.step(f"prometheus at {self.embedded.prometheus_url}, alertmanager at "
                      f"{self.embedded.alertmanager_url}")

    def _start_sources(self, target: RunTarget) -> None:
        """The SLI sources beside the load: Prometheus (server-side) and the http prober."""
        from chaos_suite.gameday.prom_sampler import PrometheusSampler, prometheus_slos
        from chaos_suite.sources.http import HttpProber, check_reachable, http_slos

        slos = self.resolved.used_slos
        config = self.resolved.environment.sources.prometheus
        if prometheus_slos(slos) and config is not None:
            prom = PrometheusSampler(prometheus_slos(slos), config, self._on_source_sample)
            self._add_source("prometheus", prom, SourceStarted(
                source="prometheus", url=config.url,
                slos=tuple(s.name for s in prometheus_slos(slos))))
        if http_slos(slos):
            check_reachable(slos, target.url)  # a PreflightError: nothing injected yet
            prober = HttpProber(slos, self._on_source_sample, base_url=target.url)
            self._add_source("http", prober, SourceStarted(
                source="http", slos=tuple(prober.urls), urls=prober.urls))

    def _start_detection(self) -> None:
        """Measured detection (detection/session.py): before the baseline, so a quiet
        gameday's silence is in place before the first fault."""
        from chaos_suite.detection.session import DetectionSession

        env = self.resolved.environment
        if DetectionSession.wanted(env):
            self.detection = DetectionSession(
                env, self.record.event, run_id=self.run_id, ledger_dirs=self.ledger_dirs,
                expected_duration_s=estimate_duration_s(self.resolved))
            self.detection.start()

    def _add_source(self, name: SourceName, source: SampleSource, started: SourceStarted
                    ) -> None:
        source.start()
        self.sources.append((name, source))
        self.watch.sources.append(source)
        self.record.event(started)

    def _start_load(self, url: str) -> LoadProcess:
        from chaos_suite.load.runner import LoadProcess

        config = load_config_for(self.resolved, url, self.run_dir)
        load = LoadProcess(config, self._on_load_sample, log_path=self.run_dir / "locust.log",
                           redact=self.redact.text, on_event=self._on_load_event)
        load.start()
        self.watch.load = load
        self.registration.update(locust_pgid=load.pid)
        self.record.event(LoadStarted(pid=load.pid, locustfile=str(self.resolved.locustfile)))
        self.out.step(f"load started (locust pid {load.pid})")
        return load

    def _on_load_event(self, raw: Mapping[str, object]) -> None:
        """Reader thread: a distributed load's worker went away. Enough left (`min_workers`):
        recorded and the run goes on; too few: the watch ends the run (rollbacks, exit 4)."""
        if raw.get("type") != "worker_lost":
            return
        event = WorkerLost.model_validate({k: raw.get(k) for k in
                                           ("worker", "pid", "reason", "live", "workers")})
        self.record.event(event)
        load = self.plan.load
        if self.watch.worker_lost(event.live, event.workers, load.min_workers):
            self.out.error(f"a Locust worker was lost ({event.reason or 'gone'}): "
                           f"{event.live} of {event.workers} left; the run goes on")

    def _on_load_sample(self, raw: Mapping[str, object]) -> None:
        """Reader thread of the load process: a sample, also watched for gaps (a stall) and for
        a load whose requests mostly get 4xx answers (said once per phase)."""
        silence = self.watch.load_sample()
        if silence is not None:
            self.record.event(LoadStalled(seconds=round(silence, 3)))
        self._on_source_sample(raw)
        requests, client_errors = (v if isinstance(v, int) and not isinstance(v, bool) else None
                                   for v in (raw.get("requests"), raw.get("status_4xx")))
        # the phase, from what the main thread sets: baseline (no baseline yet), a scenario
        # (its extension), a cool-down; consecutive phases always differ
        phase = (self.baseline is not None, self.extension is not None)
        warning = self.watch.load_answers(requests, client_errors, phase)
        if warning is not None:
            self.out.error(warning)

    def _on_source_sample(self, raw: Mapping[str, object]) -> None:
        if "t" not in raw or "slis" not in raw:
            return
        sample = Sample.model_validate(raw)
        self.store.add(sample)
        self.record.sample(sample)

    def _wait_for_traffic(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        names = [s.name for s in self.resolved.used_slos if s.source.type == "load"] or \
            [s.name for s in self.resolved.used_slos]
        while time.monotonic() < deadline:
            if self.store.total_events(names) > 0:
                return
            time.sleep(0.2)
        raise PreflightError(self._no_traffic(timeout_s))

    def _no_traffic(self, timeout_s: float) -> str:
        """Why no SLO measured traffic. When the load's requests were answered but a Prometheus
        query matches no series, the query is at fault, not the target."""
        from chaos_suite.gameday.prom_sampler import PrometheusSampler

        requests = self.load.requests_seen if self.load is not None else 0
        for _, source in self.sources:
            silence = source.silence() if isinstance(source, PrometheusSampler) else None
            if silence is not None and requests:
                return (f"{silence}, while the load sent {requests} requests: check the "
                        "query's metric name and labels (and that Prometheus scrapes the target)")
        return (f"no traffic measured within {timeout_s:.0f} s of starting load: is the target "
                "reachable?")

    # ------------------------------------------------------------ phases

    def _sleep_phase(self, seconds: float) -> None:
        # the live view (live.py) shows the figures, on its own thread, in every phase
        end = time.monotonic() + seconds
        next_health = time.monotonic()
        while (now := time.monotonic()) < end:
            time.sleep(min(0.2, end - now))
            if time.monotonic() >= next_health:  # at the safeguard's pace, not every tick:
                next_health += self.plan.safeguard_interval  # it asks the admin API
                problem = self.watch.problem()
                if problem:
                    raise InfrastructureError(problem)

    def _baseline(self) -> None:
        self.record.event(PhaseStarted(phase="baseline"))
        self.out.phase("baseline", f"{self.plan.baseline:.0f} s")
        first = int(time.time())
        self.view.phase("baseline", seconds=self.plan.baseline, since=first)
        self._sleep_phase(self.plan.baseline)
        self.baseline = self.view.baseline = (first, int(time.time()))
        self.record.event(PhaseEnded(phase="baseline"))

    def _scenario(self, index: int, scenario: ResolvedScenario, target: RunTarget) -> None:
        from chaos_suite.experiment.control import extension_of
        from chaos_suite.experiment.run import prepare_experiment, run_prepared

        spec = self.plan.scenarios[index]
        slos = [s for s in self.resolved.used_slos if s.name in spec.expect]
        experiment = prepare_experiment(
            scenario.experiment, slos=slos, samples_file=self.record.samples_path,
            events_file=self.record.events_path, scenario=scenario.name,
            admin_url=target.admin_url, hypothesis_window_s=self.plan.hypothesis.window,
            hypothesis_max_burn_rate=self.plan.hypothesis.max_burn_rate,
            run_id=self.run_id, ledger_dirs=self.ledger_dirs, target_key=target.key,
        )
        self.extension = extension_of(experiment)
        started = int(time.time())
        self.record.event(PhaseStarted(phase="scenario", scenario=scenario.name,
                                       experiment=str(scenario.experiment_path)))
        label = f"scenario {index + 1}/{len(self.resolved.scenarios)}: {scenario.name}"
        self.out.phase(label, str(scenario.experiment.get("title", "")))
        expect = {name: e.max_budget_consumed for name, e in spec.expect.items()}
        self.view.phase("scenario", label, since=started, expect=expect,
                        abort=spec.abort or self.plan.abort, estimated=True,
                        seconds=_pauses(scenario.experiment) + 2 * self.plan.hypothesis.window
                        + SCENARIO_OVERHEAD_S)
        guard = self._safeguard(spec, slos)
        try:
            with self._usr1_outside_chaoslib():
                result = run_prepared(experiment, events_file=self.record.events_path,
                                      scenario=scenario.name, admin_url=target.admin_url,
                                      log_file=self.run_dir / "chaostoolkit.log",
                                      redact=self.redact, run_id=self.run_id)
        finally:
            guard.stop()
            self.extension = None
        journal = f"journals/{index + 1:02d}-{scenario.name}.json"
        if result.refused:
            self._guarded("writing the journal",
                          lambda: self.record.write_json(journal, result.journal))
            raise InfrastructureError(f"fail-closed: {result.refused[0]}")
        self.record.write_json(journal, result.journal)
        self.record.event(PhaseEnded(phase="scenario", scenario=scenario.name,
                                     status=result.status, deviated=result.deviated,
                                     steady_state_met_before=result.steady_state_met_before,
                                     steady_state_met_after=result.steady_state_met_after))
        self.out.scenario_result(scenario.name, result)
        self._notify_scenario(spec, result.status, result.deviated)
        if self.infra_error is not None:
            raise InfrastructureError(self.infra_error)
        if result.status == "aborted":
            raise AbortedError(self.abort_reason or "experiment interrupted")
        cooldown = spec.cooldown if spec.cooldown is not None else self.plan.cooldown
        self.record.event(PhaseStarted(phase="cooldown", scenario=scenario.name))
        self.out.phase("cool-down", f"{cooldown:.0f} s")
        self.view.phase("cool-down", seconds=cooldown, since=started, expect=expect)
        self._sleep_phase(cooldown)
        self.record.event(PhaseEnded(phase="cooldown", scenario=scenario.name))

    def _safeguard(self, spec: ScenarioSpec, slos: list[SLOSpec]) -> Safeguard:
        from chaos_suite.safety.safeguard import Rule, Safeguard, SLORef

        rule_model = spec.abort or self.plan.abort
        if rule_model is None:
            rule = Rule(burn_rate=None, long_window_s=1, short_window_s=1,
                        max_budget_consumed=None)  # no abort rule: watch health only
        else:
            rule = Rule(burn_rate=rule_model.burn_rate, long_window_s=rule_model.long_window,
                        short_window_s=rule_model.effective_short_window,
                        max_budget_consumed=rule_model.max_budget_consumed)
        refs = [SLORef(s.name, s.slo.objective, s.slo.window_seconds) for s in slos]
        since = self.store.first_second() or int(time.time())
        guard = Safeguard(self.store, refs, rule, since, self._trip,
                          interval_s=self.plan.safeguard_interval, health=self.watch.problem)
        guard.start()
        return guard

    # ------------------------------------------------------------ aborts

    def _trip(self, trip: Trip) -> None:
        """Safeguard thread: record why, then abort."""
        if isinstance(trip, InfrastructureTrip):
            self.infra_error = trip.problem
        reason = _trip_reason(trip)
        if self.abort_reason is not None:
            return
        with contextlib.suppress(OSError):  # a full disk must not stop the abort
            self.record.event(AbortEvent(reason="safeguard" if self.infra_error is None else
                                         "infrastructure", detail=trip, message=reason))
            self.abort_recorded = True
        self.out.error(reason)
        self._abort(reason, interrupt=True)

    def _abort(self, reason: str, *, interrupt: bool) -> None:
        """Stop injecting now: the control refuses every further method step, and (from the
        safeguard thread) chaoslib interrupts the running one at once (SIGUSR1) and plays the
        rollbacks. chaoslib offers no other way to cut a blocking step short."""
        self.abort_reason = reason
        extension = self.extension
        if extension is not None:
            from chaos_suite.experiment.control import request_abort

            request_abort(extension, reason)
        if interrupt:
            from chaoslib.exit import exit_gracefully

            exit_gracefully()

    def _interference(self, generation: int, changed_by: str | None) -> None:
        """Another actor changed the target's fault under the run (a second tool, a hand on
        the admin API): every figure of the scenario is doubtful. Record it, say it."""
        who = f"run {changed_by}" if changed_by else "something outside this run"
        self.record.event(FaultInterference(generation=generation, changed_by=changed_by))
        self.out.error(f"the target's fault was changed by {who} (generation {generation}): "
                       "this scenario's figures are inconclusive")

    @contextmanager
    def _usr1_outside_chaoslib(self) -> Iterator[None]:
        # chaoslib handles SIGUSR1 only while run_experiment runs; a trip that lands just
        # outside must abort the run, not kill the process (SIGUSR1's default action)
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.infra_error is not None:
                raise InfrastructureError(self.infra_error)
            raise AbortedError(self.abort_reason or "safeguard")

        previous = signal.signal(signal.SIGUSR1, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGUSR1, previous)

    @contextmanager
    def _operator_signals(self) -> Iterator[None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.abort_reason is not None:
                # already aborting: a second signal must not break the rollbacks under way
                self.out.error("abort in progress: rollbacks run to the end")
                return
            # the KeyboardInterrupt itself interrupts chaoslib (it then plays the rollbacks)
            self._abort("operator", interrupt=False)
            raise OperatorAbort()

        with _on_operator_signals(handler):
            yield

    @contextmanager
    def _ignore_signals(self) -> Iterator[None]:
        # a second Ctrl-C must not skip the teardown that reverts faults and stops processes
        def handler(signum: int, frame: FrameType | None) -> None:
            self.out.error("still cleaning up: rollbacks and process shutdown run to the end")

        with _on_operator_signals(handler):
            yield

    # ------------------------------------------------------------ teardown

    def _teardown(self) -> None:
        """Every step runs even when an earlier one fails: what fails is recorded, and the
        ledger keeps any revert that could not be done for `chaos-suite recover`."""
        target, load = self.target, self.load
        if target is not None and target.client is not None:
            self._guarded("clearing faults at teardown", target.client.clear_faults)
        if load is not None:
            summary = self._guarded("stopping the load", load.stop)
            self._guarded("recording the load's stop",
                          lambda: self.record.event(LoadStopped(summary=summary)))
        for name, source in self.sources:
            self._stop_source(name, source)
        if self.detection is not None:
            self._guarded("stopping detection", self.detection.stop)
        if self.embedded is not None:
            self._guarded("stopping the embedded Prometheus and Alertmanager", self.embedded.stop)
        self._guarded("replaying pending reverts", self._replay_pending)
        if target is not None:
            self._guarded("saving server counters", lambda: self._save_server_counters(target))
            self._guarded("stopping the target", target.stop)
            self._guarded("recording the target's stop", lambda: self.record.event(TargetStopped()))
            if target.managed_dir is not None:
                self._guarded("clearing the managed target", lambda: self._managed_gone(target))
        self.registration.remove()

    def _stop_source(self, name: SourceName, source: SampleSource) -> None:
        # a drained stop waits for the last seconds; an abort does not wait for them
        self._guarded(f"stopping the {name} source",
                      lambda: source.stop(drain=self.status == "completed"))
        self._guarded(f"recording the {name} source's stop", lambda: self.record.event(
            SourceStopped(source=name, error=source.error)))

    # ------------------------------------------------------------ notifications

    def _notify(self, kind: str, text: str, **fields: JsonValue) -> None:
        """Send; a failure is recorded and said, and the run goes on as it was."""
        error = self.notifier.send(kind, text, **fields)
        if error is None:
            return
        self.out.error(f"notification ({kind}) failed: {error}; the run goes on")
        failed = NotifyFailed(kind=kind, error=error)
        with contextlib.suppress(OSError):  # the end's comes after the record was closed
            if kind == "end":
                append_event(self.record.events_path, failed, self.redact.text)
            else:
                self.record.event(failed)

    def _notify_scenario(self, spec: ScenarioSpec, status: str, deviated: bool) -> None:
        # the verdicts per SLO are computed from the whole record at the end: this message has
        # the scenario's status and hypothesis, the end message every verdict
        hypothesis = "deviated" if deviated else "held"
        self._notify("scenario", f"scenario {spec.name}: {status}, steady state {hypothesis}"
                     + (f" (expected: {spec.hypothesis})" if spec.hypothesis else ""),
                     scenario=spec.name, status=status, deviated=deviated,
                     hypothesis_text=spec.hypothesis, acts=spec.acts)

    def _notify_end(self, outcome: Outcome) -> None:
        report = self.reports.get("html") or self.reports.get("md") or str(self.run_dir)
        worse = [v for v in self.verdicts if isinstance(v, dict)
                 and v.get("verdict") != "as-expected"]
        summary = ", ".join(f"{v['scenario']}/{v['slo']} {v['verdict']}" for v in worse
                            if isinstance(v, dict))
        self._notify("end", f"run {outcome.status} (exit code {outcome.exit_code}); report: "
                     f"{report}" + (f"; {summary}" if summary else ""),
                     status=outcome.status, exit_code=outcome.exit_code, report=report,
                     reports=dict(self.reports), verdicts=list(self.verdicts))

    def _managed_gone(self, target: RunTarget) -> None:
        """A managed target's faults end with its processes: entries a failed revert left (its
        supervisor killed mid-run, say) are cleared now, and its folder goes."""
        import shutil

        from chaos_suite.safety.recover import revert_pending
        from chaos_suite.safety.state import state_root

        for line in revert_pending(state_root(), own_run=self.run_id, managed_stopped=True):
            self.record.event(LedgerReplayed(detail=line))
        if target.managed_dir is not None:
            shutil.rmtree(target.managed_dir, ignore_errors=True)

    def _guarded(self, what: str, step: Callable[[], T]) -> T | None:
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - teardown must go on
            self.out.error(f"{what} failed: {exc}")
            with contextlib.suppress(OSError):  # the record itself may be what fails
                self.record.event(ErrorEvent(
                    reason=f"{what} failed: {type(exc).__name__}: {exc}"))
            return None

    def _replay_pending(self) -> None:
        from chaos_suite.safety.recover import revert_pending
        from chaos_suite.safety.state import state_root

        for line in revert_pending(state_root(), own_run=self.run_id):
            self.record.event(LedgerReplayed(detail=line))
            self.out.step(line)

    def _save_server_counters(self, target: RunTarget) -> None:
        if target.client is None:
            return
        try:
            rows = target.client.counters(since=self.store.first_second() or time.time() - 3600)
        except Exception as exc:  # noqa: BLE001 - ground truth is a bonus, not a requirement
            self.record.event(ErrorEvent(reason=f"reading server counters failed: {exc}"))
            return
        self.record.server_counters(rows)

    def _finish(self) -> Outcome:
        """The outcome is decided once, by the analysis of the record (which also holds the
        runner's own 2/3/4); the reports and the console show that one decision."""
        self._release_reserve()
        ended = self._guarded("recording the end of the run", lambda: self.record.event(
            RunEnded(status=self.status, exit_code=self.exit_code, reason=self.reason)) or True)
        self._guarded("closing the run record", self.record.close)
        if not ended:
            return Outcome(self.exit_code or 4, self.run_dir, self.status)
        try:
            from chaos_suite.report import report_run

            rendered = report_run(self.run_dir, ("json", "md", "junit", "html"))
        except (ChaosSuiteError, OSError) as exc:
            self.out.error(f"report failed: {exc}")
            return Outcome(self.exit_code or 4, self.run_dir, self.status)
        self.out.footer(rendered.analysis, rendered.written)
        self.reports = {name: str(path) for name, path in rendered.written.items()}
        self.verdicts = [{"scenario": s.name, "slo": r.slo.name, "verdict": r.verdict.value}
                         for s in rendered.analysis.scenarios for r in s.slos]
        from chaos_suite.report.outcome import exit_code_for

        code = exit_code_for(rendered.analysis, self.fail_on)
        if code != rendered.analysis.exit_code:
            self.out.step(f"exit code {code} (--fail-on {','.join(sorted(self.fail_on or ()))})")
        return Outcome(code, self.run_dir, rendered.analysis.status)


@contextmanager
def _on_operator_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


def _trip_reason(trip: Trip) -> str:
    if isinstance(trip, BurnRateTrip):
        return (f"safeguard: {trip.slo} {trip.rule} (burn rate {trip.burn_rate_long:.1f}/"
                f"{trip.burn_rate_short:.1f} > {trip.threshold:g})")
    if isinstance(trip, InfrastructureTrip):
        return f"infrastructure: {trip.problem}"
    return (f"safeguard: {trip.slo} {trip.rule} (consumed {trip.budget_consumed * 100:.4g}% "
            f"> cap {trip.cap * 100:.4g}%)")
