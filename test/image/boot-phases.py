#!/usr/bin/env python3
"""The boot script's phases as one run logged them, for the benchmark (bench/boot-phases.json).

Usage: boot-phases.py <log> <offset> <out> <environment JSON>
Reads the lines the run appended to <log> after byte <offset>: each step starts with a line
`<ISO time> external-worker-boot[<step>]: ...`; a step lasts until the next one starts. The
worker's own steps run against stand-ins here (no systemd, a health endpoint that answers at once,
a worker log that says registered and heartbeated as soon as it is started): they are marked so,
and the benchmark models them from Concourse's behaviour instead.
"""

import json
import re
import sys
from datetime import datetime, timezone

FORMAT = "external-worker boot phases v1"
STEPS = ["settings", "metadata", "worker-key", "boot-play", "worker-start", "worker-health", "worker-registration"]
STAND_INS = {"worker-start", "worker-health", "worker-registration"}
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) external-worker-boot\[([a-z-]+)\]: ")


def when(text):
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z" if "." in text else "%Y-%m-%dT%H:%M:%S%z")


def main(log, offset, out, environment):
    with open(log, "rb") as f:
        f.seek(int(offset))
        lines = f.read().decode("utf-8", "replace").splitlines()
    starts = []
    for line in lines:
        match = LINE.match(line)
        if match and (not starts or starts[-1][0] != match.group(2)):
            starts.append((match.group(2), when(match.group(1))))
    order = [step for step, _ in starts]
    if order[-1:] != ["done"] or [s for s in order if s in STEPS] != STEPS:
        sys.exit(f"the run logged the steps {order}, not {STEPS} then done")
    phases = []
    for (step, start), (_, end) in zip(starts, starts[1:]):
        if step in STEPS:
            phases.append({
                "step": step,
                "seconds": round((end - start).total_seconds(), 3),
                "measured": "stand-in" if step in STAND_INS else "converge",
            })
    record = {
        "format": FORMAT,
        "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": json.loads(environment),
        "phases": phases,
    }
    with open(out, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
