"""Printable QR posters for service counters (matplotlib, Agg; imported lazily by the CLI)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_qr_poster"]


def write_qr_poster(path: Path, *, link: str, unit_name: str, institution: str) -> None:
    """Write an A5 portrait PNG poster: what the survey is, the QR code and the link."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import segno

    qr = segno.make(link, error="m")
    matrix = np.array([list(row) for row in qr.matrix], dtype=float)
    border = 4
    matrix = np.pad(matrix, border)

    fig = plt.figure(figsize=(5.83, 8.27), dpi=200)  # A5
    fig.patch.set_facecolor("white")
    fig.text(0.5, 0.93, "SURVEI PENILAIAN INTEGRITAS", ha="center", fontsize=17, weight="bold")
    fig.text(0.5, 0.895, institution, ha="center", fontsize=11)
    fig.text(0.5, 0.80, unit_name, ha="center", fontsize=14, weight="bold", wrap=True)
    side = 0.66  # of the page width; the axes are square on paper
    ax = fig.add_axes((0.17, 0.28, side, side * 5.83 / 8.27))
    ax.imshow(1 - matrix, cmap="gray", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    fig.text(
        0.5,
        0.20,
        "Pernah menggunakan layanan kami?\n"
        "Pindai kode ini dengan kamera ponsel,\n"
        "lalu tekan MULAI di Telegram.",
        ha="center",
        va="center",
        fontsize=12,
        linespacing=1.4,
    )
    fig.text(
        0.5, 0.115, "Anonim · sekitar 5 menit · Anonymous, about 5 minutes", ha="center", fontsize=9
    )
    fig.text(0.5, 0.07, link, ha="center", fontsize=7, family="monospace", color="#444444")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=200, facecolor="white")
    plt.close(fig)
