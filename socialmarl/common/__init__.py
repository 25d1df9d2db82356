"""The bottom layer: small helpers every other part of socialmarl may use.

* :mod:`.checks` -- argument validation with errors that name the field and the fix;
* :mod:`.files` -- atomic writes with ordinary permissions, stale temp-file cleanup;
* :mod:`.reading` -- reading user files with errors that name the file, line and fix;
* :mod:`.config_io` -- dataclass configs to and from JSON (every saved result carries one);
* :mod:`.smoke` -- the smoke-test switch that shrinks notebook budgets in CI;
* :mod:`.lazy` -- names of a package imported on first use.

Nothing here imports torch-heavy code or any other part of socialmarl.
"""
