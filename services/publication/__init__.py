"""The publication service: the registry's public face, built only from the event stream. It keeps a read
model of what the public may see and publishes it: the TLD zones on Knot DNS (incremental RFC 2136 updates
with TSIG; Knot signs), WHOIS and DAS over TCP, RDAP over HTTP, and the landing page of overridden names."""
