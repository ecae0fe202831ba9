"""One folder per vendor: its signature verifier, its raw payload models, its mappers to
canonical events, and the scheme that ties them together (see ingress.scheme.Scheme).

Vendor payload models are kept apart from the canonical models (concord.events); mappers are
named by direction (`to_canonical_account_changed`). They ignore fields they do not use, so
a vendor adding a field breaks nothing, and validate the ones they do.
"""
