"""Other tools' attacks against a kit API, counted and priced by the kit.

``kit.peers.art`` runs the extraction attacks of IBM's Adversarial Robustness Toolbox (ART,
``pip install -e .[peers]``) through a :class:`kit.PredictionAPI`, and compares them with
the kit's own attacks at equal query budgets (:func:`kit.peers.art.compare`).  ART is
optional: ``import kit`` never loads it, ``import kit.peers.art`` does.
"""
