"""JSON Schema for each own file type and for the run record, generated from the same models
that validate and write them."""

from __future__ import annotations

from typing import Any


def all_schemas() -> dict[str, dict[str, Any]]:
    from chaos_suite.files.environment import EnvironmentModel
    from chaos_suite.files.plan import GamedayModel
    from chaos_suite.files.slo_file import SLOFileModel
    from chaos_suite.record.models import RunRecordFiles

    out: dict[str, dict[str, Any]] = {}
    # "run": the run record a run writes (docs/architecture.md §4), keyed by file name; a
    # plan.json without `version` is the pre-v1 layout
    for name, model in (("slos", SLOFileModel), ("gameday", GamedayModel),
                        ("environment", EnvironmentModel), ("run", RunRecordFiles)):
        doc = model.model_json_schema(mode="validation")
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["$id"] = f"https://chaos-suite.dev/schema/v1/{name}.schema.json"
        out[name] = doc
    return out
