"""The rakor pack: an A4 PDF of a wave's report for a Bupati's coordination meeting.

`build_pdf` lays it out (reportlab, in `document`, `overview`, `unit_page`, `method`) from the
same `ReportBundle` and text services as the bot's answers; `load_pdf` loads what it needs.
"""
