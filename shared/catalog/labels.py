"""Persian labels of the catalog's enumerations, for every screen that shows them."""

from __future__ import annotations

from shared.catalog.schema import Actor, Channel, DocumentKind, FileFormat, Weekday

ACTORS = {
    Actor.citizen: "متقاضی",
    Actor.staff: "کارشناس اداره",
    Actor.system: "سامانه (خودکار)",
    Actor.agency: "دستگاه دیگر (استعلام)",
}

CHANNELS = {
    Channel.online: "میز خدمت برخط (وب)",
    Channel.kiosk: "کیوسک سالن انتظار",
    Channel.counter: "باجه حضوری",
}

DOCUMENT_KINDS = {
    DocumentKind.original: "اصل مدرک",
    DocumentKind.copy: "تصویر (کپی) مدرک",
    DocumentKind.original_and_copy: "اصل و تصویر مدرک",
}

FILE_FORMATS = {
    FileFormat.pdf: "PDF",
    FileFormat.jpeg: "JPEG",
    FileFormat.png: "PNG",
    FileFormat.tiff: "TIFF",
}

WEEKDAYS = {
    Weekday.saturday: "شنبه",
    Weekday.sunday: "یکشنبه",
    Weekday.monday: "دوشنبه",
    Weekday.tuesday: "سه‌شنبه",
    Weekday.wednesday: "چهارشنبه",
    Weekday.thursday: "پنجشنبه",
    Weekday.friday: "جمعه",
}
