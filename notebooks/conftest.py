"""nbval runs the notebooks at their smoke-test budget: the one their stored outputs used.

The kernel nbval starts inherits this process's environment, and every notebook reads
``socialmarl.smoke_test()`` to pick its budget. Set ``SOCIALMARL_SMOKE=0`` to run them at
full size in Jupyter instead (their stored outputs will then differ).
"""

import os

os.environ.setdefault("SOCIALMARL_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
