"""Translation catalogs of the organisers' pages (sv, fi, en)."""
