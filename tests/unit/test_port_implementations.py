"""Every connector implements every member of its ports itself.

Some connectors subclass their Protocols, whose members have `...` bodies: a method such a
connector forgot would be inherited and silently answer None; one that does not subclass would
fail only when the method is first called. This test names either."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from concord.connectors.business_central.erp import BusinessCentralErp
from concord.connectors.certinia import CertiniaPsa
from concord.connectors.dynamics_finance import FinanceErp
from concord.connectors.hubspot import HubSpotCrm
from concord.connectors.kantata import KantataPsa
from concord.connectors.netsuite.erp import NetSuiteErp
from concord.connectors.salesforce import SalesforceCrm
from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa
from concord.ports import ContactBook, CrmContacts, CrmPort, ErpPort, PsaPort

from .fakes import FakeCrm, FakeErp, FakePsa

IMPLEMENTATIONS = [
    (TrytonCrm, CrmPort),
    (TrytonPsa, PsaPort),
    (TrytonErp, ErpPort),
    (SalesforceCrm, CrmPort),
    (CertiniaPsa, PsaPort),
    (HubSpotCrm, CrmPort),
    (KantataPsa, PsaPort),
    (BusinessCentralErp, ErpPort),
    (NetSuiteErp, ErpPort),
    (FinanceErp, ErpPort),
    (FakeCrm, CrmPort),
    (FakePsa, PsaPort),
    (FakeErp, ErpPort),
    # The contacts capability, where a connector declares it (capabilities.contacts).
    (TrytonCrm, CrmContacts),
    (TrytonErp, ContactBook),
    (TrytonPsa, ContactBook),
    (FakeCrm, CrmContacts),
    (FakeErp, ContactBook),
    (FakePsa, ContactBook),
]


def _members(port: type) -> set[str]:
    names: set[str] = set()
    for base in port.__mro__:
        if base in (Protocol, object) or Protocol not in base.__mro__:
            continue
        names |= {name for name in vars(base) if not name.startswith("_")}
    return names


def _defined_by(cls: type, name: str) -> type | None:
    """The class that defines `name` for `cls` (a dataclass field counts as the class's own)."""
    if name in getattr(cls, "__dataclass_fields__", {}):
        return cls
    return next((base for base in cls.__mro__ if name in vars(base)), None)


def _is_protocol(cls: type | None) -> bool:
    return bool(getattr(cls, "_is_protocol", False))


@pytest.mark.parametrize(("cls", "port"), IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_every_port_member_is_the_connectors_own(cls: type, port: type) -> None:
    missing = sorted(
        name for name in _members(port) if (owner := _defined_by(cls, name)) is None or _is_protocol(owner)
    )
    assert missing == [], f"{cls.__name__} does not implement {missing} of {port.__name__}"


def test_the_check_finds_a_forgotten_method_inherited_or_absent() -> None:
    class Forgetful(CrmPort):
        pass

    class Unrelated:
        pass

    assert "set_financial_statuses" in _members(CrmPort)
    assert _is_protocol(_defined_by(Forgetful, "set_financial_statuses"))
    assert _defined_by(Unrelated, "set_financial_statuses") is None
    assert inspect.isfunction(vars(CrmPort)["set_financial_statuses"])
