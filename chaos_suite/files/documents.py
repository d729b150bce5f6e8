"""A file's documents, whatever the file's name says (docs/architecture.md §3 step 1): JSON (an
object or a list of them) or YAML (one document or several), and the items of a top-level list
or of a Kubernetes `kind: List` as documents of their own. Every command reads files through
this, so a file is the same thing to `validate`, `slo explain`, a plan and `run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import load_yaml_documents, read_text_file


def load_documents(path: Path) -> list[Any]:
    """The file's documents, lists flattened one level. Raises a one-line ValidationError for a
    file that cannot be read or parsed, or holds nothing."""
    text = read_text_file(path)
    if path.suffix == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if path.suffix == ".json":
                raise ValidationError(str(path), "", f"malformed JSON: line {exc.lineno}: "
                                      f"{exc.msg}") from None
            # YAML flow style starts with '{' or '[' too and is not JSON; YAML decides
        except RecursionError:
            raise ValidationError(str(path), "", "malformed JSON: nested too deeply") from None
        else:
            docs = _flatten([data])
            if not docs:
                raise ValidationError(str(path), "", "file is empty")
            return docs
    docs = _flatten(load_yaml_documents(path))
    if not docs:
        raise ValidationError(str(path), "", "file is empty")
    return docs


def _flatten(docs: list[Any]) -> list[Any]:
    """A top-level list contributes its items (YAML or JSON), as does a Kubernetes `kind: List`
    (what `kubectl get -o yaml` writes); nothing else is unpacked."""
    out: list[Any] = []
    for doc in docs:
        if isinstance(doc, list):
            out.extend(doc)
        elif (isinstance(doc, dict) and doc.get("kind") == "List"
              and isinstance(doc.get("items"), list) and set(doc) <= {"apiVersion", "kind",
                                                                      "items", "metadata"}):
            out.extend(doc["items"])
        elif doc is not None:
            out.append(doc)
    return out
