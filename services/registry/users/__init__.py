"""Users of a registrar's account and how they prove who they are.

  model.py      Permission, User, the administrator's document, the password rule
  accounts.py   the web login (password, 2-step, pause after failures), bearer sessions, login attempts
  manage.py     the administrator's commands on users, and a user's own password and 2-step set-up
  passwords.py  Argon2id hashing and the password policy      totp.py   2-step codes (RFC 6238)
"""
