"""The steady-state hypothesis generated from SLOs: one probe per SLO asserting that its burn
rate over a short window stays within a tolerance (default 1.0: the SLO is being met)."""

from __future__ import annotations

from typing import Any

from chaos_suite.files.slo_file import SLOSpec


def hypothesis_for(slos: list[SLOSpec], window_s: float = 5.0,
                   max_burn_rate: float = 1.0) -> dict[str, Any]:
    names = ", ".join(s.name for s in slos)
    return {
        "title": f"SLOs hold: {names}",
        "probes": [
            {
                "type": "probe",
                "name": f"slo-{spec.name}-burn-rate",
                "tolerance": {"type": "range", "range": [0.0, float(max_burn_rate)]},
                "provider": {
                    "type": "python",
                    "module": "chaos_suite.experiment.probes",
                    "func": "slo_burn_rate",
                    "arguments": {
                        "slo": spec.name,
                        "objective": spec.slo.objective,
                        "window_s": float(window_s),
                    },
                },
            }
            for spec in slos
        ],
    }
