import os

# tests log as text; a run never touches the exchanges, queues or databases of a `make run` platform
os.environ.setdefault("LOG_FORMAT", "text")
# ... nor its EPP port: a registry a test starts listens on a free port (ctx.extras["epp_port"] says which)
os.environ.setdefault("EPP_PORT", "0")
