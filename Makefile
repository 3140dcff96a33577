# Everyday commands. `make test-all` is the README's test command (what CI runs); `make test`
# is its fast part, which loads no real model.
.PHONY: install test test-all lint bench bench-all eval

# pip 23 fails to resolve newspaper4k's lxml extras: a current pip first.
install:
	python -m pip install --upgrade pip
	pip install torch==2.13.0 -e ".[test,bench]"

# The tests not marked slow: no real model is loaded (tests/conftest.py fails an unmarked test
# that loads MiniLM or Gemma). 19 min against test-all's 26 min on a shared 2-CPU machine at
# load 10-15: the subprocess crash, failover and full-disk tests take most of it.
test:
	pytest -m "not slow"

# Every test, the slow real-model ones too: the README's test command, as CI (.ci/run) runs it.
test-all:
	pytest

lint:
	ruff check digest tests bench eval
	ruff format --check digest tests bench eval
	mypy digest  # digest/store and digest/pipeline.py under --strict's flags (pyproject.toml)
	hadolint Dockerfile

# The end-to-end benchmark with its peers and extraction F1 (issue 6): under 10 minutes.
bench:
	python bench/e2e.py --cli --peers --f1

# Every benchmark, the per-stage ones too (the 10,000-article clustering run takes longer).
bench-all: bench
	python bench/summarize.py --cold
	python bench/summarize.py --pages ../shared/data/pages --embed --loads 0
	python bench/real_pages.py --pages ../shared/data/pages
	python bench/cluster.py
	python bench/compress.py

eval:
	python eval/quicklooks.py --reference ../shared/seeds/004_79087644f75beb88.txt \
		../shared/seeds/000_748678f593ee2890.txt+../shared/seeds/004_79087644f75beb88.txt
	python eval/quicklooks.py tests/data/articles/storm_coastpost.txt+tests/data/articles/storm_northwire.txt \
		tests/data/articles/rates_norland.txt
	python eval/quicklooks.py --embed --reference tests/data/articles/bridge_quicklooks.txt \
		--reference tests/data/articles/recall_quicklooks.txt \
		tests/data/articles/bridge_courier.txt+tests/data/articles/bridge_riverside.txt \
		tests/data/articles/recall_ledger.txt+tests/data/articles/recall_tribune.txt
	python eval/pages.py --embed
	python eval/clustering.py
	python eval/labels.py --pages ../shared/data/pages --judged eval/data/label_judgements.tsv
	python eval/compression.py --plain
