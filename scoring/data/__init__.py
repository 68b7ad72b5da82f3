"""Data shipped with scoring: KPK's published SPI results (spi-published.csv)."""
