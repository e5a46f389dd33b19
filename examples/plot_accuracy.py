"""Turn the per-epoch lines of Example-AlexNet_BN_LARS.dml's output into a Markdown table and an
SVG line plot of validation accuracy (no plotting library needed).

    dmlpy scripts/nn/examples/Example-AlexNet_BN_LARS.dml -nvargs ... > run.log
    python examples/plot_accuracy.py run.log examples/digits_accuracy.svg
"""
import re
import sys

EPOCH = re.compile(r"^epoch (\d+): train cross-entropy ([0-9.Ee+-]+), validation loss ([0-9.Ee+-]+), "
                   r"accuracy ([0-9.Ee+-]+)")
BEFORE = re.compile(r"^before training: validation loss ([0-9.Ee+-]+), accuracy ([0-9.Ee+-]+)")


def read(log: str):
    rows = []
    for line in open(log):
        m = BEFORE.match(line)
        if m:
            rows.append((0, None, float(m.group(1)), float(m.group(2))))
        m = EPOCH.match(line)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))))
    return rows


def svg(rows, width=480, height=280, pad=48) -> str:
    n = max(r[0] for r in rows) or 1
    x = lambda e: pad + (width - 2 * pad) * e / n
    y = lambda a: height - pad - (height - 2 * pad) * a
    pts = " ".join(f"{x(e):.1f},{y(a):.1f}" for e, _, _, a in rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<line x1="{pad}" y1="{y(0)}" x2="{width - pad}" y2="{y(0)}" stroke="black"/>',
           f'<line x1="{pad}" y1="{y(0)}" x2="{pad}" y2="{y(1)}" stroke="black"/>']
    for a in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<text x="{pad - 6}" y="{y(a) + 4:.1f}" text-anchor="end">{a:.2f}</text>')
        out.append(f'<line x1="{pad}" y1="{y(a):.1f}" x2="{width - pad}" y2="{y(a):.1f}" stroke="#ddd"/>')
    for e, _, _, _ in rows:
        out.append(f'<text x="{x(e):.1f}" y="{height - pad + 16}" text-anchor="middle">{e}</text>')
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    out += [f'<circle cx="{x(e):.1f}" cy="{y(a):.1f}" r="3" fill="#1f77b4"/>' for e, _, _, a in rows]
    out.append(f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">epoch</text>')
    out.append(f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
               f'text-anchor="middle">validation accuracy</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def table(rows) -> str:
    lines = ["| epoch | train cross-entropy | validation loss | validation accuracy |", "| --- | --- | --- | --- |"]
    for e, tr, vl, a in rows:
        lines.append(f"| {e} | {'-' if tr is None else f'{tr:.4f}'} | {vl:.4f} | {a:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    rows = read(sys.argv[1])
    with open(sys.argv[2], "w") as f:
        f.write(svg(rows))
    print(table(rows))
