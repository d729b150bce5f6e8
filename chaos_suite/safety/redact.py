"""Secrets never reach a log, journal, run record or report: every string written by a run is
scrubbed of known secret values (CTK secrets of the experiments, secret-looking environment
variables, and values read from secret files)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSW(OR)?D|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)",
                         re.IGNORECASE)
MIN_LEN = 4  # shorter values would mask innocent text everywhere


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is masked whole
        self._values = sorted({v for v in values if isinstance(v, str) and len(v) >= MIN_LEN},
                              key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, value: str) -> str:
        for secret in self._values:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def __call__(self, obj: Any) -> Any:
        if not self._values:
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
