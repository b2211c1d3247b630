"""`claimcheck serve`: the audit service (national 3101/3102/3103 calls, pipeline endpoints).

app.py — the routes; guard.py — token, limits, error envelope, access log; service.py — the
contracts a worker holds and reloads; national.py — message in, national answer out; store.py —
answered results, dispositions, waivers from 3103; metrics.py — Prometheus text.
"""
