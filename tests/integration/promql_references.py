"""Checks that PromQL expressions (Grafana panel queries, alerting rules) name only series a
perfcast-server scrape really has.

    exposition = Exposition.parse(text_of_a_metrics_scrape)
    for problem in expression_problems('rate(grpc_server_handled_total{grpc_code="OK"}[5m])',
                                       exposition):
        print(problem)

A reference is a problem when its metric name is no sample name of the scrape (a histogram by its
`_bucket`, `_sum` and `_count` series, never by its bare name), when a label matcher names a label
no series of that metric has, when an `=` or `=~` matcher's value matches no series' value, or
when a `by`/`without`/`on`/`ignoring` clause names a label none of the expression's metrics has.
`job` and `instance` are allowed everywhere: Prometheus adds them to every scraped series, and
adds `up` and the `scrape_*` series itself. Values holding a Grafana variable (`$job`) are not
checked; `$__rate_interval` and its kin are read as a duration.

This is a reader of the PromQL that dashboards and rules use, not a full parser: syntax is
promtool's job (`promtool check rules`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# Labels every scraped series gets from its target.
TARGET_LABELS = frozenset({"job", "instance"})
# Series Prometheus writes for each target itself; they carry the target labels only.
SYNTHETIC_SERIES = ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                    "scrape_samples_post_metric_relabeling", "scrape_series_added")

_AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                           "count_values", "bottomk", "topk", "quantile"})
_GROUPING_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_OTHER_KEYWORDS = frozenset({"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"})
_GRAFANA_DURATIONS = re.compile(r"\$\{?__(?:rate_interval|interval|range)(?:_ms|_s)?\}?")

_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+(?:ms|[smhdwy]))+|\d*\.?\d+(?:[eE][+-]?\d+)?)
  | (?P<identifier>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<comparison>==|>=|<=)
  | (?P<matcher_op>=~|!~|!=|=)
  | (?P<punctuation>[{}(),])
  | (?P<operator>[-+*/%^<>@])
""", re.VERBOSE)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~, !~
    value: str


@dataclass(frozen=True)
class Selector:
    metric: str  # empty when the selector has no name ({job="x"})
    matchers: tuple[Matcher, ...] = ()


@dataclass
class References:
    selectors: list[Selector] = field(default_factory=list)
    grouping_labels: list[str] = field(default_factory=list)


def _tokens(expr: str) -> list[tuple[str, str]]:
    expr = _GRAFANA_DURATIONS.sub("5m", expr)
    tokens, position = [], 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read {expr[position:position + 20]!r} in {expr!r}")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
    return tokens


def _unquote(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _read_matchers(tokens: list[tuple[str, str]], i: int, expr: str) -> tuple[list[Matcher], int]:
    """tokens[i] is '{'; returns its matchers and the index after the closing '}'."""
    matchers, i = [], i + 1
    while tokens[i] != ("punctuation", "}"):
        try:
            (label_kind, label), (op_kind, op), (value_kind, value) = tokens[i:i + 3]
        except ValueError:
            raise ValueError(f"unterminated label matchers in {expr!r}") from None
        if (label_kind, op_kind, value_kind) != ("identifier", "matcher_op", "string"):
            raise ValueError(f"cannot read label matcher {label}{op}{value} in {expr!r}")
        matchers.append(Matcher(label, op, _unquote(value)))
        i += 3
        if tokens[i] == ("punctuation", ","):
            i += 1
    return matchers, i + 1


def _read_label_list(tokens: list[tuple[str, str]], i: int) -> tuple[list[str], int]:
    """tokens[i] is '('; returns the labels up to ')' and the index after it."""
    labels, i = [], i + 1
    while tokens[i] != ("punctuation", ")"):
        if tokens[i][0] == "identifier":
            labels.append(tokens[i][1])
        i += 1
    return labels, i + 1


def references(expr: str) -> References:
    """The series selectors and grouping labels of a PromQL expression."""
    tokens = _tokens(expr) + [("end", "")]
    found = References()
    i = 0
    while tokens[i][0] != "end":
        kind, text = tokens[i]
        following = tokens[i + 1]
        if kind == "identifier" and text in _GROUPING_KEYWORDS:
            if following == ("punctuation", "("):
                labels, i = _read_label_list(tokens, i + 1)
                found.grouping_labels.extend(labels)
            else:
                i += 1  # group_left without a label list
            continue
        if kind == "identifier" and (text in _OTHER_KEYWORDS or following == ("punctuation", "(")
                                     or (text in _AGGREGATIONS
                                         and following[1] in ("by", "without"))):
            i += 1
            continue
        if kind == "identifier":
            if following == ("punctuation", "{"):
                matchers, i = _read_matchers(tokens, i + 1, expr)
            else:
                matchers, i = [], i + 1
            found.selectors.append(Selector(text, tuple(matchers)))
            continue
        if (kind, text) == ("punctuation", "{"):
            matchers, i = _read_matchers(tokens, i, expr)
            names = [m.value for m in matchers if m.label == "__name__" and m.op == "="]
            rest = tuple(m for m in matchers if m.label != "__name__")
            found.selectors.append(Selector(names[0] if names else "", rest))
            continue
        i += 1
    return found


@dataclass
class Exposition:
    """What one scrape holds: each sample name with the label sets of its series."""

    series: dict[str, list[dict[str, str]]]
    types: dict[str, str]  # family name -> counter, gauge, histogram, ...

    _SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+")
    _LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

    @classmethod
    def parse(cls, text: str) -> Exposition:
        series: dict[str, list[dict[str, str]]] = {}
        types: dict[str, str] = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(maxsplit=3)
                types[name] = kind
                continue
            match = cls._SAMPLE.match(line)
            if match is None:
                continue
            labels = {k: re.sub(r"\\(.)", r"\1", v)
                      for k, v in cls._LABEL.findall(match.group(2) or "")}
            series.setdefault(match.group(1), []).append(labels)
        for name in SYNTHETIC_SERIES:
            series.setdefault(name, [{}])
        return cls(series, types)

    def labels_of(self, metric: str) -> set[str]:
        return set().union(*self.series.get(metric, [{}])) | TARGET_LABELS

    def values_of(self, metric: str, label: str) -> set[str]:
        return {labels.get(label, "") for labels in self.series.get(metric, [])}


def _is_grafana_variable(value: str) -> bool:
    return "$" in value


def _matcher_problem(metric: str, matcher: Matcher, exposition: Exposition) -> str | None:
    if matcher.label not in exposition.labels_of(metric):
        known = ", ".join(sorted(exposition.labels_of(metric)))
        return f"{metric} has no label {matcher.label!r} (its labels: {known})"
    if (matcher.op not in ("=", "=~") or matcher.label in TARGET_LABELS
            or _is_grafana_variable(matcher.value)):
        return None
    values = exposition.values_of(metric, matcher.label)
    if matcher.op == "=":
        matched = matcher.value in values
    else:
        pattern = re.compile(matcher.value)
        matched = any(pattern.fullmatch(v) for v in values)
    if matched:
        return None
    return (f"{metric}{{{matcher.label}{matcher.op}{matcher.value!r}}} matches no series; "
            f"{matcher.label} is one of {sorted(values)}")


def _metric_problem(metric: str, exposition: Exposition) -> str | None:
    if metric in exposition.series:
        return None
    if exposition.types.get(metric) == "histogram":
        return f"{metric} is a histogram: use {metric}_bucket, {metric}_sum or {metric}_count"
    close = difflib.get_close_matches(metric, exposition.series, n=3)
    similar = f" (similar: {', '.join(close)})" if close else ""
    return f"no metric {metric} in the scrape{similar}"


def expression_problems(expr: str, exposition: Exposition) -> list[str]:
    """What in expr the scrape does not back; empty when every reference is there."""
    try:
        found = references(expr)
    except ValueError as e:
        return [str(e)]
    except IndexError:
        return [f"unbalanced braces or parentheses in {expr!r}"]
    problems = []
    metrics = []
    for selector in found.selectors:
        if not selector.metric:
            problems.append(f"a selector without a metric name cannot be checked: {expr!r}")
            continue
        problem = _metric_problem(selector.metric, exposition)
        if problem:
            problems.append(problem)
            continue
        metrics.append(selector.metric)
        problems.extend(p for m in selector.matchers
                        if (p := _matcher_problem(selector.metric, m, exposition)))
    if not found.selectors:
        problems.append(f"no metric in {expr!r}")
    available = set(TARGET_LABELS).union(*(exposition.labels_of(m) for m in metrics))
    for label in found.grouping_labels:
        if metrics and label not in available:
            problems.append(f"grouping label {label!r} is on none of {sorted(set(metrics))}")
    return problems


_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.*),)?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$",
                           re.DOTALL)


def variable_query_problems(query: str, exposition: Exposition) -> list[str]:
    """A Grafana template variable's query: label_values(SELECTOR, LABEL), or PromQL."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        return expression_problems(query, exposition)
    selector, label = match.group(1), match.group(2)
    if selector is None:
        return [f"label_values({label}) without a metric reads every series: name one"]
    problems = expression_problems(selector, exposition)
    if problems:
        return problems
    for metric in {s.metric for s in references(selector).selectors}:
        if metric in exposition.series and label not in exposition.labels_of(metric):
            problems.append(f"label_values: {metric} has no label {label!r}")
    return problems
