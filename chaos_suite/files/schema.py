"""JSON Schema for each own file type, generated from the same models that validate the files."""

from __future__ import annotations

from typing import Any


def all_schemas() -> dict[str, dict[str, Any]]:
    from chaos_suite.files.environment import EnvironmentModel
    from chaos_suite.files.plan import GamedayModel
    from chaos_suite.files.slo_file import SLOFileModel

    out: dict[str, dict[str, Any]] = {}
    for name, model in (("slos", SLOFileModel), ("gameday", GamedayModel),
                        ("environment", EnvironmentModel)):
        doc = model.model_json_schema(mode="validation")
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["$id"] = f"https://chaos-suite.dev/schema/v1/{name}.schema.json"
        out[name] = doc
    return out
