"""An auditor's evidence pack: a period's evidence, a PDF summary and a signed manifest."""
