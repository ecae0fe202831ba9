"""System-of-record rules: which system owns each object and field, and what a write may change."""

from .rules import (
    FieldDecision,
    ObjectOwnership,
    SystemOfRecord,
    decide_fields,
    load_system_of_record,
)

__all__ = ["FieldDecision", "ObjectOwnership", "SystemOfRecord", "decide_fields", "load_system_of_record"]
