"""Shoka (書架): an integrated library system for Japanese public libraries."""

__version__ = "0.1.0"
