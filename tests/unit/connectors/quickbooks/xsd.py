"""QuickBooks Online JSON checked against Intuit's V3 XSDs (tests/fixtures/quickbooks/).

QBO's JSON uses the XML schema's names: an object's keys are the element's child elements and
attributes (a ReferenceType `{"value": "1", "name": "x"}` is `<CustomerRef name="x">1</CustomerRef>`,
a Fault's Error `{"Message", "Detail", "code"}` has `code` as an attribute). `to_xml` walks the
schema to turn a JSON body into that XML, children in the schema's order, and refuses a key the
schema does not know; `validate` then checks the document with lxml's XMLSchema. The schema is
parsed and compiled once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

XSD_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "quickbooks"
XS = "{http://www.w3.org/2001/XMLSchema}"
NS = "http://schema.intuit.com/finance/v3"
ENTRY = "IntuitRestServiceDef.xsd"


class SchemaMismatch(AssertionError):
    """The JSON does not fit the schema (an unknown key, or XSD validation errors)."""


@dataclass
class Particle:
    name: str
    type_name: str | None  # None: a ref to an abstract head (substitution group members apply)
    members: frozenset[str] = frozenset()


@dataclass
class ComplexType:
    particles: list[Particle] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    simple_content: bool = False


def _local(name: str | None) -> str:
    return (name or "").rpartition(":")[2]


class SchemaModel:
    """The complex types, groups and top-level elements of the XSD set, by name."""

    def __init__(self, directory: Path) -> None:
        self.docs = [etree.parse(str(path)).getroot() for path in sorted(directory.glob("*.xsd"))]
        self.types = {node.get("name"): node for doc in self.docs for node in doc.findall(f"{XS}complexType")}
        self.groups = {node.get("name"): node for doc in self.docs for node in doc.findall(f"{XS}group")}
        self.elements = {node.get("name"): node for doc in self.docs for node in doc.findall(f"{XS}element")}
        self.substitutes: dict[str, set[str]] = {}
        for name, node in self.elements.items():
            head = node.get("substitutionGroup")
            if head:
                self.substitutes.setdefault(_local(head), set()).add(name)
        self._cache: dict[str, ComplexType] = {}

    def complex_type(self, name: str) -> ComplexType | None:
        if name not in self.types:
            return None
        if name not in self._cache:
            self._cache[name] = self._build(self.types[name])
        return self._cache[name]

    def element_type(self, name: str) -> str:
        return _local(self.elements[name].get("type"))

    def _build(self, node: Any) -> ComplexType:
        built = ComplexType()
        self._collect(node, built)
        return built

    def _collect(self, node: Any, built: ComplexType) -> None:
        for child in node:
            tag = child.tag
            if tag in (f"{XS}sequence", f"{XS}choice", f"{XS}complexContent"):
                self._collect(child, built)
            elif tag == f"{XS}simpleContent":
                built.simple_content = True
                self._collect(child, built)
            elif tag in (f"{XS}extension", f"{XS}restriction"):
                base = self.complex_type(_local(child.get("base")))
                if base is not None:
                    built.particles.extend(base.particles)
                    built.attributes |= base.attributes
                    built.simple_content |= base.simple_content
                self._collect(child, built)
            elif tag == f"{XS}group":
                self._collect(self.groups[_local(child.get("ref"))], built)
            elif tag == f"{XS}attribute":
                built.attributes.add(child.get("name"))
            elif tag == f"{XS}element":
                built.particles.append(self._particle(child))

    def _particle(self, node: Any) -> Particle:
        ref = _local(node.get("ref"))
        if ref:
            head = self.elements[ref]
            if head.get("abstract") == "true":
                return Particle(ref, None, frozenset(self.substitutes.get(ref, ())))
            return Particle(ref, _local(head.get("type")))
        inline = node.find(f"{XS}complexType")
        if inline is not None:  # an anonymous type: registered under a private name
            private = f"#{id(inline)}"
            self.types[private] = inline
            return Particle(node.get("name"), private)
        return Particle(node.get("name"), _local(node.get("type")) or "string")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Converter:
    def __init__(self, model: SchemaModel) -> None:
        self.model = model

    def element(self, name: str, type_name: str, value: Any, where: str) -> Any:
        node = etree.Element(f"{{{NS}}}{name}")
        complex_type = self.model.complex_type(type_name)
        if complex_type is None:
            if isinstance(value, (dict, list)):
                raise SchemaMismatch(f"{where}: {name} is a simple value, not {type(value).__name__}")
            node.text = _text(value)
            return node
        if not isinstance(value, dict):
            if complex_type.simple_content:
                node.text = _text(value)
                return node
            raise SchemaMismatch(f"{where}: {name} must be an object")
        used: set[str] = set()
        for key in complex_type.attributes & value.keys():
            node.set(key, _text(value[key]))
            used.add(key)
        if complex_type.simple_content and "value" in value:
            node.text = _text(value["value"])
            used.add("value")
        for particle in complex_type.particles:
            names = particle.members if particle.type_name is None else {particle.name}
            for key in sorted(names & value.keys()):
                child_type = self.model.element_type(key) if particle.type_name is None else particle.type_name
                items = value[key] if isinstance(value[key], list) else [value[key]]
                for item in items:
                    node.append(self.element(key, child_type, item, f"{where}.{key}"))
                used.add(key)
        unknown = sorted(set(value) - used)
        if unknown:
            raise SchemaMismatch(f"{where}: {name} has no {', '.join(unknown)} in the schema")
        return node


@functools.cache
def _schema() -> tuple[SchemaModel, Any]:
    model = SchemaModel(XSD_DIR)
    compiled = etree.XMLSchema(etree.parse(str(XSD_DIR / ENTRY)))
    return model, compiled


def to_xml(root: str, body: Any) -> Any:
    """The XML document of a QBO JSON body whose root element is `root` (IntuitResponse for
    every answer, the entity's name for a write, IntuitBatchRequest for a batch)."""
    model, _ = _schema()
    return Converter(model).element(root, model.element_type(root), body, root)


def validate(root: str, body: Any) -> None:
    """Raise SchemaMismatch unless `body`, as `root`, is valid against the XSDs."""
    _, compiled = _schema()
    document = to_xml(root, body)
    if not compiled.validate(document):
        errors = "; ".join(f"{e.line}: {e.message}" for e in list(compiled.error_log)[:5])
        raise SchemaMismatch(f"{root}: {errors}")
