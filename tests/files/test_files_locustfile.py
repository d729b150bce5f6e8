"""Locustfiles as users write them: `validate` imports one in a child process and says what it
defines (User classes, wait time, tasks, LoadTestShape), or one line naming the file and the
problem, exit 2. `validate DIR` covers every file type in the folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos_suite.errors import ValidationError
from chaos_suite.files.locustfile import inspect_locustfile

ROOT = Path(__file__).resolve().parents[2]

SHAPED = """\
from locust import FastHttpUser, LoadTestShape, constant_pacing, task


class Browser(FastHttpUser):
    wait_time = constant_pacing(0.5)

    @task(5)
    def home(self):
        self.client.get("/")

    @task
    def about(self):
        self.client.get("/about")


class Idle(FastHttpUser):
    @task
    def ping(self):
        self.client.get("/ping")


class TwoSteps(LoadTestShape):
    def tick(self):
        return (5, 5) if self.get_run_time() < 10 else None
"""

IMPORT_ERROR = """\
from locust import HttpUser, task

import no_such_module_for_chaos_suite_tests
"""

NO_USER = """\
from locust import HttpUser


class Base(HttpUser):
    abstract = True
"""

SYNTAX_ERROR = """\
from locust import HttpUser, task


class Shopper(HttpUser)
    pass
"""

GOOD = """\
from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.1, 0.2)

    @task
    def cart(self):
        self.client.get("/api/cart")
"""


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_the_bundled_locustfile() -> None:
    result = cli("validate", "loadtests/checkout.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ok: loadtests/checkout.py (locustfile: 1 user class: CheckoutShopper (between, 3 tasks); "
        "no LoadTestShape)")
    assert result.stderr == ""


def test_inspection_reports_users_wait_times_tasks_and_shapes(tmp_path: Path) -> None:
    info = inspect_locustfile(_write(tmp_path, "shaped.py", SHAPED))
    users = {u.name: (u.wait_time, u.tasks) for u in info.users}
    # a weight of 5 is one task; no wait_time is Locust's own default
    assert users == {"Browser": ("constant_pacing", 2), "Idle": ("default", 1)}
    assert info.shapes == ("TwoSteps",)


def test_inspection_never_imports_locust_into_the_caller(tmp_path: Path) -> None:
    path = _write(tmp_path, "shaped.py", SHAPED)
    code = ("import sys\nfrom pathlib import Path\n"
            "from chaos_suite.files.locustfile import inspect_locustfile\n"
            f"assert inspect_locustfile(Path({str(path)!r})).shapes == ('TwoSteps',)\n"
            "assert 'locust' not in sys.modules and 'gevent' not in sys.modules\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize(("text", "problem"), [
    (IMPORT_ERROR, "cannot import locustfile: ModuleNotFoundError: No module named "
                   "'no_such_module_for_chaos_suite_tests' (line 3)"),
    (NO_USER, "no User class (only abstract ones: Base)"),
    (SYNTAX_ERROR, "cannot import locustfile: syntax error line 4"),
], ids=["import-error", "no-user-class", "syntax-error"])
def test_a_bad_locustfile_is_one_line_exit_2(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, "bad.py", text)
    result = cli("validate", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"invalid: {path}: "), lines[0]
    assert problem in lines[0]
    assert "Traceback" not in result.stderr


def test_an_import_that_hangs_is_cut_off_and_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    path = _write(tmp_path, "hangs.py", (
        "import os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(600)\n"))
    started = time.monotonic()
    with pytest.raises(ValidationError, match="took longer than 2 s"):
        inspect_locustfile(path, timeout_s=2)
    assert time.monotonic() - started < 15
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_validate_dir_covers_every_file_type(tmp_path: Path) -> None:
    """SLOs, plan, environment, experiment and locustfiles side by side: each good one 'ok',
    each bad one a single line; a helper module that does not import locust is not a
    locustfile, and a virtualenv's packages are not looked in."""
    folder = tmp_path / "gameday"
    (folder / "slos").mkdir(parents=True)
    (folder / "environments").mkdir()
    (folder / "experiments").mkdir()
    shutil.copy(ROOT / "gamedays" / "slos" / "checkout.yaml", folder / "slos" / "checkout.yaml")
    shutil.copy(ROOT / "gamedays" / "environments" / "local.yaml",
                folder / "environments" / "local.yaml")
    shutil.copy(ROOT / "experiments" / "local-inject-errors.yaml",
                folder / "experiments" / "errors.yaml")
    _write(folder, "shop.py", GOOD)
    _write(folder, "helpers.py", "def sku(n):\n    return f'sku-{n}'\n")
    installed = folder / ".venv" / "lib" / "site-packages" / "lib"
    installed.mkdir(parents=True)
    _write(installed, "base.py", NO_USER)  # an installed package's module, not a locustfile
    _write(folder, "broken_import.py", IMPORT_ERROR)
    _write(folder, "no_user.py", NO_USER)
    _write(folder, "plan.yaml", (
        "apiVersion: chaos-suite/v1\nkind: Gameday\nname: mixed\nservice: checkout\n"
        "environment: local\nslos: slos/checkout.yaml\n"
        "load:\n  locustfile: shop.py\n"
        "scenarios:\n  - name: errors\n    experiment: experiments/errors.yaml\n"
        "    expect:\n      availability:\n        max_budget_consumed: 0.1%\n"))
    result = cli("validate", str(folder))
    assert result.returncode == 2
    bad = result.stderr.strip().splitlines()
    assert len(bad) == 2, result.stderr
    assert any("broken_import.py: cannot import locustfile: ModuleNotFoundError" in b for b in bad)
    assert any("no_user.py: no User class" in b for b in bad)
    ok = result.stdout.strip().splitlines()
    kinds = sorted(line.split("(", 1)[1].split(":", 1)[0] for line in ok)
    assert kinds == ["environment", "experiment", "gameday", "locustfile", "slos"], ok
    assert not any("helpers.py" in line for line in ok + bad)
