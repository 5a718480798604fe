"""What validation reports: a field path and what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem, located by its wire path (``inference.adapters[0].source.image``).

    A warning is reported but does not refuse the object (for example a GPU-fit
    problem under the ``kaito.sh/bypass-resource-checks`` annotation).
    """

    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{prefix}{self.path}: {self.message}" if self.path else f"{prefix}{self.message}"


def errors_only(problems: list[FieldError]) -> list[FieldError]:
    return [p for p in problems if not p.warning]


def warnings_only(problems: list[FieldError]) -> list[FieldError]:
    return [p for p in problems if p.warning]
