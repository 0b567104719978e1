"""The contact aggregate: registrant (licensee), billing, tech and onsite contacts.

  model.py    the contact's fields and types, verification status, the payload its events carry
  rules.py    the checks several commands share: the registrar's own contact; a domain's contact roles
  create.py   create            update.py   update (replace, or EPP chg)
  delete.py   delete            info.py     info, check, whether a contact is linked
"""
