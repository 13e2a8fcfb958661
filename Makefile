# The two commands the README opens with: `make run` and `make test`.
.PHONY: run test test-fresh setup check bench

setup:
	./scripts/setup

run: setup
	./scripts/run

test: setup
	./scripts/test $(PYTEST_ARGS)

# make test on a clean clone with an empty cache, as a fresh machine (and CI) runs it
test-fresh:
	./scripts/test-fresh

check: setup
	./scripts/check

bench: setup
	.venv/bin/python -m benchmarks
