# The two commands a new user needs (see README). Everything else is reached from them.
.PHONY: run test lint bench install deps lock clean

install:            ## create .venv and install the locked dependencies
	@bash deploy/local/bootstrap.sh

deps:               ## make sure RabbitMQ and MongoDB (or the local stand-in) answer
	@bash deploy/local/ensure-rabbitmq.sh
	@bash deploy/local/ensure-mongodb.sh

run:                ## the whole platform, locally, in the foreground (Ctrl-C stops it)
	@bash deploy/local/run.sh

test:               ## the whole test suite against the real broker and database
	@bash deploy/local/test.sh $(ARGS)

lint:               ## ruff and mypy on the whole tree (configured in pyproject.toml); CI runs it before the tests
	@bash deploy/local/bootstrap.sh
	@.venv/bin/ruff check .
	@.venv/bin/mypy
	@.venv/bin/mypy deploy/local/platform.py deploy/local/mailcatcher.py

bench:              ## benchmarks (print figures; never asserted)
	@bash deploy/local/bench.sh $(ARGS)

lock:               ## re-resolve requirements*.lock from pyproject.toml
	@.venv/bin/pip install -q uv && .venv/bin/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock --generate-hashes --no-header -q \
	 && .venv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock --generate-hashes --no-header -q

clean:              ## stop the local MongoDB stand-in and Knot DNS, and remove local data
	@bash deploy/local/stop-mongodb.sh; bash deploy/local/stop-knot.sh; rm -rf .data
