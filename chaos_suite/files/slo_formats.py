"""The SLO formats teams keep, told apart by content and read onto one model
(docs/architecture.md §1): chaos_suite's own `kind: SLOs`, OpenSLO v1 and v1alpha, Sloth
(`prometheus/v1` and `sloth.slok.dev/v1`) and Pyrra (`pyrra.dev/v1alpha1`). A file may hold
several documents of these formats; an OpenSLO SLO may refer to SLIs, DataSources and alert
objects of the other files read with it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chaos_suite.errors import ValidationError
from chaos_suite.files import openslo, pyrra, sloth
from chaos_suite.files.intake import Intake, OpenSLOObject, at
from chaos_suite.files.slo_file import LoadSource, SLOSpec, read_own_format

OWN = "chaos-suite"
OPENSLO = "openslo"
SLOTH = "sloth"
PYRRA = "pyrra"


def slo_format(doc: Any) -> str | None:
    """Which SLO format a document is written in, by its content; None if it is no SLO document."""
    if not isinstance(doc, dict):
        return None
    api = str(doc.get("apiVersion", ""))
    if doc.get("kind") == "SLOs" and api in ("", "chaos-suite/v1"):
        return OWN
    if api.startswith("openslo/"):
        return OPENSLO
    if sloth.is_sloth(doc):
        return SLOTH
    if pyrra.is_pyrra(doc):
        return PYRRA
    return None


def prefix_of(index: int, count: int) -> str:
    """How messages name a document: by its index when the file holds several."""
    return f"documents[{index}]" if count > 1 else ""


@dataclass(frozen=True)
class SLOFile:
    """An SLO file's documents, as read by files/documents.py."""

    file: str
    docs: Sequence[Any]


def collect_objects(files: Iterable[SLOFile], strict: bool,
                    known: dict[tuple[str, str], OpenSLOObject] | None = None
                    ) -> dict[tuple[str, str], OpenSLOObject]:
    """The OpenSLO v1 objects other than SLOs (SLI, DataSource, Service, alert objects) of the
    files, by kind and name. `strict`: a bad or twice-defined object is an error; otherwise it
    is skipped (it is reported when its own file is validated)."""
    objects = dict(known or {})
    for slo_file in files:
        for index, doc in enumerate(slo_file.docs):
            if not (isinstance(doc, dict) and doc.get("apiVersion") == openslo.V1
                    and doc.get("kind") in openslo.OBJECT_KINDS):
                continue
            prefix = prefix_of(index, len(slo_file.docs))
            try:
                obj = openslo.read_object(doc, slo_file.file, prefix)
            except ValidationError:
                if strict:
                    raise
                continue
            other = objects.get((obj.kind, obj.name))
            if other is not None:
                if strict:
                    where = other.file if other.file != slo_file.file else "this file"
                    raise ValidationError(slo_file.file, at(prefix, "metadata.name"),
                                          f"{obj.kind} '{obj.name}' is defined twice (also in "
                                          f"{where}{', ' + other.at if other.at else ''})")
                continue
            objects[(obj.kind, obj.name)] = obj
    return objects


def read_documents(slo_file: SLOFile, intake: Intake) -> list[SLOSpec]:
    """Every SLO of one file's documents; its other OpenSLO objects must be in `intake`."""
    file, docs = slo_file.file, slo_file.docs
    specs: list[SLOSpec] = []
    for index, doc in enumerate(docs):
        prefix = prefix_of(index, len(docs))
        fmt = slo_format(doc)
        if fmt is None:
            raise ValidationError(file, prefix, "not an SLO document (expected kind: SLOs, an "
                                  "OpenSLO, Sloth or Pyrra document)")
        if fmt == OWN:
            specs += read_own_format(doc, file, prefix)
        elif fmt == SLOTH:
            specs += sloth.read_sloth(doc, file, prefix, intake)
        elif fmt == PYRRA:
            specs += pyrra.read_pyrra(doc, file, prefix, intake)
        else:
            specs += _read_openslo(doc, file, prefix, intake)
    return specs


def _read_openslo(doc: dict[str, Any], file: str, prefix: str, intake: Intake) -> list[SLOSpec]:
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if api == openslo.V1ALPHA:
        if kind == "Service":
            return []  # v1alpha's other kind: a name SLOs refer to, nothing to measure
        return openslo.read_alpha_slo(doc, file, prefix, intake)
    if api != openslo.V1:
        raise ValidationError(file, at(prefix, "apiVersion"), f"unsupported OpenSLO version "
                              f"{str(api)[:40]!r} (supported: openslo/v1, openslo/v1alpha)")
    if kind == "SLO":
        return openslo.read_slo(doc, file, prefix, intake)
    if kind in openslo.OBJECT_KINDS:
        return []  # validated and kept by collect_objects
    raise ValidationError(file, at(prefix, "kind"), f"unknown OpenSLO kind {str(kind)[:40]!r} "
                          f"(expected one of {', '.join(openslo.KINDS)})")


def read_slo_files(files: Sequence[SLOFile], *, now: datetime,
                   count_from_load: frozenset[str] = frozenset(),
                   others: Sequence[SLOFile] = ()) -> list[SLOSpec]:
    """All SLOs of `files` (names unique across them). `others`: files given alongside whose
    OpenSLO objects may be referred to, but whose own errors are not these files' errors."""
    known = collect_objects(others, strict=False)
    objects = collect_objects(files, strict=True, known=known)
    intake = Intake(now=now, count_from_load=count_from_load, objects=objects)
    specs: list[SLOSpec] = []
    first_file: dict[str, str] = {}
    for slo_file in files:
        for spec in read_documents(slo_file, intake):
            if spec.name in first_file:
                also = "" if first_file[spec.name] == slo_file.file else \
                    f" (also defined in {first_file[spec.name]})"
                raise ValidationError(slo_file.file, at(spec.document, "") or "slos",
                                      f"duplicate SLO name(s): {spec.name}{also}")
            first_file[spec.name] = slo_file.file
            if spec.name in count_from_load and not isinstance(spec.source, LoadSource):
                # the plan's word goes, whatever the file's source: counted client-side
                spec = replace(spec, source=LoadSource(), slo=replace(spec.slo, source="load"))
            specs.append(spec)
    return specs


def describe(slo_file: SLOFile, specs: list[SLOSpec]) -> str:
    """validate's summary of an SLO file: its SLOs, their formats and what else it holds."""
    others = Counter(str(doc.get("kind")) for doc in slo_file.docs
                     if isinstance(doc, dict) and doc.get("kind") in openslo.OBJECT_KINDS)
    extra = ", ".join(f"{count} {kind}" for kind, count in sorted(others.items()))
    if not specs:
        return f"no SLO, only {extra}" if extra else "no SLO"
    names = ", ".join(spec.name for spec in specs)
    formats = ", ".join(sorted({spec.origin for spec in specs}))
    return f"{names} ({formats}; {extra})" if extra else f"{names} ({formats})"
