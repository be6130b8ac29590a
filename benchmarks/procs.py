"""What the cluster benchmarks read of running processes, from /proc: a process and all its
descendants (granian workers, query workers, HAProxy's worker), their memory and CPU time, and
pinning them to cores. Threads and processes come and go while this reads; one that ended
counts as nothing."""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int) -> list[int]:
    """The child processes of every thread of `pid`."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # the process ended
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):  # the thread ended
            continue
    return found


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process and its descendants, KiB: all of it (`VmRSS`), or only the
    anonymous part (`RssAnon`: heaps and stacks, without the store's files the engine maps,
    which grow as queries touch more of the store)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        own = next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field))
    except (OSError, StopIteration):
        return 0
    return own + sum(rss_kib(child, field) for child in children(pid))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` (all its threads, ended ones too)
    and its live descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # the process ended
        return 0.0
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used + sum(cpu_seconds(child) for child in children(pid))


def pin(pid: int, cpus: set[int]) -> int:
    """Every thread of process `pid` and of its descendants on `cpus`: threads started later
    inherit it from the thread that starts them. The number of threads pinned."""
    pinned = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except ProcessLookupError:  # the thread ended
            continue
        pinned += 1
    return pinned + sum(pin(child, cpus) for child in children(pid))
