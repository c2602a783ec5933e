"""The deadline storm: `make storm` (python -m bench.storm); see __main__.py and bench/README.md."""
