"""The zoo catalogue (catalogue.json) and the networks shipped with gridzoo (networks/NAME/rREVISION/).

Installed as the package ``gridzoo_registry`` so that ``gridzoo.zoo`` finds it without network access.
Add to it with ``gridzoo zoo export RUN_DIR --name NAME``; see docs/zoo.md."""
