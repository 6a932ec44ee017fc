"""opwb.data.external: the external-losses loader names file, line and column.
"""
from __future__ import annotations

import pytest


def test_load_external_losses_reports_file_line_and_column(tmp_path):
    from opwb.data.errors import DataError
    from opwb.data.external import EXTERNAL_COLUMNS, load_external_losses
    path = tmp_path / "ext.csv"
    path.write_text(",".join(EXTERNAL_COLUMNS) + "\n"
                    "Barings,GB,1995,IF,리슨,GBP,827000000,1820,1505140000000,report\n"
                    "X Bank,US,1999,XX,설명,USD,1,930,-5,note\n"
                    "Short,US,2000\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_external_losses(path)
    message = str(err.value)
    assert "ext.csv, line 3, column 'event_type': expected an event-type code" in message
    assert "ext.csv, line 3, column 'amount_krw': expected a non-negative amount" in message
    assert "ext.csv, line 4: expected 10 fields as in the header, found 3" in message
    path.write_text(",".join(EXTERNAL_COLUMNS[:-1]) + "\nA,B,1,IF,d,USD,1,1,1\n")
    with pytest.raises(DataError, match="column 'source_note': missing column"):
        load_external_losses(path)
