"""The redactor masks a secret in every form it takes in the files a run writes (as is, inside
a JSON string, inside a Python repr, shell-quoted, URL-encoded), and the load worker's output
(prints, logs, anything user code writes) reaches its log only through it."""

from __future__ import annotations

import json
import logging
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.stub_target import StubTarget
from support.synthetic import standard_run

from chaos_suite.cli import main
from chaos_suite.load.runner import LoadProcess
from chaos_suite.safety.redact import MASK, MIN_LEN, Redactor

SECRETS = [
    'ab\\cd"ef',  # the backslash and quote that chaoslib's repr used to leak
    "it's s3cret",  # single quote and a space
    "both 'single' and \"double\"",
    "a&b=c/d?e f",  # URL-special characters
    "pässwörd-雪☃",  # non-ASCII
    "tab\tand\\nbackslash-n",
]


def forms_of(secret: str) -> dict[str, str]:
    """Each encoding as the library producing it writes it (independently of the redactor)."""
    return {
        "plain": secret,
        "json": json.dumps(secret)[1:-1],
        "json-utf8": json.dumps(secret, ensure_ascii=False)[1:-1],
        "repr": repr(secret)[1:-1],
        # with both quotes inside, repr picks '...' and escapes the single quotes
        "repr-single": repr(secret + '"')[1:-2],
        "shell": shlex.quote(secret),
        "url": quote(secret),
        "url-all": quote(secret, safe=""),
        "url-plus": quote_plus(secret),
    }


ENCODINGS = sorted(forms_of("x"))


def leaked(text: str, secret: str) -> list[str]:
    return sorted(name for name, form in forms_of(secret).items() if form in text)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("secret", SECRETS)
def test_every_encoding_is_masked(secret: str, encoding: str) -> None:
    text = f"before {forms_of(secret)[encoding]} after"
    out = Redactor([secret]).text(text)
    assert leaked(out, secret) == []
    assert out.startswith("before ") and out.endswith(" after") and MASK in out


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_inside_real_serializations(secret: str) -> None:
    redact = Redactor([secret])
    written = [
        json.dumps({"output": f"token={secret}"}),  # a journal
        json.dumps({"output": f"token={secret}"}, ensure_ascii=False),
        f"{dict(token=secret)!r}",  # an exception message quoting its arguments
        logging.Formatter("%(message)s").format(logging.LogRecord(
            "chaostoolkit", logging.INFO, __file__, 1, "args: %r", ([secret],), None)),
        shlex.join(["curl", "-H", f"Authorization: Bearer {secret}", "https://x"]),
        f"GET /checkout?{urlencode({'token': secret, 'n': 1})}",
        f"GET /checkout/{quote(secret)}/items",
    ]
    for line in written:
        out = redact.text(line)
        assert leaked(out, secret) == [], (line, out)
        assert MASK in out, (line, out)


@settings(max_examples=300, deadline=None)
@given(secret=st.text(min_size=MIN_LEN, max_size=24), before=st.text(max_size=12),
       after=st.text(max_size=12), encoding=st.sampled_from(ENCODINGS))
def test_no_encoding_survives(secret: str, before: str, after: str, encoding: str) -> None:
    out = Redactor([secret]).text(before + forms_of(secret)[encoding] + after)
    assert leaked(out, secret) == []
    assert MASK in out


def test_short_values_are_not_secrets() -> None:
    short = "x" * (MIN_LEN - 1)
    redact = Redactor([short])
    assert not redact
    assert redact.text(f"a {short} b") == f"a {short} b"


def test_a_secret_containing_another_is_masked_whole() -> None:
    redact = Redactor(["abcd", "xx-abcd-yy"])
    assert redact.text("1 xx-abcd-yy 2 abcd 3") == "1 *** 2 *** 3"


def test_mask_next_to_a_secret_made_of_mask_characters() -> None:
    # one pass would leave '****' behind: the mask plus the star before it
    assert Redactor(["****"]).text("a *****") == "a ***"


def test_multiline_secret_masked_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0\n-----END KEY-----"
    redact = Redactor([key])
    assert redact.text(f"key={key}!") == "key=***!"
    # a log read line by line sees one line of the key at a time
    assert [redact.text(line) for line in f"x {key} y".splitlines()] == ["x ***", "***", "*** y"]


def test_structures_are_redacted_keys_and_values() -> None:
    secret = 'ab\\cd"ef'
    obj: dict[str, Any] = {secret: [secret, (repr(secret), 3)], "n": 1, "none": None,
                           "nested": {"json": json.dumps(secret)}}
    out = Redactor([secret])(obj)
    assert out == {MASK: [MASK, ["'***'", 3]], "n": 1, "none": None,
                   "nested": {"json": '"***"'}}


def test_a_note_quoting_a_secret_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = 'no\\te "tok"'
    monkeypatch.setenv("OPS_API_TOKEN", secret)
    run_dir = standard_run().write(tmp_path / "run")
    main(["gameday", "note", str(run_dir), f"pasted: curl -H {shlex.quote(secret)}"])
    notes = (run_dir / "notes.jsonl").read_text(encoding="utf-8")
    assert leaked(notes, secret) == [] and "pasted: curl -H ***" in notes


# -- the load worker's output -------------------------------------------------------------------

LEAKY_LOCUSTFILE = """
import gc
import logging
import os
import sys

from locust import FastHttpUser, constant, events, task

TOKEN = os.environ["CHECKOUT_API_TOKEN"]
print(f"stdout token={TOKEN}")
print(f"stderr token={TOKEN!r}", file=sys.stderr)
logging.getLogger("lf").warning("logged token %s", TOKEN)


@events.test_start.add_listener
def _write_into_the_protocol(**_kw):
    # user code writing to the worker's protocol stream itself, after "ready"
    for obj in gc.get_objects():
        if type(obj).__name__ == "_Protocol":
            obj._stream.write(f"not json: {TOKEN}\\n[1, 2]\\n")
            obj._stream.flush()


class U(FastHttpUser):
    wait_time = constant(0.05)
    told = False

    @task
    def t(self):
        with self.client.get("/ok", catch_response=True) as resp:
            if not U.told:
                U.told = True
                resp.failure(f"bad token {TOKEN}")
"""


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget(error_every=1000).start()
    try:
        yield target
    finally:
        target.stop()


def test_load_worker_output_reaches_its_log_redacted(stub: StubTarget, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    secret = 'tok\\en"-' + "x" * 8
    monkeypatch.setenv("CHECKOUT_API_TOKEN", secret)
    locustfile = tmp_path / "leaky.py"
    locustfile.write_text(textwrap.dedent(LEAKY_LOCUSTFILE), encoding="utf-8")
    log_path = tmp_path / "locust.log"
    samples: list[dict[str, Any]] = []
    load = LoadProcess({"locustfile": str(locustfile), "host": stub.url,
                        "shape": {"kind": "steady", "users": 2, "duration_s": 3},
                        "log_file": str(tmp_path / "locust-own.log")},
                       samples.append, log_path=log_path, redact=Redactor([secret]).text)
    try:
        load.start()
        summary = load.wait(30)
    finally:
        load.stop()

    assert summary["status"] == "completed"
    # the stray protocol lines did not break sampling
    assert len(samples) >= 2 and summary["locust"]["requests"] > 0
    assert not (tmp_path / "locust-own.log").exists()  # the worker wrote no log of its own
    logged = log_path.read_text(encoding="utf-8")
    for where in ("stdout token=***", "stderr token='***'", "logged token ***",
                  "not json: ***", "[1, 2]"):
        assert where in logged, (where, logged)
    assert leaked(logged, secret) == []
    assert leaked("\n".join(load.stderr_tail), secret) == []
