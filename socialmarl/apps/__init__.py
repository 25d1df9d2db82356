"""Applications on top of everything: the command line, the paper reproduction, widgets.

* :mod:`.cli` -- the ``socialmarl`` command (``demo``, ``train``, ``evaluate``,
  ``reproduce``);
* :mod:`.reproduce` -- the main job: the paper's figures from data that ships;
* :mod:`.widgets` -- interactive game explorers for teaching (ipywidgets).

Layer: the top; nothing in socialmarl imports from here.
"""
