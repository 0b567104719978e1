"""Notifications: poll messages, CPS e-mails and category mail to registrars and registrants."""
