"""The composition root for systems: which connector serves each of CRM, PSA and ERP.

Each system's connection is a Secrets Manager secret `<prefix>/<crm|psa|erp>` whose JSON
names its `kind` and credentials, so the deploying firm picks its products by
configuration, and credentials never live in code or environment variables.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..errors import ConfigurationError
from ..ports import CrmPort, ErpPort, PsaPort


class TrytonConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["tryton"]
    url: str
    database: str
    login: str
    password: SecretStr
    legal_entity: str = "us-01"


SystemConnection = Annotated[TrytonConnection, Field(discriminator="kind")]


class _Connection(BaseModel):
    connection: SystemConnection


def read_connection(secret_name: str, cache_seconds: int) -> TrytonConnection:
    try:
        raw = parameters.get_secret(secret_name, transform="json", max_age=cache_seconds)
        return _Connection.model_validate({"connection": raw}).connection
    except (GetParameterError, TransformParameterError, ValidationError) as error:
        raise ConfigurationError(f"system connection {secret_name} is missing or malformed") from error


@cache
def systems_from_secrets(prefix: str, cache_seconds: int) -> tuple[CrmPort, PsaPort, ErpPort]:
    """Connectors for CRM, PSA and ERP, built once per warm function (they keep sessions)."""
    from .tryton import TrytonCrm, TrytonErp, TrytonPsa, TrytonRpcClient

    def client(system: str) -> tuple[TrytonRpcClient, str]:
        connection = read_connection(f"{prefix.rstrip('/')}/{system}", cache_seconds)
        rpc = TrytonRpcClient(
            connection.url, connection.database, connection.login, connection.password.get_secret_value()
        )
        return rpc, connection.legal_entity

    crm_rpc, legal_entity = client("crm")
    psa_rpc, _ = client("psa")
    erp_rpc, _ = client("erp")
    return TrytonCrm(crm_rpc, legal_entity), TrytonPsa(psa_rpc), TrytonErp(erp_rpc)
