"""Logs, metrics and health for every service."""
