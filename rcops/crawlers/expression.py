"""The monitoring-scheme expression language (监测方案表达式).

::

    (农信社 OR 农商行 OR "农村信用社") AND (挤兑 OR 暴力催收 OR 逾期 NEAR/10 投诉) AND NOT 招聘

* a **word** is any run of characters without spaces, parentheses or quotes;
  a **phrase** is quoted (``"暴力 催收"`` or ``“暴力催收”``) and may hold spaces
  or the words AND/OR/NOT/NEAR. Matching is substring matching, case-insensitive,
  with runs of white space counted as one space (Chinese has no word breaks).
* ``AND``, ``OR``, ``NOT`` (any case, separated by spaces or parentheses);
  two terms side by side mean AND. ``NOT`` binds tightest, then AND, then OR;
  parentheses ``()`` or ``（）`` group.
* ``A NEAR/n B``: A and B both occur with at most *n* characters between them,
  in either order (1 ≤ n ≤ 1000). Both sides must be words or phrases.
* An expression that the empty text satisfies (only ``NOT`` conditions) is
  refused: it would match nearly everything.

:func:`parse` returns an :class:`Expression` or raises :class:`ExpressionError`
whose message points at the character (``第 12 个字符处：缺少右括号``); it raises
nothing else, whatever the input (property-tested with hypothesis).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from .exceptions import SourceConfigError

MAX_LENGTH = 2000
MAX_NEAR = 1000
#: occurrences of one term looked at when checking NEAR
MAX_OCCURRENCES = 2000
OPEN = "(（"
CLOSE = ")）"
QUOTES = {'"': '"', "“": "”", "”": "”"}
KEYWORDS = {"AND", "OR", "NOT"}
_NEAR_RE = re.compile(r"NEAR(?:/(\d*))?$", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


class ExpressionError(SourceConfigError):
    """An invalid expression; ``position`` is the 1-based character the message points at."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"第 {position} 个字符处：{message}")
        self.position = position
        self.reason = message


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Term:
    text: str  # normalised: casefolded, white space collapsed
    phrase: bool = False

    def __str__(self) -> str:
        plain = not self.phrase and self.text.upper() not in KEYWORDS and not _NEAR_RE.match(self.text)
        if plain:
            return self.text
        return f'"{self.text}"' if '"' not in self.text else f"“{self.text}”"


@dataclass(frozen=True)
class Not:
    child: Node

    def __str__(self) -> str:
        inner = str(self.child)
        return f"NOT ({inner})" if isinstance(self.child, (And, Or)) else f"NOT {inner}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(str(c) for c in self.children)


@dataclass(frozen=True)
class Near:
    left: Term
    right: Term
    distance: int

    def __str__(self) -> str:
        return f"{self.left} NEAR/{self.distance} {self.right}"


Node = Union[Term, Not, And, Or, Near]


def normalise(text: str) -> str:
    """What expressions are matched against: casefolded, white space runs as one space."""
    return _SPACE_RE.sub(" ", text or "").casefold()


def _occurrences(haystack: str, needle: str) -> list[int]:
    found: list[int] = []
    start = haystack.find(needle)
    while start >= 0 and len(found) < MAX_OCCURRENCES:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def _near(haystack: str, node: Near) -> bool:
    a, b = node.left.text, node.right.text
    first, second = _occurrences(haystack, a), _occurrences(haystack, b)
    for i in first:
        for j in second:
            gap = j - (i + len(a)) if j >= i else i - (j + len(b))
            if gap <= node.distance:
                return True
    return False


def _eval(node: Node, haystack: str, hits: list[str]) -> bool:
    if isinstance(node, Term):
        found = node.text in haystack
        if found and node.text not in hits:
            hits.append(node.text)
        return found
    if isinstance(node, Not):
        return not _eval(node.child, haystack, [])
    if isinstance(node, And):
        return all(_eval(c, haystack, hits) for c in node.children)
    if isinstance(node, Or):
        results = [_eval(c, haystack, hits) for c in node.children]  # all, to collect every hit
        return any(results)
    found = _near(haystack, node)
    if found:
        for term in (node.left.text, node.right.text):
            if term not in hits:
                hits.append(term)
    return found


@dataclass(frozen=True)
class Expression:
    """A parsed expression; ``str()`` is its canonical form (it parses to the same tree)."""

    source: str
    tree: Node

    def __str__(self) -> str:
        return str(self.tree)

    def matches(self, text: str) -> bool:
        return _eval(self.tree, normalise(text), [])

    def match(self, text: str) -> list[str] | None:
        """The positive terms found when ``text`` matches, else ``None``."""
        hits: list[str] = []
        return hits if _eval(self.tree, normalise(text), hits) else None


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # WORD PHRASE AND OR NOT NEAR ( ) END
    value: str
    position: int  # 1-based
    distance: int = 0


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in OPEN:
            tokens.append(Token("(", ch, i + 1))
            i += 1
            continue
        if ch in CLOSE:
            tokens.append(Token(")", ch, i + 1))
            i += 1
            continue
        if ch in QUOTES:
            end = text.find(QUOTES[ch], i + 1)
            if ch == '"' and end < 0:
                end = text.find("”", i + 1)
            if end < 0:
                raise ExpressionError("引号未闭合", i + 1)
            phrase = normalise(text[i + 1 : end]).strip()
            if not phrase:
                raise ExpressionError("引号内为空", i + 1)
            tokens.append(Token("PHRASE", phrase, i + 1))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in OPEN and text[j] not in CLOSE and text[j] not in QUOTES:
            j += 1
        word = text[i:j]
        upper = word.upper()
        near = _NEAR_RE.match(word)
        if upper in KEYWORDS:
            tokens.append(Token(upper, word, i + 1))
        elif near:
            digits = near.group(1)
            if not digits:
                raise ExpressionError(f"{word} 后需写距离（字符数），如 NEAR/10", i + 1)
            distance = int(digits[:6])
            if not 1 <= distance <= MAX_NEAR:
                raise ExpressionError(f"NEAR 的距离须在 1 到 {MAX_NEAR} 个字符之间，实际为 {digits}", i + 1)
            tokens.append(Token("NEAR", word, i + 1, distance))
        elif upper.startswith("NEAR/"):  # NEAR/-3, NEAR/abc, NEAR/3.5: a mistyped distance, not a search word
            raise ExpressionError(f"NEAR 的距离须是 1 到 {MAX_NEAR} 之间的整数（字符数），实际为 “{word[5:]}”；"
                                  f"如要检索这个词本身，请加引号：\"{word}\"", i + 1)
        else:
            tokens.append(Token("WORD", normalise(word), i + 1))
        i = j
    tokens.append(Token("END", "", n + 1))
    return tokens


# --------------------------------------------------------------------------- parser

_STARTS_TERM = {"WORD", "PHRASE", "(", "NOT"}


def _describe(token: Token) -> str:
    if token.kind == "END":
        return "表达式结尾"
    return f"“{token.value}”"


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise ExpressionError("表达式为空", 1)
        node = self.or_expr()
        token = self.peek
        if token.kind == ")":
            raise ExpressionError("多余的右括号（没有与之配对的左括号）", token.position)
        if token.kind != "END":  # pragma: no cover - every other token is consumed above
            raise ExpressionError(f"无法理解的 {_describe(token)}", token.position)
        return node

    def _operand_missing(self, operator: Token) -> ExpressionError:
        after = self.peek
        return ExpressionError(f"{operator.value.upper()} 后缺少词语（遇到{_describe(after)}）", after.position)

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek.kind == "OR":
            op = self.take()
            if self.peek.kind not in _STARTS_TERM:
                raise self._operand_missing(op)
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while True:
            if self.peek.kind == "AND":
                op = self.take()
                if self.peek.kind not in _STARTS_TERM:
                    raise self._operand_missing(op)
            elif self.peek.kind not in _STARTS_TERM:
                break
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        if self.peek.kind == "NOT":
            op = self.take()
            if self.peek.kind not in _STARTS_TERM:
                raise self._operand_missing(op)
            return Not(self.unary())
        return self.near()

    def near(self) -> Node:
        left_token = self.peek
        left = self.primary()
        if self.peek.kind != "NEAR":
            return left
        op = self.take()
        right_token = self.peek
        if right_token.kind not in _STARTS_TERM:
            raise self._operand_missing(op)
        right = self.primary()
        for node, token in ((left, left_token), (right, right_token)):
            if not isinstance(node, Term):
                raise ExpressionError(f"{op.value} 两侧只能是词语或短语", token.position)
        if self.peek.kind == "NEAR":
            raise ExpressionError("NEAR 不能连用，请用 AND 连接两个 NEAR 条件", self.peek.position)
        assert isinstance(left, Term) and isinstance(right, Term)
        return Near(left, right, op.distance)

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "WORD":
            return Term(token.value)
        if token.kind == "PHRASE":
            return Term(token.value, phrase=True)
        if token.kind == "(":
            if self.peek.kind == ")":
                raise ExpressionError("括号内为空", self.peek.position)
            self.depth += 1
            if self.depth > 50:
                raise ExpressionError("括号嵌套过深（最多 50 层）", token.position)
            node = self.or_expr()
            closing = self.take()
            if closing.kind != ")":
                raise ExpressionError(
                    f"缺少右括号（与第 {token.position} 个字符处的左括号配对）", closing.position
                )
            self.depth -= 1
            return node
        if token.kind == ")":
            raise ExpressionError("多余的右括号（没有与之配对的左括号）", token.position)
        if token.kind == "END":
            raise ExpressionError("表达式不完整，结尾缺少词语", token.position)
        if token.kind == "NEAR":
            raise ExpressionError(f"{token.value} 前缺少词语", token.position)
        raise ExpressionError(f"{token.value.upper()} 前缺少词语", token.position)


def parse(text: str) -> Expression:
    """Parse ``text`` (see the module docstring); raises :class:`ExpressionError` only."""
    if not isinstance(text, str):
        raise ExpressionError("表达式必须是文字", 1)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式过长（最多 {MAX_LENGTH} 个字符）", MAX_LENGTH + 1)
    tree = _Parser(text).parse()
    expression = Expression(text, tree)
    if expression.matches(""):
        raise ExpressionError("表达式只含 NOT 条件，对任何不含这些词的信息都成立；请至少加入一个要匹配的词", 1)
    return expression


__all__ = ["parse", "Expression", "ExpressionError", "normalise", "Term", "Not", "And", "Or", "Near"]
