"""The catalog as the server publishes it (`GET /api/v1/catalog`), read by a client that may
be older than the server.

A catalog file is read strictly: every model forbids unknown keys, so a typo is an error
(`shared.catalog.loader`). A kiosk reading the server's catalog must not be that strict: a
server that adds a field would otherwise leave every kiosk not yet upgraded on its old
catalog until it is. `parse_published_catalog` drops the keys the models do not declare, at
every level, then validates what is left exactly as a catalog file is validated: a missing
key or a wrong value is still refused.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from shared.catalog.schema import Catalog

_SEQUENCES = (list, tuple, set, frozenset, Sequence)
_MAPPINGS = (dict, Mapping)


def parse_published_catalog(data: Any) -> Catalog:
    """The catalog in a published body (a JSON object), keys this code does not know left
    out; pydantic's ValidationError when what it does know is not a valid catalog."""
    return Catalog.model_validate(known_keys_only(Catalog, data))


def known_keys_only(annotation: Any, value: Any) -> Any:
    """`value` with every key that the models of `annotation` do not declare left out, at
    every depth (models inside lists, dicts and optional fields too); anything that does
    not have the expected shape is passed on as it is, for validation to judge."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return known_keys_only(get_args(annotation)[0], value)
    if origin in (Union, types.UnionType):
        return _in_union(get_args(annotation), value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _in_model(annotation, value)
    if origin in _SEQUENCES and isinstance(value, list):
        args = get_args(annotation)
        return [known_keys_only(args[0] if args else Any, item) for item in value]
    if origin in _MAPPINGS and isinstance(value, dict):
        args = get_args(annotation)
        return {key: known_keys_only(args[1] if len(args) == 2 else Any, item)
                for key, item in value.items()}
    return value


def _in_model(model: type[BaseModel], value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    fields = {(field.alias or name): field for name, field in model.model_fields.items()}
    return {key: known_keys_only(fields[key].annotation, item)
            for key, item in value.items() if key in fields}


def _in_union(options: tuple[Any, ...], value: Any) -> Any:
    """The one option `value` can be; passed on as it is when none or several are."""
    if value is None:
        return value
    fitting = [option for option in options if _may_be(option, value)]
    return known_keys_only(fitting[0], value) if len(fitting) == 1 else value


def _may_be(annotation: Any, value: Any) -> bool:
    """Whether `value` has the shape of `annotation` (a model or mapping: a dict; a
    sequence: a list); other types are left to validation."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _may_be(get_args(annotation)[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return isinstance(value, dict)
    if origin in _MAPPINGS:
        return isinstance(value, dict)
    if origin in _SEQUENCES:
        return isinstance(value, list)
    return False
