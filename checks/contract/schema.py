"""The contract format as JSON Schema, composed from the registered rule kinds.

The published copy is contracts/contract.schema.json (`claimcheck contracts schema` writes it;
a test keeps it equal to what this module builds).
"""
from __future__ import annotations

from ..claims.fields import FIELDS
from ..kinds import KINDS

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
TEXT = {"type": "string", "minLength": 1}
REGION = {"type": "string", "pattern": r"^\d{2,6}$"}
ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"}
RULE_ID = {"type": "string", "pattern": r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)*$"}
NOTES = {"type": "array", "items": TEXT}

SOURCE = {
    "type": "object", "additionalProperties": False, "required": ["document", "section", "quote"],
    "properties": {"document": TEXT, "section": TEXT, "quote": TEXT},
    "description": "where the rule comes from: a document id of this contract, the article or "
                   "attachment row, and the original words",
}


EXAMPLE = {
    "type": "object", "additionalProperties": False, "required": ["verdict", "lines"],
    "properties": {
        "verdict": {"enum": ["pass", "fail"]},
        "severity": {"enum": ["violation", "suspect"],
                     "description": "a failing example: the severity its findings must have"},
        "note": TEXT,
        "lines": {"type": "array", "minItems": 1, "items": {"type": "object"},
                  "description": "claim lines (column: value) over the contract's example_defaults"},
    },
}


def contract_schema() -> dict:
    kinds = sorted(KINDS)
    rule = {
        "type": "object", "additionalProperties": False,
        "required": ["id", "title", "title_en", "kind", "severity", "source", "params"],
        "properties": {
            "id": RULE_ID, "title": TEXT, "title_en": TEXT,
            "kind": {"enum": kinds},
            "severity": {"enum": ["violation", "suspect"],
                         "description": "violation = 明确违规, suspect = 可疑"},
            "codes": {"type": "array", "items": TEXT, "description": "names of code sets of this contract"},
            "regions": {"type": "array", "items": REGION, "description": "narrow to these 区划 prefixes"},
            "except_regions": {"type": "array", "items": REGION},
            "when": {"type": "string", "description": "condition over claim columns narrowing the lines judged"},
            "optional_columns": {"type": "array", "uniqueItems": True, "items": {"enum": sorted(FIELDS)},
                                 "description": "columns this rule refines on: when the batch lacks one "
                                                "(absent, or empty on every line) the rule does not apply"},
            "supersedes": {"type": "array", "items": RULE_ID,
                           "description": "rules of this version whose finding on the same line this one replaces"},
            "params": {"type": "object"},
            "source": SOURCE,
            "notes": NOTES,
            "examples": {"type": "array", "items": EXAMPLE,
                         "description": "lines that pass and lines that fail this rule (claimcheck contracts test)"},
        },
        "allOf": [{"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]},
                   "then": {"properties": {"params": KINDS[k].params_schema}}} for k in kinds],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://claimcheck.invalid/contract.schema.json",
        "title": "claimcheck policy contract (one version)",
        "type": "object", "additionalProperties": False,
        "required": ["contract", "version", "title", "title_en", "jurisdiction", "effective_from",
                     "documents", "rules"],
        "properties": {
            "contract": ID,
            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$", "description": "semver"},
            "revises": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$",
                        "description": "the published version of this contract that this one revises: same "
                                       "period (at least its days and regions), new meaning; among the versions "
                                       "run, the revision judges and the revised version is retired (it still "
                                       "judges when chosen alone, --contract ID@VERSION). contracts/README.md, "
                                       "Revisions"},
            "title": TEXT, "title_en": TEXT,
            "jurisdiction": {"type": "object", "additionalProperties": False, "required": ["name", "regions"],
                             "properties": {"name": TEXT, "regions": {"type": "array", "minItems": 1,
                                                                       "items": REGION}}},
            "effective_from": DATE,
            "effective_to": {"oneOf": [DATE, {"type": "null"}]},
            "notes": NOTES,
            "example_defaults": {"type": "object", "description": "column values every example line starts from"},
            "documents": {"type": "object", "minProperties": 1, "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "required": ["number", "title", "issuer"],
                "properties": {"number": TEXT, "title": TEXT, "issuer": TEXT, "date": DATE, "seed": TEXT}}},
            "code_sets": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["title"],
                "anyOf": [{"required": ["codes"]}, {"required": ["prefixes"]}, {"required": ["names"]}],
                "properties": {"title": TEXT, "codes": {"type": "array", "items": TEXT},
                               "prefixes": {"type": "array", "items": TEXT},
                               "names": {"type": "array", "items": TEXT,
                                         "description": "hilist_name patterns (SQL LIKE: % any run of characters), "
                                                        "compared as names are (full-width folded, brackets "
                                                        "unified, no spaces or punctuation, any case); for items "
                                                        "the documents name but give no code"},
                               "names_cut_at_least": {
                                   "type": "integer", "minimum": 4,
                                   "description": "a hilist_name that is the first N or more characters of one "
                                                  "of `names` (a hospital system's field length cut it) is in "
                                                  "the set too; the finding says which name it was read as"},
                               "by_amount": {
                                   "type": "object", "additionalProperties": False, "required": ["column", "names"],
                                   "properties": {"column": {"enum": ["subsidy_amt"]},
                                                  "names": {"type": "array", "minItems": 1, "items": TEXT}},
                                   "description": "a line whose `column` is above 0 and whose hilist_name is like "
                                                  "one of `names` is in the set whatever its exact name"},
                               "lookalike": {
                                   "type": "object", "additionalProperties": False, "minProperties": 1,
                                   "properties": {"list_type": {"type": "array", "minItems": 1, "items": TEXT},
                                                  "names": {"type": "array", "minItems": 1, "items": TEXT}},
                                   "description": "lines that look like the set's items (目录类别 list_type, or a "
                                                  "hilist_name like one of `names`) but carry none of its codes "
                                                  "(a hospital's local code): each rule on the set counts them as "
                                                  "not judged: local code"},
                               "except_codes": {"type": "array", "items": TEXT,
                                                "description": "codes the set leaves out"},
                               "source": SOURCE, "notes": NOTES}}},
            "tables": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["title", "columns"],
                "properties": {"file": TEXT, "title": TEXT, "source": SOURCE, "notes": NOTES,
                               "supplied_by_user": {"type": "boolean",
                                                    "description": "the user passes it: --table NAME=PATH"},
                               "sample": {"type": "string", "description": "a clearly-labelled sample, for tests"},
                               "shared": {"type": "boolean",
                                          "description": "a user table several contracts declare alike: one "
                                                         "--table NAME=PATH feeds them all"},
                               "columns": {"type": "object", "minProperties": 1, "additionalProperties": {
                                   "enum": ["string", "number", "integer", "date"]}}}}},
            "institutions": {
                "type": "object", "additionalProperties": False, "required": ["names"],
                "description": "institution identity (the derived column `institution`): a user crosswalk "
                               "fixmedins_code -> institution wins; else the name, normalised, equal to a "
                               "canonical name or an alias",
                "properties": {
                    "names": {"type": "object", "additionalProperties": False, "required": ["table", "column"],
                              "properties": {"table": TEXT, "column": TEXT},
                              "description": "the table column holding the canonical names"},
                    "aliases": {"type": "string", "description": "table: institution, alias, reason"},
                    "crosswalk": {"type": "string", "description": "table: fixmedins_code, institution"}}},
            "rules": {"type": "array", "items": rule},
            "not_encoded": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "title", "reason", "source"],
                "properties": {"id": RULE_ID, "title": TEXT, "reason": TEXT, "source": SOURCE}}},
        },
    }
