"""Bodies of the API, as pydantic models: they validate and they generate the OpenAPI schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.schema import Catalog, Channel, Duration, Service


class ErrorBody(BaseModel):
    """Every API error: a stable machine-readable code and a Persian message."""

    code: str = Field(examples=["service_not_found"])
    message: str = Field(examples=["خدمتی با این شناسه وجود ندارد."])
    errors: dict[str, str] | None = Field(None, description="Per-field messages, when validating")


class CatalogBody(Catalog):
    """The whole published catalog."""

    version: int
    published_at: datetime


class ServiceBody(Service):
    """One service, as published in the current catalog version."""

    catalog_version: int
    category_title: str


class ServiceSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title: str
    category: str
    category_title: str
    summary: str
    channels: list[Channel]
    duration: Duration
    free: bool
    total_fee_rials: int
    score: int | None = Field(None, description="Search rank (higher is better); only with q")


class ServiceList(BaseModel):
    catalog_version: int
    query: str | None
    category: str | None
    count: int
    services: list[ServiceSummary]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    catalog_version: int | None
