"""Faults usable as Chaos Toolkit python providers, each declaring its revert.

Modules:
    chaos_suite.faults.local   errors, latency and replica kills on the embedded local target
                               (``REVERTS`` maps each injecting function to its revert)
"""
