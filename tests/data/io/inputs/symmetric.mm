%%MatrixMarket matrix coordinate real symmetric
3 3 3
1 1 1
2 1 4
3 2 -5
