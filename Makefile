# Everyday commands. `make test` is the README's test command.
.PHONY: install test lint bench eval

install:
	pip install torch==2.13.0 -e ".[test,bench]"

test:
	pytest

lint:
	ruff check digest tests bench eval
	ruff format --check digest tests bench eval
	mypy digest
	hadolint Dockerfile

bench:
	python bench/summarize.py
	python bench/cluster.py
	python bench/e2e.py

eval:
	python eval/quicklooks.py ../shared/seeds/000_748678f593ee2890.txt ../shared/seeds/004_79087644f75beb88.txt
	python eval/clustering.py
