"""Reads an HTML document into what the report tests look at: elements by id and class."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parents: list[str] = field(default_factory=list)  # ids of the enclosing elements

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Parts(HTMLParser):
    _VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self, document: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.scripts: list[str] = []
        self._stack: list[Element] = []
        self._in_script = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(
            tag,
            {k: v or "" for k, v in attrs},
            [e.attrs["id"] for e in self._stack if "id" in e.attrs],
        )
        self.elements.append(element)
        self._in_script = tag == "script"
        if tag not in self._VOID and not self._self_closing:
            self._stack.append(element)

    _self_closing = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._self_closing = True
        self.handle_starttag(tag, attrs)
        self._self_closing = False

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False
        while self._stack:
            if self._stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found

    def within(self, element_id: str, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and element_id in e.parents]
