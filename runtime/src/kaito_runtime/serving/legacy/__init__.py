"""The legacy KAITO ``POST /chat`` API, kept for clients written against early KAITO releases."""
