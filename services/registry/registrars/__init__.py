"""The registrar aggregate: accounts, their profile sections, prepayment, standing, EPP access, onboarding.

  model.py       the profile sections' formats, statuses, registrar ids
  create.py      a registrar account and its administrator user (the operator's shortcut, and onboarding)
  profile.py     the account as its users see it; the sections a registrar (or an operator) updates;
                 the public 'find a registrar' list
  operator.py    what operators do to an account: create, official address, prepayment, status, lock function
  blocks.py      the hitpoints block, applied in the order hitpoints decided it
  epp_access.py  EPP login, the EPP password (over EPP newPW and the web), the poll switch
  money.py       prices, debits, the ledger, watermarks         onboarding.py   application to activation
  demo.py        the demo registrar `make run` seeds
"""
