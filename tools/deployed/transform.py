#!/usr/bin/env python3
"""template.yaml as CloudFormation will create it: the SAM transform (aws-sam-translator, the
library behind CloudFormation's AWS::Serverless-2016-10-31 transform), then every condition
decided for one set of parameters, so that tests assert on the resources a deploy makes.

    transform.py [--config-env dev|prod] [Name=Value ...]

Parameters: the template's defaults, then the config-env's parameter_overrides in
samconfig.toml, then the Name=Value arguments. Prints JSON: {"parameters": {...}, "template":
{...}} with Fn::If, Condition, AWS::NoValue and Ref to a parameter resolved, every other intrinsic
left as it is.
Runs offline: the local CodeUri is replaced by an S3 URI, as `sam validate` does.
"""
import argparse
import copy
import json
import shlex
import sys
import tomllib
from pathlib import Path

import boto3
from samcli.yamlhelper import yaml_parse
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "portal-custodian-backup",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/portal-custodian-backup/4b1c2d3e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
    "AWS::NotificationARNs": [],
}
NO_VALUE = object()


def config_env_overrides(env):
    """samconfig.toml's parameter_overrides for `env`, as sam reads them (a string or a list)."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config.get(env, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
    words = shlex.split(overrides) if isinstance(overrides, str) else list(overrides)
    stack = config.get(env, {}).get("global", {}).get("parameters", {}).get("stack_name")
    return dict(word.split("=", 1) for word in words), stack


def translate(template, parameters):
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://bucket/functions.zip"
    session = boto3.session.Session(region_name=parameters["AWS::Region"])
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), plugins=[], boto_session=session)
    return translator.translate(
        sam_template=template, parameter_values=dict(parameters), get_managed_policy_map=lambda: {}
    )


class Resolver:
    def __init__(self, template, parameters):
        self.parameters = parameters
        self.conditions = template.get("Conditions", {})
        self.declared = template.get("Parameters", {})
        self.decided = {}

    def condition(self, name):
        if name not in self.decided:
            self.decided[name] = self.truth(self.conditions[name])
        return self.decided[name]

    def scalar(self, value):
        if isinstance(value, dict) and list(value) == ["Ref"]:
            return self.parameters[value["Ref"]]
        return value

    def truth(self, expression):
        (function, argument), = expression.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (str(self.scalar(side)) for side in argument)
            return left == right
        if function == "Fn::Not":
            return not self.truth(argument[0])
        if function == "Fn::And":
            return all(self.truth(part) for part in argument)
        if function == "Fn::Or":
            return any(self.truth(part) for part in argument)
        raise ValueError(f"condition function {function}")

    def value(self, node):
        """`node` with Fn::If decided and AWS::NoValue removed."""
        if isinstance(node, dict):
            if list(node) == ["Fn::If"]:
                name, when_true, when_false = node["Fn::If"]
                return self.value(when_true if self.condition(name) else when_false)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            if list(node) == ["Ref"] and node["Ref"] in self.declared:
                # As CloudFormation passes a parameter: a Number as a number.
                value = self.parameters[node["Ref"]]
                if self.declared[node["Ref"]].get("Type") == "Number":
                    return float(value) if "." in value else int(value)
                return value
            out = {}
            for key, child in node.items():
                child = self.value(child)
                if child is not NO_VALUE:
                    out[key] = child
            return out
        if isinstance(node, list):
            return [child for child in map(self.value, node) if child is not NO_VALUE]
        return node

    def template(self, template):
        out = {key: value for key, value in template.items() if key not in ("Resources", "Outputs", "Conditions")}
        for section in ("Resources", "Outputs"):
            out[section] = {
                name: self.value({key: value for key, value in entry.items() if key != "Condition"})
                for name, entry in template.get(section, {}).items()
                if "Condition" not in entry or self.condition(entry["Condition"])
            }
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-env")
    parser.add_argument("overrides", nargs="*", metavar="Name=Value")
    arguments = parser.parse_args()

    source = yaml_parse((ROOT / "template.yaml").read_text())
    parameters = {name: str(spec.get("Default", "")) for name, spec in source.get("Parameters", {}).items()}
    pseudo = dict(PSEUDO)
    if arguments.config_env:
        overrides, stack = config_env_overrides(arguments.config_env)
        parameters.update(overrides)
        if stack:
            pseudo["AWS::StackName"] = stack
    parameters.update(word.split("=", 1) for word in arguments.overrides)
    unknown = set(parameters) - set(source.get("Parameters", {}))
    if unknown:
        sys.exit(f"transform.py: no such parameter: {', '.join(sorted(unknown))}")

    transformed = translate(copy.deepcopy(source), {**parameters, **pseudo})
    resolved = Resolver(transformed, {**parameters, **pseudo}).template(transformed)
    json.dump({"parameters": parameters, "pseudo": pseudo, "template": resolved}, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
