"""Electronic delivery's edge: the keys (`keys`), the PDF a service delivers (`render`) and
its PAdES signature (`pdf_signing`). The use case that issues and revokes documents is
`counter_server/usecases/delivery.py`; the seal both apps check is `shared/seals.py`."""
