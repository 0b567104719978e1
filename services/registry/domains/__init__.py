"""The domain aggregate: one page per command (or small family), and the jobs that move domains on.

  model.py       Domain, HostAttr, the statuses; glue rules
  names.py       domain-name syntax and IDNA
  rules.py       the checks several commands share (own / existing domain, status refusals)
  check.py       check (availability)          create.py    create
  info.py        info                          update.py    update (replace, or EPP add/rem)
  delete.py      delete, undelete, reactivate  transfer.py  transfer code, transfer, info with the code
  locks.py       client lock, the registry's server statuses, lock complaints
  override.py    name servers overridden while the registrant is pending verification
  lifecycle.py   the job: quarantine and release    renewal.py   the job: month-end renewal
"""
