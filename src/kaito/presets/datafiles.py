"""Reading the YAML catalogs shipped inside the package.

The catalogs are validated when their module is imported: a typo in a data
file fails the first import (and every test) with the file and field named,
instead of surfacing later as a wrong estimate.
"""

from __future__ import annotations

from importlib import resources
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class CatalogError(RuntimeError):
    """A data file shipped with kaito is malformed: a packaging bug, not user error."""


def load_catalog(filename: str, schema: type[ModelT]) -> ModelT:
    """Parse ``presets/data/<filename>`` and validate it against ``schema``."""
    text = resources.files("kaito.presets").joinpath("data", filename).read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise CatalogError(f"kaito/presets/data/{filename} is not valid YAML: {err}") from err
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise CatalogError(f"kaito/presets/data/{filename} is invalid:\n{err}") from err
