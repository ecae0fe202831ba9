"""Use cases: the sync logic, written against the ports only (never a vendor module)."""
