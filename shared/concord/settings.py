"""Function configuration from environment variables, validated at the handler boundary.

Each function declares the variables it needs as a pydantic model (field alias = variable
name) and reads them once per invocation with `from_env()`: never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigurationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as error:
            missing = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise ConfigurationError(f"{cls.__name__}: invalid or missing {missing}") from error
