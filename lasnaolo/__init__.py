"""Läsnäolo: knowledge-based leadership of school attendance and pupil wellbeing."""

__version__ = "0.1.0"
