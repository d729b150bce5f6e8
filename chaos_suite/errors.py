"""The exception tree. Every error the library raises on purpose derives from
:class:`ChaosSuiteError`; the CLI maps ``exit_code`` onto the process exit code.

    ChaosSuiteError
    ├── InputError            (2) bad file, field, flag; nothing was injected
    │   ├── ValidationError   (2) a file failed validation (names file and field path)
    │   └── UnknownSLOError   (2) a plan or CLI names an SLO that no SLO file defines
    ├── PreflightError        (2) target/source unreachable or a safety gate refused; nothing injected
    │   └── GateRefused       (2) a safety gate refused the run
    ├── AbortedError          (3) a safeguard or the operator aborted; rollbacks ran
    └── InfrastructureError   (4) target/source lost mid-run; rollbacks ran
"""

from __future__ import annotations


class ChaosSuiteError(Exception):
    """Root of every deliberate chaos_suite error."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(ChaosSuiteError):
    """Bad input: a file, a field or a flag. Raised before anything is injected."""

    exit_code = 2


class ValidationError(InputError):
    """A file failed validation. ``file`` and ``field`` name where."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {problem}")


class UnknownSLOError(InputError):
    """A plan, scenario or CLI flag names an SLO that is not defined."""


class PreflightError(ChaosSuiteError):
    """The run cannot start safely (unreachable target/source). Nothing was injected."""

    exit_code = 2


class GateRefused(PreflightError):
    """A safety gate (confirmation, budget policy, window, blast radius) refused the run."""

    def __init__(self, gate: str, detail: str) -> None:
        self.gate = gate
        super().__init__(f"refused by gate '{gate}': {detail}")


class AbortedError(ChaosSuiteError):
    """The run was aborted (safeguard or operator); rollbacks ran."""

    exit_code = 3


class InfrastructureError(ChaosSuiteError):
    """A target or source was lost mid-run; rollbacks ran."""

    exit_code = 4
