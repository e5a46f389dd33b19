"""-stats: total time and a heavy-hitter table of builtins and operators, as SystemDS prints them."""
from __future__ import annotations

import time
from collections import defaultdict

_OP_NAMES = {"_add": "+", "_sub": "-", "_mul": "*", "_div": "/", "_pow": "^", "_mod": "%%", "_intdiv": "%/%",
             "_matmul": "%*%", "_neg": "u-", "_lt": "<", "_le": "<=", "_gt": ">", "_ge": ">=", "_eq": "==",
             "_ne": "!=", "_and": "&", "_or": "|", "_not": "!", "_index": "rightIndex", "_set_index": "leftIndex"}


class Stats:
    def __init__(self, top: int = 10):
        self.top = top
        self.start = time.perf_counter()
        self.time = defaultdict(float)
        self.count = defaultdict(int)

    def _wrap(self, label, fn):
        tm, cnt, clock = self.time, self.count, time.perf_counter

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                tm[label] += clock() - t0
                cnt[label] += 1
        timed.__name__ = getattr(fn, "__name__", label)
        return timed

    def instrument(self, g: dict) -> None:
        """Replace the builtins and operator helpers of a compiled program's globals with timed ones."""
        for key in list(g):
            if key.startswith("_b_"):
                g[key] = self._wrap(key[3:].replace("_dot_", "."), g[key])
            elif key in _OP_NAMES:
                g[key] = self._wrap(_OP_NAMES[key], g[key])

    def report(self) -> str:
        total = time.perf_counter() - self.start
        lines = ["SystemDS Statistics:", f"Total execution time:\t\t{total:.3f} sec."]
        hh = sorted(self.time.items(), key=lambda kv: -kv[1])[: self.top]
        if hh:
            lines.append("Heavy hitter instructions:")
            w = max(len("Instruction"), *(len(k) for k, _ in hh))
            lines.append(f"  #  {'Instruction'.ljust(w)}  Time(s)  Count")
            for i, (name, t) in enumerate(hh, 1):
                lines.append(f"{i:>3}  {name.ljust(w)}  {t:7.3f}  {self.count[name]:>5}")
        return "\n".join(lines) + "\n"
