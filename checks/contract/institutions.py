"""A contract's `institutions:` block: how a claim line's institution is identified.

The documents name institutions, never their 定点医药机构编号, and hospital systems print names
their own way (without a bracketed second name, with a misprint corrected). The block names the
table column holding the canonical names, a table of aliases (each with its reason) and a user
table crosswalking fixmedins_code to an institution; checks/engine/identity.py resolves each line
to the derived column `institution` from them.

Checked on load: the tables and columns exist; every alias names a canonical institution; no
alias names two institutions or is another institution's canonical name; a rule may read
`institution` only in a contract that has the block.
"""
from __future__ import annotations

from ..claims.normal import name_text
from ..errors import Choices, ContractError
from ..paths import shown
from .model import Institutions

ALIAS_COLUMNS = ("institution", "alias", "reason", "source")
# where an alias may come from (the contracts' README, "Aliases"): the document itself (its own short
# name, its 主送 list, its misprint), the institution's registered name, the attachment's short
# name written out by the administrative division, an official public source naming both
ALIAS_SOURCES = ("文件", "登记名称", "行政区划", "公开来源")
CROSSWALK_COLUMNS = ("fixmedins_code", "institution")


def load_institutions(spec: dict | None, tables: dict, loc) -> Institutions | None:
    """The block, checked. An alias's `source` is required where the version declares the column:
    versions published before aliases carried their source do not (their file is kept as published)."""
    if not spec:
        return None
    at = ("institutions",)

    def table(key, name, need):
        if name not in tables:
            raise loc.error(at + (key,), f"institutions.{key}: unknown table {name!r}", Choices(sorted(tables), name))
        missing = [c for c in need if c not in tables[name].columns]
        if missing:
            raise loc.error(at + (key,), f"institutions.{key}: table {name!r} has no column {missing[0]!r} "
                                         f"(it needs {', '.join(need)})", Choices(sorted(tables[name].columns), missing[0]))
        return tables[name]

    names = spec["names"]
    table("names", names["table"], (names["column"],))
    inst = Institutions((names["table"], names["column"]), spec.get("aliases"), spec.get("crosswalk"))
    if inst.aliases:
        declared = tables[inst.aliases].columns if inst.aliases in tables else ALIAS_COLUMNS
        table("aliases", inst.aliases, [c for c in ALIAS_COLUMNS if c != "source" or "source" in declared])
    if inst.crosswalk:
        cw = table("crosswalk", inst.crosswalk, CROSSWALK_COLUMNS)
        if not cw.supplied_by_user:
            raise loc.error(at + ("crosswalk",), f"institutions.crosswalk: table {inst.crosswalk!r} must be "
                                                 "supplied by the user (supplied_by_user: true)")
    _check_aliases(inst, tables)
    return inst


def _check_aliases(inst: Institutions, tables: dict) -> None:
    """Every alias points at a canonical name, and reads as one institution only (bundled tables)."""
    ntable, ncol = inst.names
    canon_t = tables[ntable]
    if not inst.aliases or canon_t._data is None or tables[inst.aliases]._data is None:
        return  # user-supplied or not read yet: checked when read
    canon = {name_text(v) for v in canon_t._data.column(ncol).to_pylist() if v}
    at = tables[inst.aliases]
    seen: dict[str, str] = {}
    has_source = "source" in at._data.column_names  # not in a retired version's (see load_institutions)
    for i, row in enumerate(at._data.select(["institution", "alias"] + (["source"] if has_source else [])).to_pylist()):
        where = shown(at.file)
        if has_source and row["source"] not in ALIAS_SOURCES:
            raise ContractError(where, f"row {i + 1}: alias {row['alias']!r} has source {row['source']!r}; an alias "
                                       f"comes from one of {', '.join(ALIAS_SOURCES)} (contracts/README.md, Aliases)",
                                i + 2, None, list(ALIAS_SOURCES))
        target, alias = name_text(row["institution"]), name_text(row["alias"])
        if target not in canon:
            raise ContractError(where, f"row {i + 1}: alias {row['alias']!r} names {row['institution']!r}, which is "
                                       f"not an institution of {ntable}.{ncol}", i + 2)
        if alias in canon and alias != target:
            raise ContractError(where, f"row {i + 1}: alias {row['alias']!r} is itself an institution of "
                                       f"{ntable}.{ncol}, not another name of {row['institution']!r}", i + 2)
        if seen.get(alias, target) != target:
            raise ContractError(where, f"row {i + 1}: alias {row['alias']!r} names both {seen[alias]!r} and "
                                       f"{row['institution']!r}", i + 2)
        seen[alias] = target


def check_rule_identity(rule, version, loc, path) -> None:
    reads = set(rule.impl.reads()) | (set(rule.when.columns) if rule.when is not None else set())
    if "institution" in reads and version.institutions is None:
        raise loc.error(path, f"rule {rule.id} reads institution, but the contract does not say how institutions "
                              "are identified: add an institutions: block (names, aliases, crosswalk)")
