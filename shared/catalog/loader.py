"""Reading and writing catalog files (YAML), with every problem reported by file and path.

A catalog is either one YAML file with the top-level keys `agency`, `calendar`, `categories`
and `services`, or a directory laid out as::

    agency.yaml          the agency
    calendar.yaml        time zone and weekly working hours
    holidays/1405.yaml   one file per Jalali year: a list of {date, title}
    categories.yaml      a list of categories
    services/<slug>.yaml one file per service
    queues.yaml          walk-in queues: {priority_classes: [...], queues: [...]} (optional)
    offices.yaml         the branches people visit: a list of offices (needed with queues)
    survey.yaml          the default satisfaction survey: {questions: [...]} (optional)

Loading validates everything and either returns a whole `Catalog` or raises `CatalogError`
listing every problem found, so that a bad catalog is never half used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.catalog.schema import (
    Agency,
    CalendarSpec,
    Catalog,
    Category,
    Holiday,
    Office,
    PriorityClass,
    QueueSpec,
    ServiceSpec,
    Survey,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog: where (file and path inside it) and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class CatalogError(Exception):
    """A catalog that cannot be used, with every problem found in it."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _problems_from(error: ValidationError, file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        path = _format_loc(loc)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(Problem(file, path, message))
    return problems


_UNREADABLE = object()


def _read_yaml(path: Path, label: str, problems: list[Problem]) -> Any:
    """The parsed file, or _UNREADABLE (with the reason added to `problems`)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader subclass)
    except FileNotFoundError:
        problems.append(Problem(label, "", "file is missing"))
    except UnicodeDecodeError:
        problems.append(Problem(label, "", "file is not UTF-8 text"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(label, where, f"not valid YAML: {reason}"))
    return _UNREADABLE


def _validate(model: type[BaseModel] | TypeAdapter[Any], data: Any, label: str,
              problems: list[Problem]) -> Any:
    if data is _UNREADABLE:
        return None
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, label))
        return None


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate a catalog from a YAML file or a catalog directory."""
    path = Path(path)
    if path.is_dir():
        return _load_directory(path)
    problems: list[Problem] = []
    data = _read_yaml(path, path.name, problems)
    if problems:
        raise CatalogError(problems)
    catalog = _validate(Catalog, data, path.name, problems)
    if problems:
        raise CatalogError(problems)
    return catalog


def _load_directory(root: Path) -> Catalog:
    problems: list[Problem] = []
    agency = _validate(Agency, _read_yaml(root / "agency.yaml", "agency.yaml", problems),
                       "agency.yaml", problems)
    calendar_data = _read_yaml(root / "calendar.yaml", "calendar.yaml", problems)
    if isinstance(calendar_data, dict) and "holidays" not in calendar_data:
        calendar_data = {**calendar_data, "holidays": _read_holidays(root, problems)}
    calendar = _validate(CalendarSpec, calendar_data, "calendar.yaml", problems)
    categories = _validate(
        TypeAdapter(list[Category]),
        _read_yaml(root / "categories.yaml", "categories.yaml", problems),
        "categories.yaml", problems,
    )
    services = _read_services(root, problems)
    lobby = _read_lobby(root, problems)
    if problems:
        raise CatalogError(problems)
    try:
        return Catalog(agency=agency, calendar=calendar, categories=categories, services=services,
                       **lobby)
    except ValidationError as exc:
        raise CatalogError(
            Problem("catalog", "", item["msg"].removeprefix("Value error, "))
            for item in exc.errors()
        ) from None


class QueuesFile(BaseModel):
    """queues.yaml: the priority classes and the walk-in queues."""

    model_config = ConfigDict(extra="forbid")

    priority_classes: list[PriorityClass] = Field(default_factory=list)
    queues: list[QueueSpec] = Field(default_factory=list)


def _read_lobby(root: Path, problems: list[Problem]) -> dict[str, Any]:
    """Queues, priority classes and offices; all optional (a catalog with no walk-in queue)."""
    lobby: dict[str, Any] = {}
    if (root / "queues.yaml").exists():
        found = _validate(QueuesFile, _read_yaml(root / "queues.yaml", "queues.yaml", problems),
                          "queues.yaml", problems)
        if found is not None:
            lobby.update(priority_classes=found.priority_classes, queues=found.queues)
    if (root / "survey.yaml").exists():
        survey = _validate(Survey, _read_yaml(root / "survey.yaml", "survey.yaml", problems),
                           "survey.yaml", problems)
        if survey is not None:
            lobby["survey"] = survey
    if (root / "offices.yaml").exists():
        offices = _validate(TypeAdapter(list[Office]),
                            _read_yaml(root / "offices.yaml", "offices.yaml", problems),
                            "offices.yaml", problems)
        if offices is not None:
            lobby["offices"] = offices
    return lobby


def _read_holidays(root: Path, problems: list[Problem]) -> list[Holiday]:
    holidays: list[Holiday] = []
    adapter = TypeAdapter(list[Holiday])
    for file in sorted((root / "holidays").glob("*.yaml")):
        label = f"holidays/{file.name}"
        found = _validate(adapter, _read_yaml(file, label, problems), label, problems)
        for index, holiday in enumerate(found or []):
            if not holiday.date.startswith(f"{file.stem}-"):
                problems.append(Problem(label, f"[{index}].date",
                                        f"{holiday.date} is not in the year {file.stem}"))
        holidays.extend(found or [])
    return holidays


def _read_services(root: Path, problems: list[Problem]) -> list[ServiceSpec]:
    files = sorted((root / "services").glob("*.yaml"))
    if not files:
        problems.append(Problem("services/", "", "no service files (services/<slug>.yaml)"))
    services = []
    for file in files:
        label = f"services/{file.name}"
        service = _validate(ServiceSpec, _read_yaml(file, label, problems), label, problems)
        if service is None:
            continue
        if service.slug != file.stem:
            problems.append(Problem(label, "slug",
                                    f"{service.slug!r} differs from the file name {file.stem!r}"))
        services.append(service)
    return services


def read_yaml_text(text: str, label: str) -> Any:
    """YAML typed in an editor, parsed as a catalog file is; CatalogError if it does not
    parse."""
    problems: list[Problem] = []
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(label, where, f"not valid YAML: {reason}"))
    raise CatalogError(problems)


def yaml_text(data: Any) -> str:
    """`data` written as the catalog's files write it."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _plain(model: BaseModel) -> Any:
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def _dump_yaml(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(yaml_text(data))


def write_catalog(catalog: Catalog, path: str | Path) -> None:
    """Write a catalog as one YAML file (a path ending in .yaml/.yml) or as a directory."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        _dump_yaml(_plain(catalog), path)
        return
    _dump_yaml(_plain(catalog.agency), path / "agency.yaml")
    calendar = _plain(catalog.calendar)
    holidays = calendar.pop("holidays", [])
    _dump_yaml(calendar, path / "calendar.yaml")
    by_year: dict[str, list[Any]] = {}
    for holiday in holidays:
        by_year.setdefault(holiday["date"][:4], []).append(holiday)
    for year, items in by_year.items():
        _dump_yaml(items, path / "holidays" / f"{year}.yaml")
    _dump_yaml([_plain(c) for c in catalog.categories], path / "categories.yaml")
    for service in catalog.services:
        _dump_yaml(_plain(service), path / "services" / f"{service.slug}.yaml")
    if catalog.queues or catalog.priority_classes:
        _dump_yaml({"priority_classes": [_plain(c) for c in catalog.priority_classes],
                    "queues": [_plain(q) for q in catalog.queues]}, path / "queues.yaml")
    if catalog.offices:
        _dump_yaml([_plain(o) for o in catalog.offices], path / "offices.yaml")
    if catalog.survey:
        _dump_yaml(_plain(catalog.survey), path / "survey.yaml")
