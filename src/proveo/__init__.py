"""Proveo: a bilingual B2B provider marketplace for Chile."""

__version__ = "0.1.0"
