"""Invokes a function of a running `sam local start-lambda` with an events/ file, through the Lambda
API as `aws lambda invoke` would, and prints the answer's statusCode.

usage: sam-local-invoke.py PORT FUNCTION EVENT_FILE
"""
import json
import sys
import urllib.request

port, function, event = sys.argv[1:]
url = f"http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations"
request = urllib.request.Request(url, data=open(event, "rb").read(), method="POST")
with urllib.request.urlopen(request, timeout=120) as answer:
    print(json.loads(answer.read()).get("statusCode"))
