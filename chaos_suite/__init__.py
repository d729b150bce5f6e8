"""chaos_suite: chaos engineering and gamedays measured in error-budget terms.

The package root stays import-light on purpose: `chaos-suite --help` must start fast,
and gevent (Locust) must never be imported into the runner process.
"""

__version__ = "0.1.0"
