# The two commands the README opens with: `make run` and `make test`.
.PHONY: run test setup check bench

setup:
	./scripts/setup

run: setup
	./scripts/run

test: setup
	./scripts/test

check: setup
	./scripts/check

bench: setup
	.venv/bin/python -m benchmarks
