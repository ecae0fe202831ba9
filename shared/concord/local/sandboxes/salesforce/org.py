"""One Salesforce org of the sandbox: its schema, its OAuth client, and its records (a tenant
of the sandbox kit). The routes take it; app.py makes one per tenant."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from ..kit import OAuthClient, Tenant
from .objects import psa_org
from .records import Records
from .schema import Schema

DEFAULT_CLIENT = OAuthClient(client_id="concord-sandbox", client_secret=SecretStr("concord-sandbox-secret"))


@dataclass
class Org(Tenant):
    schema: Schema = field(default_factory=psa_org)
    client: OAuthClient = DEFAULT_CLIENT

    @property
    def records(self) -> Records:
        return Records(self.schema, self.store)
