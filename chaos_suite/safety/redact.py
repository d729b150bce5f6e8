"""Secrets never reach a log, journal, run record or report: every string written by a run is
scrubbed of known secret values (CTK secrets of the experiments, secret-looking environment
variables, and values read from secret files), in every form a value takes in those files."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Names that hold credentials: environment variables here, a kubeconfig exec plugin's env entries
# (faults.kubernetes). One pattern, so both mask the same names. Bare KEY covers API_KEY,
# PRIVATE_KEY, ACCESS_KEY, SIGNING_KEY...: masking a harmless value is the safe mistake.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW(OR)?D|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
MIN_LEN = 4  # shorter values would mask innocent text everywhere


def _repr_body(value: str, quote_char: str) -> str:
    # repr() escapes char by char, but picks the quote itself; both styles occur in logs
    return "".join("\\" + ch if ch == quote_char else repr(ch)[1:-1] for ch in value)


def encodings(value: str) -> set[str]:
    """The forms `value` takes in what a run writes: as is, inside a JSON string (ASCII-escaped
    or not), inside a Python repr (either quote style), shell-quoted, URL-encoded."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        _repr_body(value, "'"),
        _repr_body(value, '"'),
        shlex.quote(value),
        value.replace("'", "'\"'\"'"),  # shlex.quote's body, inside a longer quoted word
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
    }


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        secrets = {v for v in values if isinstance(v, str) and len(v) >= MIN_LEN}
        # line-by-line streams (worker logs) never see a multi-line secret whole
        secrets |= {line for v in secrets for line in v.splitlines() if len(line) >= MIN_LEN}
        # longest first, so a secret (or form) containing another is masked whole
        self._forms = sorted({form for v in secrets for form in encodings(v)},
                             key=lambda form: (-len(form), form))

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, value: str) -> str:
        # again until nothing matches: a mask next to text (or to another mask) can complete a
        # form; each replacement shortens the text (forms are longer than MASK), so this ends
        changed = True
        while changed:
            changed = False
            for form in self._forms:
                if form in value:
                    value = value.replace(form, MASK)
                    changed = True
        return value

    def __call__(self, obj: Any) -> Any:
        if not self._forms:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(k) if isinstance(k, str) else k: self(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self(v) for v in obj]
        return obj


def env_secrets(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if SECRET_NAME.search(k)]


def _declared_values(node: Any, environ: dict[str, str]) -> list[str]:
    """Values of a CTK `secrets` block: inline strings, env references, files."""
    out: list[str] = []
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind == "env" and "key" in node:
            value = environ.get(str(node["key"]))
            if value:
                out.append(value)
        elif kind == "file" and "path" in node:
            try:
                with open(str(node["path"]), encoding="utf-8") as handle:
                    out.extend(line.strip() for line in handle if line.strip())
            except OSError:
                pass
        else:
            for value in node.values():
                out.extend(_declared_values(value, environ))
    elif isinstance(node, list):
        for value in node:
            out.extend(_declared_values(value, environ))
    return out


def experiment_secrets(experiments: Iterable[dict[str, Any]],
                       environ: dict[str, str] | None = None) -> list[str]:
    env = dict(os.environ if environ is None else environ)
    out: list[str] = []
    for experiment in experiments:
        out.extend(_declared_values(experiment.get("secrets") or {}, env))
    return out


def redactor_for(experiments: Iterable[dict[str, Any]]) -> Redactor:
    from chaos_suite.faults.kubernetes import kubeconfig_secrets

    # kubeconfig tokens and keys too: chaosk8s actions may echo API errors that quote them
    return Redactor([*env_secrets(), *experiment_secrets(experiments), *kubeconfig_secrets()])
