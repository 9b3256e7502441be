"""The default mapping for a standard org, shipped as mappings/default_mapping.yaml."""

from __future__ import annotations

from pathlib import Path

from mappings.loader import load_mapping
from mappings.schema import MappingDocument

DEFAULT_MAPPING_PATH = Path(__file__).with_name("default_mapping.yaml")


def default_mapping_text() -> str:
    """The shipped YAML, comments included."""
    return DEFAULT_MAPPING_PATH.read_text(encoding="utf-8")


def default_mapping() -> MappingDocument:
    """The default mapping document (read from the package on every call; it is small)."""
    return load_mapping(default_mapping_text(), source=DEFAULT_MAPPING_PATH.name)
