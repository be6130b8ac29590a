"""Releases and changes: several releases of a source side by side, what changed between two,
and the mappings that must be looked at again because their concepts changed."""
