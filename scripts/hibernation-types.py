"""Writes infra/hibernation-types.json: the instance types EC2 reports as supporting On-Demand
hibernation (DescribeInstanceTypes HibernationSupported), with their memory, from the copy of
DescribeInstanceTypes that moto ships. Run again when moto is upgraded."""
import gzip
import json
import os

import moto

source = os.path.join(os.path.dirname(moto.__file__), "ec2", "resources", "instance_types.json.gz")
with gzip.open(source) as f:
    types = json.load(f)
memory = {
    name: info["MemoryInfo"]["SizeInMiB"]
    for name, info in sorted(types.items())
    if info.get("HibernationSupported")
}
target = os.path.join(os.path.dirname(__file__), "..", "infra", "hibernation-types.json")
with open(target, "w") as f:
    json.dump({"moto": moto.__version__, "memoryMiB": memory}, f, indent=0, sort_keys=True)
    f.write("\n")
