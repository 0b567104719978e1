"""Hitpoints: counts each registrar's faulty commands and blocks it at its limit."""
