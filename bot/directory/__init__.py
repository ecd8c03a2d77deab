"""The service directory: one validator for CSV, API and web; search by area."""
