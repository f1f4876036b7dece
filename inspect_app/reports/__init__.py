"""Reports: printable documents (rectification lists, inspection reports) rendered as PDF.

The rendering layer (:mod:`inspect_app.reports.pdf`) takes plain dicts and needs neither a request
nor an application context, so it runs the same in a view, a CLI command or a background worker.
"""
