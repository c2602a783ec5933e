"""PDF documents and SVG charts, built from plain values.

``charts`` is pure Python and cheap to import; ``render`` and ``batch`` load WeasyPrint,
which takes most of a second, so import them only where a PDF is actually produced.
"""
