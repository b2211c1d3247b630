"""Institution identity on the candidate lines: the derived columns `institution` and
`institution_via`, from each contract's `institutions:` block (checks/contract/institutions.py).

Resolved once per distinct (fixmedins_code, fixmedins_name, mdtrtarea_admvs) of the candidate
lines — a few hundred however many lines there are — and joined onto the candidate lines where
they are written (engine/plan.py):
1. the user's crosswalk, when supplied: the line's code names the institution (via 'code'; the
   name it gives is read through the aliases, so it may be any name the contract knows);
2. else the name, normalised as every name is (normal.name: full-width folded, brackets unified,
   no spaces or punctuation), equal to an alias (via 'alias') or to a canonical name (via 'name');
3. else a name printed with a bracketed second name, `A(B)` or `B(A)`, whose A or B is a known
   name, or a known `A(B)` printed as A or B alone (via 'bracket');
4. else a name of at least PREFIX_MIN characters that starts exactly one institution's known
   names: a name cut by a field length (via 'prefix'). Never a shorter part of a name, never a
   likeness (南京鼓楼医院 is a part of 南京鼓楼医院集团宿迁医院, another hospital);
5. else `institution` is the name as printed and `institution_via` is NULL; a rule whose finding
   rests on it says so (kinds/scope.py).
`institution` is written normalised as names are compared (no spaces, half-width brackets), so
lookups compare it as it is, with no per-line work.
A contract's lists apply in its own jurisdiction only. Where versions of a contract meet, the
first answer by priority (code, alias, name, bracket, prefix), then by name, is taken. A finding
resting on a bracket or prefix match says which name was read as which institution
(RuleContext.finding).
"""
from __future__ import annotations

from ..claims import normal
from ..kinds._common import q
from .context import regions_pred

KEYS = ("fixmedins_code", "fixmedins_name", "mdtrtarea_admvs")
# a normalised name A(B): A and B (nothing bracketed inside A)
BRACKETED = "^([^()]+)[(](.+)[)]$"
# the shortest printed name read as a cut-off institution name: shorter starts (南京鼓楼医院 of
# 南京鼓楼医院集团宿迁医院) are names of their own
PREFIX_MIN = 10


def crosswalk_given(contract) -> bool:
    inst = contract.institutions
    return bool(inst and inst.crosswalk and contract.tables[inst.crosswalk].data is not None)


def known_table(con, known: str, made: list[tuple[str, str]], keep=None) -> str:
    """A temp table of the names a contract knows institutions by, normalised (`k`), with the two
    parts of a bracketed name (`_p1`, `_p2`), or with `keep` (a long-lived process: checks.duck.Home.keep)
    a view of the table the first check made; (its name, TABLE or VIEW) is added to `made`."""
    name = f"ident_known_{len(made)}"
    # a row with no name (a user's list naming an institution by its code alone) knows none: its
    # empty name would equal the empty bracketed part of every name printed without brackets
    select = f"SELECT k.*, {parts('k.k')} FROM ({known}) k WHERE k.k <> ''"
    if keep is not None:
        keep(con, name, select)
        made.append((name, "VIEW"))
    else:
        con.execute(f"CREATE TEMP TABLE {name} AS {select}")
        made.append((name, "TABLE"))
    return name


def parts(normalised: str) -> str:
    return ", ".join(f"regexp_extract({normalised}, '{BRACKETED}', {i}) AS _p{i}" for i in (1, 2))


def _branches(con, contract, table_names: dict, made: list[tuple[str, str]], keep=None) -> list[str]:
    inst = contract.institutions

    def table(name):
        if name is None or contract.tables[name].data is None:
            return None
        return table_names[(contract.key, name)]

    nt, ncol = inst.names
    names, aliases, cross = table(nt), table(inst.aliases), table(inst.crosswalk)
    canon = (f"(SELECT DISTINCT CAST({q(ncol)} AS VARCHAR) AS institution FROM {names} "
             f"WHERE {q(ncol)} IS NOT NULL)") if names else None
    n = normal.name
    where = regions_pred("p", contract.regions)
    keys = ", ".join(f"p.{c}" for c in KEYS)
    out = []
    # every name the contract knows an institution by, normalised: canonical names and aliases
    known = []
    if canon:
        known.append(f"SELECT c.institution, {n('c.institution')} AS k, 3 AS pri FROM {canon} c")
    if aliases:
        known.append(f"SELECT CAST(a.institution AS VARCHAR) AS institution, {n('a.alias')} AS k, 2 AS pri "
                     f"FROM {aliases} a WHERE a.institution IS NOT NULL")
    if known:
        # the known names and their bracketed parts, normalised once (ident_known_N), as the
        # printed names are in ident_pairs: the joins below compare columns, not expressions
        kn = known_table(con, " UNION ALL ".join(known), made, keep)
        ln = "p._n"
        out.append(f"SELECT {keys}, k.pri, k.institution, CASE k.pri WHEN 2 THEN 'alias' ELSE 'name' END AS via "
                   f"FROM ident_pairs p JOIN {kn} k ON k.k = {ln} WHERE {where}")
        # A(B) or B(A) printed for a listed A (or B); a listed A(B) printed as A or B alone
        out.append(f"SELECT {keys}, 4 AS pri, k.institution, 'bracket' AS via FROM ident_pairs p JOIN {kn} k "
                   f"ON (k.k IN (p._p1, p._p2) OR {ln} IN (k._p1, k._p2)) AND {ln} <> k.k "
                   f"WHERE {where} AND {ln} <> ''")
        # a name cut by a field length: a start of exactly one institution's names, long enough to be one
        out.append(f"SELECT {keys}, 5 AS pri, min(k.institution) AS institution, 'prefix' AS via "
                   f"FROM ident_pairs p JOIN {kn} k ON starts_with(k.k, {ln}) AND k.k <> {ln} "
                   f"AND length({ln}) >= {PREFIX_MIN} WHERE {where} GROUP BY {keys} "
                   f"HAVING count(DISTINCT k.institution) = 1")
    if cross:
        given = "CAST(w.institution AS VARCHAR)"
        joins, named = "", [given]
        if aliases:
            joins += f" LEFT JOIN {aliases} a ON {n('a.alias')} = {n(given)}"
            named.insert(0, "CAST(a.institution AS VARCHAR)")
        if canon:
            joins += f" LEFT JOIN {canon} c ON {n('c.institution')} = {n(given)}"
            named.insert(-1, "c.institution")
        code = normal.key("w.fixmedins_code")
        out.append(f"SELECT {keys}, 1 AS pri, coalesce({', '.join(named)}) AS institution, 'code' AS via "
                   f"FROM ident_pairs p JOIN {cross} w ON {code} = p.fixmedins_code AND {code} <> '' "
                   f"AND {n(given)} <> ''{joins} WHERE {where}")
    return out


def resolve(con, contracts, table_names: dict, keep=None, lines: str = "lines_t") -> tuple[str, str]:
    """Resolve the institution of every distinct key of `lines` (by default the candidate lines,
    table `lines_t`; a key resolves alike whichever lines carry it) into temp table `ident`; return
    (columns, join) that add `institution` and `institution_via` to a query over lines aliased
    `l`. `keep`: see known_table."""
    keys = ", ".join(KEYS)
    con.execute(f"CREATE TEMP TABLE ident_pairs AS SELECT p.*, {parts('p._n')} FROM "
                f"(SELECT {keys}, {normal.name('fixmedins_name')} AS _n FROM (SELECT DISTINCT {keys} FROM {lines})) p")
    made: list[tuple[str, str]] = []
    branches = [b for c in contracts if c.institutions is not None
                for b in _branches(con, c, table_names, made, keep)]
    found = "\nUNION ALL\n".join(branches) or f"SELECT {keys}, 0 AS pri, NULL AS institution, NULL AS via FROM ident_pairs LIMIT 0"
    # the match of highest priority (code, alias, name), then the first name: one sortable key, so
    # that arg_min (min_by on Spark) picks it (every match names an institution)
    key = "CAST(f.pri AS VARCHAR) || f.institution"
    con.execute(f"""CREATE TEMP TABLE ident AS
        SELECT p.{', p.'.join(KEYS)},
               {normal.name(f"coalesce(arg_min(f.institution, {key}), p.fixmedins_name)")} AS institution,
               arg_min(f.via, {key}) AS via
        FROM ident_pairs p LEFT JOIN ({found}) f USING ({keys})
        GROUP BY p.{', p.'.join(KEYS)}""")
    con.execute("DROP TABLE ident_pairs")
    for name, kind in made:
        con.execute(f"DROP {kind} {name}")
    on = " AND ".join(f"i.{k} IS NOT DISTINCT FROM l.{k}" for k in KEYS)  # null-safe, as ident's GROUP BY is
    return ("CAST(i.institution AS VARCHAR) AS institution, CAST(i.via AS VARCHAR) AS institution_via",
            f"LEFT JOIN ident i ON {on}")


def attach(con, contracts, table_names: dict) -> None:
    """Add `institution` and `institution_via` to the candidate lines (temp table `lines_t`,
    rebuilt: no ALTER/UPDATE, so that the same statement runs on Spark). The engine itself adds
    them where it writes `lines` (engine/plan.py), saving a rewrite of every candidate line."""
    columns, join = resolve(con, contracts, table_names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE lines_t AS SELECT l.*, {columns} FROM lines_t l {join}")
