"""The project's own library: the event contract, broker topology, MongoDB access, runtime plumbing."""
