"""Where SLI counts come from (docs/architecture.md §1): client-side load buckets (in
``chaos_suite.load``), Prometheus (``prometheus``), synthetic HTTP probes (``http``).

Submodules are imported explicitly (``from chaos_suite.sources.prometheus import ...``); this
package imports nothing itself, so importing it stays cheap and free of side effects.
"""
