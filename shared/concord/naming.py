"""Physical names of one stage's resources, written once for the CDK app and the operator commands.

Every resource of stage `<stage>` is named `concord-<stage>-<name>`, with the name hyphenated
(`audit_trail` → `concord-dev-audit-trail`); the bus is the prefix itself; a consumer queue's
dead-letter queue is the queue's name + `-dlq`; secrets live under `concord/<stage>/<kind>/`.
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "concord"
DLQ_SUFFIX = "-dlq"


def hyphenated(name: str) -> str:
    """`post_billable` → `post-billable` (physical names use hyphens, code and folders underscores)."""
    return name.replace("_", "-")


@dataclass(frozen=True)
class Names:
    """The physical names of stage `stage`'s resources."""

    stage: str

    @property
    def prefix(self) -> str:
        """`concord-<stage>`: what every physical name of the stage starts with."""
        return f"{PROJECT}-{self.stage}"

    def resource(self, *parts: str) -> str:
        """`concord-<stage>-<part>-<part>…`, each part hyphenated: the one naming rule."""
        return "-".join([self.prefix, *(hyphenated(part) for part in parts)])

    # -- compute and messaging -------------------------------------------------------------

    def function(self, folder: str) -> str:
        """A Lambda function by its folder under functions/."""
        return self.resource(folder)

    def queue(self, consumer: str) -> str:
        """A consumer's queue, by the consumer's name (`audit_trail` or `audit-trail`)."""
        return self.resource(consumer)

    def dlq(self, consumer: str) -> str:
        return self.queue(consumer) + DLQ_SUFFIX

    def state_machine(self, flow: str) -> str:
        return self.resource(flow)

    @property
    def bus(self) -> str:
        return self.prefix

    @property
    def archive(self) -> str:
        """The archive of every canonical event the bus carried."""
        return self.resource("events")

    # -- tables ------------------------------------------------------------------------------

    @property
    def audit_table(self) -> str:
        return self.resource("audit")

    @property
    def xref_table(self) -> str:
        return self.resource("xref")

    @property
    def checkpoints_table(self) -> str:
        return self.resource("checkpoints")

    @property
    def rate_budget_table(self) -> str:
        return self.resource("rate_budget")

    @property
    def idempotency_table(self) -> str:
        return self.resource("idempotency")

    # -- the webhook front, operations, secrets ----------------------------------------------

    @property
    def webhooks_api(self) -> str:
        return self.resource("webhooks")

    def alarm_topic(self, severity: str) -> str:
        return self.resource("alarms", severity)

    @property
    def dashboard(self) -> str:
        return self.resource("operations")

    def secret_prefix(self, kind: str) -> str:
        """Secrets Manager folder of one kind of secret, e.g. `concord/dev/webhooks`."""
        return f"{PROJECT}/{self.stage}/{kind}"

    @property
    def webhook_secret_prefix(self) -> str:
        return self.secret_prefix("webhooks")

    @property
    def systems_secret_prefix(self) -> str:
        return self.secret_prefix("systems")

    # -- reading names back ------------------------------------------------------------------

    def short(self, physical: str) -> str:
        """`concord-dev-audit-trail-dlq` → `audit-trail-dlq`."""
        return physical.removeprefix(f"{self.prefix}-")

    def resolve_dlq(self, given: str) -> str:
        """A DLQ named in any of its forms: full name, `audit-trail-dlq`, `audit-trail`."""
        name = given if given.startswith(f"{self.prefix}-") else self.queue(given)
        return name if name.endswith(DLQ_SUFFIX) else name + DLQ_SUFFIX


def source_queue_of(dlq_name: str) -> str:
    """The queue a DLQ belongs to: its name without `-dlq`."""
    return dlq_name.removesuffix(DLQ_SUFFIX)
