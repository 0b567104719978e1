import os

# tests log as text; a run never touches the exchanges, queues or databases of a `make run` platform
os.environ.setdefault("LOG_FORMAT", "text")
# the tests use development values (secrets, the eID simulator, local URLs) that production refuses
os.environ["ENVIRONMENT"] = "development"
