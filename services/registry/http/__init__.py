"""The registry's HTTP API: transport only. Each route authenticates, translates the request into a
command call, and maps a refusal to an HTTP status carrying the EPP result code and message."""
