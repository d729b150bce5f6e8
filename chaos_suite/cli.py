"""The command line: parse, call the library, map the exception tree onto exit codes
(docs/architecture.md §5).

Heavy imports (pydantic models, chaoslib, locust's runner, kubernetes) happen inside the commands
so that `chaos-suite --help` starts fast."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from chaos_suite import __version__
from chaos_suite.errors import ChaosSuiteError, InputError
from chaos_suite.slo.duration import MAX_PHASE_SECONDS

# Set once a command may have changed something outside its own output (started a process,
# injected or reverted a fault): an unexpected OSError after that is an infrastructure error (4),
# before it a bad path or configuration (2).
_may_have_started = False


def _starting() -> None:
    global _may_have_started
    _may_have_started = True


if TYPE_CHECKING:
    from chaos_suite.files.loader import ResolvedPlan

    _ParamType = click.ParamType[float, Any]
else:  # generic only from click 8.2 on; pyproject allows 8.1
    _ParamType = click.ParamType


class _Seconds(_ParamType):
    """A finite number of seconds within bounds. click's FLOAT (and FloatRange, since NaN
    compares false with both ends) lets 'nan' and 'inf' through, which disable what they set."""

    name = "seconds"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            self.fail(f"{value!r}: expected a finite number of seconds from {self.minimum:g} "
                      f"to {self.maximum:g}", param, ctx)
        return number


def _one_line(exc: ChaosSuiteError) -> str:
    # one line per error, whatever a message quoted from the user's file holds
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def _check_reports_dir(path: Path) -> None:
    """Refuse an unusable --reports before anything starts (the run directory is created only
    once the gates pass, so this checks without creating anything)."""
    probe = path
    try:
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        is_dir = probe.is_dir()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise InputError(f"--reports: unusable path: {exc}") from None
    if not is_dir:
        raise InputError(f"--reports: '{path}' cannot be a folder ('{probe}' is not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"--reports: cannot write into '{probe}'")


def _check_state_dir(path: Path | None, *, must_exist: bool) -> None:
    """--state-dir, or $CHAOS_SUITE_STATE_DIR without it: a readable folder, or a path that
    does not exist yet. A file there must not read as 'nothing recorded': `recover` would
    answer 'nothing to recover' while faults stay pending."""
    from chaos_suite.safety.state import STATE_ENV, ledger_dir, runs_dir, state_root

    option = "--state-dir" if path is not None else f"${STATE_ENV}"
    root = path if path is not None else state_root()
    try:
        if not root.exists():
            if must_exist and path is not None:
                raise InputError(f"{option}: '{root}' does not exist")
            return
        for folder in (root, ledger_dir(root), runs_dir(root)):
            if folder is not root and not folder.exists():
                continue
            if not folder.is_dir():
                raise InputError(f"{option}: '{folder}' is not a folder")
            os.listdir(folder)  # the check as it would run, root included (os.access is not)
    except (OSError, ValueError) as exc:  # unreadable, a name too long, a NUL byte
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"{option}: cannot read '{root}': {problem}") from None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"chaos-suite: error: {message}", err=True)
    sys.exit(code)


def _write_out(text: str, out: Path | None) -> None:
    """Generated text to stdout, or to --out (then its path is printed)."""
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:  # a missing folder, read-only, a NUL byte
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"--out: cannot write '{out}': {problem}") from None
    click.echo(str(out))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chaos-suite")
def cli() -> None:
    """Chaos engineering and gamedays measured in error-budget terms.

    Exit codes: 0 as expected · 1 hypothesis deviated or burn worse than expected ·
    2 bad input, nothing injected · 3 aborted, rollbacks ran · 4 infrastructure error, rollbacks ran.
    """


# ---------------------------------------------------------------- validate / schema / slo


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate SLO, gameday, environment files, Chaos Toolkit experiments and locustfiles
    (files or folders; a locustfile is imported in a child process)."""
    from chaos_suite.files import loader

    failed = 0
    files = loader.expand_paths(list(paths))
    if not files:
        _fail("no files to validate in " + ", ".join(map(str, paths)), 2)
    # each file is checked with the others given: an OpenSLO indicatorRef may name an SLI in
    # another file, and a plan among them may count one of an SLO file's SLOs from the load
    with loader.given(files):
        for path in files:
            try:
                result = loader.validate_file(path)
            except ChaosSuiteError as exc:
                failed += 1
                click.echo(f"invalid: {_one_line(exc)}", err=True)
            else:
                click.echo(f"ok: {path} ({result.kind}: {result.summary})")
    if failed:
        sys.exit(2)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write one <kind>.schema.json per file type into this folder")
def schema(out: Path | None) -> None:
    """JSON Schema of each of chaos_suite's own file types (for editor completion)."""
    from chaos_suite.files.schema import all_schemas

    schemas = all_schemas()
    if out is None:
        click.echo(json.dumps(schemas, indent=2))
        return
    try:
        if out.exists() and not out.is_dir():
            raise InputError(f"--out: '{out}' exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        targets = []
        for name, doc in schemas.items():
            target = out / f"{name}.schema.json"
            target.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            targets.append(target)
    except (OSError, ValueError) as exc:  # read-only, a parent that is a file, a NUL byte
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"--out: cannot write into '{out}': {problem}") from None
    for target in targets:
        click.echo(str(target))


@cli.group()
def slo() -> None:
    """SLO arithmetic."""


@slo.command("explain")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def slo_explain(files: tuple[Path, ...], fmt: str) -> None:
    """Per SLO: objective, window, error budget and the multi-window burn-rate alert table.
    Any SLO format (detected by content, as validate does); give several files when an OpenSLO
    SLO refers to an SLI or DataSource in another."""
    from chaos_suite.files.explain import explain_json, explain_text
    from chaos_suite.files.loader import load_slos

    specs = load_slos(list(files))
    if fmt == "json":
        click.echo(json.dumps(explain_json(specs), indent=2))
    else:
        click.echo(explain_text(specs))


@slo.command("rules")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--windows", default=None, metavar="google|sloth|pyrra|FILE",
              help="alert windows: a built-in set, or a YAML file of {severity, long, short, "
                   "factor, for} rows [default: the set of the tool that owns each SLO, as "
                   "`slo explain` shows]")
@click.option("--eval-interval", "eval_interval", default=None, metavar="DURATION",
              help="the rule groups' evaluation interval, e.g. 1s for a gameday's short windows "
                   "[default: Prometheus's global one]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write the rule file here instead of stdout")
def slo_rules(files: tuple[Path, ...], windows: str | None, eval_interval: str | None,
              out: Path | None) -> None:
    """A Prometheus rule file for SLOs with a Prometheus source: error-ratio recording rules
    named as Sloth names them (slo:sli_error:ratio_rate5m ...) and multi-window, multi-burn-rate
    page and ticket alerts. It passes `promtool check rules`."""
    from chaos_suite.detection.rules import generate_rules
    from chaos_suite.detection.window_file import load_window_set
    from chaos_suite.detection.windows import BUILTIN_SETS, WindowSet
    from chaos_suite.files.loader import load_slos
    from chaos_suite.slo.duration import parse_duration

    interval = None
    if eval_interval is not None:
        try:
            interval = parse_duration(eval_interval, maximum=MAX_PHASE_SECONDS)
        except ValueError as exc:
            raise InputError(f"--eval-interval: {exc}") from None
    chosen: str | WindowSet | None = windows
    if windows is not None and windows not in BUILTIN_SETS:
        chosen = load_window_set(Path(windows))
    text = generate_rules(load_slos(list(files)), chosen, interval, [str(f) for f in files])
    _write_out(text, out)


# ---------------------------------------------------------------- runs

FAIL_ON_METAVAR = "deviated,worse,inconclusive,aborted"
FAIL_ON_HELP = ("only these fail the run: exit 1 (deviated, worse, inconclusive) or 3 (aborted), "
                "else 0; 2 and 4 always stand [default: the exit codes above]")


@cli.command("run")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--slos", "slo_file", required=True, type=click.Path(path_type=Path),
              help="SLO file whose SLOs become the steady-state hypothesis")
@click.option("--slo", "slo_names", multiple=True, help="only these SLOs (default: all in the file)")
@click.option("--env", "env", default="local", show_default=True, help="environment name or file")
@click.option("--load", "locustfile", type=click.Path(path_type=Path), default=None,
              help="locustfile (default: loadtests/checkout.py)")
@click.option("--shape", type=click.Choice(["steady", "ramp", "step", "spike"]), default="steady",
              show_default=True, help="load profile shape")
@click.option("--users", type=int, default=20, show_default=True)
@click.option("--baseline", default="10s", show_default=True)
@click.option("--cooldown", default="5s", show_default=True)
@click.option("--max-budget", "max_budget", default=None,
              help="expected max budget consumed per SLO, e.g. 0.05% (default: the whole budget)")
@click.option("--confirm", default=None, help="confirm running against this environment")
@click.option("--dry-run", is_flag=True, help="validate and print the plan; inject nothing")
@click.option("--recover", "recover_first", is_flag=True, help="revert pending faults first")
@click.option("--reports", "reports_dir", type=click.Path(path_type=Path), default=Path("reports"))
@click.option("--fail-on", "fail_on", default=None, metavar=FAIL_ON_METAVAR, help=FAIL_ON_HELP)
def run_cmd(experiment: Path, slo_file: Path, slo_names: tuple[str, ...], env: str,
            locustfile: Path | None, shape: str, users: int, baseline: str, cooldown: str,
            max_budget: str | None, confirm: str | None, dry_run: bool, recover_first: bool,
            reports_dir: Path, fail_on: str | None) -> None:
    """Run one experiment under load and print the verdict (for CI)."""
    from chaos_suite.gameday.runner import run_gameday
    from chaos_suite.gameday.single import plan_for_single_experiment
    from chaos_suite.report.outcome import parse_fail_on

    conditions = parse_fail_on(fail_on)
    _check_reports_dir(reports_dir)
    resolved = plan_for_single_experiment(
        experiment=experiment, slo_file=slo_file, slo_names=list(slo_names), env=env,
        locustfile=locustfile, shape=shape, users=users, baseline=baseline, cooldown=cooldown,
        max_budget=max_budget,
    )
    if not dry_run:
        _starting()
    outcome = run_gameday(resolved, reports_dir=reports_dir, confirm=confirm, dry_run=dry_run,
                          recover_first=recover_first, fail_on=conditions)
    sys.exit(outcome.exit_code)


@cli.group()
def gameday() -> None:
    """Run gamedays and take notes during them."""


@gameday.command("run")
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--env", "env", default=None, help="environment name or file (default: the plan's)")
@click.option("--confirm", default=None, help="confirm running against this environment")
@click.option("--dry-run", is_flag=True, help="validate, resolve, check gates, print; inject nothing")
@click.option("--recover", "recover_first", is_flag=True, help="revert pending faults first")
@click.option("--reports", "reports_dir", type=click.Path(path_type=Path), default=Path("reports"))
@click.option("--fail-on", "fail_on", default=None, metavar=FAIL_ON_METAVAR, help=FAIL_ON_HELP)
def gameday_run(plan: Path, env: str | None, confirm: str | None, dry_run: bool,
                recover_first: bool, reports_dir: Path, fail_on: str | None) -> None:
    """Run a whole gameday; writes a run directory under reports/."""
    from chaos_suite.files.loader import resolve_plan
    from chaos_suite.gameday.runner import run_gameday
    from chaos_suite.report.outcome import parse_fail_on

    conditions = parse_fail_on(fail_on)
    _check_reports_dir(reports_dir)
    resolved = resolve_plan(plan, env_override=env)
    _say_remote_workers(resolved)
    if not dry_run:
        _starting()
    outcome = run_gameday(resolved, reports_dir=reports_dir, confirm=confirm, dry_run=dry_run,
                          recover_first=recover_first, fail_on=conditions)
    sys.exit(outcome.exit_code)


def _say_remote_workers(resolved: ResolvedPlan) -> None:
    """A plan with remote Locust workers: the command each remote machine runs, before the
    dry run's plan or the run (whose master then waits for them, load.workers_timeout)."""
    from chaos_suite.load.config import WILDCARD_BINDS, worker_command

    load = resolved.plan.load
    if not load.remote_workers or load.master_bind is None or load.master_port is None:
        return
    path = resolved.locustfile
    with contextlib.suppress(ValueError):
        path = path.resolve().relative_to(Path.cwd())
    everywhere = load.master_bind in WILDCARD_BINDS
    click.echo(f"load: {load.workers} Locust workers, {load.remote_workers} remote: run on each "
               f"remote machine (the same locustfile at that path"
               f"{'; HOST: an address of this machine it reaches' if everywhere else ''}):")
    click.echo("  " + worker_command(str(path), load.master_bind, load.master_port,
                                     "HOST" if everywhere else None))
    if load.master_bind != "127.0.0.1":
        click.echo(f"  the master listens on {load.master_bind}:{load.master_port} and takes "
                   "any worker that connects there: keep that port to trusted machines")


@gameday.command("note")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("text")
@click.option("--author", default=None, help="who observed it (default: $USER)")
def gameday_note(run_dir: Path, text: str, author: str | None) -> None:
    """Add a timestamped observation to a live or finished run."""
    from chaos_suite.gameday.record import append_note

    when = append_note(run_dir, text, author)
    click.echo(f"noted at {when}")


@gameday.command("action")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("text", required=False)
@click.option("--owner", default=None, help="who owns the action item")
@click.option("--due", default=None, help="due date, YYYY-MM-DD")
@click.option("--link", default=None, help="an http(s) link (ticket, runbook)")
@click.option("--done", "done_id", default=None, help="close the action item with this id")
def gameday_action(run_dir: Path, text: str | None, owner: str | None, due: str | None,
                   link: str | None, done_id: str | None) -> None:
    """Record an action item in a live or finished run, or close one with --done ID."""
    from chaos_suite.record.writer import append_action_item, close_action_item, utc_iso

    if done_id is not None:
        if text is not None or owner is not None or due is not None or link is not None:
            raise InputError("--done takes only the run directory and the id")
        done = close_action_item(run_dir, done_id)
        click.echo(f"{done.id} done at {utc_iso(done.t)}")
        return
    missing = [name for name, value in (("TEXT", text), ("--owner", owner), ("--due", due))
               if value is None]
    if missing:
        raise InputError(f"an action item needs {', '.join(missing)} (or --done ID)")
    assert text is not None and owner is not None and due is not None
    item = append_action_item(run_dir, text, owner, due, link)
    click.echo(f"{item.id} recorded at {utc_iso(item.t)}")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "formats", multiple=True,
              type=click.Choice(["json", "md", "junit", "html"]), help="default: json, md, junit")
def report(run_dir: Path, formats: tuple[str, ...]) -> None:
    """Re-render a run's report from its run record alone."""
    from chaos_suite.report import render_run

    written = render_run(run_dir, formats or ("json", "md", "junit"))
    for path in written.values():
        click.echo(str(path))


@cli.command("review")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--month", default=None, help="the calendar month YYYY-MM (UTC) [default: this month]")
@click.option("--since", default=None, help="start: YYYY-MM-DD or an ISO 8601 time (UTC)")
@click.option("--until", default=None, help="end, excluded; a date includes that day [default: now]")
@click.option("--service", default=None, help="only this service's runs")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="folder for review.{html,md,json} [default: reviews/<period>]")
@click.option("--format", "formats", default="html,md,json", show_default=True,
              help="comma-separated: html, md, json")
@click.option("--slos", "slo_files", multiple=True, type=click.Path(path_type=Path),
              help="SLO files: the service's SLOs for coverage, and the Prometheus queries of "
                   "its actual spend [default: the latest run's plan's]")
@click.option("--prometheus", "prometheus_url", default=None,
              help="Prometheus URL for the actual spend [default: the plan environment's]")
@click.option("--offline", is_flag=True, help="do not ask Prometheus for the actual spend")
def review_cmd(paths: tuple[Path, ...], month: str | None, since: str | None, until: str | None,
               service: str | None, out: Path | None, formats: str, slo_files: tuple[Path, ...],
               prometheus_url: str | None, offline: bool) -> None:
    """The service review of a period: runs, chaos's budget per SLO, verdicts per scenario and
    their changes, coverage, action items, from the run directories under PATHS."""
    from chaos_suite.review import choose_periods, parse_formats, run_review

    wanted = parse_formats(formats)
    periods = choose_periods(month, since, until)
    folder = out if out is not None else Path("reviews") / periods.current.label
    result = run_review(list(paths), periods, folder, wanted, service=service,
                        slo_files=list(slo_files), prometheus_url=prometheus_url, offline=offline)
    done = result.review
    click.echo(f"review {done.period.label}: {done.runs.total} runs, {len(done.services)} "
               f"services, {len(done.changed_verdicts)} changed verdicts, "
               f"{len(done.skipped)} skipped")
    for path in result.written.values():
        click.echo(str(path))


@cli.command()
@click.option("--state-dir", type=click.Path(path_type=Path), default=None)
@click.option("--kube-namespace", "kube_namespaces", multiple=True,
              help="also delete chaos_suite's Chaos Mesh resources of dead runs here, found by "
                   "label (repeatable)")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="kubeconfig of that sweep [default: $KUBECONFIG or ~/.kube/config]")
@click.option("--kube-context", default=None,
              help="context of that sweep [default: current; namespace: its namespace]")
def recover(state_dir: Path | None, kube_namespaces: tuple[str, ...], kubeconfig: str | None,
            kube_context: str | None) -> None:
    """Revert pending faults from the ledger and stop processes a killed run left behind. With
    any --kube-* option, also delete Chaos Mesh resources labelled by chaos_suite for runs that
    are not live (a ledger lost or on another machine)."""
    from chaos_suite.safety.recover import recover_all

    _check_state_dir(state_dir, must_exist=True)
    _starting()
    sweep = bool(kube_namespaces or kubeconfig or kube_context)
    actions = recover_all(state_dir, kube_namespaces=list(kube_namespaces) or None,
                          kubeconfig=kubeconfig, kube_context=kube_context, sweep_kube=sweep)
    for line in actions:
        click.echo(line)
    if not actions:
        click.echo("nothing to recover")


# The state directory, as for `recover` and runs (not the target's own folder): the target lives
# in its target/ folder, where a run with the same $CHAOS_SUITE_STATE_DIR looks for it.
TARGET_STATE_HELP = "state directory [default: $CHAOS_SUITE_STATE_DIR or ~/.local/state/chaos-suite]"


@cli.group()
def load() -> None:
    """Load generation beyond one machine."""


@load.command("worker")
@click.option("--master", required=True, metavar="HOST:PORT",
              help="the Locust master of a run with load.workers (its host and port)")
@click.argument("locustfile", type=click.Path(path_type=Path))
def load_worker(master: str, locustfile: Path) -> None:
    """Run one Locust worker for a distributed run's master (on this or another machine).

    The worker counts requests with chaos_suite's plugin and sends each second to the master,
    which merges them exactly. It runs until the master stops it (exit 0); with its master gone
    (no heartbeat for 10 s) it stops its users by itself (exit 4). Any master it reaches may
    use it: run it only against your own."""
    import subprocess

    host, _, port = master.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--master: expected HOST:PORT, got {master!r}")
    if not locustfile.is_file():
        raise InputError(f"{locustfile}: no such locustfile")
    # Locust (and its gevent patching) runs only in the child, never in the CLI's process
    done = subprocess.run([sys.executable, "-m", "chaos_suite.load.worker", "--locust-worker",
                           f"{host}:{int(port)}", str(locustfile)], check=False)
    if done.returncode:
        sys.exit(2 if done.returncode == 2 else 4)


@cli.group()
def target() -> None:
    """The embedded local target, standing on its own."""


@target.command("up")
@click.option("--detach", is_flag=True, help="return once healthy; the target keeps running")
@click.option("--replicas", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--admin-port", type=click.IntRange(0, 65535), default=8081, show_default=True)
@click.option("--restart-delay", type=_Seconds(0.0, MAX_PHASE_SECONDS), default=2.0,
              show_default=True, help="seconds before a killed replica is restarted")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help=TARGET_STATE_HELP)
def target_up(detach: bool, replicas: int, port: int, admin_port: int, restart_delay: float,
              state_dir: Path | None) -> None:
    """Start the embedded checkout service (replicas + supervisor + admin API)."""
    from chaos_suite.safety.state import target_dir
    from chaos_suite.targets.local import start_target, stop_target

    _check_state_dir(state_dir, must_exist=False)
    state = target_dir(state_dir)
    _starting()
    info = start_target(state, replicas=replicas, port=port, admin_port=admin_port,
                        restart_delay_s=restart_delay, detach=True)
    click.echo(f"target up: {info.url} (admin {info.admin_url}, supervisor pid {info.supervisor_pid})")
    if detach:
        return
    import signal
    import time

    click.echo("Ctrl-C stops it")
    try:
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_target(state)
        click.echo("target down")


@target.command("status")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help=TARGET_STATE_HELP)
def target_status_cmd(state_dir: Path | None) -> None:
    """Show whether the standing target runs, its replicas and active faults."""
    from chaos_suite.safety.state import target_dir
    from chaos_suite.targets.local import target_status

    _check_state_dir(state_dir, must_exist=False)
    status = target_status(target_dir(state_dir))
    if status is None:
        click.echo("target: not running")
        sys.exit(1)
    click.echo(json.dumps(status, indent=2, default=str))


@target.command("down")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help=TARGET_STATE_HELP)
def target_down(state_dir: Path | None) -> None:
    """Stop the standing target; no process is left behind."""
    from chaos_suite.safety.state import target_dir
    from chaos_suite.targets.local import stop_target

    _check_state_dir(state_dir, must_exist=False)
    _starting()
    was = stop_target(target_dir(state_dir))
    click.echo("target down" if was else "target was not running")


# ---------------------------------------------------------------- schedule


@cli.group()
def schedule() -> None:
    """Kubernetes manifests to run a plan in the cluster (YAML on stdout or --out)."""


def _emit_manifests(docs: list[dict[str, Any]], out: Path | None) -> None:
    from chaos_suite.schedule import to_yaml

    text = to_yaml(docs)
    _write_out(text, out)


@schedule.command("cronjob")
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--schedule", "cron", required=True, help='cron expression, e.g. "0 3 * * 1-5"')
@click.option("--image", required=True, help="an image built from the repository's Dockerfile")
@click.option("--env", "env", default=None, help="environment name or file (default: the plan's)")
@click.option("--namespace", default=None, help="the job's namespace [default: the "
              "environment's target.namespace]")
@click.option("--confirm", default=None, help="passed to `gameday run` (never added otherwise)")
@click.option("--fail-on", "fail_on", default=None, metavar=FAIL_ON_METAVAR,
              help="passed to `gameday run`")
@click.option("--reports", "reports", type=click.Choice(["pvc", "emptydir"]), default="pvc",
              show_default=True, help="the /reports volume: a PersistentVolumeClaim or emptyDir")
@click.option("--reports-size", default="1Gi", show_default=True, help="the claim's size")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write the manifests here instead of stdout")
def schedule_cronjob(plan: Path, cron: str, image: str, env: str | None, namespace: str | None,
                     confirm: str | None, fail_on: str | None, reports: str, reports_size: str,
                     out: Path | None) -> None:
    """A CronJob running `chaos-suite gameday run` on a schedule, its ServiceAccount, RBAC
    derived from the plan's chaosk8s steps (no wildcards), a ConfigMap with the plan's files
    and a volume for the run records."""
    from chaos_suite.files.loader import resolve_plan
    from chaos_suite.report.outcome import parse_fail_on
    from chaos_suite.schedule import cronjob_manifests

    parse_fail_on(fail_on)
    resolved = resolve_plan(plan, env_override=env)
    _emit_manifests(cronjob_manifests(resolved, schedule=cron, image=image, namespace=namespace,
                                      confirm=confirm, fail_on=fail_on, reports=reports,
                                      reports_size=reports_size), out)


@schedule.command("locust")
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(1, 1000), default=2, show_default=True,
              help="worker replicas")
@click.option("--image", default="locustio/locust", show_default=True)
@click.option("--env", "env", default=None, help="environment name or file (default: the plan's)")
@click.option("--namespace", default=None, help="[default: the environment's target.namespace]")
@click.option("--operator", is_flag=True, help="a LocustTest (locust.io/v1) for the Locust "
              "Kubernetes operator instead of master and worker Deployments")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write the manifests here instead of stdout")
def schedule_locust(plan: Path, workers: int, image: str, env: str | None,
                    namespace: str | None, operator: bool, out: Path | None) -> None:
    """The plan's load inside the cluster: Locust master (Service on 5557 and 8089) and
    workers, the locustfile from a ConfigMap."""
    from chaos_suite.files.loader import resolve_plan
    from chaos_suite.schedule import locust_manifests

    resolved = resolve_plan(plan, env_override=env)
    _emit_manifests(locust_manifests(resolved, workers=workers, image=image,
                                     namespace=namespace, operator=operator), out)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    try:
        rv: Any = cli.main(args=argv, prog_name="chaos-suite", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted by the operator", 3)
    except click.exceptions.ClickException as exc:
        # usage errors: bad flags or arguments → 2 (one line, with the usage hint)
        _fail((exc.format_message().splitlines() or [type(exc).__name__])[0], 2)
    except ChaosSuiteError as exc:
        _fail(_one_line(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 3)
    except OSError as exc:
        # last resort: a path the OS refused (read-only, ENOSPC, ENAMETOOLONG) that no check
        # caught earlier; bad input unless the command may already have changed something
        _fail(_os_error_line(exc), 4 if _may_have_started else 2)
    except Exception as exc:  # noqa: BLE001 - no traceback may reach the user
        where = _write_traceback(exc)
        detail = f"{type(exc).__name__}: {_first_line(exc)}"
        kept = f"traceback in {where}" if where else "the traceback could not be written"
        _fail(f"internal error: {detail} ({kept})", 4)
    if isinstance(rv, int) and rv:
        sys.exit(rv)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _os_error_line(exc: OSError) -> str:
    names = [os.fsdecode(n) if isinstance(n, bytes) else str(n)
             for n in (exc.filename, exc.filename2) if n is not None]
    problem = exc.strerror or _first_line(exc)
    # a path can hold a newline; the message must stay one line
    where = " -> ".join(n if n.isprintable() else repr(n) for n in names)
    return f"{where}: {problem}" if where else problem


def _write_traceback(exc: BaseException) -> str | None:
    """Write the traceback under the state dir (else a temp file), private to the user: it
    may quote values from the environment. Returns where, or None if nothing could be written."""
    import tempfile
    import time
    import traceback

    from chaos_suite.safety.redact import Redactor, env_secrets
    from chaos_suite.safety.state import state_root

    text = Redactor(env_secrets()).text("".join(traceback.format_exception(exc)))
    name = f"crash-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}.txt"
    try:
        folder = state_root() / "crashes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (OSError, ValueError):
        try:
            fd, temp = tempfile.mkstemp(prefix="chaos-suite-crash-", suffix=".txt")
        except OSError:
            return None
        path = Path(temp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return None
    return str(path)


if __name__ == "__main__":
    main()
