"""Applications on top of everything: the command line, the paper reproduction, widgets.

* :mod:`.cli` -- the ``socialmarl`` command (``demo``, ``train``, ``evaluate``,
  ``reproduce``, ``sweep``);
* :mod:`.reproduce` -- the main job: the paper's claims from data that ships, as a sweep;
* :mod:`.report` -- the figures and ``summary.txt`` of a sweep's table;
* :mod:`.widgets` -- interactive game explorers for teaching (ipywidgets).

Layer: the top; nothing in socialmarl imports from here.
"""
