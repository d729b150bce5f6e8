"""Detection: which burn-rate alerts an SLO gets, the Prometheus rules that raise them
(``chaos-suite slo rules``), and whether and when they would fire under a fault.

- ``windows``: window sets (google, sloth, pyrra, custom), pure;
- ``window_file``: a custom window set from a YAML file;
- ``rules``: the rule file (Sloth-compatible recording rules, one alert per window row);
- ``predict``: predicted coverage, pure: :func:`predict_coverage` for the report.
"""

from chaos_suite.detection.predict import AlertPrediction, Coverage, predict_alert, predict_coverage
from chaos_suite.detection.windows import BurnAlert, WindowSet, builtin_window_set, prom_duration

__all__ = [
    "AlertPrediction",
    "BurnAlert",
    "Coverage",
    "WindowSet",
    "builtin_window_set",
    "predict_alert",
    "predict_coverage",
    "prom_duration",
]
