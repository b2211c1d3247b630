"""Load contracts/<id>/<version>.yaml files into ContractVersion objects, or say exactly what is wrong."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


from .. import expr as expr_mod
from ..claims.fields import COLUMNS, DERIVED, FIELDS
from ..errors import Choices, ContractError, UsageError, choices_text
from ..paths import shown
from ..kinds import KINDS
from ..yamlsrc import dotted, load_yaml, schema_validator
from .coverage import check_overlaps
from .institutions import check_rule_identity, load_institutions
from .model import CodeSet, ContractVersion, Document, NotEncoded, Rule, Source, Table
from .retired import check_names, check_revisions
from .schema import contract_schema
from .tables import load_table

_VALIDATOR = None


def bundled_contracts_dir() -> Path:
    """The contracts that ship with claimcheck: checks/_bundled in an installed wheel, the
    repository's contracts/ folder in a source checkout or an editable install."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_bundled", package.parent / "contracts"):
        if (candidate / "contract.schema.json").is_file():
            return candidate
    return package / "_bundled"  # not there: load_contracts says so, naming this path


def default_contracts_dir() -> Path:
    """$CLAIMCHECK_CONTRACTS when set, else the bundled contracts (--contracts overrides both)."""
    env = os.environ.get("CLAIMCHECK_CONTRACTS")
    if env:
        return Path(env)
    return bundled_contracts_dir()


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = schema_validator(contract_schema())
    return _VALIDATOR


def _schema_error(err, loc) -> ContractError:
    path = tuple(err.absolute_path)
    where = dotted(path)
    if err.validator == "enum":
        return loc.error(path, f"{where} {err.instance!r} is unknown",
                         Choices(err.validator_value, str(err.instance)))
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return loc.error(path + (extra[0],), f"{where}: unknown key {extra[0]!r}",
                         Choices(allowed, extra[0]) if allowed else None)
    return loc.error(path, f"{where}: {err.message}")


def _first_error(errors, loc):
    def depth_then_line(e):
        line, col = loc.where(tuple(e.absolute_path))
        return (-len(e.absolute_path), line or 0, col or 0)
    leaves = []
    for e in errors:
        while e.context:  # descend into allOf/oneOf to the most specific cause
            e = sorted(e.context, key=depth_then_line)[0]
        leaves.append(e)
    return sorted(leaves, key=lambda e: (loc.where(tuple(e.absolute_path))[0] or 0,))[0]


def _date(data: dict, loc, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(data[key])
    except ValueError as e:
        raise loc.error((key,), f"{key}: {data[key]!r} is not a date ({e})") from None


def load_version(file: Path, display: str, read_tables: bool = True, parsed=None,
                 siblings: dict | None = None) -> ContractVersion:
    """One contract version. Without `read_tables` its reference tables are read on first use.

    `parsed` is (data, loc) when the file was read already; `siblings` ({table: columns}) are the
    columns the contract's other versions declare for each table (its file may have them: the file
    is shared)."""
    data, loc = parsed or load_yaml(file, display)
    errors = list(_validator().iter_errors(data))
    if errors:
        raise _schema_error(_first_error(errors, loc), loc)

    if file.stem != data["version"]:
        raise loc.error(("version",), f"version {data['version']} does not match the file name {file.name}")
    siblings = siblings or {}
    start = _date(data, loc, "effective_from")
    end = _date(data, loc, "effective_to") if data.get("effective_to") else None
    if end and end < start:
        raise loc.error(("effective_to",), f"effective_to {end} is before effective_from {start}")

    docs = {k: Document(k, d["number"], d["title"], d["issuer"], d.get("date"), d.get("seed"))
            for k, d in data["documents"].items()}

    def source(path, s) -> Source:
        if s["document"] not in docs:
            raise loc.error(path + ("document",), f"unknown document {s['document']!r}",
                            Choices(sorted(docs), s["document"]))
        return Source(docs[s["document"]], s["section"], s["quote"])

    code_sets = {}
    for name, cs in (data.get("code_sets") or {}).items():
        if "source" in cs:
            source(("code_sets", name, "source"), cs["source"])
        code_sets[name] = CodeSet(name, cs["title"], list(cs.get("codes", [])), list(cs.get("prefixes", [])),
                                  "; ".join(cs.get("notes", [])) or None, list(cs.get("except_codes", [])),
                                  list(cs.get("names", [])), cs.get("names_cut_at_least"), cs.get("by_amount"),
                                  cs.get("lookalike"))

    tables = {}
    # an institution table of aliases may carry each alias's `source`, added after some versions were
    # published: a version that does not declare it still reads the file beside it
    aliases = (data.get("institutions") or {}).get("aliases")
    for name, t in (data.get("tables") or {}).items():
        if name == aliases:
            siblings = {**siblings, name: set(siblings.get(name, ())) | {"source"}}
        src = source(("tables", name, "source"), t["source"]) if "source" in t else None
        if t.get("supplied_by_user"):
            sample = Path(display).parent / t["sample"] if "sample" in t else None
            if sample and not (file.parent / t["sample"]).resolve().is_relative_to(file.parent.resolve()):
                raise loc.error(("tables", name, "sample"), f"tables.{name}.sample {t['sample']!r} lies outside "
                                "the contract's folder; a sample table must be beside the contract")
            if sample and not (file.parent / t["sample"]).is_file():
                raise loc.error(("tables", name, "sample"), f"sample table file {t['sample']} not found")
            tables[name] = Table(name, file.parent / t["sample"] if sample else None, t["title"],
                                 dict(t["columns"]), None, src, True, sample, shared=bool(t.get("shared")),
                                 tolerated=frozenset(siblings.get(name, ())) - set(t["columns"]))
            continue
        if "file" not in t:
            raise loc.error(("tables", name), f"tables.{name} needs file: (or supplied_by_user: true)")
        tfile = file.parent / t["file"]
        folder = file.parent.resolve()
        if not tfile.resolve().is_relative_to(folder):
            raise loc.error(("tables", name, "file"), f"tables.{name}.file {t['file']!r} lies outside the "
                            f"contract's folder; a table file must be beside the contract")
        tdisplay = str(Path(display).parent / t["file"])
        columns = dict(t["columns"])
        tolerated = frozenset(siblings.get(name, ())) - set(columns)
        if read_tables:
            tables[name] = Table(name, tfile, t["title"], columns, load_table(tfile, tdisplay, columns,
                                                                              tolerate=tolerated), src,
                                 tolerated=tolerated)
        else:
            tables[name] = Table(name, tfile, t["title"], columns, None, src, tolerated=tolerated,
                                 reader=lambda f=tfile, d=tdisplay, c=columns, o=tolerated: load_table(f, d, c,
                                                                                                     tolerate=o))

    version = ContractVersion(
        id=data["contract"], version=data["version"], title=data["title"], title_en=data["title_en"],
        regions=list(data["jurisdiction"]["regions"]), jurisdiction=data["jurisdiction"]["name"],
        effective_from=start, effective_to=end, file=Path(display), documents=docs, code_sets=code_sets,
        tables=tables, rules=[], notes=list(data.get("notes", [])),
        example_defaults=dict(data.get("example_defaults", {})),
        not_encoded=[NotEncoded(n["id"], n["title"], n["reason"], source(("not_encoded", i, "source"), n["source"]),
                                loc.where(("not_encoded", i))[0])
                     for i, n in enumerate(data.get("not_encoded", []))],
        revises=data.get("revises"), revises_at=loc.where(("revises",)) if "revises" in data else (None, None))
    version.institutions = load_institutions(data.get("institutions"), tables, loc)

    for col in version.example_defaults:
        if col not in FIELDS:
            raise loc.error(("example_defaults", col), f"example_defaults: unknown claim column {col!r}",
                            Choices(sorted(FIELDS), col))
    seen = {}  # ids are unique per version, whatever their case: addresses ignore it
    for where, items in (("rules", data["rules"]), ("not_encoded", data.get("not_encoded", []))):
        for i, r in enumerate(items):
            if r["id"].lower() in seen:
                raise loc.error((where, i, "id"), f"rule id {r['id']} is used twice "
                                f"(first at {seen[r['id'].lower()]}; ids are compared ignoring case)")
            seen[r["id"].lower()] = f"{where}[{i}]"
    for i, r in enumerate(data["rules"]):
        path = ("rules", i)
        for j, name in enumerate(r.get("codes", [])):
            if name not in code_sets:
                raise loc.error(path + ("codes", j), f"unknown code set {name!r}",
                                Choices(sorted(code_sets), name))
        kind = KINDS[r["kind"]]
        if not r.get("codes") and "when" not in r:
            raise loc.error(path, f"rules[{i}] ({r['id']}) needs codes: or when: to say which lines it judges")
        when = None
        if "when" in r:
            try:
                when = expr_mod.parse(r["when"], set(COLUMNS))
            except expr_mod.ExprError as e:
                raise loc.error(path + ("when",), f"rules[{i}].when: {e}", e.choices) from None
        rule = Rule(id=r["id"], title=r["title"], title_en=r["title_en"], kind=r["kind"], severity=r["severity"],
                    source=source(path + ("source",), r["source"]), params=r["params"],
                    codes=list(r.get("codes", [])), regions=list(r.get("regions", [])),
                    except_regions=list(r.get("except_regions", [])), when=when, notes=list(r.get("notes", [])),
                    supersedes=list(r.get("supersedes", [])), line=loc.where(path)[0],
                    examples=list(r.get("examples", [])), optional_columns=list(r.get("optional_columns", [])))
        for k, ex in enumerate(rule.examples):
            for j, ln in enumerate(ex["lines"]):
                for col in ln:
                    if col not in FIELDS:
                        raise loc.error(path + ("examples", k, "lines", j, col),
                                        f"rules[{i}].examples[{k}].lines[{j}]: unknown claim column {col!r}",
                                        Choices(sorted(FIELDS), col))

        def error(sub, message, choices=None, _path=path):
            return loc.error(_path + ("params",) + tuple(sub), f"{dotted(_path + ('params',) + tuple(sub))}: {message}",
                             choices)
        rule.impl = kind(rule, version, error)
        check_rule_identity(rule, version, loc, path)
        derived = sorted((set(rule.impl.reads()) | set(when.columns if when else ())) & set(DERIVED))
        if kind.counts_history and derived:  # the ledger keeps claim fields; earlier lines have no derived ones
            raise loc.error(path + (("when",) if "when" in r else ("params",)),
                            f"rules[{i}] ({r['id']}) counts lines across batches, whose earlier lines are kept "
                            f"without derived columns: it cannot read {', '.join(derived)}; write the condition on "
                            "claim fields (e.g. inscp_scp_amt <> 0 for a fund-paid line)")
        version.rules.append(rule)

    ids = {r.id for r in version.rules}
    for i, r in enumerate(version.rules):
        for j, s in enumerate(r.supersedes):
            if s not in ids or s == r.id:
                raise loc.error(("rules", i, "supersedes", j), f"supersedes names no other rule of this version: {s!r}",
                                Choices(sorted(ids - {r.id}), s))
    return version


def _declared(files: list[Path], parsed: list) -> tuple[dict, dict]:
    """Before a folder's versions are loaded: the columns each version declares for each of its
    tables ({version: {table: [column]}}), and what each revises ({version: revises}); read
    leniently (a malformed file is refused when it is loaded)."""
    declared, revises = {}, {}
    for f, (data, _) in zip(files, parsed):
        if not isinstance(data, dict):
            continue
        tables = data.get("tables") if isinstance(data.get("tables"), dict) else {}
        declared[f.stem] = {n: list(t["columns"]) for n, t in tables.items()
                            if isinstance(t, dict) and isinstance(t.get("columns"), dict)}
        revises[f.stem] = str(data["revises"]) if data.get("revises") is not None else None
    return declared, revises


def _contract_dirs(root: Path) -> list[Path]:
    if any(root.glob("*.yaml")):
        return [root]
    return sorted(d for d in root.iterdir() if d.is_dir() and any(d.glob("*.yaml")))


def supply_tables(versions: list[ContractVersion], tables: dict[str, str]) -> None:
    """Load user-supplied reference tables: {'table' or 'contract.table': path}."""
    for key, path in tables.items():
        cid, _, tname = key.rpartition(".")
        hits = [v for v in versions if tname in v.tables and v.tables[tname].supplied_by_user
                and (not cid or v.id == cid)]
        if not hits:
            known = sorted({f"{v.id}.{t.name}" for v in versions for t in v.tables.values() if t.supplied_by_user})
            raise UsageError(f"--table {key}: no contract takes a user-supplied table of that name"
                             + choices_text(known, key))
        if len({v.id for v in hits}) > 1 and not all(v.tables[tname].shared for v in hits):
            raise UsageError(f"--table {key}: several contracts take a table {tname!r}; "
                             f"name it as contract.table ({', '.join(sorted({v.id for v in hits}))})")
        p = Path(path)
        read: dict = {}  # versions of one contract may declare different columns: read once per set
        for v in hits:
            t = v.tables[tname]
            how = (tuple(t.columns.items()), t.tolerated)
            if how not in read:
                read[how] = load_table(p, shown(p), t.columns, cite=True, tolerate=t.tolerated)
            t.data, t.file, t.supplied_from = read[how], p, shown(p)


def load_contracts(root: Path | str | None = None, tables: dict[str, str] | None = None,
                   use_samples: bool = False, read_tables: bool = True) -> list[ContractVersion]:
    """Every version of every contract under `root` (a contracts folder, or one contract's folder).

    `tables` supplies user tables by name; `use_samples` fills the rest from their bundled samples
    (for `contracts test`). Without `read_tables` (for commands that only show the rules) the
    reference tables are read, and their errors raised, on first use of `Table.data`."""
    root = Path(root) if root else default_contracts_dir()
    if not root.is_dir():
        raise ContractError(shown(root), "contracts folder not found")
    out = []
    for d in _contract_dirs(root):
        files = sorted(d.glob("*.yaml"))
        parsed = [load_yaml(f, shown(f)) for f in files]
        declared, revises = _declared(files, parsed)
        locs = {f.stem: p[1] for f, p in zip(files, parsed)}
        check_names(d.name, revises, lambda v, message, choices: locs[v].error(("revises",), message, choices))
        versions = []
        for f, p in zip(files, parsed):
            siblings = {}
            for other, theirs in declared.items():
                if other != f.stem:
                    for name, cols in theirs.items():
                        siblings.setdefault(name, set()).update(cols)
            v = load_version(f, shown(f), read_tables, p, siblings)
            if v.id != d.name:
                raise ContractError(shown(f), f"contract id {v.id!r} does not match its folder {d.name!r}", 1)
            versions.append(v)
        versions.sort(key=lambda v: v.effective_from)
        check_revisions(versions)
        check_overlaps(versions)
        out += versions
    if not out:
        raise ContractError(shown(root), "no contracts found (expected <contract>/<version>.yaml files)")
    supply_tables(out, tables or {})
    if use_samples:
        for v in out:
            for t in v.tables.values():
                if t.data is None and t.sample:
                    t.data = load_table(t.file, str(t.sample), t.columns, cite=True, tolerate=t.tolerated)
                    t.supplied_from = str(t.sample)
    return out
