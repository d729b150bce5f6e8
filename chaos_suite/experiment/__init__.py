"""Chaos Toolkit glue: the steady-state hypothesis generated from SLOs, chaos_suite's probes and
controls (ordinary CTK python providers), and running an experiment through chaoslib."""
