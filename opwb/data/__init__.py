"""The data layer: what a loss event is and how files become validated tables.

Owns the Basel taxonomy (event types, business lines), KRW units and their 억원/조원 display,
the column schema and the collection threshold, reading text files, workbooks and SQL
sources with positions a person can find (``tableio``: what a file is from its contents in
``sniff``, text encodings and delimiters in ``textread``, workbooks and their formula cells
in ``excelread``, a workbook's date system in ``datesystem``; date cells and the
placeholders for "no date" in ``dates``), the validating loaders of loss events, the
insurance programme table, external large losses with their scaling to the bank's size
(``external``: Shih et al. 2000's power of the size ratio) and the experts' scenario estimates
(``scenarios``: "a loss of at least X about once in N years", the worst plausible loss, per
cell, with author and date; each cell's severity cap), the business-environment and
internal-control factors (``beicf``: a scorecard of key risk indicators and control
assessments scaling a cell's frequency or severity within stated bounds), the one rule for
a policy's layer terms (``terms``), the run store — every recorded run in an SQLite file or a PostgreSQL
database, never a loss record (``runstore``; its schema and upgrade in ``runschema``, the
checks of a run's rows in ``runrows``) — the bundled files' location and the
seeded generator of the synthetic bundled losses (``synth``). It may import no other opwb
package: every layer above builds on it. Besides the standard library, numpy and pandas, it
may import sqlalchemy and alembic (the run store).
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["DATA_DIR", "data_path"], "bundled"),
    **dict.fromkeys(["Case", "Incident", "load_case", "bundled_case", "open_case", "parse_krw",
                     "CASE_ENV"], "case"),
    **dict.fromkeys(["DataError", "Problem", "RunStoreError"], "errors"),
    **dict.fromkeys(["open_store", "RunStore"], "runstore"),
    **dict.fromkeys(["NoDate", "parse_optional_date", "DATE_RANGE", "NO_DATE"], "dates"),
    **dict.fromkeys(["EPOCH_1900", "EPOCH_1904", "serial_epoch"], "datesystem"),
    **dict.fromkeys(["layer_term_problems", "TowerLayer", "tower_problems", "ground_up_bands"],
                   "terms"),
    **dict.fromkeys(["read_workbook", "EXCEL_ERRORS", "column_letter"], "excelread"),
    **dict.fromkeys(["EXTERNAL_COLUMNS", "EXTERNAL_SIZE_COLUMNS", "SIZE_BASES", "SHIH_EXPONENT",
                     "load_external_losses", "scale_external"], "external"),
    **dict.fromkeys(["check_level"], "levels"),
    **dict.fromkeys(["ScenarioEstimate", "ScenarioSet", "load_scenarios",
                     "KOREAN_SCENARIO_COLUMNS"], "scenarios"),
    **dict.fromkeys(["Factor", "ScoreCard", "load_scorecard", "scorecard_factors",
                     "apply_factors", "BEICF_BOUNDS", "KOREAN_BEICF_COLUMNS"], "beicf"),
    **dict.fromkeys(["observation_window", "year_exposure"], "periods"),
    **dict.fromkeys([
        "load_losses", "split_threshold", "LoadReport", "REQUIRED_LOSS_COLUMNS"
    ], "losses"),
    **dict.fromkeys([
        "load_programme", "REQUIRED_PROGRAMME_COLUMNS", "CLAIMS_BASES", "TOWER_COLUMNS", "parse_layer"
    ], "programme_table"),
    **dict.fromkeys(["Table", "Unreadable"], "rawtable"),
    **dict.fromkeys([
        "LOSS_COLUMNS", "LOSS_AMOUNT_COLUMNS", "LOSS_DATE_COLUMNS", "KOREAN_COLUMNS",
        "PROGRAMME_COLUMNS", "COVER_COLUMNS", "cover_column", "COLLECTION_THRESHOLD", "collected",
        "PLAUSIBLE_MAX_LOSS"
    ], "schema"),
    **dict.fromkeys(["identify", "KINDS"], "sniff"),
    **dict.fromkeys([
        "EventTypeModel", "TRUE_MODEL", "THRESHOLD", "DEFAULT_SEED", "PERIOD_START", "PERIOD_END",
        "CD_INCIDENT", "cell_frequencies", "sample_severity", "policy_year_start",
        "generate_losses", "write_losses"
    ], "synth"),
    **dict.fromkeys([
        "read_table", "Problems", "CellError", "parse_amount", "parse_date", "parse_bool",
        "parse_int", "parse_fraction", "parse_text", "is_blank"
    ], "tableio"),
    **dict.fromkeys([
        "Category", "EVENT_TYPES", "BUSINESS_LINES", "EVENT_TYPE_CODES", "BUSINESS_LINE_CODES",
        "parse_event_type", "parse_business_line", "label", "event_type_of"
    ], "taxonomy"),
    **dict.fromkeys(["decode_text", "detect_delimiter", "read_text"], "textread"),
    **dict.fromkeys([
        "EOK", "JO", "MAN", "NOT_EXISTING", "eok_formatter", "format_krw", "format_krw_with_se",
        "format_krw_row", "from_eok", "has_final_consonant", "round_to_se", "to_eok",
        "with_particle"
    ], "units"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
