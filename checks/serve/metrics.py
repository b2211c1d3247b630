"""Prometheus text exposition (format 0.0.4) of one worker's counters: requests by path and
status, a latency histogram, findings by rule, errors by kind. No client library: a handful of
counters under a lock."""
from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _labels(**kv) -> str:
    return "{" + ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                          for k, v in kv.items()) + "}"


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.requests = defaultdict(int)       # (path, status) -> n
        self.buckets = defaultdict(lambda: [0] * len(BUCKETS))  # path -> cumulative counts
        self.sums = defaultdict(float)
        self.counts = defaultdict(int)
        self.findings = defaultdict(int)       # rule -> n
        self.errors = defaultdict(int)         # kind -> n
        self.in_flight = defaultdict(int)      # path -> requests being answered
        self.calls = defaultdict(int)          # audit calls answered, by how they were checked (alone, together)

    def begin(self, path: str) -> None:
        with self._lock:
            self.in_flight[path] += 1

    def observe(self, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.in_flight[path] -= 1
            self.requests[(path, status)] += 1
            b = self.buckets[path]
            for i, le in enumerate(BUCKETS):
                if seconds <= le:
                    b[i] += 1
            self.sums[path] += seconds
            self.counts[path] += 1

    def found(self, rule: str, n: int = 1) -> None:
        with self._lock:
            self.findings[rule] += n

    def checked(self, batch: int) -> None:
        """An audit call answered by a check of `batch` calls (checks/serve/gather.py)."""
        with self._lock:
            self.calls["alone" if batch <= 1 else "together"] += 1

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def render(self) -> str:
        out = ["# HELP claimcheck_requests_total Requests answered, by path and HTTP status.",
               "# TYPE claimcheck_requests_total counter"]
        with self._lock:
            for (path, status), n in sorted(self.requests.items()):
                out.append(f"claimcheck_requests_total{_labels(path=path, status=status)} {n}")
            out += ["# HELP claimcheck_request_seconds Time to answer a request.",
                    "# TYPE claimcheck_request_seconds histogram"]
            for path in sorted(self.counts):
                for le, n in zip(BUCKETS, self.buckets[path]):
                    out.append(f"claimcheck_request_seconds_bucket{_labels(path=path, le=le)} {n}")
                out.append(f"claimcheck_request_seconds_bucket{_labels(path=path, le='+Inf')} {self.counts[path]}")
                out.append(f"claimcheck_request_seconds_sum{_labels(path=path)} {self.sums[path]:.6f}")
                out.append(f"claimcheck_request_seconds_count{_labels(path=path)} {self.counts[path]}")
            out += ["# HELP claimcheck_in_flight Requests being answered now, by path.",
                    "# TYPE claimcheck_in_flight gauge"]
            for path, n in sorted(self.in_flight.items()):
                out.append(f"claimcheck_in_flight{_labels(path=path)} {n}")
            out += ["# HELP claimcheck_findings_total Findings answered, by rule.",
                    "# TYPE claimcheck_findings_total counter"]
            for rule, n in sorted(self.findings.items()):
                out.append(f"claimcheck_findings_total{_labels(rule=rule)} {n}")
            out += ["# HELP claimcheck_audit_calls_total 3101/3102 calls answered, checked alone or together "
                    "with calls that waited beside them.", "# TYPE claimcheck_audit_calls_total counter"]
            for how, n in sorted(self.calls.items()):
                out.append(f"claimcheck_audit_calls_total{_labels(checked=how)} {n}")
            out += ["# HELP claimcheck_errors_total Requests answered with an error, by kind.",
                    "# TYPE claimcheck_errors_total counter"]
            for kind, n in sorted(self.errors.items()):
                out.append(f"claimcheck_errors_total{_labels(kind=kind)} {n}")
        return "\n".join(out) + "\n"
