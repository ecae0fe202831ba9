"""A stateful Kantata OX (formerly Mavenlink) sandbox playing one account per tenant."""

from .app import DEFAULT_USERS, Account, KantataSandbox

__all__ = ["DEFAULT_USERS", "Account", "KantataSandbox"]
