# The two commands of the README:
#   make run   — set everything up, migrate, load demo data, serve on http://127.0.0.1:5000
#   make test  — set everything up and run the whole test suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app inspect_app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup system-packages migrate seed lint clean

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo-if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	bash scripts/test.sh $(PYTEST_ARGS)

setup: system-packages $(VENV)/.installed

system-packages:
	@bash scripts/install-system-packages.sh

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	touch $@

migrate: setup
	$(FLASK) db upgrade

seed: setup
	$(FLASK) seed-demo

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
