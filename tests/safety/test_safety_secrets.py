"""Secrets never reach the run record: a short real gameday whose experiment hands planted
secrets (a secret-looking environment variable, and a CTK `secrets` block with an inline value, an
env reference and a file) to actions that print them into the journal, under a locustfile that
prints, logs and fails requests with a token it reads from the environment. The values hold
backslashes, quotes, spaces, URL-special and non-ASCII characters, so that each file's own
encoding (JSON, repr, URL) changes them. Afterwards no file of the run directory or the state
directory holds any planted value in any encoding, and the mask shows the values did reach the
record."""

from __future__ import annotations

import secrets
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import (
    assert_no_survivors,
    events,
    only_run_dir,
    run_cli,
    run_pids,
    write_plan,
)
from test_safety_redact import forms_of

pytestmark = pytest.mark.slow

MASK = b"***"


def process_action(name: str, path: str, arguments: str | list[str]) -> dict[str, Any]:
    # a CTK process provider: its stdout lands in the journal, substituted secrets included;
    # chaoslib also logs the argument list as a repr into chaostoolkit.log
    return {"type": "action", "name": name,
            "provider": {"type": "process", "path": path, "arguments": arguments}}


def leaking_experiment(inline: str, secret_file: Path) -> dict[str, Any]:
    return {
        "title": "secrets reach the activities",
        "description": "echo every planted secret so that it lands in the journal",
        "configuration": {"api_token": {"type": "env", "key": "CHECKOUT_API_TOKEN"}},
        "secrets": {"checkout": {
            "inline_token": inline,
            "env_token": {"type": "env", "key": "PLANTED_SECRET"},
            "file_token": {"type": "file", "path": str(secret_file)},
        }},
        "method": [
            # a list, not a shell line: the values hold quotes
            process_action("echo-secrets", "echo",
                           ["inline=${inline_token}", "env=${env_token}", "api=${api_token}"]),
            process_action("cat-secret-file", "cat", str(secret_file)),
        ],
        "rollbacks": [process_action("echo-again", "echo", ["rollback", "${env_token}"])],
    }


# checkout traffic for the SLOs, and every way a locustfile can spill a token it was given
LEAKY_LOCUSTFILE = """
import logging
import os
import sys

from locust import FastHttpUser, between, task

TOKEN = os.environ["CHECKOUT_API_TOKEN"]
print(f"stdout token={TOKEN}")
print(f"stderr token={TOKEN!r}", file=sys.stderr)
logging.getLogger("leaky").warning("logged token %s", TOKEN)


class Shopper(FastHttpUser):
    wait_time = between(0.01, 0.05)

    @task(3)
    def products(self):
        self.client.get("/api/products", name="GET /api/products")

    @task(1)
    def cart(self):
        with self.client.get("/api/cart", name="GET /api/cart", catch_response=True) as resp:
            resp.failure(f"bad token {TOKEN}")
"""


def leaks(run_dir: Path, planted: dict[str, str]) -> list[str]:
    """'file: secret name (encoding): context' for every planted value found in any file, in any
    of its encodings (as bytes)."""
    found: list[str] = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for name, value in planted.items():
            for encoding, form in forms_of(value).items():
                at = data.find(form.encode())
                if at >= 0:
                    context = data[max(0, at - 80):at + len(form) + 40].decode(errors="replace")
                    found.append(f"{path.relative_to(run_dir)}: {name} ({encoding}): "
                                 f"…{context}…")
    return found


def files_with_mask(run_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*")
                  if p.is_file() and MASK in p.read_bytes())


def test_planted_secrets_never_reach_the_run_directory(tmp_path: Path, isolated_state: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {
        "CHECKOUT_API_TOKEN": f'api\\tok"en-{secrets.token_hex(8)}',  # the repr doubles the \\
        "PLANTED_SECRET": f"env secret/&'{secrets.token_hex(8)}",
        "inline": f"in\\line 's3cr\"et'-{secrets.token_hex(8)}",
        "file": f"filé-sécret-{secrets.token_hex(8)}",
    }
    monkeypatch.setenv("CHECKOUT_API_TOKEN", planted["CHECKOUT_API_TOKEN"])
    monkeypatch.setenv("PLANTED_SECRET", planted["PLANTED_SECRET"])
    secret_file = tmp_path / "token.txt"
    secret_file.write_text(planted["file"] + "\n", encoding="utf-8")
    plan = write_plan(tmp_path / "plan", [{
        "name": "leaky",
        "experiment": leaking_experiment(planted["inline"], secret_file),
        "expect": {"availability": {"max_budget_consumed": "5%"}},
    }], baseline="2s", cooldown="1s", users=5)
    locustfile = tmp_path / "leaky_locustfile.py"
    locustfile.write_text(textwrap.dedent(LEAKY_LOCUSTFILE), encoding="utf-8")
    doc = yaml.safe_load(plan.read_text(encoding="utf-8"))
    doc["load"]["locustfile"] = str(locustfile)
    plan.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    reports = tmp_path / "reports"

    result = run_cli("gameday", "run", str(plan), "--reports", str(reports), timeout=180)

    run_dir = only_run_dir(reports)
    try:
        assert result.returncode in (0, 1), result.stderr
        # the experiment really ran and printed: the journal holds the echo's masked output
        journals = list((run_dir / "journals").glob("*.json"))
        assert len(journals) == 1, journals
        assert any(e["type"] == "phase_ended" and e.get("scenario") == "leaky"
                   for e in events(run_dir))
        assert leaks(run_dir, planted) == []
        assert leaks(isolated_state, planted) == []  # the global ledger and run registry
        masked = files_with_mask(run_dir)
        assert any(name.startswith("journals/") for name in masked), masked
        journal = journals[0].read_text(encoding="utf-8")
        assert "inline=*** env=*** api=***" in journal
        # chaoslib's repr of the argument list, and the locustfile's prints and logs
        ctk_log = (run_dir / "chaostoolkit.log").read_text(encoding="utf-8")
        # (repr quotes the env value with " since it holds a ')
        assert """'inline=***', "env=***", 'api=***'""" in ctk_log, ctk_log
        locust_log = (run_dir / "locust.log").read_text(encoding="utf-8")
        for masked_line in ("stdout token=***", "stderr token='***'", "logged token ***"):
            assert masked_line in locust_log, locust_log
        # nor on the terminal: the runner's own output is part of what a gameday records
        for value in planted.values():
            for form in forms_of(value).values():
                assert form not in result.stdout and form not in result.stderr
    finally:
        assert_no_survivors(run_pids(run_dir))
