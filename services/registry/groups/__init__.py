"""Name-server groups and key groups (digest 7.2): named sets a registrar reuses across its domains.

  model.py    the groups' formats, the two kinds and the events of each
  rules.py    the check domain commands share: every group named is the registrar's
  save.py     create and update      delete.py   delete      info.py   info and check
"""
