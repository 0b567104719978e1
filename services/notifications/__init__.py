"""Notifications: tells registrars and registrants what happened. Structured messages go to the registrar's
EPP poll queue (served to the EPP server over the broker) or, with poll off, at once as a CPS e-mail to its
automated address; unstructured mail goes to the category's addresses in the registrar's languages;
registrant mails (verification link, transfer code) to the registrant. Mails go out over SMTP, retried on
transient failures, recorded, never sent twice for one event; refusals become email.bounced."""
