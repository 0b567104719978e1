"""Reporting: read models built only from events; daily reports, top lists, the quarterly report."""
