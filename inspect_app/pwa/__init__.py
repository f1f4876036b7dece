"""The installable, offline-first app: page shells, the service worker and the manifest.

The pages here are thin shells; their data comes from the JSON API so that a cached shell and
cached API answers are enough to work offline (see ``static/js/``).
"""
