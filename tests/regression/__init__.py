"""The mapping regression corpus: replay, golden files, anonymiser and recorder (docs/governance.md)."""
