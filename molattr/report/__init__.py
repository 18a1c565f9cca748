"""Attribution reports over tables of molecules: every row kept, HTML cards, tidy tables, SDF."""
from molattr.report.attribute_rows import RowOutcome, attribute_rows, summary_table, tidy_tables
from molattr.report.html_report import ReportContext, write_report

__all__ = ["ReportContext", "RowOutcome", "attribute_rows", "summary_table", "tidy_tables", "write_report"]
