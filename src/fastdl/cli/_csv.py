"""Reading a CSV table for the command line: one example per row, with or without a header.

Every problem is reported on one line naming the file, the line and the column, as an
editor shows them (lines count from 1, the header included).
"""
import csv
from dataclasses import dataclass

import numpy as np


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class Table:
    """The cells of a CSV file as text, and where each row came from."""

    path: str
    header: list  # column names, or None when the file has no header line
    rows: list  # lists of stripped strings, all as long as the first row
    lines: list  # the file line of each row

    @property
    def n_columns(self):
        return len(self.rows[0])

    def name(self, j):
        """How messages call column ``j``: by name, or by its 0-based index."""
        return repr(self.header[j]) if self.header else f"{j} (0-based)"

    def column(self, j):
        return [row[j] for row in self.rows]

    def numeric(self, columns):
        """The ``columns`` as a float64 array ``(len(columns), m)``, or a one-line error."""
        cells = [self.column(j) for j in columns]
        try:  # the fast path; numpy and float() differ on rare spellings such as '1_000'
            values = np.array(cells, dtype=np.float64).reshape(len(columns), len(self.rows))
        except ValueError:
            values = None
        if values is not None and np.isfinite(values).all():
            return values
        for j, column in zip(columns, cells):
            for line, text in zip(self.lines, column):
                problem = _cell_problem(text)
                if problem:
                    raise ValueError(f"{self.path} line {line}, column {self.name(j)}: {problem}")
        return np.array([[float(text) for text in column] for column in cells], dtype=np.float64)

    def find(self, column):
        """The index of ``column``: a header name, else a 0-based index (negative from the end)."""
        if self.header and column in self.header:
            return self.header.index(column)
        try:
            index = int(column)
        except ValueError:
            if not self.header:
                raise ValueError(f"{self.path} has no header line, so a column is given by its 0-based "
                                 f"index; got {column!r}") from None
            raise ValueError(f"{self.path} has no column {column!r}; its columns are {self.header}") from None
        if not -self.n_columns <= index < self.n_columns:
            raise ValueError(f"column {index} is out of range: {self.path} has {self.n_columns} columns "
                             f"(0 to {self.n_columns - 1})")
        return index % self.n_columns


def _cell_problem(text):
    if text == "":
        return "the value is missing (an empty cell); fill in or drop missing values first"
    if not _is_number(text):
        return f"{text!r} is not a number"
    if not np.isfinite(float(text)):
        return f"{text!r} is not a finite number; fill in or drop missing values first"
    return None


def _has_header(first, second):
    """A header has no numbers, or text where the next row has a number."""
    if not any(_is_number(cell) for cell in first):
        return True
    return second is not None and any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))


def _records(path):
    """(line, cells) for every non-blank row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, skipinitialspace=True)
            records = [(reader.line_num, [cell.strip() for cell in row]) for row in reader
                       if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a UTF-8 text CSV file ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable CSV file ({error})") from None
    if not records:
        raise ValueError(f"{path} is empty: it has no header and no rows")
    return records


def read_csv(path):
    """The :class:`Table` in ``path``; ragged rows, empty files and a header alone are errors."""
    records = _records(path)
    header = None
    if _has_header(records[0][1], records[1][1] if len(records) > 1 else None):
        (header_line, header), records = records[0], records[1:]
        if not records:
            raise ValueError(f"{path} has a header line but no rows of data")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ValueError(f"{path} names the columns {repeated} more than once in its header")
    width, first_line = (len(header), header_line) if header else (len(records[0][1]), records[0][0])
    for line, cells in records:
        if len(cells) != width:
            raise ValueError(f"{path} line {line} has {len(cells)} values but line {first_line} has "
                             f"{width}; every row needs one value per column")
    return Table(path, header, [cells for _, cells in records], [line for line, _ in records])
