"""Writes a built template for `sam local` from the workspace's own binaries, without `sam build`.

`sam build` compiles every function again (release, through cargo-lambda and zig: about 10 minutes
on 2 cores). The tests have just built the same binaries. This does what `sam build` leaves
behind: a copy of template.yaml whose functions' CodeUri is a directory holding the binary named
in their Metadata as `bootstrap`. It writes to OUT_DIR, never to .aws-sam/build, which
`sam deploy` ships.

usage: sam-local-template.py TARGET_DIR OUT_DIR
"""
import os
import re
import shutil
import sys

target, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
lines = open("template.yaml").read().splitlines(keepends=True)

# Each function's block: from its "  LogicalId:" line to the next resource.
resource, binaries = None, {}
in_resources = False
for line in lines:
    if re.match(r"^\S", line):
        in_resources = line.startswith("Resources:")
        resource = None
    elif in_resources and (m := re.match(r"^  ([A-Za-z0-9]+):\s*$", line)):
        resource = m.group(1)
    elif resource and (m := re.match(r"^        Binary: (\S+)\s*$", line)):
        binaries[resource] = m.group(1)

written, resource, in_resources = [], None, False
for line in lines:
    if re.match(r"^\S", line):
        in_resources = line.startswith("Resources:")
        resource = None
    elif in_resources and (m := re.match(r"^  ([A-Za-z0-9]+):\s*$", line)):
        resource = m.group(1)
    if resource in binaries and re.match(r"^      CodeUri: \.\s*$", line):
        line = f"      CodeUri: {resource}\n"
    written.append(line)
open(os.path.join(out, "template.yaml"), "w").write("".join(written))

for resource, binary in binaries.items():
    os.makedirs(os.path.join(out, resource))
    shutil.copy2(os.path.join(target, binary), os.path.join(out, resource, "bootstrap"))
    print(f"{resource}: {os.path.join(target, binary)}", file=sys.stderr)
