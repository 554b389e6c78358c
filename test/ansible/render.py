#!/usr/bin/env python3
"""Renders the worker playbook's templates and expressions the way Ansible does.

Reads a JSON list of jobs on stdin, writes a JSON list of results on stdout. Each job:
  {"vars": {...}, "template": "roles/<role>/templates/<file>"}   -> rendered text
  {"vars": {...}, "expr": "{{ ... }}"}                           -> evaluated value
  {"vars": {...}, "task": {"file": "roles/...yml", "name": "<task name>", "arg": "argv"}}
                                                                 -> that task's module argument, evaluated
Add "parse": "toml" to a template job to get the rendered text parsed (proves it is valid TOML).
Variables: every role's defaults/main.yml, then the job's vars (as extra vars would).
Uses Ansible's own Templar, so the filters, tests and whitespace rules are the real ones.
"""
import json
import sys
import tomllib
from pathlib import Path

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ANSIBLE_DIR = Path(__file__).resolve().parents[2] / "ansible"


def role_defaults():
    merged = {}
    for defaults in sorted(ANSIBLE_DIR.glob("roles/*/defaults/main.yml")):
        merged.update(yaml.safe_load(defaults.read_text()) or {})
    return merged


def find_task(tasks, name):
    for task in tasks:
        if task.get("name") == name:
            return task
        found = find_task(task.get("block", []), name)
        if found:
            return found
    return None


def task_argument(spec):
    tasks = yaml.safe_load((ANSIBLE_DIR / spec["file"]).read_text())
    task = find_task(tasks, spec["name"])
    if task is None:
        raise KeyError(f"no task named {spec['name']!r} in {spec['file']}")
    module = next(key for key in task if key.startswith("ansible.builtin."))
    return task[module][spec["arg"]]


def run(job, defaults, loader):
    variables = dict(defaults)
    variables["ansible_managed"] = "Ansible managed"
    variables.update(job.get("vars", {}))
    templar = Templar(loader=loader, variables=variables)
    if "template" in job:
        source = (ANSIBLE_DIR / job["template"]).read_text()
        text = templar.template(source, convert_data=False, preserve_trailing_newlines=True)
        return tomllib.loads(text) if job.get("parse") == "toml" else text
    if "task" in job:
        return templar.template(task_argument(job["task"]))
    return templar.template(job["expr"])


def main():
    jobs = json.load(sys.stdin)
    defaults = role_defaults()
    loader = DataLoader()
    results = []
    for job in jobs:
        try:
            results.append({"ok": True, "value": run(job, defaults, loader)})
        except Exception as error:  # reported per job so one bad case does not hide the others
            results.append({"ok": False, "error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
