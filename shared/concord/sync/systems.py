"""What every sync flow works with: the three systems, the registry, the bus and the rules."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationFailed
from ..ownership import SystemOfRecord
from ..ports import CrmPort, CrossReferences, ErpPort, EventPublisher, PsaPort
from .rules import LegalEntityRules


@dataclass(frozen=True)
class Systems:
    crm: CrmPort
    psa: PsaPort
    erp: ErpPort
    xref: CrossReferences
    bus: EventPublisher
    rules: dict[str, LegalEntityRules]
    ownership: SystemOfRecord

    def rules_for(self, legal_entity: str) -> LegalEntityRules:
        rules = self.rules.get(legal_entity)
        if rules is None:
            raise ValidationFailed(f"unknown legal entity {legal_entity}: no rules configured for it")
        return rules
