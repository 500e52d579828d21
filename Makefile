# Conveniences over dev.py (which needs nothing but Python 3.11 and pip).
.PHONY: run console test bench content lint
run:
	python3 dev.py run
console:
	python3 dev.py run console
test:
	python3 dev.py test
bench:
	python3 dev.py bench
content:
	python3 dev.py run content build
lint:
	.venv/bin/ruff check .
