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


def resources(lines):
    """Each line with the logical ID of the resource it belongs to (None outside Resources)."""
    resource, in_resources = None, False
    for line in lines:
        if re.match(r"^\S", line):
            in_resources, resource = line.startswith("Resources:"), None
        elif in_resources and (m := re.match(r"^  ([A-Za-z0-9]+):\s*$", line)):
            resource = m.group(1)
        yield resource, line


binaries = {
    resource: m.group(1)
    for resource, line in resources(lines)
    if resource and (m := re.match(r"^        Binary: (\S+)\s*$", line))
}
written = [
    f"      CodeUri: {resource}\n"
    if resource in binaries and re.match(r"^      CodeUri: \.\s*$", line)
    else line
    for resource, line in resources(lines)
]
open(os.path.join(out, "template.yaml"), "w").write("".join(written))

for resource, binary in binaries.items():
    os.makedirs(os.path.join(out, resource))
    shutil.copy2(os.path.join(target, binary), os.path.join(out, resource, "bootstrap"))
    print(f"{resource}: {os.path.join(target, binary)}", file=sys.stderr)
