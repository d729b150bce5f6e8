"""The run record's writer now lives in chaos_suite/record (docs/architecture.md §4); these names
stay importable from here for the CLI's `gameday note`."""

from __future__ import annotations

from chaos_suite.record.models import EVENTS, JOURNALS, NOTES, PLAN, SAMPLES
from chaos_suite.record.writer import RunRecordWriter, append_note, run_id_for, utc_iso

__all__ = ["EVENTS", "JOURNALS", "NOTES", "PLAN", "SAMPLES", "RunRecordWriter", "append_note",
           "run_id_for", "utc_iso"]
