"""Watch-list (名单式管理): the pure rule engine and the queue-system data import.

:mod:`inspect_app.watchlist.rules` decides which outlets and sub-branches enter, stay on or leave
the list from plain facts; :mod:`inspect_app.watchlist.queue_csv` reads the queue system's daily CSV
(排队系统数据). Neither imports Flask or the database: the database layer gathers the facts, calls
them and stores the decisions.
"""
