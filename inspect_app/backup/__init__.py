"""Backups: ``flask backup`` writes one archive (tables, photos, manifest); ``flask restore``
rebuilds a working instance from it. The rules live in :mod:`.operations`, the commands in
:mod:`.cli`."""
