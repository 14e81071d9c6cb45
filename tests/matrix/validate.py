# validate.py SCHEMAS LIST - the schema check of the combination matrix
# (tests/matrix/run.sh), started once for the whole matrix. LIST has lines
# NAME<TAB>FILE; every record of FILE (.jsonl: one a line; else one
# document) is checked with a draft 2020-12 validator against the schema
# its "schema" field names (caigen.preference/2 -> preference-2.schema.json,
# caigen.X/1 -> X.schema.json). One PASS or FAIL line per NAME.
import json
import os
import sys

import jsonschema

V = {}


def validator(name):
    if name not in V:
        path = os.path.join(sys.argv[1], name + ".schema.json")
        schema = json.load(open(path, encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        V[name] = jsonschema.Draft202012Validator(schema)
    return V[name]


for line in open(sys.argv[2], encoding="utf-8"):
    name, path = line.rstrip("\n").split("\t")
    errs = []
    try:
        text = open(path, encoding="utf-8").read()
        if path.endswith(".jsonl"):
            docs = [json.loads(l) for l in text.splitlines() if l.strip()]
        else:
            docs = [json.loads(text)]
        for i, d in enumerate(docs):
            tag = d.get("schema", "") if isinstance(d, dict) else ""
            kind, _, ver = tag.partition("/")
            kind = kind.replace("caigen.", "")
            if not kind:
                errs.append("%s:%d: no schema field" % (path, i + 1))
                continue
            sname = kind if ver == "1" else "%s-%s" % (kind, ver)
            for e in validator(sname).iter_errors(d):
                errs.append("%s:%d: %s at /%s" % (
                    path, i + 1, e.message[:160],
                    "/".join(str(p) for p in e.absolute_path)))
    except Exception as e:
        errs.append(str(e)[:300])
    if errs:
        print("FAIL %s: %s" % (name, " ".join(errs[:2])))
    else:
        print("PASS %s" % name)
