"""The registrar's web console ("My registrations"): server-rendered pages over the five services' HTTP APIs.

It never reads a database: every page calls the services with the signed-in user's token, so the APIs'
rules, permissions and hitpoints apply to the web exactly as to any other client.
"""
